"""The writeback's assets: the plan (always) and the log of writes (only when writing is on)."""

from collections import Counter
from collections.abc import Iterator
from typing import Optional

import dagster as dg

from ns_pipelines.defs.metadata import NETSUITE_POOL, OWNERS, ints, markdown_table, table_metadata
from ns_pipelines.defs.resources import NetSuiteResource, WarehouseResource
from ns_pipelines.warehouse.tables.writeback import writeback_log, writeback_plan

GROUP = "writeback"
KINDS = {"netsuite", "python"}
RECONCILIATION_INPUTS = [dg.AssetKey(["reconciliation", "payment_matches"]),
                         dg.AssetKey(["reconciliation", "payout_matches"])]


class WritebackApplyConfig(dg.Config):
    """`enabled`: write to NetSuite in this run (true/false); empty means NS_WRITEBACK_ENABLED.
    Without either, the run only plans."""

    enabled: Optional[bool] = None


@dg.asset(key=["writeback", "plan"], group_name=GROUP, kinds=KINDS, owners=OWNERS, deps=RECONCILIATION_INPUTS,
          pool=NETSUITE_POOL, metadata=table_metadata(writeback_plan), tags={"ns/layer": "writeback"})
def plan(context: dg.AssetExecutionContext, netsuite: NetSuiteResource,
         warehouse: WarehouseResource) -> dg.MaterializeResult:
    """The NetSuite writes the reconciliation calls for: customer payments applied to invoices,
    unapply and re-apply of payments (chargebacks, late failures, won disputes), customer refunds,
    and deposits with fee lines; each with its deterministic external id, why, and the exact
    request body. Nothing is written to NetSuite here (it reads currencies and bank accounts)."""
    from ns_pipelines.writeback.run import plan as make_plan
    from ns_pipelines.writeback.settings import WritebackSettings

    writes, summary = make_plan(warehouse.engine, netsuite.client, WritebackSettings.from_env())
    by_action = Counter(w.action for w in writes)
    context.log.info(f"{len(writes)} writes planned; {summary}")
    preview = [[w.external_id, w.action, w.record_type, "blocked: " + w.blocked if w.blocked else "planned",
                w.reason[:80]] for w in writes[:25]]
    return dg.MaterializeResult(metadata={
        "dagster/row_count": dg.MetadataValue.int(len(writes)),
        **ints({"to_write": summary.planned, "already_done": summary.unchanged_done, "blocked": summary.refused,
                "superseded": summary.superseded}),
        **ints({f"action_{action}": n for action, n in sorted(by_action.items())}),
        "ns/preview": markdown_table(["external id", "action", "record", "status", "why"], preview),
    })


def writing_enabled(config: WritebackApplyConfig) -> bool:
    from ns_pipelines.writeback.settings import WritebackSettings

    return config.enabled if config.enabled is not None else WritebackSettings.from_env().enabled


@dg.asset(key=["writeback", "log"], group_name=GROUP, kinds=KINDS, owners=OWNERS, deps=[plan], pool=NETSUITE_POOL,
          metadata=table_metadata(writeback_log), tags={"ns/layer": "writeback"}, output_required=False)
def log(context: dg.AssetExecutionContext, config: WritebackApplyConfig, netsuite: NetSuiteResource,
        warehouse: WarehouseResource) -> Iterator[dg.MaterializeResult]:
    """Every NetSuite write attempt: the plan's pending rows upserted by external id, concurrently
    within the NetSuite concurrency budget, each logged (request, NetSuite's answer, internal id)
    in the same transaction that marks its plan row done or refused; NetSuite ids written back to
    Stripe metadata when STRIPE_API_KEY is set. Not materialized while writing is off."""
    if not writing_enabled(config):
        context.log.info("Writing to NetSuite is off (NS_WRITEBACK_ENABLED or the run's `enabled`): "
                         "only the plan was materialized.")
        return
    from ns_pipelines.writeback.run import apply
    from ns_pipelines.writeback.stripe_links import linker_from_env

    report = apply(warehouse.engine, netsuite.client, run_id=context.run.run_id, linker=linker_from_env())
    for external_id, action, text in report.problems:
        context.log.warning(f"{external_id} ({action}): {text}")
    rate = report.written / report.seconds if report.seconds else 0.0
    yield dg.MaterializeResult(metadata={
        **ints({"written": report.written, "refused": report.refused, "failed": report.failed,
                "skipped": report.skipped, "blocked": report.blocked, "stripe_linked": report.stripe_linked,
                "stripe_failed": report.stripe_failed}),
        "ns/seconds": dg.MetadataValue.float(round(report.seconds, 3)),
        "ns/writes_per_second": dg.MetadataValue.float(round(rate, 2)),
    })


WRITEBACK_ASSETS = [plan, log]
