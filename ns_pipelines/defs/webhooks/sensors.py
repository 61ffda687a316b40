"""netsuite_change_events_sensor: new inbox events -> one targeted sync run.

Each tick reads the inbox rows after the cursor (an inbox id; at most NS_WEBHOOK_SENSOR_BATCH_SIZE,
default 500, oldest first), requests one run that re-reads exactly the records they name
(targeting.py), and moves the cursor to the highest id read, all in one SensorResult: the
daemon stores the cursor and the run request together. It reads one warehouse table and makes
no NetSuite call (sensors bypass the netsuite_api pool, and a tick has 60 s).

- Nothing dropped: inbox ids commit in increasing order (ns_pipelines.webhooks.inbox), so no
  row can appear behind the cursor; a backlog larger than a batch is taken a batch per tick.
- Nothing run twice: the run key is `netsuite-events:<highest inbox id of the batch>`. If a tick's
  cursor update were lost, the next tick reads the same rows (and maybe more): the same key is
  not launched again, a longer batch gets a new key and re-reads a few records again, which is
  harmless (targeted reads are idempotent). Do not move the cursor back to replay events: keys
  already used are never launched again; launch netsuite_change_events_job by hand instead.
- An unreadable warehouse fails the tick without moving the cursor; the next tick retries.
- Batching under load: while a run it requested is still in the run queue, a tick requests
  nothing and leaves the cursor: events accumulate and the next run takes them all. Runs that
  take longer than the interval would otherwise queue up one per tick and the delay from a
  change to the warehouse would grow without bound (measured by `ns-pipelines bench latency`).
  A run already launched (starting or executing) does not hold the next one back: its process
  start overlaps the previous run.

- Retention: each tick first deletes the inbox rows of its source up to the cursor it was given
  (the cursor the daemon committed with the previous tick, never the one it is about to return)
  that are older than NS_WEBHOOK_INBOX_RETENTION_DAYS (default 30), in batches
  (prune_consumed_events); stripe_events_sensor does the same for its rows.

Interval: NS_WEBHOOK_SENSOR_INTERVAL_SECONDS (default 15), read when the code location loads. A
busy account raises it: fewer, larger runs. Default status RUNNING (decision): the inbox stays
empty unless the receiver is deployed, so a running sensor costs one indexed query per interval,
whereas a STOPPED default would leave delivered events unsynced until someone switches it on.
"""
from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping

import dagster as dg
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from ns_pipelines.defs.netsuite.jobs import SYNC_SELECTION
from ns_pipelines.defs.resources import WarehouseResource
from ns_pipelines.defs.webhooks.targeting import TRIGGER_TAGS, plan_targeted_run
from ns_pipelines.webhooks.inbox import SOURCE_NETSUITE, prune_consumed, read_events

SENSOR_NAME = "netsuite_change_events_sensor"
INTERVAL_ENV = "NS_WEBHOOK_SENSOR_INTERVAL_SECONDS"
BATCH_ENV = "NS_WEBHOOK_SENSOR_BATCH_SIZE"
RETENTION_ENV = "NS_WEBHOOK_INBOX_RETENTION_DAYS"
DEFAULT_RETENTION_DAYS = 30
DEFAULT_INTERVAL_SECONDS = 15
DEFAULT_BATCH_SIZE = 500
MAX_BATCH_SIZE = 5000


def _positive_int(name: str, default: int, environ: Mapping[str, str] | None = None, maximum: int | None = None) -> int:
    env = os.environ if environ is None else environ
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a positive integer, got {raw!r}") from None
    if value < 1 or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be between 1 and {maximum or 'any'}, got {value}")
    return value


def sensor_interval_seconds(environ: Mapping[str, str] | None = None) -> int:
    return _positive_int(INTERVAL_ENV, DEFAULT_INTERVAL_SECONDS, environ)


def batch_size(environ: Mapping[str, str] | None = None) -> int:
    return _positive_int(BATCH_ENV, DEFAULT_BATCH_SIZE, environ, MAX_BATCH_SIZE)


def inbox_retention(environ: Mapping[str, str] | None = None) -> dt.timedelta:
    """How long consumed inbox rows are kept (NS_WEBHOOK_INBOX_RETENTION_DAYS, whole days)."""
    return dt.timedelta(days=_positive_int(RETENTION_ENV, DEFAULT_RETENTION_DAYS, environ))


def parse_cursor(cursor: str | None, sensor: str) -> int:
    """The last inbox id `sensor` handled (0 before the first event); errors name the sensor."""
    if not cursor:
        return 0
    try:
        value = int(cursor)
    except ValueError:
        raise ValueError(f"{sensor} cursor must be an inbox id (an integer), got {cursor!r}") from None
    if value < 0:
        raise ValueError(f"{sensor} cursor must not be negative, got {value}")
    return value


def prune_consumed_events(context: dg.SensorEvaluationContext, engine: Engine, *, source: str,
                          consumed_through: int) -> int:
    """Delete the inbox rows of `source` up to `consumed_through` older than the retention.

    `consumed_through` must be the tick's incoming cursor: the daemon stored it with the run
    requests of the previous tick, whereas the cursor a tick returns is not stored until after it.
    Best effort: a failure (say, the receiver holding SQLite's write lock) is logged and the next
    tick tries again, so retention never holds events back.
    """
    if consumed_through <= 0:
        return 0
    cutoff = dt.datetime.now(dt.timezone.utc) - inbox_retention()
    try:
        deleted = prune_consumed(engine, source=source, through_id=consumed_through, received_before=cutoff)
    except SQLAlchemyError as exc:
        context.log.warning(f"inbox retention skipped this tick: {type(exc).__name__}: {exc}")
        return 0
    if deleted:
        context.log.info(f"deleted {deleted} consumed {source} inbox rows received before {cutoff.isoformat()}")
    return deleted


WAITING_STATUSES = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED]


def _runs_waiting_to_start(context: dg.SensorEvaluationContext) -> str | None:
    """The id of a change-events run still in the run queue, if any (None without an instance: tests)."""
    try:
        instance = context.instance
    except dg.DagsterInvariantViolationError:
        return None
    runs = instance.get_runs(dg.RunsFilter(tags=TRIGGER_TAGS, statuses=WAITING_STATUSES), limit=1)
    return runs[0].run_id if runs else None


netsuite_change_events_job = dg.define_asset_job(
    "netsuite_change_events_job",
    selection=SYNC_SELECTION,
    tags=TRIGGER_TAGS,
    description="Runs requested by netsuite_change_events_sensor: re-read the NetSuite records named by "
    "webhook events (ops: {netsuite_raw_tables: {config: {record_ids: {invoice: [...], ...}}}}), then "
    "rebuild the receivables. Launched by hand without record_ids it is an incremental sync.",
)


@dg.sensor(
    name=SENSOR_NAME,
    job=netsuite_change_events_job,
    minimum_interval_seconds=sensor_interval_seconds(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Turns NetSuite change events from the webhook inbox (ns_webhook_inbox) into one targeted "
    "sync run per batch: exactly the records the events name, their customers, deletions when a record "
    "was deleted, then the receivables. Cursor: the last inbox id handled; run key: "
    "netsuite-events:<highest inbox id>. Interval: NS_WEBHOOK_SENSOR_INTERVAL_SECONDS.",
)
def netsuite_change_events_sensor(
    context: dg.SensorEvaluationContext, warehouse: WarehouseResource
) -> dg.SensorResult | dg.SkipReason:
    after = parse_cursor(context.cursor, SENSOR_NAME)
    prune_consumed_events(context, warehouse.engine, source=SOURCE_NETSUITE, consumed_through=after)
    waiting = _runs_waiting_to_start(context)
    if waiting:
        return dg.SkipReason(f"run {waiting} of the previous events is still queued; new events wait for the "
                             f"next tick (after inbox id {after})")
    events = read_events(warehouse.engine, after=after, limit=batch_size())
    if not events:
        return dg.SkipReason(f"no change events after inbox id {after}")
    cursor = str(events[-1].id)
    plan = plan_targeted_run(events)
    if plan is None:
        return dg.SensorResult(skip_reason=f"inbox ids {events[0].id}-{events[-1].id}: no record type we sync",
                               cursor=cursor)
    context.log.info(
        f"inbox ids {plan.first_inbox_id}-{plan.last_inbox_id} ({plan.events} events): "
        + ", ".join(f"{rt} {len(ids)}" for rt, ids in plan.record_ids.items())
        + (" + deletions" if plan.with_deletions else "") + f" -> run key {plan.run_key}"
    )
    return dg.SensorResult(run_requests=[plan.run_request()], cursor=cursor)
