"""Frequency control: the incremental and daily redundancy schedules, the redundancy job and its
drift checks, and the manual customer resync job (behaviour.md section 3)."""
import dagster as dg

from ns_pipelines.defs.schedules.customer_resync import CustomerResyncConfig, netsuite_customer_resync_job
from ns_pipelines.defs.schedules.redundancy import netsuite_redundancy_job, redundancy_config
from ns_pipelines.defs.schedules.schedules import build_schedules
from ns_pipelines.defs.schedules.settings import ScheduleConfigError, ScheduleSettings

SCHEDULES = build_schedules(ScheduleSettings.from_env())

defs = dg.Definitions(
    jobs=[netsuite_redundancy_job, netsuite_customer_resync_job],
    schedules=SCHEDULES,
)

__all__ = [
    "SCHEDULES", "CustomerResyncConfig", "ScheduleConfigError", "ScheduleSettings", "build_schedules",
    "defs", "netsuite_customer_resync_job", "netsuite_redundancy_job", "redundancy_config",
]
