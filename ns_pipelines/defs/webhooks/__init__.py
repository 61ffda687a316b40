"""Near-real-time sync from NetSuite change events: the sensor over the webhook inbox and the job
its runs belong to (the receiver itself is ns_pipelines.webhooks, outside Dagster)."""
import dagster as dg

from ns_pipelines.defs.webhooks.sensors import netsuite_change_events_job, netsuite_change_events_sensor
from ns_pipelines.defs.webhooks.targeting import TargetedRun, plan_targeted_run

defs = dg.Definitions(jobs=[netsuite_change_events_job], sensors=[netsuite_change_events_sensor])

__all__ = ["TargetedRun", "defs", "netsuite_change_events_job", "netsuite_change_events_sensor", "plan_targeted_run"]
