"""netsuite_incremental_schedule (netsuite_sync_job at NS_SYNC_CRON) and netsuite_redundancy_schedule
(netsuite_redundancy_job daily at NS_REDUNDANCY_SYNC_TIME), their cadence and time zones from the
environment (settings.py), so a busy account can sync hourly or daily without a code change.

Both are RUNNING by default (decision, as the change-events sensor): a deployed code location
keeps the warehouse current without someone remembering to switch them on; stop them in the UI.
Overlapping runs do not pile up on NetSuite: the raw step takes the `netsuite_api` pool slot, and
the production profile (deploy/production/dagster.yaml) allows one queued run per trigger tag.
"""
from __future__ import annotations

import dagster as dg

from ns_pipelines.defs.netsuite.jobs import netsuite_sync_job
from ns_pipelines.defs.schedules.redundancy import REDUNDANCY_TAGS, netsuite_redundancy_job
from ns_pipelines.defs.schedules.settings import ScheduleSettings


def build_schedules(settings: ScheduleSettings) -> list[dg.ScheduleDefinition]:
    incremental = dg.ScheduleDefinition(
        name="netsuite_incremental_schedule",
        job=netsuite_sync_job,
        cron_schedule=settings.sync_cron,
        execution_timezone=settings.sync_timezone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        tags={"ns/trigger": "schedule"},
        description=f"Incremental NetSuite sync ({settings.sync_cron}, {settings.sync_timezone}; NS_SYNC_CRON, "
        "NS_SYNC_SCHEDULE_TIMEZONE), then the receivables.",
    )
    redundancy = dg.ScheduleDefinition(
        name="netsuite_redundancy_schedule",
        job=netsuite_redundancy_job,
        cron_schedule=settings.redundancy_cron,
        execution_timezone=settings.redundancy_timezone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        tags=REDUNDANCY_TAGS,
        description=f"Daily redundancy sync at {settings.redundancy_time} {settings.redundancy_timezone} "
        "(NS_REDUNDANCY_SYNC_TIME, NS_REDUNDANCY_SYNC_TIMEZONE): compare every record with NetSuite, repair "
        "and report the drift.",
    )
    return [incremental, redundancy]
