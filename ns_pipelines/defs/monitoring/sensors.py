"""netsuite_api_usage_sensor: one AssetObservation per minute of NetSuite API usage.

The UI plots an asset's numeric metadata by event time, materializations and observations
alike. The asset (hourly) gives one point per window; this sensor, ticking every minute, records
each minute once it is settled (every client has flushed it: NS_API_USAGE_FLUSH_SECONDS plus a
minute), so the plots also get one point per minute, about two minutes late. Minutes without
requests have no row and get no point. It reads one warehouse table and launches nothing; the
cursor is the last minute observed (ISO time). A cursor older than MAX_MINUTES_PER_TICK minutes
(the sensor was stopped) restarts from the most recent minutes.
"""
import datetime as dt

import dagster as dg

from ns_pipelines.defs.monitoring.assets import ASSET_KEY, minute_metadata
from ns_pipelines.defs.metadata import when
from ns_pipelines.defs.resources import WarehouseResource
from ns_pipelines.monitoring import by_minute, read_usage
from ns_pipelines.monitoring.monitor import UsageSettings
from ns_pipelines.monitoring.summary import MINUTE

MAX_MINUTES_PER_TICK = 180


def settled_until(now: dt.datetime, flush_seconds: float) -> dt.datetime:
    """Minutes before this one are complete in the table (every client flushed them)."""
    latest = now.astimezone(dt.timezone.utc) - dt.timedelta(seconds=flush_seconds) - MINUTE
    return latest.replace(second=0, microsecond=0)


def parse_cursor(cursor: str | None) -> dt.datetime | None:
    if not cursor:
        return None
    try:
        value = dt.datetime.fromisoformat(cursor)
    except ValueError:
        raise ValueError(f"netsuite_api_usage_sensor cursor must be an ISO minute, got {cursor!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def observations(warehouse: WarehouseResource, cursor: str | None, now: dt.datetime,
                 flush_seconds: float) -> tuple[list[dg.AssetObservation], str | None]:
    """The observations of the minutes after `cursor` that are settled, and the new cursor."""
    until = settled_until(now, flush_seconds)
    last = parse_cursor(cursor)
    since = until - MAX_MINUTES_PER_TICK * MINUTE
    if last is not None and last + MINUTE > since:
        since = last + MINUTE
    if since >= until:
        return [], cursor
    events = [
        dg.AssetObservation(asset_key=ASSET_KEY, metadata={
            "ns/minute": when(minute.minute),
            **minute_metadata(minute, "ns/minute_"),
        })
        for minute in by_minute(read_usage(warehouse.engine, since, until))
    ]
    return events, (until - MINUTE).isoformat()


@dg.sensor(
    name="netsuite_api_usage_sensor",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Records each settled minute of NetSuite API usage as an observation of "
    "monitoring/netsuite_api_usage (one plot point per minute). Reads the warehouse; launches no run.",
)
def netsuite_api_usage_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource) -> dg.SensorResult:
    events, cursor = observations(warehouse, context.cursor, dt.datetime.now(dt.timezone.utc),
                                  UsageSettings.from_env().flush_seconds)
    return dg.SensorResult(asset_events=events, cursor=cursor)


SENSORS = [netsuite_api_usage_sensor]
