"""Derived receivables (ns_pipelines.ar) on SQLite and PostgreSQL, from hand-built raw rows.

The data set (as of 2026-03-31), NetSuite balances as the sandbox computes them (intercompany
included):
- customer 1 (USD): open invoice 400, unapplied payment 120, unapplied credit memo 50, A/R journal
  debit 200 and credit -80, plus fully applied / paid items -> balance 350.00
- customer 2: EUR invoice 1234.57 @ 1.0857 (1340.37), JPY invoice 12345 @ 0.0067 (82.71), JPY
  credit memo 999 unused @ 0.0067 (-6.69) -> 1416.39
- customer 3: intercompany (represents subsidiary 5), invoice 5000 -> 5000.00, excluded
- customer 4: regular; invoice 250 and an intercompany-flagged invoice 999.99 -> 1249.99
- customer 5: intercompany by configuration only; invoice 77 -> 77.00, excluded
- customer 6: deleted invoice, voided invoice/payment/journal line -> 0.00
- customer 7: ageing edges: due 91, 90, 61, 60, 31, 30, 1, 0, -1 days ago, plus one without due date
- customer 8: per-item rounding: four EUR invoices 10.01 @ 0.5 (5.005 -> 5.01 each), credit memo
  -10.01 @ 0.5 (-5.01), journal credit -0.03 @ 0.5 (-0.02) -> 15.01 (rounding the sum instead:
  15.00)
- customer 10: deleted, nothing open

The last test runs the whole way: a small sandbox, sync_all, the rebuilds, and every customer's
derived balance (plus what the intercompany exclusion removed) equals the sandbox's
customer.balancesearch; again after deleting, voiding and flagging invoices and a resync.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import pytest
import sqlalchemy as sa

from ns_pipelines import ar
from ns_pipelines.ar import checks
from ns_pipelines.ar import open_items as open_items_module
from ns_pipelines.warehouse import (
    aging,
    credit_memos,
    customer_balances,
    customer_payments,
    customer_refunds,
    customers,
    deposits,
    invoices,
    journal_lines,
    metadata,
    open_items,
    payment_applications,
    soft_delete,
    upsert_rows,
    write_cursor,
)

UTC = dt.timezone.utc
AS_OF = dt.date(2026, 3, 31)
T0 = dt.datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
D = Decimal


@dataclass(frozen=True)
class Settings:
    exclude_intercompany: bool = True
    intercompany_customer_ids: frozenset[int] = frozenset({5})


ON = Settings()
OFF = Settings(exclude_intercompany=False)


def days_ago(n: int) -> dt.date:
    return AS_OF - dt.timedelta(days=n)


# --- raw rows -------------------------------------------------------------------------------


def customer(id_: int, balance: str | None, **kw: object) -> dict[str, object]:
    return {"id": id_, "entity_id": f"CUST{id_}", "company_name": f"Customer {id_}", "currency": "USD",
            "subsidiary_id": 1, "balance": None if balance is None else D(balance), "external_id": f"C-{id_}",
            "last_modified": T0, **kw}


def _doc(id_: int, cust: int | None, total: str, currency: str, rate: str, tran_date: dt.date, **kw: object) -> dict:
    return {"id": id_, "tran_id": f"DOC{id_}", "customer_id": cust, "subsidiary_id": 1, "currency": currency,
            "exchange_rate": D(rate), "tran_date": tran_date, "total": D(total), "external_id": f"X-{id_}",
            "last_modified": T0, **kw}


def invoice(id_: int, cust: int, total: str, unpaid: str | None = None, *, currency: str = "USD", rate: str = "1",
            due: dt.date | None = AS_OF, tran_date: dt.date | None = None, **kw: object) -> dict:
    unpaid = total if unpaid is None else unpaid
    return _doc(id_, cust, total, currency, rate, tran_date or days_ago(100), **{
        "due_date": due, "status": "A" if D(unpaid) > 0 else "B", "amount_paid": D(total) - D(unpaid),
        "amount_unpaid": D(unpaid), **kw})


def payment(id_: int, cust: int, total: str, unused: str, *, currency: str = "USD", rate: str = "1",
            tran_date: dt.date = AS_OF, **kw: object) -> dict:
    return _doc(id_, cust, total, currency, rate, tran_date, **{
        "status": "B", "amount_used": D(total) - D(unused), "amount_unused": D(unused), **kw})


def credit_memo(id_: int, cust: int, total: str, unused: str, *, currency: str = "USD", rate: str = "1",
                tran_date: dt.date = AS_OF, **kw: object) -> dict:
    return _doc(id_, cust, total, currency, rate, tran_date, **{
        "status": "A" if D(unused) > 0 else "B", "amount_used": D(total) - D(unused), "amount_unused": D(unused),
        **kw})


def je_line(je: int, line: int, cust: int, amount: str, unpaid: str, *, currency: str = "USD", rate: str = "1",
            tran_date: dt.date = AS_OF, **kw: object) -> dict:
    a = D(amount)
    return {"journal_entry_id": je, "line_id": line, "tran_id": f"JE{je}", "customer_id": cust, "subsidiary_id": 1,
            "currency": currency, "exchange_rate": D(rate), "tran_date": tran_date, "status": "B",
            "amount": a, "debit_amount": max(a, D(0)), "credit_amount": max(-a, D(0)), "amount_unpaid": D(unpaid),
            "external_id": f"JE-{je}", "last_modified": T0} | kw


def application(prev: int, prev_type: str, nxt: int, next_type: str, amount: str, *, prev_line: int = 0,
                link_type: str = "Payment", **kw: object) -> dict:
    return {"previous_doc_id": prev, "previous_line": prev_line, "next_doc_id": nxt, "next_line": 0,
            "previous_type": prev_type, "next_type": next_type, "link_type": link_type, "amount": D(amount),
            "last_modified": T0, **kw}


AGING_EDGES = {111: (-1, "1"), 112: (0, "2"), 113: (1, "4"), 114: (30, "8"), 115: (31, "16"),
               116: (60, "32"), 117: (61, "64"), 118: (90, "128"), 119: (91, "256")}


def load_dataset(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        upsert_rows(conn, customers, [
            customer(1, "350.00"),
            customer(2, "1416.39", currency="EUR"),
            customer(3, "5000.00", is_intercompany=True, representing_subsidiary_id=5),
            customer(4, "1249.99"),
            customer(5, "77.00"),
            customer(6, "0.00"),
            customer(7, "1535.00"),
            customer(8, "15.01", currency="EUR"),
            customer(10, "0.00", is_deleted=True),
        ])
        upsert_rows(conn, invoices, [
            invoice(101, 1, "1000.00", "400.00", due=days_ago(30)),
            invoice(131, 1, "90.00", "0.00", due=days_ago(10)),                       # paid in full
            invoice(102, 2, "1234.57", currency="EUR", rate="1.0857", due=days_ago(-30)),
            invoice(103, 2, "12345", currency="JPY", rate="0.0067", due=days_ago(31)),
            invoice(104, 3, "5000.00", is_intercompany=True),
            invoice(105, 4, "250.00", due=days_ago(0)),
            invoice(106, 4, "999.99", is_intercompany=True),
            invoice(107, 5, "77.00"),
            invoice(108, 6, "500.00"),                                                # deleted below
            invoice(109, 6, "700.00", "0.00", status="V", is_voided=True),
            invoice(110, 6, "300.00", "300.00", status="V", is_voided=True),          # stale amount
            *[invoice(i, 7, amount, due=days_ago(d)) for i, (d, amount) in AGING_EDGES.items()],
            invoice(120, 7, "1024", due=None, tran_date=days_ago(45)),
            *[invoice(i, 8, "10.01", currency="EUR", rate="0.5") for i in (121, 122, 123, 124)],
        ])
        upsert_rows(conn, customer_payments, [
            payment(201, 1, "300.00", "120.00", tran_date=days_ago(11)),
            payment(202, 1, "100.00", "0.00"),
            payment(203, 6, "40.00", "40.00", status="V", is_voided=True),
        ])
        upsert_rows(conn, credit_memos, [
            credit_memo(301, 1, "50.00", "50.00", tran_date=days_ago(0)),
            credit_memo(302, 2, "1000", "999", currency="JPY", rate="0.0067", tran_date=days_ago(60)),
            credit_memo(303, 8, "10.01", "10.01", currency="EUR", rate="0.5"),
        ])
        upsert_rows(conn, journal_lines, [
            je_line(401, 1, 1, "200.00", "200.00", tran_date=days_ago(75)),
            je_line(401, 2, 1, "-80.00", "-80.00", tran_date=days_ago(75)),
            je_line(402, 3, 1, "500.00", "0.00"),                                     # paid
            je_line(403, 1, 6, "60.00", "60.00", is_voided=True, status="V"),
            je_line(404, 7, 8, "-0.03", "-0.03", currency="EUR", rate="0.5"),
        ])
        upsert_rows(conn, customer_refunds, [_doc(501, 2, "1", "JPY", "0.0067", AS_OF, status="A")])
        upsert_rows(conn, deposits, [_doc(601, None, "180.00", "USD", "1", AS_OF, status="A")])
        upsert_rows(conn, payment_applications, [
            application(101, "CustInvc", 201, "CustPymt", "180.00"),
            application(131, "CustInvc", 202, "CustPymt", "90.00"),
            application(402, "Journal", 202, "CustPymt", "10.00", prev_line=3),
            application(302, "CustCred", 501, "CustRfnd", "1"),
            application(201, "CustPymt", 601, "Deposit", "180.00", link_type="Deposit"),
        ])
        soft_delete(conn, invoices, [108], T0)


@pytest.fixture
def engine(warehouse_engine: sa.Engine) -> Iterator[sa.Engine]:
    """The module's migrated warehouse, emptied, with the data set loaded."""
    with warehouse_engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())
    load_dataset(warehouse_engine)
    yield warehouse_engine


def rows(engine: sa.Engine, table: sa.Table, *where: object) -> list[dict]:
    with engine.connect() as conn:
        key = list(table.primary_key.columns)
        return [dict(r) for r in conn.execute(sa.select(table).where(*where).order_by(*key)).mappings()]


def by_key(engine: sa.Engine, table: sa.Table) -> dict[tuple, dict]:
    key = [c.name for c in table.primary_key.columns]
    return {tuple(r[k] for k in key) if len(key) > 1 else r[key[0]]: r for r in rows(engine, table)}


def rebuild(engine: sa.Engine, settings: Settings = ON, as_of: dt.date = AS_OF) -> dict[str, int]:
    return ar.rebuild_all(engine, as_of=as_of, settings=settings)


# --- open items -----------------------------------------------------------------------------


def test_open_items_selection_signs_and_base_amounts(engine: sa.Engine) -> None:
    written = ar.rebuild_open_items(engine, as_of=AS_OF, settings=ON)
    items = by_key(engine, open_items)
    assert written == len(items) == 25
    assert set(items) == {
        (101, 0), (201, 0), (301, 0), (401, 1), (401, 2),            # customer 1
        (102, 0), (103, 0), (302, 0),                                # customer 2
        (105, 0),                                                    # customer 4 (106 intercompany)
        *[(i, 0) for i in range(111, 121)],                          # customer 7
        (121, 0), (122, 0), (123, 0), (124, 0), (303, 0), (404, 7),            # customer 8
    }
    expected = {  # key: (item_type, amount, amount_open, amount_open_base, customer)
        (101, 0): ("invoice", "1000.00", "400.00", "400.00", 1),
        (201, 0): ("payment", "-300.00", "-120.00", "-120.00", 1),
        (301, 0): ("credit_memo", "-50.00", "-50.00", "-50.00", 1),
        (401, 1): ("journal_line", "200.00", "200.00", "200.00", 1),
        (401, 2): ("journal_line", "-80.00", "-80.00", "-80.00", 1),
        (102, 0): ("invoice", "1234.57", "1234.57", "1340.37", 2),   # 1340.372649
        (103, 0): ("invoice", "12345", "12345", "82.71", 2),         # 82.7115
        (302, 0): ("credit_memo", "-1000", "-999", "-6.69", 2),      # -6.6933
        (121, 0): ("invoice", "10.01", "10.01", "5.01", 8),          # 5.005 rounds half up
        (303, 0): ("credit_memo", "-10.01", "-10.01", "-5.01", 8),   # -5.005 rounds away from zero
        (404, 7): ("journal_line", "-0.03", "-0.03", "-0.02", 8),    # -0.015
    }
    for key, (item_type, amount, amount_open, base, cust) in expected.items():
        item = items[key]
        assert (item["item_type"], item["amount"], item["amount_open"], item["amount_open_base"], item["customer_id"]) \
            == (item_type, D(amount), D(amount_open), D(base), cust), key
        assert isinstance(item["amount_open_base"], Decimal)
    i = items[(103, 0)]
    assert (i["currency"], i["exchange_rate"], i["tran_id"], i["status"]) == ("JPY", D("0.0067"), "DOC103", "A")
    assert items[(401, 1)]["tran_id"] == "JE401" and items[(401, 1)]["due_date"] == days_ago(75)
    assert {r["as_of_date"] for r in items.values()} == {AS_OF}


def test_deleted_and_voided_items_are_not_open(engine: sa.Engine) -> None:
    deleted = rows(engine, invoices, invoices.c.id == 108)[0]
    assert deleted["status"] == "CLOSED" and deleted["is_deleted"] and deleted["amount_unpaid"] == D("500")
    ar.rebuild_open_items(engine, as_of=AS_OF, settings=ON)
    assert rows(engine, open_items, open_items.c.customer_id == 6) == []
    # an invoice deleted after a rebuild leaves open items at the next one
    with engine.begin() as conn:
        soft_delete(conn, invoices, [101], T0)
    ar.rebuild_open_items(engine, as_of=AS_OF, settings=ON)
    assert rows(engine, open_items, open_items.c.transaction_id == 101) == []


def test_intercompany_excluded_or_included(engine: sa.Engine) -> None:
    assert ar.rebuild_open_items(engine, as_of=AS_OF, settings=ON) == 25
    assert not rows(engine, open_items, open_items.c.transaction_id.in_([104, 106, 107]))
    assert ar.rebuild_open_items(engine, as_of=AS_OF, settings=OFF) == 28
    assert {r["transaction_id"] for r in rows(engine, open_items, open_items.c.transaction_id.in_([104, 106, 107]))} \
        == {104, 106, 107}
    # the configured list may hold strings (from the environment)
    as_text = Settings(intercompany_customer_ids=frozenset({"5"}))  # type: ignore[arg-type]
    assert ar.rebuild_open_items(engine, as_of=AS_OF, settings=as_text) == 25


def test_days_past_due_and_buckets_at_the_edges(engine: sa.Engine) -> None:
    ar.rebuild_open_items(engine, as_of=AS_OF, settings=ON)
    items = by_key(engine, open_items)
    expected_bucket = {-1: "current", 0: "current", 1: "1-30", 30: "1-30", 31: "31-60", 60: "31-60",
                       61: "61-90", 90: "61-90", 91: "90+"}
    for id_, (days, _amount) in AGING_EDGES.items():
        item = items[(id_, 0)]
        assert (item["days_past_due"], item["aging_bucket"], item["due_date"]) == \
            (days, expected_bucket[days], days_ago(days)), id_
    no_due = items[(120, 0)]  # due date falls back to the transaction date
    assert (no_due["due_date"], no_due["days_past_due"], no_due["aging_bucket"]) == (days_ago(45), 45, "31-60")
    assert items[(201, 0)]["days_past_due"] == 11  # payments age from their date
    assert [ar.aging_bucket(d) for d in (None, -5, 0, 1, 30, 31, 60, 61, 90, 91)] == \
        ["current", "current", "current", "1-30", "1-30", "31-60", "31-60", "61-90", "61-90", "90+"]


def test_base_amount_rounds_half_up_per_item() -> None:
    assert ar.base_amount(D("10.01"), D("0.5")) == D("5.01")
    assert ar.base_amount(D("-10.01"), D("0.5")) == D("-5.01")
    assert ar.base_amount(D("12345"), D("0.0067")) == D("82.71")
    assert ar.base_amount(D("0.001"), D("1")) == D("0.00") and str(ar.base_amount(D("-0.001"), D("1"))) == "0.00"
    assert ar.base_amount(D("19.99"), None) == D("19.99")


# --- balances -------------------------------------------------------------------------------


NETSUITE = {1: "350.00", 2: "1416.39", 4: "1249.99", 6: "0.00", 7: "1535.00", 8: "15.01"}


def test_customer_balances(engine: sa.Engine) -> None:
    ar.rebuild_open_items(engine, as_of=AS_OF, settings=ON)
    assert ar.rebuild_customer_balances(engine, as_of=AS_OF, settings=ON) == 6
    balances = by_key(engine, customer_balances)
    assert set(balances) == set(NETSUITE)  # not 3, 5 (intercompany), nor 10 (deleted, nothing open)
    c1 = balances[1]
    assert (c1["open_invoices_base"], c1["open_journal_lines_base"], c1["unapplied_payments_base"],
            c1["unapplied_credits_base"], c1["balance_base"], c1["overdue_balance_base"], c1["open_item_count"]) \
        == (D("400"), D("120"), D("120"), D("50"), D("350"), D("400"), 5)
    assert (c1["entity_id"], c1["company_name"], c1["subsidiary_id"]) == ("CUST1", "Customer 1", 1)
    assert balances[2]["balance_base"] == D("1416.39")
    assert balances[8]["balance_base"] == D("15.01")          # per-item rounding (not 15.00)
    assert balances[6]["balance_base"] == D("0") and balances[6]["open_item_count"] == 0
    # customer 4: our balance leaves out its intercompany invoice, NetSuite's includes it
    assert (balances[4]["balance_base"], balances[4]["netsuite_balance"], balances[4]["difference"]) \
        == (D("250.00"), D("1249.99"), D("0"))
    for cid, reported in NETSUITE.items():
        assert balances[cid]["netsuite_balance"] == D(reported)
        assert balances[cid]["difference"] == 0, cid
    assert checks.balances_match(engine).passed


def test_balances_without_intercompany_exclusion(engine: sa.Engine) -> None:
    rebuild(engine, OFF)
    balances = by_key(engine, customer_balances)
    assert set(balances) == {1, 2, 3, 4, 5, 6, 7, 8}
    assert balances[3]["balance_base"] == D("5000") and balances[4]["balance_base"] == D("1249.99")
    assert all(b["difference"] == 0 for b in balances.values())
    assert checks.balances_match(engine).passed


def test_open_items_of_unknown_customer_get_a_balance_row(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        upsert_rows(conn, invoices, [invoice(140, 99, "12.50")])
    rebuild(engine)
    row = by_key(engine, customer_balances)[99]
    assert (row["balance_base"], row["netsuite_balance"], row["difference"], row["entity_id"]) == \
        (D("12.50"), None, None, None)
    outcome = checks.balances_match(engine)
    assert not outcome.passed
    assert outcome.metadata["unreported"] == [{"customer_id": 99, "balance_base": "12.50"}]
    assert "99" in outcome.description


# --- aging ----------------------------------------------------------------------------------


def test_aging_per_customer_and_currency(engine: sa.Engine) -> None:
    written = rebuild(engine)
    assert written == {"ar_open_items": 25, "ar_customer_balances": 6, "ar_aging": 6}
    report = by_key(engine, aging)
    assert set(report) == {(1, "USD"), (2, "EUR"), (2, "JPY"), (4, "USD"), (7, "USD"), (8, "EUR")}

    def buckets(key: tuple) -> tuple:
        r = report[key]
        return tuple(r[c] for c in ("current_amount", "days_1_30", "days_31_60", "days_61_90", "days_over_90",
                                    "total", "total_base"))

    assert buckets((1, "USD")) == tuple(D(x) for x in ("-50", "280", "0", "120", "0", "350", "350"))
    assert buckets((2, "EUR")) == tuple(D(x) for x in ("1234.57", "0", "0", "0", "0", "1234.57", "1340.37"))
    assert buckets((2, "JPY")) == tuple(D(x) for x in ("0", "0", "11346", "0", "0", "11346", "76.02"))
    assert buckets((7, "USD")) == tuple(D(x) for x in ("3", "12", "1072", "192", "256", "1535", "1535"))
    assert buckets((8, "EUR")) == tuple(D(x) for x in ("30.00", "0", "0", "0", "0", "30.00", "15.01"))
    # another as_of moves every item one day on, whatever date the open items were computed for
    ar.rebuild_aging(engine, as_of=AS_OF + dt.timedelta(days=1), settings=ON)
    shifted = by_key(engine, aging)[(7, "USD")]
    assert [shifted[c] for c in ("current_amount", "days_1_30", "days_31_60", "days_61_90", "days_over_90")] \
        == [D("1"), D("6"), D("1048"), D("96"), D("384")]


# --- rebuild semantics ----------------------------------------------------------------------


def _without_time(table_rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "computed_at"} for r in table_rows]


def test_rebuild_is_idempotent_and_replaces_everything(engine: sa.Engine) -> None:
    first = rebuild(engine)
    snapshot = {t.name: _without_time(rows(engine, t)) for t in (open_items, customer_balances, aging)}
    assert rebuild(engine) == first
    assert {t.name: _without_time(rows(engine, t)) for t in (open_items, customer_balances, aging)} == snapshot
    # stale rows disappear: pay invoice 101 in full
    with engine.begin() as conn:
        upsert_rows(conn, invoices, [invoice(101, 1, "1000.00", "0.00", due=days_ago(30))])
        upsert_rows(conn, customers, [customer(1, "-50.00")])
    rebuild(engine)
    assert not rows(engine, open_items, open_items.c.transaction_id == 101)
    assert by_key(engine, customer_balances)[1]["balance_base"] == D("-50.00")
    assert checks.balances_match(engine).passed


def test_rebuild_is_one_transaction(engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    ar.rebuild_open_items(engine, as_of=AS_OF, settings=ON)
    before = _without_time(rows(engine, open_items))
    calls = {"n": 0}
    real = open_items_module.base_amount

    def failing(amount: Decimal, rate: Decimal | None) -> Decimal:
        calls["n"] += 1
        if calls["n"] > 10:  # after the invoices were inserted
            raise RuntimeError("boom")
        return real(amount, rate)

    monkeypatch.setattr(open_items_module, "base_amount", failing)
    monkeypatch.setattr(open_items_module, "BATCH_ROWS", 2)
    with pytest.raises(RuntimeError, match="boom"):
        ar.rebuild_open_items(engine, as_of=AS_OF + dt.timedelta(days=1), settings=ON)
    assert _without_time(rows(engine, open_items)) == before


def test_rebuild_in_small_batches_gives_the_same_rows(engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    ar.rebuild_open_items(engine, as_of=AS_OF, settings=ON)
    expected = _without_time(rows(engine, open_items))
    monkeypatch.setattr(open_items_module, "BATCH_ROWS", 3)
    assert ar.rebuild_open_items(engine, as_of=AS_OF, settings=ON) == 25
    assert _without_time(rows(engine, open_items)) == expected


# --- checks ---------------------------------------------------------------------------------


def test_unique_keys(engine: sa.Engine) -> None:
    rebuild(engine)
    for table in (customers, invoices, customer_payments, credit_memos, journal_lines, payment_applications,
                  open_items, customer_balances, aging):
        outcome = checks.unique_keys(engine, table)
        assert outcome.passed, (table.name, outcome)
        assert outcome.metadata["primary_key"]["duplicate_count"] == 0
    with engine.begin() as conn:
        upsert_rows(conn, invoices, [
            invoice(150, 1, "1.00", external_id="DUP", tran_id="INV-DUP"),
            invoice(151, 1, "1.00", external_id="DUP", tran_id="INV-DUP"),
            invoice(152, 1, "1.00", external_id="DUP"),
        ])
        upsert_rows(conn, invoices, [invoice(153, 1, "1.00", external_id="X-101")])  # same as invoice 101
        upsert_rows(conn, journal_lines, [je_line(405, 1, 1, "1", "0", tran_id="JE401")])  # another entry's number
        upsert_rows(conn, invoices, [invoice(154, 1, "1.00", external_id="GONE")])
        upsert_rows(conn, invoices, [invoice(155, 1, "1.00", external_id="GONE")])
        soft_delete(conn, invoices, [155], T0)  # deleted rows do not count
    outcome = checks.unique_keys(engine, invoices)
    assert not outcome.passed
    ext = outcome.metadata["external_id"]
    assert ext["duplicate_count"] == 2
    assert ext["duplicates"] == [{"value": "DUP", "records": 3, "ids": [150, 151, 152]},
                                 {"value": "X-101", "records": 2, "ids": [101, 153]}]
    assert outcome.metadata["tran_id"]["duplicates"] == [{"value": "INV-DUP", "records": 2, "ids": [150, 151]}]
    assert "external_id: 2 duplicated" in outcome.description
    je = checks.unique_keys(engine, journal_lines)
    assert not je.passed and je.metadata["tran_id"]["duplicates"] == [{"value": "JE401", "records": 2, "ids": [401, 405]}]
    assert je.metadata["external_id"]["duplicate_count"] == 0  # two lines of one entry are one record


def test_references(engine: sa.Engine) -> None:
    outcome = checks.references(engine)
    assert outcome.passed, outcome
    with engine.begin() as conn:
        upsert_rows(conn, invoices, [invoice(160, 98, "5.00"), invoice(161, 97, "5.00", is_deleted=True)])
        upsert_rows(conn, payment_applications, [
            application(9001, "CustInvc", 201, "CustPymt", "1"),     # invoice never synced
            application(101, "CustInvc", 9002, "CustPymt", "1"),     # payment never synced
            application(9003, "CustInvc", 9004, "CustPymt", "1", is_deleted=True),  # removed link: ignored
            application(108, "CustInvc", 202, "CustPymt", "1"),      # invoice 108 is deleted
            application(9005, "Journal", 202, "CustPymt", "1", prev_line=1),
        ])
    outcome = checks.references(engine)
    assert not outcome.passed
    m = outcome.metadata
    assert m["missing_customers"] == {"netsuite_invoices": {"count": 1, "ids": [98]}}
    assert m["missing_previous_docs"] == {"CustInvc": {"count": 1, "ids": [9001]}, "Journal": {"count": 1, "ids": [9005]}}
    assert m["missing_next_docs"] == {"CustPymt": {"count": 1, "ids": [9002]}}
    assert m["deleted_previous_docs"] == {"CustInvc": {"count": 1, "ids": [108]}}
    assert m["failure_count"] == 5
    for id_ in ("98", "9001", "9002", "9005", "108"):
        assert id_ in outcome.description
    capped = checks.references(engine, limit=0)
    assert capped.metadata["missing_previous_docs"]["CustInvc"] == {"count": 1, "ids": []}


def test_balances_match_fails_with_customer_and_amount(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        upsert_rows(conn, customers, [customer(1, "351.00"), customer(7, "1534.99"), customer(4, "250.00")])
    rebuild(engine)
    outcome = checks.balances_match(engine)
    assert not outcome.passed
    m = outcome.metadata
    assert m["mismatch_count"] == 3 and m["total_abs_difference"] == "1001.00"
    assert m["mismatches"] == [
        {"customer_id": 4, "entity_id": "CUST4", "balance_base": "250.00", "netsuite_balance": "250.00",
         "difference": "999.99"},  # NetSuite no longer counts the intercompany invoice we add back
        {"customer_id": 1, "entity_id": "CUST1", "balance_base": "350.00", "netsuite_balance": "351.00",
         "difference": "-1.00"},
        {"customer_id": 7, "entity_id": "CUST7", "balance_base": "1535.00", "netsuite_balance": "1534.99",
         "difference": "0.01"},
    ]
    assert "1: -1.00" in outcome.description and "7: 0.01" in outcome.description
    assert checks.balances_match(engine, limit=1).metadata["mismatches"][0]["customer_id"] == 4
    tolerant = checks.balances_match(engine, tolerance=D("0.01"))
    assert [x["customer_id"] for x in tolerant.metadata["mismatches"]] == [4, 1]
    assert checks.balances_match(engine, tolerance=D("1000")).passed


def test_freshness(engine: sa.Engine) -> None:
    now = dt.datetime(2026, 4, 1, 12, 0, tzinfo=UTC)
    with engine.begin() as conn:
        write_cursor(conn, "invoice", last_modified=T0, last_id=5, mode="incremental", rows=3,
                     updated_at=now - dt.timedelta(hours=2))
    stale = checks.freshness(engine, "invoice", dt.timedelta(hours=1), now=now)
    assert not stale.passed and stale.metadata["age_seconds"] == 7200
    assert stale.metadata["updated_at"] == (now - dt.timedelta(hours=2)).isoformat()
    assert checks.freshness(engine, "invoice", dt.timedelta(hours=3), now=now).passed
    never = checks.freshness(engine, "customer", dt.timedelta(days=1), now=now)
    assert not never.passed and "never" in never.description


def test_row_count(engine: sa.Engine) -> None:
    empty = checks.row_count(engine, open_items)
    assert not empty.passed and empty.metadata["row_count"] == 0
    rebuild(engine)
    assert checks.row_count(engine, "ar_open_items").passed
    inv = checks.row_count(engine, invoices, min_rows=1)
    assert inv.passed and inv.metadata["live_row_count"] == inv.metadata["row_count"] - 1  # 108 deleted
    assert not checks.row_count(engine, invoices, min_rows=10_000).passed
    with pytest.raises(ValueError):
        checks.row_count(engine, "no_such_table")


def test_check_outcome_is_a_plain_dataclass() -> None:
    outcome = checks.CheckOutcome(True, "fine", {"n": 1})
    assert dataclasses.asdict(outcome) == {"passed": True, "description": "fine", "metadata": {"n": 1}}
    assert checks.CheckOutcome(False, "x").metadata == {}



# --- end to end: sandbox -> sync -> rebuild -> balances equal NetSuite's ----------------------


def _sandbox_balances(server: object) -> dict[int, Decimal]:
    with server.account.store.read() as conn:  # type: ignore[attr-defined]
        return {cid: D(str(bal or 0)).quantize(D("0.01")) for cid, bal in
                conn.execute("SELECT id, balancesearch FROM customer")}


def _sandbox_intercompany(server: object) -> set[int]:
    with server.account.store.read() as conn:  # type: ignore[attr-defined]
        return {r[0] for r in conn.execute("SELECT id FROM customer WHERE representingsubsidiary IS NOT NULL")}


def _assert_balances_equal_sandbox(engine: sa.Engine, server: object, as_of: dt.date, settings: object) -> None:
    truth = _sandbox_balances(server)
    intercompany = _sandbox_intercompany(server) | set(settings.intercompany_customer_ids)  # type: ignore[attr-defined]
    ar.rebuild_all(engine, as_of=as_of, settings=settings)  # type: ignore[arg-type]
    derived = by_key(engine, customer_balances)
    with engine.connect() as conn:
        added_back = ar.intercompany_open_base(conn, as_of=as_of, settings=settings)  # type: ignore[arg-type]
    if settings.exclude_intercompany:  # type: ignore[attr-defined]
        assert set(derived) == set(truth) - intercompany
        assert intercompany and any(truth[c] for c in intercompany)  # the seed bills them
    else:
        assert set(derived) == set(truth)
    assert sum(1 for b in truth.values() if b) > 10
    for cid, row in derived.items():
        assert row["netsuite_balance"] == truth[cid], cid
        assert row["balance_base"] + added_back.get(cid, D(0)) == truth[cid], cid
        assert row["difference"] == 0, cid
    outcome = checks.balances_match(engine)
    assert outcome.passed, outcome.description
    assert outcome.metadata["customers_compared"] == len(derived)
    assert checks.references(engine).passed
    for table in (invoices, customer_payments, credit_memos, journal_lines, open_items):
        assert checks.unique_keys(engine, table).passed, table.name


@pytest.mark.slow
def test_end_to_end_sandbox_sync_rebuild_matches_netsuite(tmp_path, fresh_warehouse_url: str) -> None:  # noqa: ANN001
    from ns_pipelines.netsuite import NetSuiteClient, NetSuiteConfig
    from ns_pipelines.sandbox.netsuite.server import SandboxServer
    from ns_pipelines.sync import SyncSettings, sync_all
    from ns_pipelines.warehouse import create_warehouse_engine, upgrade_warehouse

    engine = create_warehouse_engine(fresh_warehouse_url)
    upgrade_warehouse(engine)
    try:
        with SandboxServer(tmp_path / "sandbox", scale="small") as server, \
                NetSuiteClient(NetSuiteConfig.from_env(server.environment())) as client:
            settings = SyncSettings.from_env(server.environment())
            as_of = dt.date.fromisoformat(server.account.store.today())
            sync_all(client, engine, settings=settings)
            _assert_balances_equal_sandbox(engine, server, as_of, settings)
            _assert_balances_equal_sandbox(engine, server, as_of, dataclasses.replace(settings, exclude_intercompany=False))
            # a customer on the configured list is left out, and the comparison of the others holds
            with server.account.store.read() as conn:
                listed = conn.execute(
                    "SELECT entity FROM \"transaction\" t JOIN customer c ON c.id = t.entity WHERE t.type = 'CustInvc' "
                    "AND t.status = 'A' AND c.representingsubsidiary IS NULL ORDER BY t.id LIMIT 1").fetchone()[0]
            _assert_balances_equal_sandbox(
                engine, server, as_of, dataclasses.replace(settings, intercompany_customer_ids=frozenset({listed})))
            # users delete and void open invoices; an incremental sync and a rebuild follow
            with server.account.store.read() as conn:
                opens = [r[0] for r in conn.execute(
                    "SELECT t.id FROM \"transaction\" t JOIN customer c ON c.id = t.entity WHERE t.type = 'CustInvc' "
                    "AND t.status = 'A' AND t.voided = 'F' AND c.representingsubsidiary IS NULL AND NOT EXISTS ("
                    "SELECT 1 FROM nexttransactionlinelink l WHERE l.previousdoc = t.id) ORDER BY t.id LIMIT 2")]
            server.account.records.delete("invoice", str(opens[0]), context="UI")
            server.account.records.void("invoice", str(opens[1]), context="UI")
            # and an open invoice of a regular customer is flagged intercompany: NetSuite's balance
            # keeps it, ours leaves it out, the comparison adds it back
            store = server.account.store
            with store.read() as conn:
                flagged, owner = conn.execute(
                    "SELECT t.id, t.entity FROM \"transaction\" t JOIN customer c ON c.id = t.entity "
                    "WHERE t.type = 'CustInvc' AND t.status = 'A' AND t.voided = 'F' AND t.id NOT IN (?, ?) "
                    "AND c.representingsubsidiary IS NULL ORDER BY t.id DESC LIMIT 1", opens).fetchone()
            with store.write() as conn:
                conn.execute("UPDATE \"transaction\" SET intercompany = 'T', lastmodifieddate = ? WHERE id = ?",
                             (store.now(), flagged))
            sync_all(client, engine, settings=settings)
            _assert_balances_equal_sandbox(engine, server, as_of, settings)
            assert not rows(engine, open_items, open_items.c.transaction_id.in_([*opens, flagged]))
            assert rows(engine, invoices, invoices.c.id == opens[0])[0]["status"] == "CLOSED"
            with engine.connect() as conn:
                assert ar.intercompany_open_base(conn, as_of=as_of, settings=settings).get(owner, D(0)) > 0
            assert by_key(engine, customer_balances)[owner]["difference"] == 0
    finally:
        engine.dispose()
