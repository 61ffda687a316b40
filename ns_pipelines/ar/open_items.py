"""Open receivables (`ar_open_items`), rebuilt from the raw netsuite_* tables.

One row per open item, signed (positive = the customer owes, negative = a credit in the
customer's favour):

| item_type      | source                      | open when                | amount_open        |
|----------------|-----------------------------|--------------------------|--------------------|
| invoice        | netsuite_invoices           | amount_unpaid > 0        | + amount_unpaid    |
| payment        | netsuite_customer_payments  | amount_unused > 0        | - amount_unused    |
| credit_memo    | netsuite_credit_memos       | amount_unused > 0        | - amount_unused    |
| journal_line   | netsuite_journal_lines      | amount_unpaid <> 0       | amount_unpaid (signed: debit +) |

Never open: rows with is_deleted (a deleted invoice is also status CLOSED), voided rows
(is_voided, or status 'V'), invoices with status CLOSED, and, when
`settings.exclude_intercompany`, intercompany items: the row's own is_intercompany flag, or a
customer that is intercompany (netsuite_customers.is_intercompany, or representing_subsidiary_id
set, or its id in `settings.intercompany_customer_ids`).

Base amount per item = amount_open x exchange_rate (1 when missing), rounded half-up (away from
zero, so a credit rounds like the matching debit) to 0.01, with Decimal. This is how NetSuite keeps
a base-currency amount per document (per journal line), so summing these per customer gives
NetSuite's customer.balancesearch.

Due date: the invoice's due_date; the transaction date for payments, credit memos and journal
lines (and for an invoice without a due date). days_past_due = as_of - due_date in days; bucket
current (<= 0, or no date), 1-30, 31-60, 61-90, 90+.

Candidate rows are chosen in SQL (only open ones), streamed, and written in batches; the delete
and the inserts are one transaction.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal, Protocol

from sqlalchemy import (
    BigInteger,
    Connection,
    ColumnElement,
    Engine,
    Select,
    Table,
    and_,
    cast,
    delete,
    func,
    insert,
    literal,
    literal_column,
    not_,
    or_,
    select,
)

from ns_pipelines.warehouse import begin_write
from ns_pipelines.warehouse.tables import (
    credit_memos,
    customer_payments,
    customers,
    invoices,
    journal_lines,
    open_items,
)

__all__ = [
    "BUCKETS",
    "CENT",
    "NO_CURRENCY",
    "SOURCES",
    "IntercompanySettings",
    "aging_bucket",
    "base_amount",
    "exact_sum",
    "from_units",
    "intercompany_customer_ids",
    "iter_open_items",
    "rebuild_open_items",
    "replace_rows",
    "utcnow",
]

CENT = Decimal("0.01")
ONE = Decimal(1)
# Aging buckets, in order; the keys used in ar_open_items.aging_bucket.
BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")
# ISO 4217 "no currency": used where an item has no currency and neither has its customer.
NO_CURRENCY = "XXX"
# Rows fetched from the database and inserted per batch.
BATCH_ROWS = 5000
VOIDED_STATUS = "V"
CLOSED_STATUS = "CLOSED"  # what soft_delete() writes on a deleted invoice

Intercompany = Literal["exclude", "only", "all"]


class IntercompanySettings(Protocol):
    """What the rebuilds read from the settings (ns_pipelines.sync.settings.SyncSettings has it)."""

    exclude_intercompany: bool
    intercompany_customer_ids: Collection[Any]


def intercompany_customer_ids(settings: IntercompanySettings) -> frozenset[int]:
    """The configured intercompany customer ids, as ints (the setting may hold strings)."""
    ids = getattr(settings, "intercompany_customer_ids", None) or ()
    if isinstance(ids, str):
        ids = [part for part in ids.split(",")]
    return frozenset(int(str(i).strip()) for i in ids if str(i).strip())


def base_amount(amount_open: Decimal, exchange_rate: Decimal | None) -> Decimal:
    """amount_open x exchange_rate (1 when missing), half-up (away from zero) to 0.01."""
    rate = ONE if exchange_rate is None else exchange_rate
    value = (amount_open * rate).quantize(CENT, rounding=ROUND_HALF_UP)
    return value if value != 0 else abs(value)  # never -0.00


def exact_sum(expr: ColumnElement[Any], places: int) -> ColumnElement[Any]:
    """SUM of a money expression as an integer count of 10**-places units (exact on SQLite too).

    SQLite keeps NUMERIC as 64-bit floats and sums them as floats; each stored value is the float
    nearest a decimal of at most 15 digits, so ROUND(value * 10**places) is that decimal's exact
    integer, and integer sums are exact. PostgreSQL computes the same in NUMERIC/BIGINT.
    Pass the result to from_units().
    """
    scaled = func.round(expr * literal_column(str(10**places)))
    return func.sum(cast(scaled, BigInteger))


def from_units(value: Any, places: int) -> Decimal:
    """A Decimal from an exact_sum() result (None = 0)."""
    return Decimal(int(value or 0)).scaleb(-places).quantize(Decimal(1).scaleb(-places))


def aging_bucket(days_past_due: int | None) -> str:
    """current (not yet due, or no date), 1-30, 31-60, 61-90 or 90+."""
    if days_past_due is None or days_past_due <= 0:
        return "current"
    if days_past_due <= 30:
        return "1-30"
    if days_past_due <= 60:
        return "31-60"
    if days_past_due <= 90:
        return "61-90"
    return "90+"


@dataclass(frozen=True)
class _Source:
    item_type: str
    table: Table
    sign: int                       # applied to the open amount and the original amount
    id_col: str                     # transaction id column
    open_col: str                   # open amount column
    line_col: str | None = None     # journal lines: line id
    due_col: str | None = None      # invoices: due_date
    open_if_negative: bool = False  # journal lines: signed open amounts


SOURCES: tuple[_Source, ...] = (
    _Source("invoice", invoices, +1, "id", "amount_unpaid", due_col="due_date"),
    _Source("payment", customer_payments, -1, "id", "amount_unused"),
    _Source("credit_memo", credit_memos, -1, "id", "amount_unused"),
    _Source("journal_line", journal_lines, +1, "journal_entry_id", "amount_unpaid",
            line_col="line_id", open_if_negative=True),
)


def _intercompany_condition(t: Table, cust: Table, ic_ids: frozenset[int]) -> ColumnElement[bool]:
    """True when the row is intercompany; never NULL (so NOT(...) is safe)."""
    parts: list[ColumnElement[bool]] = [
        t.c.is_intercompany.is_(True),
        cust.c.is_intercompany.is_(True),                      # NULL-safe: IS, not =
        cust.c.representing_subsidiary_id.is_not(None),
    ]
    if ic_ids:
        parts.append(and_(t.c.customer_id.is_not(None), t.c.customer_id.in_(sorted(ic_ids))))
    return or_(*parts)


def _candidates(source: _Source, *, intercompany: Intercompany, ic_ids: frozenset[int]) -> Select:
    """SELECT of the open rows of one source, with the columns iter_open_items needs."""
    t = source.table
    cust = customers.alias("cust")
    open_amount = t.c[source.open_col]
    is_open = open_amount != 0 if source.open_if_negative else open_amount > 0
    conditions: list[ColumnElement[bool]] = [
        t.c.is_deleted.is_(False),
        t.c.is_voided.is_(False),
        or_(t.c.status.is_(None), t.c.status != VOIDED_STATUS),
        open_amount.is_not(None),
        is_open,
    ]
    if source.item_type == "invoice":
        conditions.append(or_(t.c.status.is_(None), t.c.status != CLOSED_STATUS))
    if intercompany == "exclude":
        conditions.append(not_(_intercompany_condition(t, cust, ic_ids)))
    elif intercompany == "only":
        conditions.append(_intercompany_condition(t, cust, ic_ids))
    amount = t.c.total if "total" in t.c else t.c.amount
    columns = [
        t.c[source.id_col].label("transaction_id"),
        (t.c[source.line_col] if source.line_col else literal(0)).label("line_id"),
        t.c.tran_id,
        t.c.customer_id,
        t.c.subsidiary_id,
        t.c.currency,
        cust.c.currency.label("customer_currency"),
        t.c.exchange_rate,
        t.c.tran_date,
        (t.c[source.due_col] if source.due_col else t.c.tran_date).label("due_date"),
        t.c.status,
        amount.label("amount"),
        open_amount.label("amount_open"),
    ]
    key = [t.c[source.id_col]] + ([t.c[source.line_col]] if source.line_col else [])
    return (
        select(*columns)
        .select_from(t.outerjoin(cust, cust.c.id == t.c.customer_id))
        .where(*conditions)
        .order_by(*key)
    )


def iter_open_items(
    conn: Connection,
    *,
    as_of: date,
    settings: IntercompanySettings,
    intercompany: Intercompany | None = None,
    batch_rows: int | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """Batches of open items as ar_open_items rows (without as_of_date/computed_at).

    `intercompany`: "exclude" (default when settings.exclude_intercompany), "all" (default when
    not), or "only" (the items the exclusion removes; used to add them back when comparing with
    NetSuite's balance, which includes them). Rows are streamed from the database `batch_rows`
    (default BATCH_ROWS) at a time, in source order (invoices, payments, credit memos, journal
    lines), each by id.
    """
    if intercompany is None:
        intercompany = "exclude" if settings.exclude_intercompany else "all"
    ic_ids = intercompany_customer_ids(settings)
    batch_rows = batch_rows or BATCH_ROWS
    for source in SOURCES:
        stmt = _candidates(source, intercompany=intercompany, ic_ids=ic_ids)
        result = conn.execute(stmt.execution_options(yield_per=batch_rows))
        try:
            for chunk in result.partitions(batch_rows):
                yield [_item(source, row, as_of) for row in chunk]
        finally:
            result.close()


def _item(source: _Source, row: Any, as_of: date) -> dict[str, Any]:
    sign = source.sign
    amount_open: Decimal = row.amount_open * sign
    amount: Decimal | None = None if row.amount is None else row.amount * sign
    due: date | None = row.due_date or row.tran_date
    days = None if due is None else (as_of - due).days
    return {
        "transaction_id": row.transaction_id,
        "line_id": int(row.line_id),
        "item_type": source.item_type,
        "tran_id": row.tran_id,
        "customer_id": row.customer_id,
        "subsidiary_id": row.subsidiary_id,
        "currency": row.currency or row.customer_currency or NO_CURRENCY,
        "exchange_rate": row.exchange_rate,
        "tran_date": row.tran_date,
        "due_date": due,
        "status": row.status,
        "amount": amount,
        "amount_open": amount_open,
        "amount_open_base": base_amount(amount_open, row.exchange_rate),
        "days_past_due": days,
        "aging_bucket": aging_bucket(days),
    }


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def replace_rows(conn: Connection, table: Table, batches: Iterator[list[dict[str, Any]]],
                 snapshot: dict[str, Any]) -> int:
    """Delete every row of `table`, then insert the batches (each row completed by `snapshot`)."""
    conn.execute(delete(table))
    written = 0
    stmt = insert(table)
    for batch in batches:
        if batch:
            conn.execute(stmt, [{**row, **snapshot} for row in batch])
            written += len(batch)
    return written


def rebuild_open_items(engine: Engine, *, as_of: date, settings: IntercompanySettings) -> int:
    """Rewrite ar_open_items for `as_of` in one transaction; returns the rows written."""
    snapshot = {"as_of_date": as_of, "computed_at": utcnow()}
    with begin_write(engine) as conn:
        return replace_rows(conn, open_items, iter_open_items(conn, as_of=as_of, settings=settings), snapshot)
