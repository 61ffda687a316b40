"""Customer balances (`ar_customer_balances`), derived from ar_open_items.

    balance_base = open_invoices_base + open_journal_lines_base
                   - unapplied_payments_base - unapplied_credits_base

each term the sum of the customer's open items' amount_open_base (already rounded to 0.01 per
item, see open_items.py), so it is NetSuite's customer.balancesearch computed from our copy.
overdue_balance_base = the part of balance_base whose due date is before as_of (days_past_due
>= 1, every item type: the same total as the 1-30 .. 90+ buckets of ar_aging in base currency).

Comparison with NetSuite (the `difference` column, reported by checks.balances_match):
NetSuite's balance includes intercompany transactions; with settings.exclude_intercompany our
balance does not. So, per customer,

    difference = balance_base + intercompany_open_base - netsuite_balance

where intercompany_open_base is the base amount of the customer's open items that the
intercompany exclusion removed (their own is_intercompany flag; computed from the raw tables with
the same selection and rounding as ar_open_items, 0 when exclusion is off). A customer that is
intercompany itself (flagged, representing a subsidiary, or on the configured list) has no row
when exclusion is on: it is excluded from balances and from the reconciliation. difference is
NULL when NetSuite's balance is unknown (customer not in netsuite_customers, or balance NULL).

Rows: every customer with open items, plus every other non-deleted customer (balance 0, so a
balance NetSuite reports that we cannot explain shows up), minus intercompany customers when
exclusion is on.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, and_, case, func, literal_column, select

from ns_pipelines.ar.open_items import (
    IntercompanySettings,
    exact_sum,
    from_units,
    intercompany_customer_ids,
    iter_open_items,
    replace_rows,
    utcnow,
)
from ns_pipelines.warehouse import begin_write
from ns_pipelines.warehouse.tables import customer_balances, customers, open_items

__all__ = ["intercompany_open_base", "rebuild_customer_balances"]

ZERO = Decimal("0.00")
BATCH_ROWS = 5000

def intercompany_open_base(conn: Connection, *, as_of: date, settings: IntercompanySettings) -> dict[int, Decimal]:
    """Per customer: base amount of the open items the intercompany exclusion removes ({} when off)."""
    if not settings.exclude_intercompany:
        return {}
    totals: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for batch in iter_open_items(conn, as_of=as_of, settings=settings, intercompany="only"):
        for item in batch:
            if item["customer_id"] is not None:
                totals[item["customer_id"]] += item["amount_open_base"]
    return dict(totals)


def _open_item_totals(conn: Connection, as_of: date) -> dict[int, dict[str, Any]]:
    o = open_items.c
    zero = literal_column("0")

    def of_type(item_type: str) -> Any:
        return exact_sum(case((o.item_type == item_type, o.amount_open_base), else_=zero), 2)

    overdue = exact_sum(
        case((and_(o.due_date.is_not(None), o.due_date < as_of), o.amount_open_base), else_=zero), 2
    )
    stmt = (
        select(
            o.customer_id,
            of_type("invoice").label("invoices"),
            of_type("journal_line").label("journal_lines"),
            of_type("payment").label("payments"),
            of_type("credit_memo").label("credit_memos"),
            exact_sum(o.amount_open_base, 2).label("balance"),
            overdue.label("overdue"),
            func.count().label("items"),
        )
        .where(o.customer_id.is_not(None))
        .group_by(o.customer_id)
    )
    return {row.customer_id: row._asdict() for row in conn.execute(stmt)}


def _rows(conn: Connection, *, as_of: date, settings: IntercompanySettings) -> Iterator[list[dict[str, Any]]]:
    totals = _open_item_totals(conn, as_of)
    added_back = intercompany_open_base(conn, as_of=as_of, settings=settings)
    ic_ids = intercompany_customer_ids(settings)
    c = customers.c
    seen: set[int] = set()

    def row(customer_id: int, customer: Any | None) -> dict[str, Any]:
        t = totals.get(customer_id)
        balance = from_units(t["balance"], 2) if t else ZERO
        ic = added_back.get(customer_id, ZERO)
        reported = None if customer is None else customer.balance
        out = {
            "customer_id": customer_id,
            "entity_id": None if customer is None else customer.entity_id,
            "company_name": None if customer is None else customer.company_name,
            "subsidiary_id": None if customer is None else customer.subsidiary_id,
            "open_invoices_base": from_units(t["invoices"], 2) if t else ZERO,
            "open_journal_lines_base": from_units(t["journal_lines"], 2) if t else ZERO,
            "unapplied_payments_base": -from_units(t["payments"], 2) if t else ZERO,
            "unapplied_credits_base": -from_units(t["credit_memos"], 2) if t else ZERO,
            "balance_base": balance,
            "overdue_balance_base": from_units(t["overdue"], 2) if t else ZERO,
            "netsuite_balance": reported,
            "difference": None if reported is None else balance + ic - reported,
            "open_item_count": int(t["items"]) if t else 0,
            "intercompany_open_base": ic,
        }
        return out

    stmt = select(
        c.id, c.entity_id, c.company_name, c.subsidiary_id, c.balance, c.is_deleted,
        c.is_intercompany, c.representing_subsidiary_id,
    ).order_by(c.id)
    customer_rows = conn.execute(stmt).all()  # customers are few (tens of thousands at most)
    batch: list[dict[str, Any]] = []
    for customer in customer_rows:
        seen.add(customer.id)
        intercompany = bool(customer.is_intercompany) or customer.representing_subsidiary_id is not None \
            or customer.id in ic_ids
        if customer.id not in totals:
            if customer.is_deleted or (intercompany and settings.exclude_intercompany):
                continue
        # (an intercompany customer with open items can only be here when exclusion is off)
        batch.append(row(customer.id, customer))
        if len(batch) >= BATCH_ROWS:
            yield batch
            batch = []
    for customer_id in sorted(set(totals) - seen):  # open items of customers not synced (yet)
        batch.append(row(customer_id, None))
    yield batch


def rebuild_customer_balances(engine: Engine, *, as_of: date, settings: IntercompanySettings) -> int:
    """Rewrite ar_customer_balances from ar_open_items in one transaction; returns the rows written.

    Run rebuild_open_items first (same as_of): balances are sums of its rows.
    """
    snapshot = {"as_of_date": as_of, "computed_at": utcnow()}
    with begin_write(engine) as conn:
        return replace_rows(conn, customer_balances, _rows(conn, as_of=as_of, settings=settings), snapshot)
