"""Raw NetSuite tables (group `netsuite_raw`), their checks, and the sync jobs."""
import dagster as dg

from ns_pipelines.defs.netsuite.assets import RAW_ASSETS, SyncConfig
from ns_pipelines.defs.netsuite.checks import CHECKS
from ns_pipelines.defs.netsuite.jobs import JOBS

defs = dg.Definitions(assets=[asset for asset, _ in RAW_ASSETS.values()], asset_checks=CHECKS, jobs=JOBS)

__all__ = ["RAW_ASSETS", "SyncConfig", "defs"]
