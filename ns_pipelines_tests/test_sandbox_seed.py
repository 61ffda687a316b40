"""The sandbox's seeded data (seed.py) and the open-amount / balance rules (balances.py)."""
from __future__ import annotations

import sqlite3
from datetime import date
from decimal import Decimal

import pytest

from ns_pipelines.sandbox.netsuite.balances import (
    recompute_customer_balances,
    recompute_document_amounts,
)
from ns_pipelines.sandbox.netsuite.seed import HISTORY_DAYS, SCALES, seed
from ns_pipelines.sandbox.netsuite.store import Store

TODAY = date(2026, 5, 15)
TABLES = ("currency", "subsidiary", "account", "customer", "customercurrency",
          "customersubsidiaryrelationship", "transaction", "transactionline",
          "nexttransactionlinelink", "deletedrecord", "sandbox_meta")


def dump(conn: sqlite3.Connection) -> dict[str, list[tuple]]:
    return {t: sorted((tuple(r) for r in conn.execute(f'SELECT * FROM "{t}"')), key=repr) for t in TABLES}


def seeded(path, scale="small", seed_value=42, **kw) -> tuple[Store, dict[str, int]]:
    store = Store(path)
    counts = seed(store, scale=scale, seed=seed_value, today=TODAY, **kw)
    return store, counts


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> tuple[Store, dict[str, int]]:
    return seeded(tmp_path_factory.mktemp("small"))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> tuple[Store, dict[str, int]]:
    return seeded(tmp_path_factory.mktemp("tiny"), "tiny")


def scalar(conn: sqlite3.Connection, sql: str, *args):
    return conn.execute(sql, args).fetchone()[0]


def D(value) -> Decimal:
    return Decimal(str(value))


# ------------------------------------------------------------------------------------------------
# Determinism and size
# ------------------------------------------------------------------------------------------------

def test_same_seed_gives_identical_database(small, tmp_path):
    again, counts = seeded(tmp_path)
    assert counts == small[1]
    assert dump(again.connect()) == dump(small[0].connect())


def test_different_seed_or_day_gives_different_data(tiny, tmp_path):
    other, _ = seeded(tmp_path / "a", "tiny", 43)
    assert dump(other.connect())["transaction"] != dump(tiny[0].connect())["transaction"]
    later = Store(tmp_path / "b")
    seed(later, scale="tiny", seed=42, today=date(2026, 6, 1))
    assert dump(later.connect())["transaction"] != dump(tiny[0].connect())["transaction"]
    assert scalar(later.connect(), 'SELECT MAX(createddate) FROM "transaction"') < "2026-06-01"
    assert scalar(later.connect(), 'SELECT MIN(trandate) FROM "transaction"') > "2024-05-15"


def test_reseeding_replaces_the_data(tmp_path):
    store, first = seeded(tmp_path, "tiny")
    second = seed(store, scale="tiny", seed=42, today=TODAY)
    assert first == second
    assert scalar(store.connect(), 'SELECT COUNT(*) FROM "transaction"') == first["transaction"]


@pytest.mark.parametrize("scale, low, high", [("tiny", 40, 90), ("small", 1700, 2400)])
def test_counts(scale, low, high, tiny, small):
    store, counts = {"tiny": tiny, "small": small}[scale]
    conn = store.connect()
    assert low <= counts["transaction"] <= high, counts
    for table in ("transaction", "transactionline", "nexttransactionlinelink", "customer",
                  "deletedrecord", "customersubsidiaryrelationship", "customercurrency"):
        assert counts[table] == scalar(conn, f'SELECT COUNT(*) FROM "{table}"'), table
    for ttype in ("CustInvc", "CustPymt", "CustCred", "CustRfnd", "Deposit", "Journal"):
        assert counts[ttype] == scalar(conn, 'SELECT COUNT(*) FROM "transaction" WHERE type = ?', ttype)
        assert counts[ttype] > 0
    assert counts["CustInvc"] > counts["transaction"] * 0.25  # invoices are the largest group
    assert counts["customer"] >= 12
    assert SCALES["tiny"] == 60 and SCALES["large"] == 1_000_000


def test_integer_scale_and_parameters_stored(tmp_path):
    store, counts = seeded(tmp_path, 300, 5)
    assert 200 <= counts["transaction"] <= 450
    assert store.get_meta("seed.scale") == "300"
    assert store.get_meta("seed.seed") == "5"
    assert store.get_meta("seed.today") == TODAY.isoformat()


def test_progress_is_reported(tmp_path):
    calls = []
    seeded(tmp_path, "tiny", progress=lambda stage, done, total: calls.append((stage, done, total)))
    stages = [c[0] for c in calls]
    assert {"setup", "transactions", "balances"} <= set(stages)
    assert calls[-1] == ("balances", 1, 1)
    assert all(isinstance(d, int) and isinstance(t, int) for _s, d, t in calls)


# ------------------------------------------------------------------------------------------------
# Features
# ------------------------------------------------------------------------------------------------

def bucket_counts(conn: sqlite3.Connection) -> dict[str, int]:
    rows = conn.execute(
        """SELECT CAST(julianday(?) - julianday(duedate) AS INTEGER) FROM "transaction"
           WHERE type = 'CustInvc' AND status = 'A'""", (TODAY.isoformat(),)).fetchall()
    out = {"current": 0, "1-30": 0, "31-60": 0, "61-90": 0, "90+": 0}
    for (late,) in rows:
        key = ("current" if late <= 0 else "1-30" if late <= 30 else "31-60" if late <= 60
               else "61-90" if late <= 90 else "90+")
        out[key] += 1
    return out


FEATURES = {
    # documents and their states
    "voided invoice": """SELECT COUNT(*) FROM "transaction" WHERE type='CustInvc' AND voided='T' AND status='V'""",
    "voided payment": """SELECT COUNT(*) FROM "transaction" WHERE type='CustPymt' AND voided='T' AND status='V'""",
    "deposited payment": """SELECT COUNT(*) FROM "transaction" WHERE type='CustPymt' AND status='C'""",
    "undeposited payment": """SELECT COUNT(*) FROM "transaction" WHERE type='CustPymt' AND status='B'""",
    "paid invoice": """SELECT COUNT(*) FROM "transaction" WHERE type='CustInvc' AND status='B'""",
    # deletions (that the rows are gone is checked below)
    "deleted invoice": "SELECT COUNT(*) FROM deletedrecord WHERE scriptid = 'invoice'",
    "deleted payment": "SELECT COUNT(*) FROM deletedrecord WHERE scriptid = 'customerpayment'",
    "deleted customer": "SELECT COUNT(*) FROM deletedrecord WHERE scriptid = 'customer'",
    "deleted journal": "SELECT COUNT(*) FROM deletedrecord WHERE scriptid = 'journalentry'",
    "deleted credit memo": "SELECT COUNT(*) FROM deletedrecord WHERE scriptid = 'creditmemo'",
    # intercompany and subsidiaries
    "intercompany invoice": """SELECT COUNT(*) FROM "transaction" WHERE intercompany='T' AND type='CustInvc'
                               AND tosubsidiary IS NOT NULL""",
    "intercompany customer": "SELECT COUNT(*) FROM customer WHERE representingsubsidiary IS NOT NULL",
    "elimination subsidiary": "SELECT COUNT(*) = 1 FROM subsidiary WHERE iselimination='T'",
    "one root subsidiary": """SELECT COUNT(*) = 1 AND MAX(name) = 'Honeycomb Holdings Inc.' FROM subsidiary
                             WHERE parent IS NULL""",
    # currencies
    "4+ currencies used": """SELECT COUNT(DISTINCT currency) >= 4 FROM "transaction" """,
    "JPY transactions": """SELECT COUNT(*) FROM "transaction" t JOIN currency c ON c.id = t.currency
                           WHERE c.symbol = 'JPY'""",
    "JPY without decimals": "SELECT currencyprecision = 0 FROM currency WHERE symbol = 'JPY'",
    "one base currency": "SELECT COUNT(*) = 1 FROM currency WHERE isbasecurrency = 'T'",
    "foreign-currency transaction": """SELECT COUNT(*) FROM "transaction" WHERE exchangerate <> 1""",
    "multi-currency customer": """SELECT COUNT(*) FROM (SELECT entity FROM customercurrency GROUP BY entity
                                  HAVING COUNT(*) > 1)""",
    # customers
    "child customer": "SELECT COUNT(*) FROM customer WHERE parent IS NOT NULL",
    "inactive customer": "SELECT COUNT(*) FROM customer WHERE isinactive = 'T'",
    "customer external id": "SELECT COUNT(*) FROM customer WHERE externalid IS NOT NULL",
    "customer names and e-mails": "SELECT COUNT(*) = 0 FROM customer WHERE email IS NULL OR companyname IS NULL",
    "customer balance": "SELECT COUNT(*) FROM customer WHERE balancesearch <> 0",
    "overdue balance": "SELECT COUNT(*) FROM customer WHERE overduebalancesearch > 0",
    "primary subsidiary relationship": """SELECT COUNT(*) = 0 FROM customer c WHERE NOT EXISTS (SELECT 1 FROM
        customersubsidiaryrelationship r WHERE r.entity = c.id AND r.isprimarysub = 'T'
        AND r.subsidiary = c.subsidiary)""",
    "secondary subsidiary": "SELECT COUNT(*) FROM customersubsidiaryrelationship WHERE isprimarysub = 'F'",
    # payments: partial, applied to several invoices, partly and fully unapplied
    "partly paid invoice": """SELECT COUNT(*) FROM "transaction" WHERE type='CustInvc' AND status='A'
                              AND foreignamountpaid > 0""",
    "payment of several invoices": """SELECT COUNT(*) FROM (SELECT nextdoc FROM nexttransactionlinelink
                                      WHERE nexttype='CustPymt' GROUP BY nextdoc HAVING COUNT(*) > 1)""",
    "partly unapplied payment": """SELECT COUNT(*) FROM "transaction" WHERE type='CustPymt' AND voided='F'
                                   AND foreignpaymentamountunused > 0 AND foreignpaymentamountused > 0""",
    "unapplied payment": """SELECT COUNT(*) FROM "transaction" WHERE type='CustPymt' AND voided='F'
                            AND foreignpaymentamountused = 0""",
    # credit memos: applied, unapplied, refunded
    "applied credit memo": """SELECT COUNT(*) FROM "transaction" WHERE type='CustCred' AND status='B'""",
    "unapplied credit memo": """SELECT COUNT(*) FROM "transaction" WHERE type='CustCred' AND status='A'
                                AND foreignpaymentamountused = 0""",
    "credit memo refund": """SELECT COUNT(*) FROM nexttransactionlinelink WHERE previoustype='CustCred'
                             AND nexttype='CustRfnd'""",
    "payment refund": """SELECT COUNT(*) FROM nexttransactionlinelink WHERE previoustype='CustPymt'
                         AND nexttype='CustRfnd'""",
    # deposits with a Stripe fee line
    "deposit fee line": """SELECT COUNT(*) FROM transactionline tl JOIN account a ON a.id = tl.expenseaccount
                           JOIN "transaction" t ON t.id = tl."transaction"
                           WHERE t.type='Deposit' AND a.accttype='Expense' AND tl.foreignamount < 0""",
    "deposit link": "SELECT COUNT(*) FROM nexttransactionlinelink WHERE linktype='Deposit'",
    # journal entries: A/R debit and credit lines; a debit paid by a payment
    "JE A/R debit line": """SELECT COUNT(*) FROM transactionline tl JOIN account a ON a.id = tl.expenseaccount
                            JOIN "transaction" t ON t.id = tl."transaction" WHERE t.type='Journal'
                            AND a.accttype='AcctRec' AND tl.entity IS NOT NULL AND tl.foreignamount > 0""",
    "JE A/R credit line": """SELECT COUNT(*) FROM transactionline tl JOIN account a ON a.id = tl.expenseaccount
                             JOIN "transaction" t ON t.id = tl."transaction" WHERE t.type='Journal'
                             AND a.accttype='AcctRec' AND tl.entity IS NOT NULL AND tl.foreignamount < 0""",
    "JE line paid": """SELECT COUNT(*) FROM nexttransactionlinelink WHERE previoustype='Journal'
                       AND nexttype='CustPymt'""",
    # external ids
    "invoice external id": """SELECT COUNT(*) FROM "transaction" WHERE type='CustInvc' AND externalid IS NOT NULL""",
    "payment external id": """SELECT COUNT(*) FROM "transaction" WHERE type='CustPymt' AND externalid IS NOT NULL""",
    "deposit external id": """SELECT COUNT(*) FROM "transaction" WHERE type='Deposit' AND externalid IS NOT NULL""",
}


def missing_features(conn: sqlite3.Connection) -> list[str]:
    missing = [name for name, sql in FEATURES.items() if not scalar(conn, sql)]
    buckets = bucket_counts(conn)
    missing += [f"open invoice {b}" for b, n in buckets.items() if not n]
    return missing


def check_invariants(conn: sqlite3.Connection) -> None:
    # deleted records are gone
    assert scalar(conn, """SELECT COUNT(*) FROM deletedrecord d JOIN "transaction" t ON t.id = d.recordid
                           WHERE d.scriptid <> 'customer'""") == 0
    assert scalar(conn, """SELECT COUNT(*) FROM deletedrecord d JOIN customer c ON c.id = d.recordid
                           WHERE d.scriptid = 'customer'""") == 0
    assert scalar(conn, "SELECT COUNT(*) FROM deletedrecord WHERE name IS NULL OR deleteddate IS NULL") == 0
    for ttype, prefix in (("CustInvc", "INV"), ("CustPymt", "PYMT"), ("CustCred", "CM"),
                          ("Journal", "JE"), ("CustRfnd", "RFND"), ("Deposit", "DEP")):
        assert scalar(conn, """SELECT COUNT(*) FROM "transaction" WHERE type = ? AND tranid NOT LIKE ?""",
                      ttype, prefix + "%") == 0


def test_every_feature_present_at_small(small):
    assert missing_features(small[0].connect()) == []
    check_invariants(small[0].connect())


@pytest.mark.parametrize("seed_value", list(range(1, 13)))
def test_every_feature_present_at_tiny(tmp_path, seed_value):
    store, _ = seeded(tmp_path, "tiny", seed_value)
    assert missing_features(store.connect()) == []
    check_invariants(store.connect())


# ------------------------------------------------------------------------------------------------
# Internal consistency
# ------------------------------------------------------------------------------------------------

def test_recompute_changes_nothing(small, tmp_path):
    conn = small[0].connect()
    before = dump(conn)
    with small[0].write() as w:
        start = w.total_changes
        ids = [r[0] for r in w.execute('SELECT id FROM "transaction"')]
        recompute_document_amounts(w, ids, now="2030-01-01 00:00:00")
        recompute_customer_balances(w, None, TODAY.isoformat())
        some = [r[0] for r in w.execute("SELECT id FROM customer ORDER BY id LIMIT 7")]
        recompute_customer_balances(w, some, TODAY.isoformat())
        assert w.total_changes == start
    assert dump(conn) == before


def test_invoice_amounts_match_links(small):
    conn = small[0].connect()
    rows = conn.execute(
        """SELECT t.id, t.foreigntotal, t.foreignamountpaid, t.foreignamountunpaid, t.status, t.voided,
                  c.currencyprecision,
                  (SELECT SUM(l.foreignamount) FROM nexttransactionlinelink l
                   WHERE l.previousdoc = t.id AND l.linktype = 'Payment')
           FROM "transaction" t JOIN currency c ON c.id = t.currency WHERE t.type = 'CustInvc'""").fetchall()
    for tid, total, paid, unpaid, status, voided, prec, linked in rows:
        q = Decimal(1).scaleb(-prec)
        if voided == "T":
            assert status == "V" and D(paid) == 0 and D(unpaid) == 0 and linked is None
            continue
        linked = D(linked or 0).quantize(q)
        assert D(paid).quantize(q) == linked, tid
        assert D(unpaid).quantize(q) == D(total).quantize(q) - linked, tid
        assert 0 <= linked <= D(total), tid  # never over-applied
        assert status == ("A" if D(unpaid) > 0 else "B")


def test_payments_and_credits_never_over_applied(small):
    conn = small[0].connect()
    rows = conn.execute(
        """SELECT t.id, t.type, t.foreigntotal, t.foreignpaymentamountused, t.foreignpaymentamountunused,
                  (SELECT SUM(foreignamount) FROM nexttransactionlinelink WHERE nextdoc = t.id
                   AND linktype = 'Payment'),
                  (SELECT SUM(foreignamount) FROM nexttransactionlinelink WHERE previousdoc = t.id
                   AND nexttype = 'CustRfnd')
           FROM "transaction" t WHERE t.type IN ('CustPymt', 'CustCred') AND t.voided = 'F'""").fetchall()
    assert rows
    for tid, _t, total, used, unused, applied, refunded in rows:
        assert D(used) + D(unused) == D(total), tid
        assert D(unused) >= 0 and D(used) >= 0
        assert abs(D(applied or 0) + D(refunded or 0) - D(used)) < Decimal("0.001"), tid
    # journal A/R debit lines are paid at most in full
    assert scalar(conn, """SELECT COUNT(*) FROM transactionline tl WHERE tl.foreignamount > 0
                           AND tl.foreignamountunpaid < 0""") == 0


def test_links_reference_existing_lines(small):
    conn = small[0].connect()
    for side in ("previous", "next"):
        assert scalar(conn, f"""SELECT COUNT(*) FROM nexttransactionlinelink l WHERE NOT EXISTS (
                SELECT 1 FROM transactionline tl JOIN "transaction" t ON t.id = tl."transaction"
                WHERE tl."transaction" = l.{side}doc AND tl.id = l.{side}line AND t.type = l.{side}type)""") == 0
    # a link is made after both documents exist, and both documents were modified no earlier
    assert scalar(conn, """SELECT COUNT(*) FROM nexttransactionlinelink l
            JOIN "transaction" p ON p.id = l.previousdoc JOIN "transaction" n ON n.id = l.nextdoc
            WHERE l.lastmodifieddate < p.createddate OR l.lastmodifieddate < n.createddate
               OR l.lastmodifieddate > p.lastmodifieddate OR l.lastmodifieddate > n.lastmodifieddate
               OR n.currency <> p.currency""") == 0
    # no links to or from voided documents
    assert scalar(conn, """SELECT COUNT(*) FROM nexttransactionlinelink l JOIN "transaction" t
            ON t.id IN (l.previousdoc, l.nextdoc) WHERE t.voided = 'T'""") == 0


def test_lines_add_up(small):
    conn = small[0].connect()
    assert scalar(conn, """SELECT COUNT(*) FROM "transaction" t WHERE (SELECT COUNT(*) FROM transactionline tl
            WHERE tl."transaction" = t.id AND tl.mainline = 'T' AND tl.id = 0) <> 1""") == 0
    rows = conn.execute(
        """SELECT t.id, t.type, t.foreigntotal,
                  (SELECT SUM(foreignamount) FROM transactionline WHERE "transaction" = t.id AND mainline = 'F'),
                  (SELECT foreignamount FROM transactionline WHERE "transaction" = t.id AND mainline = 'T'),
                  (SELECT SUM(debitforeignamount) FROM transactionline WHERE "transaction" = t.id),
                  (SELECT SUM(creditforeignamount) FROM transactionline WHERE "transaction" = t.id)
           FROM "transaction" t""").fetchall()
    for tid, ttype, total, lines, main, debit, credit in rows:
        if ttype == "Journal":
            assert abs(D(lines)) < Decimal("0.001"), tid
            assert abs(D(debit) - D(credit)) < Decimal("0.001") and abs(D(debit) - D(total)) < Decimal("0.001")
        else:
            assert D(main) == D(total), tid
            if ttype in ("CustInvc", "CustCred", "Deposit"):
                assert abs(D(lines) - D(total)) < Decimal("0.001"), tid
    # every line key is unique and lines of a transaction are numbered from 0
    assert scalar(conn, "SELECT COUNT(DISTINCT uniquekey) = COUNT(*) FROM transactionline") == 1
    assert scalar(conn, "SELECT COUNT(*) FROM transactionline WHERE linesequencenumber <> id") == 0


def test_money_is_quantized_to_currency_precision(small):
    conn = small[0].connect()
    rows = conn.execute(
        """SELECT c.currencyprecision, t.foreigntotal, t.foreignamountpaid, t.foreignamountunpaid,
                  t.foreignpaymentamountused, t.foreignpaymentamountunused
           FROM "transaction" t JOIN currency c ON c.id = t.currency""").fetchall()
    rows += conn.execute(
        """SELECT c.currencyprecision, tl.foreignamount, tl.foreignamountpaid, tl.foreignamountunpaid, NULL, NULL
           FROM transactionline tl JOIN "transaction" t ON t.id = tl."transaction"
           JOIN currency c ON c.id = t.currency""").fetchall()
    for prec, *values in rows:
        for v in values:
            if v is not None:
                assert D(v) == D(v).quantize(Decimal(1).scaleb(-prec)), (prec, v)
    assert scalar(conn, """SELECT COUNT(*) FROM "transaction" t JOIN currency c ON c.id = t.currency
                           WHERE c.symbol = 'JPY' AND t.foreigntotal <> CAST(t.foreigntotal AS INTEGER)""") == 0


def test_dates_and_stamps(small):
    conn = small[0].connect()
    today = TODAY.isoformat()
    start = date.fromordinal(TODAY.toordinal() - HISTORY_DAYS - 120).isoformat()
    assert scalar(conn, """SELECT COUNT(*) FROM "transaction" WHERE lastmodifieddate < createddate
                           OR createddate >= ? OR createddate < ? OR trandate >= ?""", today, start, today) == 0
    assert scalar(conn, "SELECT COUNT(*) FROM customer WHERE lastmodifieddate < datecreated") == 0
    assert scalar(conn, """SELECT COUNT(*) FROM transactionline tl JOIN "transaction" t ON t.id = tl."transaction"
                           WHERE tl.linelastmodifieddate > t.lastmodifieddate
                              OR tl.linelastmodifieddate < t.createddate""") == 0
    assert scalar(conn, """SELECT COUNT(*) FROM "transaction" WHERE type = 'CustInvc'
                           AND duedate <> date(trandate, '+' || terms || ' days')""") == 0
    assert scalar(conn, "SELECT MIN(createddate) FROM \"transaction\"") < "2024-06-01"
    stamp = scalar(conn, 'SELECT MAX(lastmodifieddate) FROM "transaction"')
    assert len(stamp) == 19 and stamp[10] == " "
    # ids grow with time
    rows = [r[0] for r in conn.execute('SELECT trandate FROM "transaction" ORDER BY id')]
    assert rows == sorted(rows)


def test_customer_balances_are_the_sum_of_open_items(small):
    """Independent of balances.py: the contract's formula, by a different route."""
    conn = small[0].connect()
    expected: dict[int, Decimal] = {}
    for entity, open_amount, rate in conn.execute(
            """SELECT entity, CASE WHEN type = 'CustInvc' THEN foreignamountunpaid
                                   ELSE -foreignpaymentamountunused END, exchangerate
               FROM "transaction" WHERE voided = 'F' AND type IN ('CustInvc', 'CustPymt', 'CustCred')
               UNION ALL
               SELECT tl.entity, tl.foreignamountunpaid, t.exchangerate FROM transactionline tl
               JOIN "transaction" t ON t.id = tl."transaction" WHERE t.type = 'Journal'
               AND t.voided = 'F' AND tl.foreignamountunpaid IS NOT NULL"""):
        expected[entity] = expected.get(entity, Decimal(0)) + (D(open_amount) * D(rate)).quantize(
            Decimal("0.01"), rounding="ROUND_HALF_UP")
    for cid, balance, consol in conn.execute("SELECT id, balancesearch, consolbalancesearch FROM customer"):
        assert D(balance) == D(consol) == expected.get(cid, 0), cid
    # the per-subsidiary balances add up to the customer's
    assert scalar(conn, """SELECT COUNT(*) FROM customer c WHERE ABS(c.balancesearch -
            (SELECT SUM(balance) FROM customersubsidiaryrelationship r WHERE r.entity = c.id)) > 0.001""") == 0


# ------------------------------------------------------------------------------------------------
# Unit tests of the recompute functions on hand-built rows
# ------------------------------------------------------------------------------------------------

STAMP = "2026-01-10 09:00:00"


@pytest.fixture()
def book(tmp_path) -> Store:
    store = Store(tmp_path)
    with store.write() as c:
        c.executemany("INSERT INTO currency (id, name, symbol, currencyprecision, exchangerate, isbasecurrency) "
                      "VALUES (?,?,?,?,?,?)", [(1, "US Dollar", "USD", 2, 1, "T"), (2, "Euro", "EUR", 2, 1.1, "F"),
                                               (5, "Yen", "JPY", 0, 0.0067, "F")])
        c.executemany("INSERT INTO subsidiary (id, name, fullname, parent, currency) VALUES (?,?,?,?,?)",
                      [(1, "Parent", "Parent", None, 1), (2, "Japan", "Parent : Japan", 1, 5)])
        c.executemany("INSERT INTO account (id, fullname, accttype) VALUES (?,?,?)",
                      [(1, "A/R", "AcctRec"), (3, "Undeposited", "UnDepFunds"), (4, "Revenue", "Income"),
                       (5, "Bank", "Bank"), (6, "Fees", "Expense")])
        c.executemany("INSERT INTO customer (id, entityid, currency, subsidiary, datecreated, lastmodifieddate) "
                      "VALUES (?,?,?,?,?,?)", [(10, "C10", 1, 1, STAMP, STAMP), (11, "C11", 5, 2, STAMP, STAMP),
                                               (12, "C12", 1, 1, STAMP, STAMP)])
        c.executemany("INSERT INTO customersubsidiaryrelationship (id, entity, subsidiary, isprimarysub, balance) "
                      "VALUES (?,?,?,?,?)", [(1, 10, 1, "T", 0), (2, 10, 2, "F", 0), (3, 11, 2, "T", 0),
                                             (4, 12, 1, "T", 99)])
    return store


def add_doc(c, tid, ttype, entity, total, *, currency=1, rate=1, sub=1, due=None, voided="F",
            status=None, account=1):
    recordtype = {"CustInvc": "invoice", "CustPymt": "customerpayment", "CustCred": "creditmemo",
                  "CustRfnd": "customerrefund", "Deposit": "deposit", "Journal": "journalentry"}[ttype]
    c.execute('INSERT INTO "transaction" (id, type, recordtype, status, trandate, duedate, voided, entity, '
              'currency, exchangerate, foreigntotal, createddate, lastmodifieddate) '
              'VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)',
              (tid, ttype, recordtype, status, "2026-01-10", due, voided, entity, currency, rate, total,
               STAMP, STAMP))
    c.execute('INSERT INTO transactionline ("transaction", id, linesequencenumber, uniquekey, mainline, '
              "subsidiary, entity, expenseaccount, foreignamount, linelastmodifieddate) "
              "VALUES (?,0,0,?,'T',?,?,?,?,?)", (tid, tid * 100, sub, entity, account, total, STAMP))


def add_line(c, tid, line, entity, account, amount, sub=1):
    c.execute('INSERT INTO transactionline ("transaction", id, linesequencenumber, uniquekey, mainline, '
              "subsidiary, entity, expenseaccount, foreignamount, linelastmodifieddate) "
              "VALUES (?,?,?,?,'F',?,?,?,?,?)", (tid, line, line, tid * 100 + line, sub, entity, account,
                                                 amount, STAMP))


def add_link(c, prev, prev_line, prev_type, nxt, next_line, next_type, amount, linktype="Payment"):
    c.execute("INSERT INTO nexttransactionlinelink (previousdoc, previousline, previoustype, nextdoc, nextline, "
              "nexttype, linktype, foreignamount, lastmodifieddate) VALUES (?,?,?,?,?,?,?,?,?)",
              (prev, prev_line, prev_type, nxt, next_line, next_type, linktype, amount, STAMP))


def build_documents(c) -> None:
    add_doc(c, 100, "CustInvc", 10, "100.00", due="2026-01-01")             # past due
    add_doc(c, 101, "CustInvc", 10, "50.00", currency=2, rate="1.1", due="2026-12-31")
    add_doc(c, 102, "CustInvc", 10, "30.00", due="2026-01-01", voided="T")
    add_doc(c, 103, "CustInvc", 11, "1000", currency=5, sub=2, due="2026-01-01")
    add_doc(c, 104, "CustInvc", 10, "7", currency=5, rate="1.001", sub=2, due="2026-12-31")
    add_doc(c, 200, "CustPymt", 10, "80.00", account=3)
    add_doc(c, 201, "CustPymt", 10, "10.00", account=3)
    add_doc(c, 202, "CustPymt", 10, "5.00", account=5)                       # straight to the bank
    add_doc(c, 203, "CustPymt", 10, "9.00", account=3, voided="T")
    add_doc(c, 300, "CustCred", 10, "25.00")
    add_doc(c, 301, "CustCred", 10, "15.00")
    add_doc(c, 400, "Deposit", None, "79.00", account=5)
    add_line(c, 400, 1, 10, 3, "80.00")
    add_line(c, 400, 2, None, 6, "-1.00")
    add_doc(c, 500, "CustRfnd", 10, "5.00", account=5)
    add_doc(c, 600, "Journal", None, "40.00", account=None)
    add_line(c, 600, 1, 10, 1, "40.00")
    add_line(c, 600, 2, None, 4, "-40.00")
    add_doc(c, 601, "Journal", None, "12.00", account=None)
    add_line(c, 601, 1, 10, 1, "-12.00")
    add_line(c, 601, 2, None, 4, "12.00")
    add_link(c, 100, 0, "CustInvc", 200, 0, "CustPymt", "60.00")
    add_link(c, 100, 0, "CustInvc", 300, 0, "CustCred", "15.00")
    add_link(c, 101, 0, "CustInvc", 301, 0, "CustCred", "15.00")
    add_link(c, 300, 0, "CustCred", 500, 0, "CustRfnd", "5.00")
    add_link(c, 200, 0, "CustPymt", 400, 1, "Deposit", "80.00", "Deposit")
    add_link(c, 600, 1, "Journal", 201, 0, "CustPymt", "10.00")


def row(c, tid) -> tuple:
    return tuple(c.execute('SELECT status, foreignamountpaid, foreignamountunpaid, foreignpaymentamountused, '
                     'foreignpaymentamountunused, lastmodifieddate FROM "transaction" WHERE id = ?', (tid,)).fetchone())


def test_recompute_document_amounts(book):
    with book.write() as c:
        build_documents(c)
        recompute_document_amounts(c, [100, 101, 102, 103, 104, 200, 201, 202, 203, 300, 301, 400, 500, 600,
                                       601, 999])
        inv = row(c, 100)
        assert (inv[0], D(inv[1]), D(inv[2]), inv[3], inv[4]) == ("A", D("75.00"), D("25.00"), None, None)
        assert row(c, 101)[0:3] == ("A", 15, 35)
        assert row(c, 102)[0:3] == ("V", 0, 0)
        assert row(c, 103)[0:3] == ("A", 0, 1000)
        assert row(c, 200)[0] == "C" and (D(row(c, 200)[3]), D(row(c, 200)[4])) == (60, 20)
        assert row(c, 201)[0] == "B" and (D(row(c, 201)[3]), D(row(c, 201)[4])) == (10, 0)
        assert row(c, 202)[0] == "C" and row(c, 202)[1:3] == (None, None)  # posted to a bank account
        assert row(c, 203)[0:5] == ("V", None, None, 0, 0)
        assert row(c, 300)[0] == "A" and (D(row(c, 300)[3]), D(row(c, 300)[4])) == (20, 5)  # 15 applied + 5 refunded
        assert row(c, 301)[0] == "B" and (D(row(c, 301)[3]), D(row(c, 301)[4])) == (15, 0)
        assert row(c, 400)[0:5] == ("A", None, None, None, None)
        assert row(c, 500)[0] == "A"
        assert row(c, 600)[0] == "B" and row(c, 601)[0] == "B"
        lines = c.execute('SELECT "transaction", id, foreignamountpaid, foreignamountunpaid FROM transactionline '
                          'WHERE "transaction" IN (600, 601) ORDER BY 1, 2').fetchall()
        assert [tuple(r) for r in lines] == [(600, 0, None, None), (600, 1, 10, 30), (600, 2, None, None),
                                             (601, 0, None, None), (601, 1, 0, -12), (601, 2, None, None)]
        # timestamps are left alone without `now`
        assert row(c, 100)[5] == STAMP


def test_recompute_document_amounts_stamps_only_changed_rows(book):
    with book.write() as c:
        build_documents(c)
        ids = [r[0] for r in c.execute('SELECT id FROM "transaction"')]
        recompute_document_amounts(c, ids)
        start = c.total_changes
        recompute_document_amounts(c, ids, now="2026-02-01 10:00:00")
        assert c.total_changes == start  # nothing to change, nothing stamped
        # a payment of the journal line is removed and the voided invoice is un-voided by hand
        c.execute("DELETE FROM nexttransactionlinelink WHERE previousdoc = 600")
        c.execute("""UPDATE "transaction" SET voided = 'F' WHERE id = 102""")
        recompute_document_amounts(c, [600, 201, 102, 100], now="2026-02-01 10:00:00")
        assert row(c, 600)[5] == "2026-02-01 10:00:00"
        assert tuple(c.execute('SELECT linelastmodifieddate, foreignamountunpaid FROM transactionline '
                         'WHERE "transaction" = 600 AND id = 1').fetchone()) == ("2026-02-01 10:00:00", 40)
        assert c.execute('SELECT linelastmodifieddate FROM transactionline '
                         'WHERE "transaction" = 600 AND id = 2').fetchone()[0] == STAMP
        assert row(c, 201)[0] == "B" and (D(row(c, 201)[3]), D(row(c, 201)[4])) == (0, 10)
        assert row(c, 201)[5] == "2026-02-01 10:00:00"
        assert row(c, 102)[0:3] == ("A", 0, 30)
        assert row(c, 100)[5] == STAMP  # unchanged


def test_recompute_keeps_approval_states_and_voids_everything(book):
    with book.write() as c:
        add_doc(c, 100, "CustInvc", 10, "20.00", status="D")
        add_doc(c, 200, "CustPymt", 10, "20.00", status="A", account=3)
        add_doc(c, 600, "Journal", None, "5.00", status="A", account=None)
        add_line(c, 600, 1, 10, 1, "5.00")
        add_doc(c, 601, "Journal", None, "5.00", voided="T", account=None)
        add_line(c, 601, 1, 10, 1, "5.00")
        add_doc(c, 500, "CustRfnd", 10, "5.00", voided="T", account=5)
        recompute_document_amounts(c, [100, 200, 600, 601, 500])
        assert row(c, 100)[0:3] == ("D", 0, 20)
        assert row(c, 200)[0] == "A"
        assert row(c, 600)[0] == "A"
        assert row(c, 601)[0] == "V" and row(c, 500)[0] == "V"
        assert tuple(c.execute('SELECT foreignamountpaid, foreignamountunpaid FROM transactionline '
                         'WHERE "transaction" = 601 AND id = 1').fetchone()) == (0, 0)


def test_recompute_customer_balances(book):
    with book.write() as c:
        build_documents(c)
        recompute_document_amounts(c, [r[0] for r in c.execute('SELECT id FROM "transaction"')])
        recompute_customer_balances(c, None, today="2026-01-15")
        bal = {r[0]: (D(r[1]), D(r[2]), D(r[3])) for r in c.execute(
            "SELECT id, balancesearch, consolbalancesearch, overduebalancesearch FROM customer")}
        # C10: inv100 25 + inv101 35 EUR x 1.1 + inv104 7 JPY x 1.001 (sub 2) - pmt200 20 - pmt202 5
        #      - cm300 5 + JE600 line 30 - JE601 line 12 (pmt201 fully used, voided ones count 0)
        assert bal[10] == (D("58.51"), D("58.51"), D("25.00"))
        assert bal[11] == (D("1000.00"), D("1000.00"), D("1000.00"))
        assert bal[12] == (0, 0, 0)
        csr = {r[0]: D(r[1]) for r in c.execute("SELECT id, balance FROM customersubsidiaryrelationship")}
        assert csr == {1: D("51.50"), 2: D("7.01"), 3: D("1000.00"), 4: 0}
        # nothing is overdue on an earlier day
        recompute_customer_balances(c, [10], today="2025-12-01")
        assert D(c.execute("SELECT overduebalancesearch FROM customer WHERE id = 10").fetchone()[0]) == 0


def test_recompute_customer_balances_subset_and_rounding(book):
    with book.write() as c:
        # two documents of 0.01 EUR at 0.5: each is 0.005 -> 0.01 (NetSuite keeps a rounded base
        # amount per transaction), so the balance is 0.02, not round(0.01) of the exact sum
        add_doc(c, 100, "CustInvc", 12, "0.01", currency=2, rate="0.5", due="2026-12-31")
        add_doc(c, 101, "CustInvc", 12, "0.01", currency=2, rate="0.5", due="2026-12-31")
        add_doc(c, 102, "CustInvc", 10, "3.00", due="2026-12-31")
        recompute_document_amounts(c, [100, 101, 102])
        recompute_customer_balances(c, [12], today="2026-01-15")
        bal = dict(c.execute("SELECT id, balancesearch FROM customer").fetchall())
        assert D(bal[12]) == D("0.02")
        assert D(bal[10]) == 0  # not asked for
        csr = c.execute("SELECT balance FROM customersubsidiaryrelationship WHERE id = 4").fetchone()[0]
        assert D(csr) == D("0.02")
        recompute_customer_balances(c, [], today="2026-01-15")  # nothing to do
        recompute_customer_balances(c, today="2026-01-15")
        assert D(c.execute("SELECT balancesearch FROM customer WHERE id = 10").fetchone()[0]) == 3


def test_unknown_scale_is_refused(tmp_path):
    store = Store(tmp_path)
    with pytest.raises(ValueError):
        seed(store, scale="huge", today=TODAY)
    with pytest.raises(ValueError):
        seed(store, scale=0, today=TODAY)
    assert seed(store, scale="40", today=TODAY)["transaction"] > 0
