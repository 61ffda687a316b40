"""netsuite_change_events_sensor under load: while a run it requested is still in the run queue, a
tick requests nothing and keeps its cursor, so the events accumulate into the next run (instead of
one queued run per tick, each adding to the delay)."""
from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import dagster as dg
import pytest

from ns_pipelines.defs.resources import WarehouseResource
from ns_pipelines.defs.webhooks import netsuite_change_events_sensor
from ns_pipelines.defs.webhooks.targeting import TRIGGER_TAGS
from ns_pipelines.webhooks.inbox import Inbox
from ns_pipelines.webhooks.payload import ChangeEvent

OCCURRED = dt.datetime(2027, 1, 15, 8, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def inbox(tmp_path) -> Iterator[Inbox]:  # noqa: ANN001
    box = Inbox(f"sqlite:///{tmp_path / 'warehouse.sqlite3'}")
    yield box
    box.close()


def add(inbox: Inbox, record_id: int) -> int:
    stored = inbox.store(ChangeEvent(event_id=str(uuid.uuid4()), account="1234567_SB1", record_type="invoice",
                                     record_id=record_id, event="edit", occurred_at=OCCURRED), b"{}")
    assert stored.inbox_id is not None
    return stored.inbox_id


def tick(inbox: Inbox, instance: dg.DagsterInstance, cursor: str | None) -> dg.SensorResult | dg.SkipReason:
    resources = {"warehouse": WarehouseResource(url=inbox._url)}  # noqa: SLF001
    with dg.build_sensor_context(cursor=cursor, instance=instance, resources=resources) as context:
        return netsuite_change_events_sensor(context)


def a_run(instance: dg.DagsterInstance, status: dg.DagsterRunStatus) -> str:
    run = dg.DagsterRun(job_name="netsuite_change_events_job", run_id=str(uuid.uuid4()), status=status,
                        tags=dict(TRIGGER_TAGS))
    instance.add_run(run)
    return run.run_id


def test_events_wait_while_the_previous_run_has_not_started(inbox: Inbox) -> None:
    with dg.instance_for_test() as instance:
        first = [add(inbox, 1), add(inbox, 2)]
        one = tick(inbox, instance, None)
        assert isinstance(one, dg.SensorResult) and one.cursor == str(first[-1])

        queued = a_run(instance, dg.DagsterRunStatus.NOT_STARTED)  # the run of `one`, not launched yet
        later = [add(inbox, 3), add(inbox, 4), add(inbox, 5)]
        skipped = tick(inbox, instance, one.cursor)
        assert isinstance(skipped, dg.SkipReason) and queued in skipped.skip_message

        instance.delete_run(queued)
        a_run(instance, dg.DagsterRunStatus.STARTING)  # launched: the next run may start behind it
        a_run(instance, dg.DagsterRunStatus.STARTED)
        two = tick(inbox, instance, one.cursor)
        assert isinstance(two, dg.SensorResult)
        (request,) = two.run_requests
        ids = request.run_config["ops"]["netsuite_raw_tables"]["config"]["record_ids"]["invoice"]
        assert ids == [3, 4, 5] and two.cursor == str(later[-1])  # everything that waited, in one run
