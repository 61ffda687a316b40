"""Open amounts of documents and balances of customers, recomputed from the store.

The rules are the contract of docs/sandbox-design.md ("Store conventions", "Balances"):

Documents (`recompute_document_amounts`), from the `nexttransactionlinelink` rows:
- invoice: `foreignamountpaid` = sum of links where it is previousdoc with linktype 'Payment';
  `foreignamountunpaid` = total - paid; status 'A' Open when unpaid > 0 else 'B' Paid In Full
  (approval states 'D'/'E' are kept as they are);
- customer payment / credit memo: `foreignpaymentamountused` = sum of its applications (links where
  it is nextdoc, linktype 'Payment') + its refunds (links where it is previousdoc and nexttype
  'CustRfnd'); unused = total - used. Payment status 'C' Deposited when a deposit links it
  (linktype 'Deposit') or its main line posts straight to a bank account, else 'B' Not Deposited
  ('A' Unapproved Payment is kept). Credit memo status 'A' Open when unused > 0 else
  'B' Fully Applied;
- journal entry: on each A/R line (account type AcctRec, entity set) `foreignamountpaid` = sum of
  the links on that line and `foreignamountunpaid` = the signed open amount (debit lines:
  amount - paid, credit lines: amount + paid); status 'B' Approved for Posting unless it is
  'A' Pending Approval or 'R' Rejected;
- customer refund, deposit: status 'A';
- voided documents (voided = 'T'): status 'V' and every open amount 0 (paid/used 0 too).
Amount columns that do not apply to a type are NULL (an invoice has no used/unused, a payment no
paid/unpaid, refunds, deposits and journal headers have none).

Customers (`recompute_customer_balances`): sum over the customer's non-voided transactions of
invoice unpaid + A/R journal line unpaid - payment unused - credit memo unused, each converted
with the transaction's exchange rate and rounded to 0.01 (half up) per document (per journal line),
as NetSuite keeps a base-currency amount per transaction. `balancesearch` = `consolbalancesearch`
= that sum; `overduebalancesearch` = the invoices' part with duedate < today;
`customersubsidiaryrelationship.balance` = the part booked in that subsidiary (the subsidiary of
the main line; of the line itself for journal lines).

Only values that differ are written, so running either function on consistent data changes
nothing. Both run on the caller's connection, inside the caller's write transaction
(`with store.write() as conn: ...`); neither commits. Money is aggregated in SQL but quantized in
Python with Decimal (never stored as a float result).
"""
from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
_QUANTS = {p: Decimal(1).scaleb(-p) for p in range(0, 9)}
_CHUNK = 500  # ids per IN (...) list

__all__ = ["recompute_customer_balances", "recompute_document_amounts", "money", "quantize"]


def quantize(value: object, precision: int = 2) -> Decimal:
    """A stored money value (int, float, str, Decimal or None) as a Decimal of `precision` places."""
    if value is None:
        value = 0
    d = value if isinstance(value, Decimal) else Decimal(str(value))
    q = d.quantize(_QUANTS.get(precision) or Decimal(1).scaleb(-precision), rounding=ROUND_HALF_UP)
    return q if q != 0 else abs(q)  # never '-0.00'


def money(value: object, precision: int = 2) -> str:
    """The text to store for a money value: `str(Decimal.quantize(...))`."""
    return str(quantize(value, precision))


def _chunks(ids: Sequence[int], size: int = _CHUNK) -> Iterator[Sequence[int]]:
    for i in range(0, len(ids), size):
        yield ids[i:i + size]


def _marks(n: int) -> str:
    return ",".join("?" * n)


def _same(current: object, new: Decimal | None, precision: int) -> bool:
    if new is None or current is None:
        return new is None and current is None
    return quantize(current, precision) == new


# ---------------------------------------------------------------------------------------------
# Documents
# ---------------------------------------------------------------------------------------------

def recompute_document_amounts(conn: sqlite3.Connection, transaction_ids: Iterable[int], *,
                               now: str | None = None) -> None:
    """Recompute open amounts and status letters of the given transactions from their links.

    Ids that do not exist (deleted) are ignored. Only changed rows are written; with `now`
    ('YYYY-MM-DD HH:MM:SS') the changed transactions get `lastmodifieddate = now` and changed
    journal lines `linelastmodifieddate = now` (without it timestamps are left alone).
    """
    ids = sorted({int(i) for i in transaction_ids})
    for chunk in _chunks(ids):
        _recompute_chunk(conn, chunk, now)


def _recompute_chunk(conn: sqlite3.Connection, ids: Sequence[int], now: str | None) -> None:
    marks = _marks(len(ids))
    headers = conn.execute(
        f"""SELECT t.id, t.type, t.voided, t.status, t.foreigntotal, c.currencyprecision,
                   t.foreignamountpaid, t.foreignamountunpaid,
                   t.foreignpaymentamountused, t.foreignpaymentamountunused
            FROM "transaction" t JOIN currency c ON c.id = t.currency
            WHERE t.id IN ({marks})""", ids).fetchall()
    if not headers:
        return
    # links where the document is the one paid (invoice, journal line) or the one refunded
    as_previous: dict[int, dict[tuple[int, str], float]] = {}
    for doc, line, nexttype, amount in conn.execute(
            f"""SELECT previousdoc, previousline, nexttype, SUM(foreignamount)
                FROM nexttransactionlinelink
                WHERE previousdoc IN ({marks}) AND linktype = 'Payment'
                GROUP BY previousdoc, previousline, nexttype""", ids):
        as_previous.setdefault(doc, {})[(line, nexttype)] = amount
    # links where the document pays something (payment, credit memo applications)
    as_next: dict[int, dict[int, float]] = {}
    for doc, line, amount in conn.execute(
            f"""SELECT nextdoc, nextline, SUM(foreignamount) FROM nexttransactionlinelink
                WHERE nextdoc IN ({marks}) AND linktype = 'Payment'
                GROUP BY nextdoc, nextline""", ids):
        as_next.setdefault(doc, {})[line] = amount
    payment_ids = [h[0] for h in headers if h[1] == "CustPymt"]
    deposited: set[int] = set()
    if payment_ids:
        pm = _marks(len(payment_ids))
        deposited.update(r[0] for r in conn.execute(
            f"""SELECT DISTINCT previousdoc FROM nexttransactionlinelink
                WHERE previousdoc IN ({pm}) AND linktype = 'Deposit'""", payment_ids))
        deposited.update(r[0] for r in conn.execute(
            f"""SELECT tl."transaction" FROM transactionline tl JOIN account a ON a.id = tl.expenseaccount
                WHERE tl."transaction" IN ({pm}) AND tl.mainline = 'T' AND a.accttype = 'Bank'""",
            payment_ids))

    header_updates: list[tuple] = []
    journal_ids: list[tuple[int, bool, int]] = []
    for (tid, ttype, voided, status, total, prec, cur_paid, cur_unpaid, cur_used,
         cur_unused) in headers:
        is_void = voided == "T"
        total_d = quantize(total, prec)
        paid = unpaid = used = unused = None
        new_status = status
        if ttype == "CustInvc":
            if is_void:
                paid = unpaid = quantize(0, prec)
                new_status = "V"
            else:
                applied = sum((a for (_line, _nt), a in as_previous.get(tid, {}).items()), 0.0)
                paid = quantize(applied, prec)
                unpaid = quantize(total_d - paid, prec)
                new_status = status if status in ("D", "E") else ("A" if unpaid > 0 else "B")
        elif ttype in ("CustPymt", "CustCred"):
            if is_void:
                used = unused = quantize(0, prec)
                new_status = "V"
            else:
                applied = sum(as_next.get(tid, {}).values(), 0.0)
                refunded = sum((a for (_line, nt), a in as_previous.get(tid, {}).items()
                                if nt == "CustRfnd"), 0.0)
                used = quantize(quantize(applied, prec) + quantize(refunded, prec), prec)
                unused = quantize(total_d - used, prec)
                if ttype == "CustPymt":
                    new_status = "A" if status == "A" else ("C" if tid in deposited else "B")
                else:
                    new_status = "A" if unused > 0 else "B"
        elif ttype == "Journal":
            new_status = "V" if is_void else (status if status in ("A", "R") else "B")
            journal_ids.append((tid, is_void, prec))
        else:  # CustRfnd, Deposit and anything else
            new_status = "V" if is_void else "A"
        if (new_status != status or not _same(cur_paid, paid, prec) or not _same(cur_unpaid, unpaid, prec)
                or not _same(cur_used, used, prec) or not _same(cur_unused, unused, prec)):
            header_updates.append((new_status,
                                   None if paid is None else str(paid),
                                   None if unpaid is None else str(unpaid),
                                   None if used is None else str(used),
                                   None if unused is None else str(unused), tid))
    line_updates: list[tuple] = []
    touched_journals: set[int] = set()
    if journal_ids:
        info = {tid: (is_void, prec) for tid, is_void, prec in journal_ids}
        jm = _marks(len(info))
        for tid, line_id, amount, cur_paid, cur_unpaid in conn.execute(
                f"""SELECT tl."transaction", tl.id, tl.foreignamount, tl.foreignamountpaid,
                           tl.foreignamountunpaid
                    FROM transactionline tl JOIN account a ON a.id = tl.expenseaccount
                    WHERE tl."transaction" IN ({jm}) AND a.accttype = 'AcctRec'
                      AND tl.entity IS NOT NULL AND tl.mainline = 'F'""", list(info)):
            is_void, prec = info[tid]
            if is_void:
                paid = unpaid = quantize(0, prec)
            else:
                links = as_previous.get(tid, {})
                applied = sum((a for (ln, _nt), a in links.items() if ln == line_id), 0.0)
                applied += as_next.get(tid, {}).get(line_id, 0.0)
                paid = quantize(applied, prec)
                amount_d = quantize(amount, prec)
                unpaid = quantize(amount_d - paid if amount_d >= 0 else amount_d + paid, prec)
            if not _same(cur_paid, paid, prec) or not _same(cur_unpaid, unpaid, prec):
                line_updates.append((str(paid), str(unpaid), tid, line_id))
                touched_journals.add(tid)
    if header_updates:
        if now is None:
            conn.executemany(
                """UPDATE "transaction" SET status = ?, foreignamountpaid = ?, foreignamountunpaid = ?,
                       foreignpaymentamountused = ?, foreignpaymentamountunused = ? WHERE id = ?""",
                header_updates)
        else:
            conn.executemany(
                """UPDATE "transaction" SET status = ?, foreignamountpaid = ?, foreignamountunpaid = ?,
                       foreignpaymentamountused = ?, foreignpaymentamountunused = ?,
                       lastmodifieddate = ? WHERE id = ?""",
                [u[:5] + (now, u[5]) for u in header_updates])
    if line_updates:
        if now is None:
            conn.executemany(
                """UPDATE transactionline SET foreignamountpaid = ?, foreignamountunpaid = ?
                   WHERE "transaction" = ? AND id = ?""", line_updates)
        else:
            conn.executemany(
                """UPDATE transactionline SET foreignamountpaid = ?, foreignamountunpaid = ?,
                       linelastmodifieddate = ? WHERE "transaction" = ? AND id = ?""",
                [u[:2] + (now,) + u[2:] for u in line_updates])
            done = {u[-1] for u in header_updates}
            rest = sorted(touched_journals - done)
            if rest:
                conn.executemany("""UPDATE "transaction" SET lastmodifieddate = ? WHERE id = ?""",
                                 [(now, t) for t in rest])


# ---------------------------------------------------------------------------------------------
# Customers
# ---------------------------------------------------------------------------------------------

_DOCUMENTS_SQL = """
    SELECT t.entity, COALESCE(ml.subsidiary, cu.subsidiary),
           CASE WHEN t.type = 'CustInvc' THEN t.foreignamountunpaid
                ELSE -t.foreignpaymentamountunused END,
           t.exchangerate, c.currencyprecision,
           CASE WHEN t.type = 'CustInvc' AND t.duedate < ? THEN 1 ELSE 0 END
    FROM "transaction" t
    JOIN currency c ON c.id = t.currency
    JOIN customer cu ON cu.id = t.entity
    LEFT JOIN transactionline ml ON ml."transaction" = t.id AND ml.mainline = 'T'
    WHERE t.voided = 'F'
      AND ((t.type = 'CustInvc' AND t.foreignamountunpaid <> 0)
           OR (t.type IN ('CustPymt', 'CustCred') AND t.foreignpaymentamountunused <> 0))
"""

_JOURNAL_SQL_ALL = """
    SELECT tl.entity, COALESCE(tl.subsidiary, cu.subsidiary), tl.foreignamountunpaid,
           t.exchangerate, c.currencyprecision, 0
    FROM "transaction" t
    CROSS JOIN transactionline tl ON tl."transaction" = t.id
    JOIN account a ON a.id = tl.expenseaccount
    JOIN currency c ON c.id = t.currency
    JOIN customer cu ON cu.id = tl.entity
    WHERE t.type = 'Journal' AND t.voided = 'F' AND a.accttype = 'AcctRec' AND tl.mainline = 'F'
      AND tl.foreignamountunpaid <> 0
"""

_JOURNAL_SQL_SOME = """
    SELECT tl.entity, COALESCE(tl.subsidiary, cu.subsidiary), tl.foreignamountunpaid,
           t.exchangerate, c.currencyprecision, 0
    FROM transactionline tl
    JOIN "transaction" t ON t.id = tl."transaction"
    JOIN account a ON a.id = tl.expenseaccount
    JOIN currency c ON c.id = t.currency
    JOIN customer cu ON cu.id = tl.entity
    WHERE t.type = 'Journal' AND t.voided = 'F' AND a.accttype = 'AcctRec' AND tl.mainline = 'F'
      AND tl.foreignamountunpaid <> 0 AND tl.entity IN ({marks})
"""


def recompute_customer_balances(conn: sqlite3.Connection, customer_ids: Iterable[int] | None = None,
                                today: str | None = None) -> None:
    """Set `balancesearch`, `consolbalancesearch`, `overduebalancesearch` of customers and
    `customersubsidiaryrelationship.balance`, from the open amounts of their transactions.

    `customer_ids=None` recomputes every customer. `today` ('YYYY-MM-DD', the account's date;
    pass `Store.today()`) decides what is overdue; None means the machine's local date.
    """
    if today is None:
        today = date.today().isoformat()
    ids: list[int] | None = None if customer_ids is None else sorted({int(i) for i in customer_ids})
    if ids is not None and not ids:
        return
    balance: dict[int, Decimal] = {}
    overdue: dict[int, Decimal] = {}
    by_sub: dict[tuple[int, int], Decimal] = {}
    rate_cache: dict[object, Decimal] = {}

    def add(rows: Iterable[tuple]) -> None:
        for entity, sub, open_amount, rate, prec, is_overdue in rows:
            r = rate_cache.get(rate)
            if r is None:
                r = rate_cache[rate] = Decimal(str(rate)) if rate is not None else Decimal(1)
            base = (quantize(open_amount, prec) * r).quantize(CENT, rounding=ROUND_HALF_UP)
            balance[entity] = balance.get(entity, 0) + base
            key = (entity, sub)
            by_sub[key] = by_sub.get(key, 0) + base
            if is_overdue:
                overdue[entity] = overdue.get(entity, 0) + base

    if ids is None:
        add(conn.execute(_DOCUMENTS_SQL, (today,)))
        add(conn.execute(_JOURNAL_SQL_ALL))
        customers = conn.execute(
            "SELECT id, balancesearch, consolbalancesearch, overduebalancesearch FROM customer").fetchall()
        relationships = conn.execute(
            "SELECT id, entity, subsidiary, balance FROM customersubsidiaryrelationship").fetchall()
    else:
        customers, relationships = [], []
        for chunk in _chunks(ids):
            marks = _marks(len(chunk))
            add(conn.execute(_DOCUMENTS_SQL + f" AND t.entity IN ({marks})", (today, *chunk)))
            add(conn.execute(_JOURNAL_SQL_SOME.format(marks=marks), chunk))
            customers += conn.execute(
                f"""SELECT id, balancesearch, consolbalancesearch, overduebalancesearch FROM customer
                    WHERE id IN ({marks})""", chunk).fetchall()
            relationships += conn.execute(
                f"""SELECT id, entity, subsidiary, balance FROM customersubsidiaryrelationship
                    WHERE entity IN ({marks})""", chunk).fetchall()

    zero = Decimal("0.00")
    customer_updates = []
    for cid, cur_bal, cur_consol, cur_overdue in customers:
        bal = quantize(balance.get(cid, zero))
        due = quantize(overdue.get(cid, zero))
        if not (_same(cur_bal, bal, 2) and _same(cur_consol, bal, 2) and _same(cur_overdue, due, 2)):
            customer_updates.append((str(bal), str(bal), str(due), cid))
    if customer_updates:
        conn.executemany("""UPDATE customer SET balancesearch = ?, consolbalancesearch = ?,
                                overduebalancesearch = ? WHERE id = ?""", customer_updates)
    csr_updates = []
    for rid, entity, sub, cur in relationships:
        bal = quantize(by_sub.get((entity, sub), zero))
        if not _same(cur, bal, 2):
            csr_updates.append((str(bal), rid))
    if csr_updates:
        conn.executemany("UPDATE customersubsidiaryrelationship SET balance = ? WHERE id = ?", csr_updates)
