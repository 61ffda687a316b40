"""Stripe webhooks: POST /stripe/events over loopback (waitress) into a real inbox (SQLite and
PostgreSQL), stripe_events_sensor over those rows, and the NetSuite sensor ignoring them.

Events are signed here the way Stripe documents it (t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">
under the whole whsec_ secret), independently of the stripe SDK that verifies them.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import dagster as dg
import pytest
import requests
from sqlalchemy import select

from ns_pipelines.defs.resources import WarehouseResource
from ns_pipelines.defs.stripe import stripe_events_sensor
from ns_pipelines.defs.webhooks import netsuite_change_events_sensor
from ns_pipelines.stripe.webhook import StripeWebhookError, parse_event
from ns_pipelines.warehouse.tables.inbox import webhook_inbox
from ns_pipelines.webhooks.app import WebhookApp
from ns_pipelines.webhooks.inbox import Inbox
from ns_pipelines.webhooks.payload import ChangeEvent
from ns_pipelines.webhooks.server import ReceiverSettings, WebhookServer

SECRET = "whsec_test_current_5d1e"
OLD_SECRET = "whsec_test_previous_90ab"
NETSUITE_SECRET = "ns-secret-1"


def stripe_event(event_type: str, obj: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"id": f"evt_{uuid.uuid4().hex[:24]}", "object": "event", "api_version": "2026-10-28.endive",
            "created": int(time.time()), "livemode": False, "pending_webhooks": 1, "type": event_type,
            "request": {"id": None, "idempotency_key": None}, "data": {"object": obj}, **extra}


def charge(charge_id: str = "ch_1") -> dict[str, Any]:
    return {"id": charge_id, "object": "charge", "amount": 1000, "currency": "usd", "status": "succeeded"}


def sign(body: bytes, secret: str, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    v1 = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={v1}"


def encode(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


@pytest.fixture
def inbox(fresh_warehouse_url: str) -> Iterator[Inbox]:
    box = Inbox(fresh_warehouse_url)
    yield box
    box.close()


@pytest.fixture
def server(inbox: Inbox) -> Iterator[WebhookServer]:
    app = WebhookApp(inbox, [NETSUITE_SECRET], stripe_secrets=[SECRET, OLD_SECRET])
    with WebhookServer(app, ReceiverSettings(port=0)) as running:
        yield running


def post(server: WebhookServer, body: bytes, header: str | None) -> requests.Response:
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers["Stripe-Signature"] = header
    return requests.post(server.url + "/stripe/events", data=body, headers=headers, timeout=10)


def inbox_rows(inbox: Inbox) -> list[Any]:
    with inbox.engine().connect() as conn:
        return list(conn.execute(select(webhook_inbox).order_by(webhook_inbox.c.id)).mappings())


# --- the route ---------------------------------------------------------------------------------


def test_a_signed_event_is_stored_once(server: WebhookServer, inbox: Inbox) -> None:
    event = stripe_event("charge.dispute.funds_withdrawn",
                         {"id": "dp_123", "object": "dispute", "charge": "ch_9", "amount": 500})
    body = encode(event)
    first = post(server, body, sign(body, SECRET))
    assert first.status_code == 200, first.text
    assert first.json() == {"event_id": event["id"], "duplicate": False}
    again = post(server, body, sign(body, SECRET))  # Stripe delivers at least once
    assert again.status_code == 200 and again.json()["duplicate"] is True
    (row,) = inbox_rows(inbox)
    assert (row["event_id"], row["source"], row["record_type"], row["object_id"], row["record_id"], row["event"],
            row["account"]) == (event["id"], "stripe", "dispute", "dp_123", None, "edit", "self")
    assert row["body"] == body.decode() and row["occurred_at"] == dt.datetime.fromtimestamp(
        event["created"], dt.timezone.utc)


def test_the_old_secret_is_accepted_while_rotating(server: WebhookServer, inbox: Inbox) -> None:
    body = encode(stripe_event("customer.created", {"id": "cus_1", "object": "customer"}, account="acct_42"))
    assert post(server, body, sign(body, OLD_SECRET)).status_code == 200
    (row,) = inbox_rows(inbox)
    assert (row["event"], row["account"], row["object_id"]) == ("create", "acct_42", "cus_1")


@pytest.mark.parametrize("case", ["wrong secret", "missing header", "tampered body", "too old", "garbage"])
def test_bad_signatures_get_401_and_nothing_is_stored(server: WebhookServer, inbox: Inbox, case: str) -> None:
    body = encode(stripe_event("charge.succeeded", charge()))
    header = {
        "wrong secret": sign(body, "whsec_not_ours"),
        "missing header": None,
        "tampered body": sign(body.replace(b"1000", b"9000"), SECRET),
        "too old": sign(body, SECRET, timestamp=int(time.time()) - 301),
        "garbage": "v1=abc",
    }[case]
    answer = post(server, body, header)
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_signature"
    assert SECRET not in answer.text
    assert inbox_rows(inbox) == []


@pytest.mark.parametrize(("body", "field"), [
    ({"id": "evt_1", "object": "charge"}, "object"),
    ({"object": "event", "id": "nope", "type": "x", "created": 1, "data": {"object": {}}}, "id"),
    ({"object": "event", "id": "evt_1", "type": "charge.succeeded", "created": 1, "data": {}}, "data.object"),
    ({"object": "event", "id": "evt_1", "type": "charge.succeeded", "created": 1,
      "data": {"object": {"object": "charge"}}}, "data.object.id"),
])
def test_signed_but_invalid_events_get_400_naming_the_field(server: WebhookServer, inbox: Inbox, body: Any,
                                                           field: str) -> None:
    raw = encode(body)
    answer = post(server, raw, sign(raw, SECRET))
    assert answer.status_code == 400 and answer.json()["field"] == field
    assert inbox_rows(inbox) == []
    with pytest.raises(StripeWebhookError):
        parse_event(raw)


def test_without_a_stripe_secret_the_route_is_not_there(inbox: Inbox) -> None:
    app = WebhookApp(inbox, [NETSUITE_SECRET], stripe_secrets=[])
    with WebhookServer(app, ReceiverSettings(port=0)) as running:
        body = encode(stripe_event("charge.succeeded", charge()))
        answer = post(running, body, sign(body, SECRET))
    assert answer.status_code == 404 and "STRIPE_WEBHOOK_SECRET" in answer.json()["message"]


# --- the sensors -------------------------------------------------------------------------------


def tick(sensor: Any, inbox: Inbox, cursor: str | None) -> dg.SensorResult | dg.SkipReason:
    resources = {"warehouse": WarehouseResource(url=inbox._url)}  # noqa: SLF001
    with dg.build_sensor_context(cursor=cursor, resources=resources) as context:
        return sensor(context)


def deliver(server: WebhookServer, event: dict[str, Any]) -> None:
    body = encode(event)
    assert post(server, body, sign(body, SECRET)).status_code == 200


def test_stripe_sensor_requests_one_targeted_run(server: WebhookServer, inbox: Inbox) -> None:
    assert isinstance(tick(stripe_events_sensor, inbox, None), dg.SkipReason)
    deliver(server, stripe_event("charge.succeeded", charge("ch_A")))
    deliver(server, stripe_event("charge.refunded", charge("ch_A")))
    deliver(server, stripe_event("refund.created", {"id": "re_B", "object": "refund", "charge": "ch_C"}))
    deliver(server, stripe_event("payment_intent.succeeded",
                                 {"id": "pi_D", "object": "payment_intent", "latest_charge": "ch_D"}))
    deliver(server, stripe_event("payout.paid", {"id": "po_E", "object": "payout"}))
    deliver(server, stripe_event("invoice.paid", {"id": "in_F", "object": "invoice"}))  # not synced
    ids = [row["id"] for row in inbox_rows(inbox)]

    result = tick(stripe_events_sensor, inbox, None)
    assert isinstance(result, dg.SensorResult) and result.cursor == str(max(ids))
    (request,) = result.run_requests
    assert request.run_key == f"stripe-events:{max(ids)}"
    assert request.run_config == {"ops": {"stripe_raw_tables": {"config": {"object_ids": {
        "charge": ["ch_A", "ch_C", "ch_D"], "refund": ["re_B"], "payout": ["po_E"]}}}}}
    assert {k.to_user_string() for k in request.asset_selection} == {
        "stripe/charges", "stripe/refunds", "stripe/payouts", "stripe/balance_transactions"}
    assert request.tags["ns/inbox_ids"] == f"{min(ids)}-{max(ids)}"

    assert isinstance(tick(stripe_events_sensor, inbox, result.cursor), dg.SkipReason)  # nothing new
    deliver(server, stripe_event("customer.deleted", {"id": "cus_G", "object": "customer", "deleted": True}))
    later = tick(stripe_events_sensor, inbox, result.cursor)
    assert isinstance(later, dg.SensorResult)
    assert later.run_requests[0].run_config["ops"]["stripe_raw_tables"]["config"]["object_ids"] == {
        "customer": ["cus_G"]}


def test_netsuite_sensor_ignores_stripe_rows(server: WebhookServer, inbox: Inbox) -> None:
    deliver(server, stripe_event("charge.succeeded", charge("ch_A")))
    assert isinstance(tick(netsuite_change_events_sensor, inbox, None), dg.SkipReason)
    stored = inbox.store(ChangeEvent(event_id=str(uuid.uuid4()), account="1234567_SB1", record_type="invoice",
                                     record_id=12, event="edit",
                                     occurred_at=dt.datetime(2027, 1, 15, tzinfo=dt.timezone.utc)), b"{}")
    deliver(server, stripe_event("charge.updated", charge("ch_B")))
    result = tick(netsuite_change_events_sensor, inbox, None)
    assert isinstance(result, dg.SensorResult)
    (request,) = result.run_requests
    assert request.run_config["ops"]["netsuite_raw_tables"]["config"]["record_ids"] == {"invoice": [12]}
    assert result.cursor == str(stored.inbox_id)
    # and the Stripe sensor sees only its own two rows
    stripe_result = tick(stripe_events_sensor, inbox, None)
    assert stripe_result.run_requests[0].run_config["ops"]["stripe_raw_tables"]["config"]["object_ids"] == {
        "charge": ["ch_A", "ch_B"]}


def test_stripe_sensor_cursor_errors_name_the_stripe_sensor(inbox: Inbox) -> None:
    with pytest.raises(Exception, match="stripe_events_sensor cursor must be an inbox id"):
        tick(stripe_events_sensor, inbox, "stripe-events:4")


def test_stripe_sensor_prunes_only_its_old_consumed_rows(inbox: Inbox) -> None:
    old = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=31)

    def receive(body: dict[str, Any]) -> int:
        raw = encode(body)
        stored = inbox.store(parse_event(raw), raw, received_at=old)  # a StripeEvent goes in as it is
        assert stored.inbox_id is not None
        return stored.inbox_id

    consumed = receive(stripe_event("charge.succeeded", charge("ch_A")))
    netsuite = inbox.store(ChangeEvent(event_id=str(uuid.uuid4()), account="1234567_SB1", record_type="invoice",
                                       record_id=12, event="edit", occurred_at=old), b"{}", received_at=old).inbox_id
    unconsumed = receive(stripe_event("charge.updated", charge("ch_B")))
    result = tick(stripe_events_sensor, inbox, str(consumed))
    assert isinstance(result, dg.SensorResult) and result.cursor == str(unconsumed)
    rows = inbox_rows(inbox)
    assert [(r["id"], r["source"]) for r in rows] == [(netsuite, "netsuite"), (unconsumed, "stripe")]
    assert (rows[1]["record_type"], rows[1]["object_id"], rows[1]["record_id"]) == ("charge", "ch_B", None)
