"""Raw NetSuite tables: one asset per record type (docs/sync-design.md, "Record types").

Each asset is a thin call into ns_pipelines.sync: it reads what changed in NetSuite since the
table's cursor (or everything, with `mode: full`), upserts it and advances the cursor in the same
transaction, and reports what it did as materialization metadata. Every asset here calls NetSuite,
so each takes a slot of the `netsuite_api` pool.
"""

import time
from collections.abc import Callable, Sequence
from typing import Any, Literal

import dagster as dg
from sqlalchemy import Table

import ns_pipelines.warehouse as wh
from ns_pipelines.defs.metadata import NETSUITE_POOL, OWNERS, RAW_GROUP, ints, row_counts, table_metadata, when
from ns_pipelines.defs.resources import NetSuiteResource, WarehouseResource

KINDS = {"netsuite", "python"}
PROGRESS_LOG_INTERVAL_S = 5.0


class SyncConfig(dg.Config):
    """How far back to read: `incremental` from the table's cursor (minus the overlap window), or
    `full` to re-read every record of the type and rewrite the table's rows and cursor."""

    mode: Literal["incremental", "full"] = "incremental"


def _raw(name: str, table: Table, deps: Sequence[Any] = ()) -> dict[str, Any]:
    """The @asset arguments every raw table shares."""
    return dict(
        name=name,
        key_prefix="netsuite",
        group_name=RAW_GROUP,
        kinds=KINDS,
        owners=OWNERS,
        pool=NETSUITE_POOL,
        deps=list(deps),
        metadata=table_metadata(table),
        tags={"ns/layer": "raw"},
    )


def _progress(context: dg.AssetExecutionContext, label: str) -> Callable[[str, int], None]:
    """A progress callback that logs at most every few seconds."""
    last = [0.0]

    def report(stage: str, count: int) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_LOG_INTERVAL_S:
            last[0] = now
            context.log.info(f"{label}: {stage} {count:,}")

    return report


def sync_table(
    context: dg.AssetExecutionContext,
    config: SyncConfig,
    netsuite: NetSuiteResource,
    warehouse: WarehouseResource,
    record_type: str,
    table: Table,
) -> dg.MaterializeResult:
    """Run the sync of one record type and describe it as materialization metadata."""
    from ns_pipelines.sync.runner import sync_deletions, sync_record_type
    from ns_pipelines.sync.settings import SyncSettings

    settings = SyncSettings.from_env()
    client = netsuite.client
    engine = warehouse.engine
    before = client.stats_snapshot()
    progress = _progress(context, record_type)
    if record_type == "deletedrecord":
        result = sync_deletions(client, engine, settings=settings, mode=config.mode, progress=progress)
    else:
        result = sync_record_type(client, engine, record_type, settings=settings, mode=config.mode, progress=progress)
    after = client.stats_snapshot()
    counts = row_counts(engine, table)
    context.log.info(
        f"{record_type} ({result.mode}): read {result.rows_read:,}, wrote {result.rows_written:,}, "
        f"soft-deleted {result.rows_soft_deleted:,} in {result.requests:,} requests, {result.seconds:.1f}s; "
        f"{table.name} now has {counts['rows']:,} rows"
    )
    metadata: dict[str, Any] = {
        "dagster/row_count": dg.MetadataValue.int(counts["rows"]),
        "ns/mode": dg.MetadataValue.text(result.mode),
        **ints({
            "rows_read": result.rows_read,
            "rows_written": result.rows_written,
            "rows_soft_deleted": result.rows_soft_deleted,
            "rows_deleted_total": counts.get("deleted"),
            "pages": result.pages,
            "requests": result.requests,
            "throttled": int(after["throttled"] - before["throttled"]),
            "retries": int(after["retries"] - before["retries"]),
        }),
        "ns/seconds": dg.MetadataValue.float(round(float(result.seconds), 3)),
        "ns/cursor_before": when(result.cursor_before, "none (first sync)"),
        "ns/cursor_after": when(result.cursor_after),
        "ns/warehouse": dg.MetadataValue.text(warehouse.display_url),
    }
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(**_raw("customers", wh.customers))
def customers(
    context: dg.AssetExecutionContext, config: SyncConfig, netsuite: NetSuiteResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """NetSuite customers (`customer`), one row per customer, with the open and overdue balance
    NetSuite reports and the intercompany flag (customers that represent a subsidiary or are on
    NS_INTERCOMPANY_CUSTOMER_IDS). Deleted customers stay, with is_deleted."""
    return sync_table(context, config, netsuite, warehouse, "customer", wh.customers)


@dg.asset(**_raw("invoices", wh.invoices, deps=[customers]))
def invoices(
    context: dg.AssetExecutionContext, config: SyncConfig, netsuite: NetSuiteResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """NetSuite invoices (transactions of type CustInvc): totals, amount paid and still open, due
    date and status. A deleted invoice stays with is_deleted and status CLOSED."""
    return sync_table(context, config, netsuite, warehouse, "invoice", wh.invoices)


@dg.asset(**_raw("customer_payments", wh.customer_payments, deps=[customers]))
def customer_payments(
    context: dg.AssetExecutionContext, config: SyncConfig, netsuite: NetSuiteResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """NetSuite customer payments (CustPymt), with the part applied to invoices and the part still
    unapplied."""
    return sync_table(context, config, netsuite, warehouse, "customerpayment", wh.customer_payments)


@dg.asset(**_raw("credit_memos", wh.credit_memos, deps=[customers]))
def credit_memos(
    context: dg.AssetExecutionContext, config: SyncConfig, netsuite: NetSuiteResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """NetSuite credit memos (CustCred), with the part applied or refunded and the part still
    unapplied."""
    return sync_table(context, config, netsuite, warehouse, "creditmemo", wh.credit_memos)


@dg.asset(**_raw("customer_refunds", wh.customer_refunds, deps=[customers]))
def customer_refunds(
    context: dg.AssetExecutionContext, config: SyncConfig, netsuite: NetSuiteResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """NetSuite customer refunds (CustRfnd): money paid back against a credit memo or payment."""
    return sync_table(context, config, netsuite, warehouse, "customerrefund", wh.customer_refunds)


@dg.asset(**_raw("deposits", wh.deposits, deps=[customers]))
def deposits(
    context: dg.AssetExecutionContext, config: SyncConfig, netsuite: NetSuiteResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """NetSuite bank deposits (Deposit) of customer payments; total is the net amount deposited."""
    return sync_table(context, config, netsuite, warehouse, "deposit", wh.deposits)


@dg.asset(**_raw("journal_lines", wh.journal_lines, deps=[customers]))
def journal_lines(
    context: dg.AssetExecutionContext, config: SyncConfig, netsuite: NetSuiteResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Accounts-receivable lines of NetSuite journal entries (lines on an A/R account with a
    customer): they move customer balances and appear among open items."""
    return sync_table(context, config, netsuite, warehouse, "journalentry", wh.journal_lines)


DOCUMENTS = [invoices, customer_payments, credit_memos, customer_refunds, deposits, journal_lines]


@dg.asset(**_raw("payment_applications", wh.payment_applications, deps=DOCUMENTS))
def payment_applications(
    context: dg.AssetExecutionContext, config: SyncConfig, netsuite: NetSuiteResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Applications between NetSuite documents (`nexttransactionlinelink`): which payment, credit
    memo, refund or deposit applied to which invoice, journal line or document, for how much.
    Synced after the documents it links, so its reference checks see them."""
    return sync_table(context, config, netsuite, warehouse, "paymentapplication", wh.payment_applications)


@dg.asset(**_raw("deleted_records", wh.deleted_records, deps=[customers, *DOCUMENTS, payment_applications]))
def deleted_records(
    context: dg.AssetExecutionContext, config: SyncConfig, netsuite: NetSuiteResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """NetSuite deletions (`deletedrecord`, read by deleteddate). Each deletion is recorded here
    and soft-deletes the record in its own table (is_deleted, deleted_at; a deleted invoice is
    CLOSED). Runs after every other raw table so a record synced in the same run is marked too."""
    return sync_table(context, config, netsuite, warehouse, "deletedrecord", wh.deleted_records)


# Record type (docs/sync-design.md) -> (asset, table), in RECORD_TYPES order.
RAW_ASSETS: dict[str, tuple[dg.AssetsDefinition, Table]] = {
    "customer": (customers, wh.customers),
    "invoice": (invoices, wh.invoices),
    "customerpayment": (customer_payments, wh.customer_payments),
    "creditmemo": (credit_memos, wh.credit_memos),
    "customerrefund": (customer_refunds, wh.customer_refunds),
    "deposit": (deposits, wh.deposits),
    "journalentry": (journal_lines, wh.journal_lines),
    "paymentapplication": (payment_applications, wh.payment_applications),
    "deletedrecord": (deleted_records, wh.deleted_records),
}
