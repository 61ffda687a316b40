"""Derived receivables for analysts: open items, customer balances, ageing (ns_pipelines.ar).

Full refresh from the raw NetSuite tables in one transaction each; intercompany, voided and
deleted records are left out. None of these call NetSuite.
"""

import datetime as dt
from decimal import Decimal
from typing import Any, Optional
from zoneinfo import ZoneInfo

import dagster as dg
from sqlalchemy import Engine, func, select

import ns_pipelines.warehouse as wh
from ns_pipelines.ar.aging import BUCKET_COLUMNS
from ns_pipelines.ar.open_items import BUCKETS as AGING_BUCKETS
from ns_pipelines.defs.metadata import OWNERS, RECEIVABLES_GROUP, ints, markdown_table, table_metadata
from ns_pipelines.defs.netsuite.assets import (
    credit_memos,
    customer_payments,
    customers,
    deleted_records,
    invoices,
    journal_lines,
    payment_applications,
)
from ns_pipelines.defs.resources import WarehouseResource

KINDS = {"python", "sql"}
# (ageing bucket, its ar_aging column), in order
BUCKETS = list(zip(AGING_BUCKETS, BUCKET_COLUMNS, strict=True))
DEFAULT_TIMEZONE = "America/Los_Angeles"


class ReceivablesConfig(dg.Config):
    """`as_of`: the date (YYYY-MM-DD) receivables are computed for and ageing counts to; empty
    means today in the account's time zone (NETSUITE_TIMEZONE)."""

    as_of: Optional[str] = None


def _derived(name: str, table: Any, deps: list[Any]) -> dict[str, Any]:
    return dict(
        name=name, key_prefix="ar", group_name=RECEIVABLES_GROUP, kinds=KINDS, owners=OWNERS, deps=deps,
        metadata=table_metadata(table), tags={"ns/layer": "derived"},
    )


def _settings() -> Any:
    from ns_pipelines.sync.settings import SyncSettings

    return SyncSettings.from_env()


def as_of_date(config: ReceivablesConfig, settings: Any) -> dt.date:
    if config.as_of:
        return dt.date.fromisoformat(config.as_of)
    zone = getattr(settings, "timezone", None) or DEFAULT_TIMEZONE
    return dt.datetime.now(ZoneInfo(str(zone))).date()


def _money(value: Any) -> float:
    return float(value or Decimal(0))


def bucket_totals(engine: Engine) -> list[dict[str, Any]]:
    """Ageing totals per currency: {"currency", "customers", <bucket column>..., "total"}."""
    t = wh.aging.c
    columns = [col for _, col in BUCKETS] + ["total", "total_base"]
    query = (
        select(t.currency, func.count(), *[func.sum(t[col]).label(col) for col in columns])
        .group_by(t.currency).order_by(t.currency)
    )
    with engine.connect() as conn:
        return [
            {"currency": row[0], "customers": int(row[1]), **{col: _money(row[i + 2]) for i, col in enumerate(columns)}}
            for row in conn.execute(query)
        ]


def base_bucket_totals(engine: Engine) -> dict[str, float]:
    """Open amounts in base currency per ageing bucket (from ar_open_items), for plots."""
    t = wh.open_items.c
    with engine.connect() as conn:
        rows = conn.execute(select(t.aging_bucket, func.sum(t.amount_open_base)).group_by(t.aging_bucket)).all()
    return {str(bucket): _money(total) for bucket, total in rows}


@dg.asset(**_derived(
    "open_items", wh.open_items,
    [customers, invoices, customer_payments, credit_memos, journal_lines, payment_applications, deleted_records],
))
def open_items(
    context: dg.AssetExecutionContext, config: ReceivablesConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Open receivables: open invoices, unapplied customer payments and credit memos, and open A/R
    journal lines, each with its open amount (document and base currency), days past due and
    ageing bucket as of the run's date. Intercompany, voided and deleted records are left out."""
    from ns_pipelines.ar import rebuild_open_items

    settings = _settings()
    as_of = as_of_date(config, settings)
    rows = rebuild_open_items(warehouse.engine, as_of=as_of, settings=settings)
    t = wh.open_items.c
    with warehouse.engine.connect() as conn:
        by_type = dict(conn.execute(select(t.item_type, func.count()).group_by(t.item_type)).all())
        open_base = conn.execute(select(func.sum(t.amount_open_base))).scalar()
    context.log.info(f"{rows:,} open items as of {as_of}")
    return dg.MaterializeResult(metadata={
        "dagster/row_count": dg.MetadataValue.int(rows),
        "ns/as_of": dg.MetadataValue.text(as_of.isoformat()),
        **ints({f"{kind}_items": int(n) for kind, n in sorted(by_type.items())}),
        "ns/amount_open_base": dg.MetadataValue.float(_money(open_base)),
    })


@dg.asset(**_derived(
    "customer_balances", wh.customer_balances,
    # the raw documents too: the comparison adds back intercompany items open_items leaves out
    [open_items, customers, invoices, customer_payments, credit_memos, journal_lines],
))
def customer_balances(
    context: dg.AssetExecutionContext, config: ReceivablesConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Customer balances derived from the open items (invoices + A/R journal lines - unapplied
    payments and credits, base currency), beside the balance NetSuite reports for each customer
    and the difference; the balances check reports every customer whose difference is not zero."""
    from ns_pipelines.ar import rebuild_customer_balances

    settings = _settings()
    as_of = as_of_date(config, settings)
    rows = rebuild_customer_balances(warehouse.engine, as_of=as_of, settings=settings)
    t = wh.customer_balances.c
    with warehouse.engine.connect() as conn:
        balance, overdue, differing = conn.execute(select(
            func.sum(t.balance_base), func.sum(t.overdue_balance_base),
            func.count().filter(func.coalesce(t.difference, 0) != 0),
        )).one()
    context.log.info(f"{rows:,} customer balances as of {as_of}; {int(differing or 0)} differ from NetSuite")
    return dg.MaterializeResult(metadata={
        "dagster/row_count": dg.MetadataValue.int(rows),
        "ns/as_of": dg.MetadataValue.text(as_of.isoformat()),
        "ns/balance_base": dg.MetadataValue.float(_money(balance)),
        "ns/overdue_balance_base": dg.MetadataValue.float(_money(overdue)),
        **ints({"customers_differing": int(differing or 0)}),
    })


@dg.asset(**_derived("aging", wh.aging, [open_items]))
def aging(
    context: dg.AssetExecutionContext, config: ReceivablesConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Ageing report per customer and currency: open amounts not yet due and 1-30, 31-60, 61-90
    and over 90 days past due, with totals in the currency and in base currency."""
    from ns_pipelines.ar import rebuild_aging

    settings = _settings()
    as_of = as_of_date(config, settings)
    rows = rebuild_aging(warehouse.engine, as_of=as_of, settings=settings)
    totals = bucket_totals(warehouse.engine)
    base = base_bucket_totals(warehouse.engine)
    context.log.info(f"{rows:,} ageing rows as of {as_of}")
    table = [[r["currency"], r["customers"], *[f"{r[col]:,.2f}" for _, col in BUCKETS], f"{r['total']:,.2f}"]
             for r in totals]
    return dg.MaterializeResult(metadata={
        "dagster/row_count": dg.MetadataValue.int(rows),
        "ns/as_of": dg.MetadataValue.text(as_of.isoformat()),
        "ns/total_base": dg.MetadataValue.float(float(sum(r["total_base"] for r in totals))),
        **{f"ns/base_{label}": dg.MetadataValue.float(base.get(label, 0.0)) for label, _ in BUCKETS},
        "ns/buckets_by_currency": markdown_table(
            ["currency", "customers", *[label for label, _ in BUCKETS], "total"], table),
    })


AR_ASSETS = [open_items, customer_balances, aging]
