"""The daily redundancy sync in Dagster: `netsuite_redundancy_job` runs the raw tables' step in
`mode: redundancy` (ns_pipelines.sync.redundancy: compare every id and lastmodifieddate, repair
the drift), then rebuilds the receivables; each raw table's materialization carries the drift it
repaired, and its `redundancy_drift` check warns when there was any and passes at zero.

The raw tables keep their one producer, `netsuite_raw_tables` (one NetSuite client, one budget,
one `netsuite_api` pool slot); the mode is its config, and the drift checks are its check specs
(assets.py), evaluated by the step right after each table's materialization in this mode only.
"""

from collections.abc import Iterator, Sequence
from typing import Any

import dagster as dg

from ns_pipelines.defs.metadata import RAW_GROUP, RECEIVABLES_GROUP, ints
from ns_pipelines.defs.netsuite.assets import DRIFT_CHECK_NAME, OP_NAME, _progress, materialization
from ns_pipelines.defs.resources import NetSuiteResource, WarehouseResource

REDUNDANCY_TAGS = {"ns/trigger": "redundancy"}


def redundancy_config() -> dict:
    return {"ops": {OP_NAME: {"config": {"mode": "redundancy"}}}}


def drift_metadata(result: Any) -> dict[str, dg.MetadataValue]:
    drift = result.drift
    return {
        **ints({"drift_missing": drift.missing, "drift_stale": drift.stale, "drift_vanished": drift.vanished,
                "drift_total": drift.total, "netsuite_rows": result.netsuite_rows,
                "warehouse_rows": result.warehouse_rows, "repaired_ids": result.repaired_ids,
                "customers_refreshed": result.customers_refreshed}),
        "ns/drift_samples": dg.MetadataValue.json(drift.samples),
    }


def redundancy_materializations(
    context: dg.AssetExecutionContext, record_types: Sequence[str], netsuite: NetSuiteResource,
    warehouse: WarehouseResource,
) -> Iterator[dg.MaterializeResult]:
    """What netsuite_raw_tables yields in mode redundancy: one record type after the other (RAW_ASSETS
    order is a dependency order), each materialized with its drift as soon as it is repaired."""
    from ns_pipelines.sync.redundancy import iter_reconcile
    from ns_pipelines.sync.settings import SyncSettings

    context.log.info(f"redundancy comparison of {', '.join(record_types)}")
    for result in iter_reconcile(netsuite.client, warehouse.engine, record_types, settings=SyncSettings.from_env(),
                                 progress=_progress(context), run_id=context.run.run_id):
        drift = result.drift
        context.log.info(
            f"{result.record_type}: NetSuite {result.netsuite_rows:,}, warehouse {result.warehouse_rows:,} live; "
            f"missing {drift.missing}, stale {drift.stale}, vanished {drift.vanished}"
            + (f" (repaired: {result.repaired_ids} re-read)" if drift.total else ""))
        base = materialization(context, result, warehouse)
        metadata = {**(base.metadata or {}), **drift_metadata(result)}
        yield dg.MaterializeResult(asset_key=base.asset_key, metadata=metadata)
        check = dg.AssetCheckKey(base.asset_key, DRIFT_CHECK_NAME)
        if check in context.selected_asset_check_keys:
            yield drift_check_result(check, result)


def drift_check_result(check: dg.AssetCheckKey, result: Any) -> dg.AssetCheckResult:
    """WARN when the comparison found drift (already repaired), pass at zero."""
    drift = result.drift
    counts = {"missing": drift.missing, "stale": drift.stale, "vanished": drift.vanished}
    if drift.total:
        description = (f"{drift.total} record(s) drifted: " + ", ".join(f"{v} {k}" for k, v in counts.items())
                       + "; repaired by re-reading them. The incremental sync or the change events missed these.")
    else:
        description = f"no drift: {result.netsuite_rows:,} NetSuite records match the warehouse"
    return dg.AssetCheckResult(
        asset_key=check.asset_key, check_name=check.name, passed=drift.total == 0,
        severity=dg.AssetCheckSeverity.WARN, description=description,
        metadata={**{k: dg.MetadataValue.int(v) for k, v in counts.items()},
                  "total": dg.MetadataValue.int(drift.total), "samples": dg.MetadataValue.json(drift.samples)})


netsuite_redundancy_job = dg.define_asset_job(
    "netsuite_redundancy_job",
    selection=dg.AssetSelection.groups(RAW_GROUP, RECEIVABLES_GROUP),
    config=redundancy_config(),
    tags=REDUNDANCY_TAGS,
    description="Daily redundancy sync: compare every NetSuite record's id and lastmodifieddate with the "
    "warehouse, re-read what is missing or stale, soft-delete what NetSuite no longer has, report the drift "
    "per table (and warn through the redundancy_drift checks), then rebuild the receivables.",
)
