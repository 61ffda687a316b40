"""Raw NetSuite tables: one asset per record type (docs/sync-design.md, "Record types"), all
produced by ONE multi-asset step, `netsuite_raw_tables`.

The step is a thin call into ns_pipelines.sync.sync_concurrently: the selected record types are
synced at once on the run's one NetSuite client, so NETSUITE_CONCURRENCY bounds the requests in
flight across all of them (large tables still read parallel id ranges inside, within the same
budget), and deletions run after the others. Each table reads what changed in NetSuite since
its cursor (or everything, with `mode: full`), upserts it and advances its cursor in the same
transaction, and is reported as its own materialization as soon as it finishes. The step takes
one slot of the `netsuite_api` pool for the whole sync.

The step can be subset: materializing one table (say netsuite/invoices) syncs only that record
type. Launchpad config, for a job or a selection that includes the raw tables:

    ops:
      netsuite_raw_tables:
        config:
          mode: full        # or incremental (default)

Targeted (what netsuite_change_events_sensor requests): `record_ids` maps record types to NetSuite
internal ids, and exactly those records are re-read (sync_record_type(record_ids=...): the
documents with their A/R lines and payment applications; ids NetSuite no longer returns are
soft-deleted). No cursor moves. Every selected raw table must be named in record_ids, except
netsuite/customers, which also re-reads the customers of the targeted documents (their balances
changed), and netsuite/deleted_records, which runs its usual incremental pass:

    ops:
      netsuite_raw_tables:
        config:
          record_ids: {invoice: [1234, 1240], customer: [87]}

Two more uses of the same step (defs/schedules/): `mode: redundancy` (netsuite_redundancy_job)
compares every record's id and lastmodifieddate with NetSuite, repairs the drift and evaluates
the `redundancy_drift` checks; `customer_ids: [...]` (netsuite_customer_resync_job) re-reads those
customers with all their transactions and applications.
"""

import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Literal, Optional

import dagster as dg
from sqlalchemy import Engine, Table

import ns_pipelines.warehouse as wh
from ns_pipelines.defs.metadata import NETSUITE_POOL, RAW_GROUP, ints, raw_table_spec, row_counts, when
from ns_pipelines.defs.resources import NetSuiteResource, WarehouseResource

KINDS = {"netsuite", "python"}
PROGRESS_LOG_INTERVAL_S = 5.0
OP_NAME = "netsuite_raw_tables"


class SyncConfig(dg.Config):
    """How far back to read: `incremental` from each table's cursor (minus the overlap window),
    `full` to re-read every record of the selected types and rewrite their rows and cursors, or
    `redundancy` to compare every id and lastmodifieddate with NetSuite and repair the drift
    (netsuite_redundancy_job)."""

    mode: Literal["incremental", "full", "redundancy"] = "incremental"
    # Record type -> internal ids: re-read exactly those records (targeted; no cursor moves).
    record_ids: Optional[dict[str, list[int]]] = None
    # Customers to re-read with all their transactions and applications (netsuite_customer_resync_job).
    customer_ids: Optional[list[int]] = None


def _raw(name: str, table: Table, description: str, deps: Sequence[dg.AssetSpec] = ()) -> dg.AssetSpec:
    """The spec of one raw table; what every raw table shares."""
    return raw_table_spec(["netsuite", name], table, description, group=RAW_GROUP, kinds=KINDS, deps=deps)


customers = _raw("customers", wh.customers, """
    NetSuite customers (`customer`), one row per customer, with the open and overdue balance
    NetSuite reports and the intercompany flag (customers that represent a subsidiary or are on
    NS_INTERCOMPANY_CUSTOMER_IDS). Deleted customers stay, with is_deleted.""")

invoices = _raw("invoices", wh.invoices, """
    NetSuite invoices (transactions of type CustInvc): totals, amount paid and still open, due
    date and status. A deleted invoice stays with is_deleted and status CLOSED.""", deps=[customers])

customer_payments = _raw("customer_payments", wh.customer_payments, """
    NetSuite customer payments (CustPymt), with the part applied to invoices and the part still
    unapplied.""", deps=[customers])

credit_memos = _raw("credit_memos", wh.credit_memos, """
    NetSuite credit memos (CustCred), with the part applied or refunded and the part still
    unapplied.""", deps=[customers])

customer_refunds = _raw("customer_refunds", wh.customer_refunds, """
    NetSuite customer refunds (CustRfnd): money paid back against a credit memo or payment.""",
    deps=[customers])

deposits = _raw("deposits", wh.deposits, """
    NetSuite bank deposits (Deposit) of customer payments; total is the net amount deposited.""",
    deps=[customers])

journal_lines = _raw("journal_lines", wh.journal_lines, """
    Accounts-receivable lines of NetSuite journal entries (lines on an A/R account with a
    customer): they move customer balances and appear among open items.""", deps=[customers])

DOCUMENTS = [invoices, customer_payments, credit_memos, customer_refunds, deposits, journal_lines]

payment_applications = _raw("payment_applications", wh.payment_applications, """
    Applications between NetSuite documents (`nexttransactionlinelink`): which payment, credit
    memo, refund or deposit applied to which invoice, journal line or document, for how much.
    Depends on the documents it links: its reference checks run after they are synced.""", deps=DOCUMENTS)

deleted_records = _raw("deleted_records", wh.deleted_records, """
    NetSuite deletions (`deletedrecord`, read by deleteddate). Each deletion is recorded here
    and soft-deletes the record in its own table (is_deleted, deleted_at; a deleted invoice is
    CLOSED). Synced after every other raw table of the run so a record synced in the same run is
    marked too.""", deps=[customers, *DOCUMENTS, payment_applications])

# Record type (docs/sync-design.md) -> (asset spec, table), in RECORD_TYPES order. Every spec is
# produced by the one multi-asset `netsuite_raw_tables` below.
RAW_ASSETS: dict[str, tuple[dg.AssetSpec, Table]] = {
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
RECORD_TYPE_BY_KEY = {spec.key: record_type for record_type, (spec, _) in RAW_ASSETS.items()}
# Evaluated only by a `mode: redundancy` run (netsuite_redundancy_job, defs/schedules/redundancy.py);
# other runs do not yield it, so it has no result there.
DRIFT_CHECK_NAME = "redundancy_drift"
DRIFT_CHECK_SPECS = [
    dg.AssetCheckSpec(
        DRIFT_CHECK_NAME, asset=spec.key,
        description="The daily redundancy comparison found no drift between NetSuite and the warehouse (missing, "
        "stale or vanished records). Warns when it did: the incremental sync or the change events missed "
        "something (the run has already repaired it; counts and sample ids in the metadata).",
    )
    for spec, _ in RAW_ASSETS.values()
]
# Record type -> the record types its table depends on (the specs' deps among the raw tables).
UPSTREAM = {
    record_type: {RECORD_TYPE_BY_KEY[dep.asset_key] for dep in spec.deps if dep.asset_key in RECORD_TYPE_BY_KEY}
    for record_type, (spec, _) in RAW_ASSETS.items()
}


class _DependencyOrder:
    """Release results in an order Dagster accepts from a multi-asset: never a table after one
    that depends on it. A finished record type waits for its selected upstream tables (they
    finish at about the same time); `rest()` releases the waiting ones after a failure, when
    upstream tables that failed will not be reported at all."""

    def __init__(self, selected: Sequence[str]) -> None:
        self.selected = set(selected)
        self.released: set[str] = set()
        self.waiting: dict[str, Any] = {}

    def add(self, result: Any) -> list[Any]:
        self.waiting[result.record_type] = result
        ready: list[Any] = []
        for record_type in list(RAW_ASSETS):  # RECORD_TYPES order is a topological order
            if record_type in self.waiting and UPSTREAM[record_type] & self.selected <= self.released:
                ready.append(self.waiting.pop(record_type))
                self.released.add(record_type)
        return ready

    def rest(self) -> list[Any]:
        ready = [self.waiting.pop(rt) for rt in list(RAW_ASSETS) if rt in self.waiting]
        self.released.update(r.record_type for r in ready)
        return ready


def _progress(context: dg.AssetExecutionContext) -> Callable[[str, int], None]:
    """A progress callback that logs at most every few seconds (stages name the record type)."""
    last = [0.0]

    def report(stage: str, count: int) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_LOG_INTERVAL_S:
            last[0] = now
            context.log.info(f"{stage}: {count:,} rows written")

    return report


def materialization(
    context: dg.AssetExecutionContext, result: Any, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """One synced record type (a ConcurrentSyncResult) as its table's materialization."""
    spec, table = RAW_ASSETS[result.record_type]
    counts = row_counts(warehouse.engine, table)
    context.log.info(
        f"{result.record_type} ({result.mode}): read {result.rows_read:,}, wrote {result.rows_written:,}, "
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
            "throttled": getattr(result, "throttled", None),
            "retries": getattr(result, "retries", None),
        }),
        "ns/seconds": dg.MetadataValue.float(round(float(result.seconds), 3)),
        "ns/cursor_before": when(result.cursor_before, "none (first sync)"),
        "ns/cursor_after": when(result.cursor_after),
        "ns/warehouse": dg.MetadataValue.text(warehouse.display_url),
    }
    return dg.MaterializeResult(asset_key=spec.key, metadata=metadata)


@dg.multi_asset(
    name=OP_NAME,
    specs=[spec for spec, _ in RAW_ASSETS.values()],
    check_specs=DRIFT_CHECK_SPECS,
    can_subset=True,
    pool=NETSUITE_POOL,
    description="Sync the selected NetSuite record types into their raw tables, concurrently on one "
    "NetSuite client (one concurrency budget); deletions last.",
)
def netsuite_raw_tables(
    context: dg.AssetExecutionContext, config: SyncConfig, netsuite: NetSuiteResource, warehouse: WarehouseResource
) -> Iterator[dg.MaterializeResult]:
    """Every selected raw table, synced at once; a materialization per table as it finishes. A
    record type that fails lets the others finish, then fails the step naming it."""
    from ns_pipelines.sync.concurrent import ConcurrentSyncError, iter_sync_concurrently
    from ns_pipelines.sync.settings import SyncSettings

    selected = context.selected_asset_keys
    record_types = [rt for rt, (spec, _) in RAW_ASSETS.items() if spec.key in selected]
    if config.record_ids is not None:
        if config.mode != "incremental" or config.customer_ids is not None:
            raise dg.Failure(description="record_ids (a targeted sync) cannot be combined with customer_ids or "
                             f"mode {config.mode}")
        yield from _targeted(context, config.record_ids, record_types, netsuite, warehouse)
        return
    if config.customer_ids is not None:
        from ns_pipelines.defs.schedules.customer_resync import customer_resync_materializations

        if config.mode != "incremental":
            raise dg.Failure(description=f"customer_ids (a resync) cannot be combined with mode {config.mode}")
        yield from customer_resync_materializations(context, config.customer_ids, record_types, netsuite, warehouse)
        return
    if config.mode == "redundancy":
        from ns_pipelines.defs.schedules.redundancy import redundancy_materializations

        yield from redundancy_materializations(context, record_types, netsuite, warehouse)
        return
    context.log.info(f"syncing {', '.join(record_types)} ({config.mode})")
    order = _DependencyOrder(record_types)
    try:
        for result in iter_sync_concurrently(
            netsuite.client, warehouse.engine, record_types, settings=SyncSettings.from_env(), mode=config.mode,
            progress=_progress(context),
        ):
            for ready in order.add(result):
                yield materialization(context, ready, warehouse)
    except ConcurrentSyncError as exc:
        for ready in order.rest():  # synced, downstream of a table that failed: still reported
            yield materialization(context, ready, warehouse)
        failed = [RAW_ASSETS[rt][0].key.to_user_string() for rt in exc.record_types]
        raise dg.Failure(
            description=str(exc),
            metadata={
                "ns/failed_record_types": dg.MetadataValue.json(exc.record_types),
                "ns/failed_assets": dg.MetadataValue.json(failed),
                "ns/not_run": dg.MetadataValue.json(exc.skipped),
            },
        ) from exc


def _customers_of(engine: Engine, ids: dict[str, list[int]]) -> set[int]:
    """Customers of the warehouse copies of these documents (deleted ones too): their balances
    in NetSuite moved with the documents, and a customer record has no event of its own for that."""
    from ns_pipelines.sync.runner import customers_of

    found: set[int] = set()
    with engine.connect() as conn:
        for record_type, values in ids.items():
            if record_type in wh.TABLES_BY_RECORD_TYPE and record_type != "customer":
                found |= customers_of(conn, wh.TABLES_BY_RECORD_TYPE[record_type], values)
    return found


def _targeted(
    context: dg.AssetExecutionContext, record_ids: dict[str, list[int]], record_types: list[str],
    netsuite: NetSuiteResource, warehouse: WarehouseResource,
) -> Iterator[dg.MaterializeResult]:
    """Re-read the given records of the selected record types (module docstring, "Targeted")."""
    from ns_pipelines.sync import SyncSettings, sync_deletions, sync_record_type

    ids = {str(rt).strip().lower(): sorted({int(i) for i in values}) for rt, values in record_ids.items()}
    problems = [f"{rt}: not a raw record type" for rt in ids if rt not in RAW_ASSETS]
    problems += [f"{rt}: no targeted mode (select netsuite/deleted_records without ids)" for rt in ids
                 if rt == "deletedrecord"]
    problems += [f"{rt}: ids given but {RAW_ASSETS[rt][0].key.to_user_string()} is not selected" for rt in ids
                 if rt in RAW_ASSETS and rt != "deletedrecord" and rt not in record_types]
    problems += [f"{rt}: selected but no ids given" for rt in record_types
                 if rt not in ids and rt not in ("customer", "deletedrecord")]
    if problems:
        raise dg.Failure(description="record_ids does not match the selected tables: " + "; ".join(problems))

    settings = SyncSettings.from_env()
    progress = _progress(context)
    documents = {rt: ids[rt] for rt in record_types if rt not in ("customer", "deletedrecord")}
    context.log.info("targeted sync: " + ", ".join(f"{rt} {len(v)} id(s)" for rt, v in ids.items()))
    results: dict[str, Any] = {}
    try:
        for record_type, values in documents.items():
            results[record_type] = sync_record_type(
                netsuite.client, warehouse.engine, record_type, settings=settings, record_ids=values,
                progress=progress, run_id=context.run.run_id)
        if "customer" in record_types:
            customer_ids = sorted(set(ids.get("customer", [])) | _customers_of(warehouse.engine, documents))
            results["customer"] = sync_record_type(
                netsuite.client, warehouse.engine, "customer", settings=settings, record_ids=customer_ids,
                progress=progress, run_id=context.run.run_id)
        if "deletedrecord" in record_types:
            results["deletedrecord"] = sync_deletions(
                netsuite.client, warehouse.engine, settings=settings, progress=progress, run_id=context.run.run_id)
    except Exception:  # what completed is reported even when a later record type fails
        for record_type in (rt for rt in RAW_ASSETS if rt in results):
            yield materialization(context, results[record_type], warehouse)
        raise
    for record_type in (rt for rt in RAW_ASSETS if rt in results):
        yield materialization(context, results[record_type], warehouse)


ASSETS = [netsuite_raw_tables]
