"""Jobs: the main sync, a full resync of everything, and the checks on their own."""
from __future__ import annotations

import dagster as dg

from ns_pipelines.defs.metadata import RAW_GROUP, RECEIVABLES_GROUP
from ns_pipelines.defs.netsuite.assets import RAW_ASSETS

SYNC_SELECTION = dg.AssetSelection.groups(RAW_GROUP, RECEIVABLES_GROUP)

netsuite_sync_job = dg.define_asset_job(
    "netsuite_sync_job",
    selection=SYNC_SELECTION,
    description="Incremental sync of every NetSuite record type into the warehouse, then rebuild the "
    "receivables tables; every asset check runs after its asset.",
)


def full_resync_config() -> dict:
    """Run config that sets `mode: full` on every raw NetSuite asset."""
    return {"ops": {asset.op.name: {"config": {"mode": "full"}} for asset, _ in RAW_ASSETS.values()}}


netsuite_full_resync_job = dg.define_asset_job(
    "netsuite_full_resync_job",
    selection=SYNC_SELECTION,
    config=full_resync_config(),
    description="Re-read every NetSuite record of every type (mode: full), rewrite the raw tables and "
    "their cursors, then rebuild the receivables tables. For a single table, launch "
    "netsuite_sync_job with `mode: full` on that asset only.",
)

warehouse_checks_job = dg.define_asset_job(
    "warehouse_checks_job",
    selection=dg.AssetSelection.all_asset_checks(),
    description="Run every asset check (keys, references, balances, freshness) without syncing.",
)

JOBS = [netsuite_sync_job, netsuite_full_resync_job, warehouse_checks_job]
