"""Raw NetSuite tables (group `netsuite_raw`), their checks, and the sync jobs."""
import dagster as dg

from ns_pipelines.defs.netsuite.assets import ASSETS, RAW_ASSETS, SyncConfig, netsuite_raw_tables
from ns_pipelines.defs.netsuite.checks import CHECKS
from ns_pipelines.defs.netsuite.jobs import JOBS

defs = dg.Definitions(assets=ASSETS, asset_checks=CHECKS, jobs=JOBS)

__all__ = ["ASSETS", "RAW_ASSETS", "SyncConfig", "defs", "netsuite_raw_tables"]
