"""Writeback to NetSuite (group `writeback`): the plan, the write log, their checks and jobs."""
import dagster as dg

from ns_pipelines.defs.writeback.assets import WRITEBACK_ASSETS
from ns_pipelines.defs.writeback.checks import CHECKS
from ns_pipelines.defs.writeback.jobs import JOBS

defs = dg.Definitions(assets=WRITEBACK_ASSETS, asset_checks=CHECKS, jobs=JOBS)

__all__ = ["defs"]
