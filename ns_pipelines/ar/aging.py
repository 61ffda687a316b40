"""Ageing report (`ar_aging`): open amounts per customer and currency by days past due.

From ar_open_items (run rebuild_open_items first). Buckets by days past due = as_of - due_date:
current (<= 0, or no due date), 1-30, 31-60, 61-90, 90+ (more than 90). Bucket amounts are
signed sums of amount_open in the row's currency (credits reduce the bucket they fall in);
total = sum of the buckets; total_base = sum of amount_open_base (per-item rounded base amounts).
Grouped and summed in SQL, exactly (integer units, see open_items.exact_sum); bucket edges are
dates computed from as_of, so the report is correct for the given as_of whatever date the open
items were computed for.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, case, func, literal, literal_column, or_, select

from ns_pipelines.ar.open_items import (
    NO_CURRENCY,
    IntercompanySettings,
    exact_sum,
    from_units,
    replace_rows,
    utcnow,
)
from ns_pipelines.warehouse import begin_write
from ns_pipelines.warehouse.tables import aging, open_items

__all__ = ["BUCKET_COLUMNS", "rebuild_aging"]

# ar_aging column per bucket, with the bucket's (fewest, most) days past due (None = unbounded).
BUCKET_COLUMNS: dict[str, tuple[int | None, int | None]] = {
    "current_amount": (None, 0),
    "days_1_30": (1, 30),
    "days_31_60": (31, 60),
    "days_61_90": (61, 90),
    "days_over_90": (91, None),
}
AMOUNT_PLACES = 4  # Money scale: amounts in currency keep up to 4 decimals
BASE_PLACES = 2


def _bucket_condition(as_of: date, fewest: int | None, most: int | None) -> Any:
    """due_date such that fewest <= as_of - due_date <= most; no due date counts as current."""
    due = open_items.c.due_date
    parts = []
    if most is not None:  # as_of - due <= most  <=>  due >= as_of - most
        parts.append(due >= as_of - timedelta(days=most))
    if fewest is not None:  # as_of - due >= fewest  <=>  due <= as_of - fewest
        parts.append(due <= as_of - timedelta(days=fewest))
    condition = and_(due.is_not(None), *parts)
    return or_(due.is_(None), condition) if fewest is None else condition


def _rows(conn: Connection, as_of: date) -> Iterator[list[dict[str, Any]]]:
    o = open_items.c
    zero = literal_column("0")
    currency = func.coalesce(o.currency, literal(NO_CURRENCY)).label("currency")
    sums = [
        exact_sum(case((_bucket_condition(as_of, lo, hi), o.amount_open), else_=zero), AMOUNT_PLACES).label(name)
        for name, (lo, hi) in BUCKET_COLUMNS.items()
    ]
    stmt = (
        select(o.customer_id, currency, *sums, exact_sum(o.amount_open_base, BASE_PLACES).label("total_base"))
        .where(o.customer_id.is_not(None))
        .group_by(o.customer_id, currency)
        .order_by(o.customer_id, currency)
    )
    batch: list[dict[str, Any]] = []
    for row in conn.execute(stmt):
        buckets = {name: from_units(getattr(row, name), AMOUNT_PLACES) for name in BUCKET_COLUMNS}
        batch.append({
            "customer_id": row.customer_id,
            "currency": row.currency,
            **buckets,
            "total": sum(buckets.values()),
            "total_base": from_units(row.total_base, BASE_PLACES),
        })
        if len(batch) >= 5000:
            yield batch
            batch = []
    yield batch


def rebuild_aging(engine: Engine, *, as_of: date, settings: IntercompanySettings) -> int:
    """Rewrite ar_aging from ar_open_items in one transaction; returns the rows written.

    `settings` is accepted for a uniform interface: the open items are already filtered by it.
    """
    snapshot = {"as_of_date": as_of, "computed_at": utcnow()}
    with begin_write(engine) as conn:
        return replace_rows(conn, aging, _rows(conn, as_of), snapshot)
