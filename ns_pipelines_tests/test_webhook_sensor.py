"""netsuite_change_events_sensor over a real warehouse inbox (SQLite and PostgreSQL), and the whole
path end to end: a change in the sandbox -> signed event -> receiver -> inbox -> sensor -> the
requested run -> the warehouse row."""
from __future__ import annotations

import datetime as dt
import sqlite3
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from sqlalchemy import select

import ns_pipelines.warehouse as wh
from ns_pipelines.defs import ar, netsuite
from ns_pipelines.defs.resources import NetSuiteResource, WarehouseResource
from ns_pipelines.defs.webhooks import netsuite_change_events_job, netsuite_change_events_sensor, plan_targeted_run
from ns_pipelines.defs.webhooks.sensors import (
    BATCH_ENV,
    INTERVAL_ENV,
    RETENTION_ENV,
    inbox_retention,
    parse_cursor,
    sensor_interval_seconds,
)
from ns_pipelines.sandbox.netsuite.server import SandboxServer
from ns_pipelines.sandbox.netsuite.settings import SandboxSettings
from ns_pipelines.stripe.webhook import StripeEvent
from ns_pipelines.warehouse.tables.inbox import webhook_inbox
from ns_pipelines.webhooks.inbox import Inbox, InboxEvent, prune_consumed, read_events
from ns_pipelines.webhooks.payload import ChangeEvent
from ns_pipelines.webhooks.server import ReceiverSettings, WebhookServer, build_app
from ns_pipelines_tests.sync_helpers import sandbox_rows

AR_KEYS = {asset.key.to_user_string() for asset in ar.AR_ASSETS}
OCCURRED = dt.datetime(2027, 1, 15, 8, 0, tzinfo=dt.timezone.utc)
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


@pytest.fixture
def inbox(fresh_warehouse_url: str) -> Iterator[Inbox]:
    box = Inbox(fresh_warehouse_url)
    yield box
    box.close()


def add(inbox: Inbox, record_type: str, record_id: int, event: str = "edit") -> int:
    change = ChangeEvent(event_id=str(uuid.uuid4()), account="1234567_SB1", record_type=record_type,
                         record_id=record_id, event=event, occurred_at=OCCURRED)
    stored = inbox.store(change, b"{}")
    assert stored.inbox_id is not None
    return stored.inbox_id


def tick(inbox: Inbox, cursor: str | None) -> dg.SensorResult | dg.SkipReason:
    resources = {"warehouse": WarehouseResource(url=inbox._url)}  # noqa: SLF001
    with dg.build_sensor_context(cursor=cursor, resources=resources) as context:  # the resource's setup/teardown
        return netsuite_change_events_sensor(context)


def keys(request: dg.RunRequest) -> set[str]:
    return {key.to_user_string() for key in request.asset_selection or []}


def record_ids(request: dg.RunRequest) -> dict[str, list[int]]:
    return request.run_config["ops"]["netsuite_raw_tables"]["config"]["record_ids"]


# -------------------------------------------------------------------------------------------
# Ticks over a real inbox


def test_no_events_no_run(inbox: Inbox) -> None:
    result = tick(inbox, None)
    assert isinstance(result, dg.SkipReason) and "no change events after inbox id 0" in result.skip_message


def test_events_become_one_targeted_run(inbox: Inbox) -> None:
    ids = [add(inbox, "invoice", 12), add(inbox, "invoice", 12, "xedit"), add(inbox, "invoice", 3),
           add(inbox, "customerpayment", 40, "create"), add(inbox, "customer", 87)]
    result = tick(inbox, None)
    assert isinstance(result, dg.SensorResult)
    (request,) = result.run_requests
    assert result.cursor == str(max(ids))
    assert request.run_key == f"netsuite-events:{max(ids)}"
    assert record_ids(request) == {"customer": [87], "invoice": [3, 12], "customerpayment": [40]}
    assert keys(request) == {"netsuite/customers", "netsuite/invoices", "netsuite/customer_payments"} | AR_KEYS
    assert request.tags["ns/trigger"] == "webhook" and request.tags["ns/events"] == "5"
    assert request.tags["ns/inbox_ids"] == f"{min(ids)}-{max(ids)}"


def test_a_delete_adds_the_deletions_and_customers_always_come_along(inbox: Inbox) -> None:
    last = [add(inbox, "creditmemo", 5, "delete"), add(inbox, "journalentry", 9)][-1]
    (request,) = tick(inbox, None).run_requests
    assert record_ids(request) == {"creditmemo": [5], "journalentry": [9]}  # customers: found by the step
    assert keys(request) == {"netsuite/customers", "netsuite/credit_memos", "netsuite/journal_lines",
                             "netsuite/deleted_records"} | AR_KEYS
    assert request.run_key == f"netsuite-events:{last}"


def test_no_event_is_requested_twice_across_ticks(inbox: Inbox) -> None:
    first = [add(inbox, "invoice", i) for i in (1, 2, 3)]
    one = tick(inbox, None)
    assert isinstance(tick(inbox, one.cursor), dg.SkipReason)  # nothing new: no run
    second = [add(inbox, "invoice", i) for i in (3, 4)]
    two = tick(inbox, one.cursor)
    (r1,), (r2,) = one.run_requests, two.run_requests
    assert (r1.run_key, r2.run_key) == (f"netsuite-events:{first[-1]}", f"netsuite-events:{second[-1]}")
    assert record_ids(r1) == {"invoice": [1, 2, 3]} and record_ids(r2) == {"invoice": [3, 4]}
    assert two.cursor == str(second[-1])
    # a tick whose cursor update was lost is evaluated again from the old cursor: same events, same
    # run key, which the daemon does not launch twice
    (again,) = tick(inbox, None).run_requests
    assert again.run_key == f"netsuite-events:{second[-1]}" and record_ids(again) == {"invoice": [1, 2, 3, 4]}
    (again_two,) = tick(inbox, one.cursor).run_requests
    assert again_two.run_key == r2.run_key and again_two.run_config == r2.run_config


def test_a_backlog_is_taken_a_batch_per_tick_and_nothing_is_dropped(inbox: Inbox,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BATCH_ENV, "500")
    added = [add(inbox, ("invoice", "customer", "deposit")[i % 3], 10_000 + i) for i in range(1234)]
    cursor: str | None = None
    batches: list[dg.RunRequest] = []
    while True:
        result = tick(inbox, cursor)
        if isinstance(result, dg.SkipReason):
            break
        (request,) = result.run_requests
        batches.append(request)
        assert int(result.cursor) > int(cursor or 0)
        cursor = result.cursor
    assert [r.tags["ns/events"] for r in batches] == ["500", "500", "234"]
    assert [r.run_key for r in batches] == [f"netsuite-events:{added[i]}" for i in (499, 999, 1233)]
    covered = sorted(i for r in batches for ids in record_ids(r).values() for i in ids)
    assert covered == [10_000 + i for i in range(1234)]  # every record once: none dropped, none twice
    assert cursor == str(added[-1])


def test_a_partial_batch_then_late_events(inbox: Inbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BATCH_ENV, "4")
    ids = [add(inbox, "invoice", i) for i in range(1, 4)]  # fewer than a batch
    one = tick(inbox, None)
    assert one.cursor == str(ids[-1]) and record_ids(one.run_requests[0]) == {"invoice": [1, 2, 3]}
    late = [add(inbox, "invoice", i) for i in range(4, 10)]
    two = tick(inbox, one.cursor)
    three = tick(inbox, two.cursor)
    assert record_ids(two.run_requests[0]) == {"invoice": [4, 5, 6, 7]}
    assert record_ids(three.run_requests[0]) == {"invoice": [8, 9]} and three.cursor == str(late[-1])


def test_the_cursor_and_settings_are_checked(inbox: Inbox) -> None:
    assert parse_cursor(None, "s") == 0 and parse_cursor("42", "s") == 42
    with pytest.raises(ValueError, match="^some_sensor cursor must be an inbox id"):
        parse_cursor("netsuite-events:4", "some_sensor")
    with pytest.raises(ValueError, match="^some_sensor cursor must not be negative"):
        parse_cursor("-1", "some_sensor")
    with pytest.raises(Exception, match="netsuite_change_events_sensor cursor must be an inbox id"):
        tick(inbox, "garbage")
    assert inbox_retention({}) == dt.timedelta(days=30)
    assert inbox_retention({RETENTION_ENV: "7"}) == dt.timedelta(days=7)
    with pytest.raises(ValueError, match=RETENTION_ENV):
        inbox_retention({RETENTION_ENV: "0"})
    assert sensor_interval_seconds({}) == 15 and sensor_interval_seconds({INTERVAL_ENV: "3600"}) == 3600
    with pytest.raises(ValueError, match=INTERVAL_ENV):
        sensor_interval_seconds({INTERVAL_ENV: "often"})


# --- retention -----------------------------------------------------------------------------------

NOW = dt.datetime.now(dt.timezone.utc)
OLD = NOW - dt.timedelta(days=31)  # past the default retention of 30 days
RECENT = NOW - dt.timedelta(days=29)


def receive(inbox: Inbox, received_at: dt.datetime, source: str = "netsuite") -> int:
    """An event stored as if the receiver had taken it at `received_at`."""
    if source == "stripe":
        event: ChangeEvent | StripeEvent = StripeEvent(f"evt_{uuid.uuid4().hex}", "charge.updated", "charge", "ch_1",
                                                       "self", OCCURRED, False)
    else:
        event = ChangeEvent(event_id=str(uuid.uuid4()), account="1234567_SB1", record_type="invoice", record_id=7,
                            event="edit", occurred_at=OCCURRED)
    stored = inbox.store(event, b"{}", received_at=received_at)
    assert stored.inbox_id is not None
    return stored.inbox_id


def inbox_ids(inbox: Inbox) -> list[int]:
    with inbox.engine().connect() as conn:
        return list(conn.execute(select(webhook_inbox.c.id).order_by(webhook_inbox.c.id)).scalars())


def test_prune_deletes_only_old_consumed_rows_of_its_source_in_batches(inbox: Inbox) -> None:
    engine = inbox.engine()
    stripe_old = receive(inbox, OLD, "stripe")
    old = [receive(inbox, OLD) for _ in range(5)]
    unconsumed_old = receive(inbox, OLD)
    recent = receive(inbox, RECENT)
    deleted = prune_consumed(engine, source="netsuite", through_id=old[-1], received_before=NOW - dt.timedelta(days=30),
                             batch=2)
    assert deleted == 5
    assert inbox_ids(inbox) == [stripe_old, unconsumed_old, recent]  # other source, past the cursor, recent
    assert prune_consumed(engine, source="netsuite", through_id=recent, received_before=NOW - dt.timedelta(days=30),
                          max_batches=1) == 1
    assert inbox_ids(inbox) == [stripe_old, recent]
    assert prune_consumed(engine, source="netsuite", through_id=recent, received_before=NOW) == 1
    assert inbox_ids(inbox) == [stripe_old]
    assert prune_consumed(engine, source="netsuite", through_id=recent, received_before=NOW) == 0


def test_the_sensor_prunes_what_its_committed_cursor_has_consumed(inbox: Inbox) -> None:
    stripe_old = receive(inbox, OLD, "stripe")
    consumed = [receive(inbox, OLD) for _ in range(3)]
    unconsumed_old, recent = receive(inbox, OLD), receive(inbox, RECENT)
    first = tick(inbox, str(consumed[-1]))
    assert isinstance(first, dg.SensorResult) and first.cursor == str(recent)
    assert record_ids(first.run_requests[0]) == {"invoice": [7]}  # the unconsumed events are still read
    assert inbox_ids(inbox) == [stripe_old, unconsumed_old, recent]
    second = tick(inbox, first.cursor)
    assert isinstance(second, dg.SkipReason)
    assert inbox_ids(inbox) == [stripe_old, recent]  # consumed now; the recent one is kept 30 days


def test_retention_is_configurable(inbox: Inbox, monkeypatch: pytest.MonkeyPatch) -> None:
    week_old = receive(inbox, NOW - dt.timedelta(days=8))
    assert isinstance(tick(inbox, str(week_old)), dg.SkipReason)
    assert inbox_ids(inbox) == [week_old]
    monkeypatch.setenv(RETENTION_ENV, "7")
    assert isinstance(tick(inbox, str(week_old)), dg.SkipReason)
    assert inbox_ids(inbox) == []


def test_the_sensor_definition() -> None:
    assert netsuite_change_events_sensor.minimum_interval_seconds == 15
    assert netsuite_change_events_sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert netsuite_change_events_sensor.job_name == "netsuite_change_events_job"
    from ns_pipelines.definitions import defs

    repo = defs.get_repository_def()
    assert repo.get_sensor_def("netsuite_change_events_sensor").job_name == "netsuite_change_events_job"
    job_keys = {k.to_user_string() for k in repo.get_job("netsuite_change_events_job").asset_layer.executable_asset_keys}
    widest = plan_targeted_run([InboxEvent(i, f"e{i}", "netsuite", "A", rt, i, "delete", OCCURRED, OCCURRED)
                                for i, rt in enumerate(("customer", "invoice", "customerpayment", "creditmemo",
                                                        "customerrefund", "deposit", "journalentry"), 1)])
    assert widest is not None
    selection = {k.to_user_string() for k in widest.asset_keys}
    assert selection <= job_keys and selection == job_keys - {"netsuite/payment_applications"}


def test_plan_ignores_what_is_not_synced() -> None:
    def ev(i: int, record_type: str, event: str = "edit") -> InboxEvent:
        return InboxEvent(i, f"e{i}", "netsuite", "A", record_type, i, event, OCCURRED, OCCURRED)

    assert plan_targeted_run([]) is None
    assert plan_targeted_run([ev(1, "salesorder")]) is None
    plan = plan_targeted_run([ev(1, "salesorder"), ev(2, "invoice", "delete")])
    assert plan is not None and plan.record_ids == {"invoice": [2]} and plan.ignored == ["salesorder"]
    assert plan.with_deletions and plan.run_key == "netsuite-events:2"


# -------------------------------------------------------------------------------------------
# End to end


def sandbox_one(server: SandboxServer, sql: str, *args: Any) -> sqlite3.Row | None:
    rows = sandbox_rows(server, sql, *args)
    return rows[0] if rows else None


def wait_for_events(engine: Any, wanted: set[tuple[str, int, str]], after: int = 0,
                    timeout: float = 60) -> list[InboxEvent]:
    """The inbox events after `after` once they include `wanted` (delivered by the sandbox's notifier)."""
    deadline = time.monotonic() + timeout
    while True:
        events = read_events(engine, after=after, limit=1000)
        if wanted <= {(e.record_type, e.record_id, e.event) for e in events}:
            return events
        assert time.monotonic() < deadline, f"events not delivered: {wanted} vs {events}"
        time.sleep(0.1)


@pytest.mark.slow
def test_a_change_in_netsuite_reaches_the_warehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "e2e-secret"
    url = f"sqlite:///{tmp_path / 'warehouse.sqlite3'}"
    with SandboxServer(tmp_path / "sandbox", SandboxSettings(notify_secret=secret), scale="tiny", seed=11) as sandbox:
        for name, value in sandbox.environment().items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("NS_WAREHOUSE_URL", raising=False)
        resources = {"netsuite": NetSuiteResource.from_env_vars(), "warehouse": WarehouseResource(url=url)}
        defs = dg.Definitions(
            assets=[*netsuite.ASSETS, *ar.AR_ASSETS], asset_checks=[*netsuite.defs.asset_checks, *ar.defs.asset_checks],
            jobs=[netsuite_change_events_job], sensors=[netsuite_change_events_sensor], resources=resources)
        job = defs.resolve_job_def("netsuite_change_events_job")
        with dg.instance_for_test() as instance:
            first = job.execute_in_process(instance=instance, run_config=QUIET)  # the initial (incremental) sync
            assert first.success
            engine = resources["warehouse"].engine
            with engine.connect() as conn:
                cursors = {r.record_type: r.cursor_last_modified for r in conn.execute(select(wh.sync_state))
                           if r.record_type != "deletedrecord"}  # the deletions pass is incremental: it may move

            invoice = sandbox_one(sandbox, """
                SELECT t.id, t.entity, t.foreignamountunpaid FROM "transaction" t JOIN customer c ON c.id = t.entity
                WHERE t.type = 'CustInvc' AND t.foreignamountunpaid > 20 AND c.representingsubsidiary IS NULL
                  AND t.currency = c.currency AND c.isinactive = 'F' ORDER BY t.id LIMIT 1""")
            inv, cid = int(invoice["id"]), int(invoice["entity"])

            settings = ReceiverSettings(port=0, threads=4)
            app = build_app(settings, warehouse_url=url,
                            environ={"NETSUITE_WEBHOOK_SECRET": secret, "NETSUITE_ACCOUNT_ID": sandbox.settings.account_id})
            sensor_resources = {"warehouse": WarehouseResource(url=url)}

            def tick_and_run(cursor: str | None) -> tuple[dg.SensorResult, dg.RunRequest, Any]:
                """A tick as the daemon runs it, then the run it requests, executed in process."""
                with dg.build_sensor_context(cursor=cursor, instance=instance, resources=sensor_resources) as context:
                    result = netsuite_change_events_sensor(context)
                assert isinstance(result, dg.SensorResult)
                (request,) = result.run_requests
                assert request.run_key == f"netsuite-events:{result.cursor}"
                run = job.execute_in_process(instance=instance, run_config={**QUIET, **request.run_config},
                                             asset_selection=request.asset_selection, tags=request.tags)
                assert run.success
                assert {e.asset_key.to_user_string() for e in run.get_asset_materialization_events()} == keys(request)
                failed = [e.asset_check_key.name for e in run.get_asset_check_evaluations() if not e.passed]
                assert failed == []  # balances match NetSuite's: customers are re-read with their documents
                return result, request, run

            def warehouse_state() -> dict[str, Any]:
                with engine.connect() as conn:
                    one = lambda stmt: conn.execute(stmt).one_or_none()  # noqa: E731
                    return {
                        "unpaid": Decimal(str(conn.execute(select(wh.invoices.c.amount_unpaid)
                                                           .where(wh.invoices.c.id == inv)).scalar_one())),
                        "payment": one(select(wh.customer_payments.c.customer_id, wh.customer_payments.c.is_deleted)
                                       .where(wh.customer_payments.c.id == pay)),
                        "application": one(select(wh.payment_applications.c.amount,
                                                  wh.payment_applications.c.is_deleted).where(
                            wh.payment_applications.c.previous_doc_id == inv,
                            wh.payment_applications.c.next_doc_id == pay)),
                        "email": conn.execute(select(wh.customers.c.email).where(wh.customers.c.id == cid)).scalar_one(),
                        "deletion": one(select(wh.deleted_records.c.record_type)
                                        .where(wh.deleted_records.c.record_id == pay)),
                        "cursors": {r.record_type: r.cursor_last_modified for r in conn.execute(select(wh.sync_state))
                                    if r.record_type != "deletedrecord"},
                    }

            def sandbox_unpaid() -> Decimal:
                return Decimal(str(sandbox_one(sandbox, 'SELECT foreignamountunpaid FROM "transaction" WHERE id = ?',
                                               inv)[0]))

            before = Decimal(str(invoice["foreignamountunpaid"]))
            with WebhookServer(app, settings) as receiver:
                sandbox.settings.notify_url = receiver.url + "/netsuite/events"  # as admin PATCH /settings does
                sandbox.account.notifier.kick()
                records = sandbox.account.records

                # 1. a payment applied to an invoice, and a customer edit, made in the UI
                pay = records.create("customerPayment", {
                    "customer": {"id": str(cid)}, "undepFunds": True, "payment": 15,
                    "apply": {"items": [{"doc": {"id": str(inv)}, "apply": True, "amount": 15}]}}, context="UI")
                records.update("customer", str(cid), {"email": "ar-e2e@example.com"}, context="UI")
                events = wait_for_events(engine, {("customerpayment", pay, "create"), ("invoice", inv, "edit"),
                                                  ("customer", cid, "edit")})
                result, request, run = tick_and_run(None)
                assert result.cursor == str(max(e.id for e in events))
                assert {"customer", "invoice", "customerpayment"} <= set(record_ids(request))
                meta = {e.asset_key.to_user_string(): e.materialization.metadata
                        for e in run.get_asset_materialization_events()}
                assert meta["netsuite/invoices"]["ns/mode"].value == "targeted"
                assert meta["netsuite/invoices"]["ns/rows_read"].value < 10  # the invoice and its links only
                state = warehouse_state()
                assert state["unpaid"] == sandbox_unpaid() == before - 15
                assert state["payment"] == (cid, False) and state["application"] == (Decimal("15"), False)
                assert state["email"] == "ar-e2e@example.com"
                assert state["cursors"] == cursors  # targeted runs never move a cursor

                # 2. the payment deleted: the invoice is open again, the deletion is recorded
                records.delete("customerPayment", str(pay), context="UI")
                wait_for_events(engine, {("customerpayment", pay, "delete"), ("invoice", inv, "edit")},
                                after=int(result.cursor))
                second, request, _ = tick_and_run(result.cursor)
                assert int(second.cursor) > int(result.cursor)
                assert "netsuite/deleted_records" in keys(request) and record_ids(request)["customerpayment"] == [pay]
                state = warehouse_state()
                assert state["unpaid"] == sandbox_unpaid() == before
                assert state["payment"] == (cid, True) and state["application"][1] is True
                assert state["deletion"] == ("customerpayment",)
                assert state["cursors"] == cursors

            with dg.build_sensor_context(cursor=second.cursor, instance=instance, resources=sensor_resources) as context:
                assert isinstance(netsuite_change_events_sensor(context), dg.SkipReason)

            # a targeted config that does not match the selection fails before any NetSuite call, saying why
            bad = job.execute_in_process(
                instance=instance, raise_on_error=False, asset_selection=[dg.AssetKey(["netsuite", "invoices"])],
                run_config={**QUIET, "ops": {"netsuite_raw_tables": {"config": {"record_ids": {"deposit": [1]}}}}})
            assert not bad.success
            message = bad.get_step_failure_events()[0].event_specific_data.error.message
            assert "deposit: ids given but netsuite/deposits is not selected" in message
            assert "invoice: selected but no ids given" in message
