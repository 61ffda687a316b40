"""netsuite_api_usage_job and its hourly schedule: summarize the last hour and run the budget check.

Default RUNNING (decision): the warning is only useful if someone is told without asking; a run
that reads one table each hour costs little. NS_API_USAGE_CRON changes the cadence (read when the
code location loads); keep the asset's window_minutes equal to the cadence so windows do not overlap.
"""
import os

import dagster as dg

from ns_pipelines.defs.monitoring.assets import netsuite_api_usage

CRON_ENV = "NS_API_USAGE_CRON"
DEFAULT_CRON = "0 * * * *"

netsuite_api_usage_job = dg.define_asset_job(
    "netsuite_api_usage_job",
    selection=dg.AssetSelection.assets(netsuite_api_usage),
    description="Summarize the NetSuite API usage of the last window and check it against the budget.",
)

netsuite_api_usage_schedule = dg.ScheduleDefinition(
    name="netsuite_api_usage_schedule",
    job=netsuite_api_usage_job,
    cron_schedule=(os.environ.get(CRON_ENV) or DEFAULT_CRON).strip(),
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Hourly by default (NS_API_USAGE_CRON): materialize monitoring/netsuite_api_usage and run its check.",
)

JOBS = [netsuite_api_usage_job]
SCHEDULES = [netsuite_api_usage_schedule]
