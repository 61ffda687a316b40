"""stripe_events_sensor: Stripe webhook events in the inbox -> one targeted Stripe sync run.

Same contract as netsuite_change_events_sensor (ns_pipelines.defs.webhooks.sensors), over the
inbox rows with source "stripe" and a cursor of its own (the last inbox id handled): each tick
reads the rows after the cursor (at most NS_WEBHOOK_SENSOR_BATCH_SIZE), requests one run of
stripe_events_job re-fetching exactly the objects they name (plus the charges behind refunds,
disputes and payment intents, and the balance transactions those lead to), and moves the cursor,
in one SensorResult. Run key: stripe-events:<highest inbox id>. No Stripe call in the sensor. Like
the NetSuite sensor, each tick first deletes its consumed rows past the inbox retention.
"""

import dagster as dg

from ns_pipelines.defs.resources import WarehouseResource
from ns_pipelines.defs.stripe.assets import OP_NAME, STRIPE_ASSETS
from ns_pipelines.defs.stripe.jobs import STRIPE_SELECTION
from ns_pipelines.defs.webhooks.sensors import batch_size, parse_cursor, prune_consumed_events, sensor_interval_seconds
from ns_pipelines.stripe.inbox import objects_to_refresh, read_stripe_events
from ns_pipelines.stripe.webhook import SOURCE

SENSOR_NAME = "stripe_events_sensor"
RUN_KEY_PREFIX = "stripe-events"
TRIGGER_TAGS = {"ns/trigger": "stripe-webhook"}

stripe_events_job = dg.define_asset_job(
    "stripe_events_job",
    selection=STRIPE_SELECTION,
    tags=TRIGGER_TAGS,
    description="Runs requested by stripe_events_sensor: re-fetch the Stripe objects named by webhook events "
    "(ops: {stripe_raw_tables: {config: {object_ids: {charge: [...], ...}}}}). Launched by hand without "
    "object_ids it is an incremental sync.",
)


def run_request(object_ids: dict[str, list[str]], first_id: int, last_id: int, events: int) -> dg.RunRequest:
    types = set(object_ids) | {"balance_transaction"}  # referenced balance transactions come along
    keys = [spec.key for t, (spec, _) in STRIPE_ASSETS.items() if t in types]
    return dg.RunRequest(
        run_key=f"{RUN_KEY_PREFIX}:{last_id}",
        run_config={"ops": {OP_NAME: {"config": {"object_ids": object_ids}}}},
        asset_selection=keys,
        tags={**TRIGGER_TAGS, "ns/inbox_ids": f"{first_id}-{last_id}", "ns/events": str(events),
              "ns/object_ids": ",".join(f"{t}:{len(ids)}" for t, ids in object_ids.items())},
    )


@dg.sensor(
    name=SENSOR_NAME,
    job=stripe_events_job,
    minimum_interval_seconds=sensor_interval_seconds(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Turns Stripe webhook events from the inbox (ns_webhook_inbox, source stripe) into one targeted "
    "Stripe sync run per batch. Cursor: the last inbox id handled; run key: stripe-events:<highest inbox id>.",
)
def stripe_events_sensor(context: dg.SensorEvaluationContext,
                         warehouse: WarehouseResource) -> dg.SensorResult | dg.SkipReason:
    after = parse_cursor(context.cursor, SENSOR_NAME)
    prune_consumed_events(context, warehouse.engine, source=SOURCE, consumed_through=after)
    events = read_stripe_events(warehouse.engine, after=after, limit=batch_size())
    if not events:
        return dg.SkipReason(f"no Stripe events after inbox id {after}")
    cursor = str(events[-1].id)
    object_ids = objects_to_refresh(events)
    if not object_ids:
        return dg.SensorResult(skip_reason=f"inbox ids {events[0].id}-{events[-1].id}: no object type we sync",
                               cursor=cursor)
    request = run_request(object_ids, events[0].id, events[-1].id, len(events))
    context.log.info(f"inbox ids {events[0].id}-{events[-1].id} ({len(events)} Stripe events): "
                     + ", ".join(f"{t} {len(ids)}" for t, ids in object_ids.items()) + f" -> run key {request.run_key}")
    return dg.SensorResult(run_requests=[request], cursor=cursor)
