"""Jobs: the main sync, a full resync of everything, and the checks on their own.

Every raw NetSuite table is produced by the one multi-asset step `netsuite_raw_tables`
(assets.py); its `mode` is set under that op. Launchpad config for netsuite_sync_job (all tables,
or a selection of them) to re-read everything:

    ops:
      netsuite_raw_tables:
        config:
          mode: full
"""
from __future__ import annotations

import dagster as dg

from ns_pipelines.defs.metadata import RAW_GROUP, RECEIVABLES_GROUP
from ns_pipelines.defs.netsuite.assets import DRIFT_CHECK_SPECS, netsuite_raw_tables

# The redundancy checks belong to netsuite_redundancy_job (defs/schedules/redundancy.py): only a
# redundancy run evaluates them, and a checks-only job must not run the raw step for them.
DRIFT_CHECKS = dg.AssetSelection.checks(*[spec.key for spec in DRIFT_CHECK_SPECS])
SYNC_SELECTION = dg.AssetSelection.groups(RAW_GROUP, RECEIVABLES_GROUP) - DRIFT_CHECKS

netsuite_sync_job = dg.define_asset_job(
    "netsuite_sync_job",
    selection=SYNC_SELECTION,
    description="Incremental sync of every NetSuite record type into the warehouse (all at once, within "
    "the NetSuite concurrency budget; deletions last), then rebuild the receivables tables; every "
    "asset check runs after its asset. `ops: {netsuite_raw_tables: {config: {mode: full}}}` re-reads "
    "everything selected.",
)


def full_resync_config() -> dict:
    """Run config that sets `mode: full` on the raw NetSuite tables' step."""
    return {"ops": {netsuite_raw_tables.op.name: {"config": {"mode": "full"}}}}


netsuite_full_resync_job = dg.define_asset_job(
    "netsuite_full_resync_job",
    selection=SYNC_SELECTION,
    config=full_resync_config(),
    description="Re-read every NetSuite record of every type (mode: full), rewrite the raw tables and "
    "their cursors, then rebuild the receivables tables. For a single table, launch "
    "netsuite_sync_job on that asset only with `ops: {netsuite_raw_tables: {config: {mode: full}}}`.",
)

warehouse_checks_job = dg.define_asset_job(
    "warehouse_checks_job",
    selection=dg.AssetSelection.all_asset_checks() - DRIFT_CHECKS,
    description="Run every asset check (keys, references, balances, freshness) without syncing.",
)

JOBS = [netsuite_sync_job, netsuite_full_resync_job, warehouse_checks_job]
