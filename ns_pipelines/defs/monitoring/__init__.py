"""NetSuite API usage monitoring (group `monitoring`): the per-minute rollup as an asset, its budget
check, a per-minute observation sensor and an hourly schedule."""
import dagster as dg

from ns_pipelines.defs.monitoring.assets import ASSETS, ApiUsageConfig, netsuite_api_usage
from ns_pipelines.defs.monitoring.checks import CHECKS, within_budget
from ns_pipelines.defs.monitoring.schedules import JOBS, SCHEDULES
from ns_pipelines.defs.monitoring.sensors import SENSORS, netsuite_api_usage_sensor

defs = dg.Definitions(assets=ASSETS, asset_checks=CHECKS, jobs=JOBS, schedules=SCHEDULES, sensors=SENSORS)

__all__ = ["ApiUsageConfig", "defs", "netsuite_api_usage", "netsuite_api_usage_sensor", "within_budget"]
