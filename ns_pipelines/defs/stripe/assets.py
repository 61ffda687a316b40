"""Raw Stripe tables (group `stripe_raw`, assets under stripe/), all produced by ONE subsettable
multi-asset step, `stripe_raw_tables`, a thin call into ns_pipelines.stripe.sync.

Materializing the tables syncs the selected object types: a list backfill the first time (and
with `mode: full`, or when a cursor has fallen out of Stripe's 30-day events retention), then
incremental passes through GET /v1/events. Launchpad config:

    ops:
      stripe_raw_tables:
        config:
          mode: full          # or incremental (default)

Targeted (what stripe_events_sensor requests): `object_ids` maps object types to Stripe ids, and
exactly those objects are re-fetched (plus the charges of refunds and disputes, and the balance
transactions they reference); no cursor moves:

    ops:
      stripe_raw_tables:
        config:
          object_ids: {charge: [ch_123], dispute: [dp_456]}
"""

import time
from collections.abc import Callable, Iterator
from typing import Any, Literal, Optional

import dagster as dg
from sqlalchemy import Table

from ns_pipelines.defs.metadata import ints, raw_table_spec, row_counts, when
from ns_pipelines.defs.resources import WarehouseResource
from ns_pipelines.defs.stripe.resources import StripeResource
from ns_pipelines.warehouse.tables import stripe as tables

GROUP = "stripe_raw"
KINDS = {"stripe", "python"}
POOL = "stripe_api"
OP_NAME = "stripe_raw_tables"
PROGRESS_LOG_INTERVAL_S = 5.0
MAX_WARNINGS_SHOWN = 20


class StripeSyncConfig(dg.Config):
    """`incremental` (default): events since each table's cursor, after a first backfill; `full`:
    re-list every object of the selected types. `object_ids`: re-fetch exactly these objects."""

    mode: Literal["incremental", "full"] = "incremental"
    object_ids: Optional[dict[str, list[str]]] = None


def _spec(name: str, table: Table, description: str, deps: tuple[dg.AssetSpec, ...] = ()) -> dg.AssetSpec:
    return raw_table_spec(["stripe", name], table, description, group=GROUP, kinds=KINDS, deps=deps)


customers = _spec("customers", tables.customers, """
    Stripe customers, with the NetSuite customer they are linked to (metadata.netsuite_customer_id).
    A customer deleted in Stripe stays, with is_deleted.""")
charges = _spec("charges", tables.charges, """
    Stripe charges (payments) in minor units of their presentment currency, with status, refunded
    and disputed flags, payment method, balance transaction and the NetSuite links from metadata
    (netsuite_invoice_ids, netsuite_invoice_number, netsuite_customer_id).""", (customers,))
refunds = _spec("refunds", tables.refunds, """
    Stripe refunds of charges, with their status and balance transaction.""", (charges,))
disputes = _spec("disputes", tables.disputes, """
    Stripe disputes (chargebacks, inquiries) with status, reason and the ids of their balance
    transactions (funds withdrawn, reinstated).""", (charges,))
payouts = _spec("payouts", tables.payouts, """
    Stripe payouts to the bank: amount, status, arrival date and reconciliation status.""")
balance_transactions = _spec("balance_transactions", tables.balance_transactions, """
    Stripe balance transactions: gross amount, fee, net and fee breakdown in the settlement
    currency, the object that caused each (source), and the payout that carried it to the bank
    (listed per paid payout with ?payout=).""", (charges, refunds, disputes, payouts))

# Object type (ns_pipelines.stripe.OBJECT_TYPES order) -> (asset spec, table).
STRIPE_ASSETS: dict[str, tuple[dg.AssetSpec, Table]] = {
    "customer": (customers, tables.customers),
    "charge": (charges, tables.charges),
    "refund": (refunds, tables.refunds),
    "dispute": (disputes, tables.disputes),
    "payout": (payouts, tables.payouts),
    "balance_transaction": (balance_transactions, tables.balance_transactions),
}


def _progress(context: dg.AssetExecutionContext) -> Callable[[str, int], None]:
    last = [0.0]

    def report(stage: str, count: int) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_LOG_INTERVAL_S:
            last[0] = now
            context.log.info(f"{stage}: {count:,}")

    return report


def materialization(context: dg.AssetExecutionContext, result: Any, report: Any,
                    warehouse: WarehouseResource) -> dg.MaterializeResult:
    """One synced object type (a StripeSyncResult) as its table's materialization."""
    spec, table = STRIPE_ASSETS[result.object_type]
    counts = row_counts(warehouse.engine, table)
    context.log.info(
        f"{result.object_type} ({result.mode}): read {result.rows_read:,}, wrote {result.rows_written:,}, "
        f"soft-deleted {result.rows_soft_deleted:,}; {table.name} now has {counts['rows']:,} rows"
        + (f"; {result.fallback}" if result.fallback else ""))
    for warning in result.warnings[:MAX_WARNINGS_SHOWN]:
        context.log.warning(warning)
    metadata: dict[str, Any] = {
        "dagster/row_count": dg.MetadataValue.int(counts["rows"]),
        "ns/mode": dg.MetadataValue.text(result.mode),
        **ints({
            "rows_read": result.rows_read,
            "rows_written": result.rows_written,
            "rows_soft_deleted": result.rows_soft_deleted,
            "rows_deleted_total": counts.get("deleted"),
            "events": result.events,
            "payouts_linked": result.payouts_linked if result.object_type == "balance_transaction" else None,
            "link_warnings": len(result.warnings),
            "run_requests": report.requests,
            "run_rate_limited": report.rate_limited,
        }),
        "ns/seconds": dg.MetadataValue.float(round(float(result.seconds), 3)),
        "ns/cursor_before": when(result.cursor_before, "none (first sync)"),
        "ns/cursor_after": when(result.cursor_after, "unchanged"),
        "ns/events_fallback": dg.MetadataValue.text(result.fallback or "none"),
        "ns/warehouse": dg.MetadataValue.text(warehouse.display_url),
    }
    if result.warnings:
        metadata["ns/link_warnings_sample"] = dg.MetadataValue.json(result.warnings[:MAX_WARNINGS_SHOWN])
    return dg.MaterializeResult(asset_key=spec.key, metadata=metadata)


@dg.multi_asset(
    name=OP_NAME,
    specs=[spec for spec, _ in STRIPE_ASSETS.values()],
    can_subset=True,
    pool=POOL,
    description="Sync the selected Stripe object types into their raw tables: list backfills first, then "
    "events; paid payouts' balance transactions linked.",
)
def stripe_raw_tables(context: dg.AssetExecutionContext, config: StripeSyncConfig, stripe: StripeResource,
                      warehouse: WarehouseResource) -> Iterator[dg.MaterializeResult]:
    """Every selected Stripe table, one materialization each once the sync completes."""
    import datetime as dt

    from ns_pipelines.stripe.sync import StripeSyncError, sync_objects, sync_stripe

    selected = context.selected_asset_keys
    object_types = [t for t, (spec, _) in STRIPE_ASSETS.items() if spec.key in selected]
    try:
        if config.object_ids is not None:
            if config.mode != "incremental":
                raise dg.Failure(description=f"object_ids (a targeted sync) cannot be combined with mode {config.mode}")
            not_selected = sorted(set(config.object_ids) - set(object_types))
            if not_selected:
                raise dg.Failure(description=f"object_ids names {', '.join(not_selected)}, whose tables are not "
                                 "selected (or are not Stripe tables)")
            context.log.info("targeted Stripe sync: " + ", ".join(
                f"{t} {len(ids)}" for t, ids in config.object_ids.items()))
            report = sync_objects(stripe.api, warehouse.engine, config.object_ids, object_types,
                                  progress=_progress(context))
        else:
            context.log.info(f"syncing Stripe {', '.join(object_types)} ({config.mode})")
            report = sync_stripe(stripe.api, warehouse.engine, object_types, mode=config.mode,
                                 overlap=dt.timedelta(minutes=stripe.overlap_minutes), run_id=context.run.run_id,
                                 progress=_progress(context))
    except StripeSyncError as exc:
        raise dg.Failure(description=str(exc)) from exc
    context.log.info(f"Stripe: {report.requests} requests ({report.rate_limited} rate-limited), "
                     f"{report.events_read} events, {report.seconds:.1f}s")
    for object_type in object_types:
        yield materialization(context, report.results[object_type], report, warehouse)


ASSETS = [stripe_raw_tables]
