"""The change-event receiver: signature, payload, inbox, HTTP answers, server, load.

App-level tests call the WSGI app in process (werkzeug's test client) on a SQLite warehouse and on
PostgreSQL; the server tests go over loopback through waitress, as the SuiteScript (and the
sandbox's notifier) would.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner
from sqlalchemy import select
from werkzeug.test import Client

from ns_pipelines.sandbox.netsuite.notifications import sign as sandbox_sign
from ns_pipelines.warehouse.tables.inbox import webhook_inbox
from ns_pipelines.webhooks import signature as sig
from ns_pipelines.webhooks.app import WebhookApp
from ns_pipelines.webhooks.cli import webhook_server_command
from ns_pipelines.webhooks.inbox import Inbox, latest_id, read_events
from ns_pipelines.webhooks.payload import PayloadError, parse_event
from ns_pipelines.webhooks.server import ReceiverSettings, WebhookServer, build_app

SECRET = "whsec-current-3f9a"
OLD_SECRET = "whsec-previous-77c1"
ACCOUNT = "1234567_SB1"
NOW = 1_800_000_000  # the app's clock in app-level tests
PATH = "/netsuite/events"
MAX_BODY = 4096


def event(**overrides: Any) -> dict[str, Any]:
    body = {"event_id": str(uuid.uuid4()), "account": ACCOUNT, "record_type": "invoice", "record_id": "1234",
            "event": "edit", "occurred_at": "2027-01-15T08:00:00Z"}
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}  # `...` drops a field


def encode(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -------------------------------------------------------------------------------------------
# Signature


def test_the_sandbox_signature_verifies() -> None:
    body = encode(event())
    header = sandbox_sign(body, SECRET, timestamp=NOW)
    assert sig.verify(body, header, [SECRET], now=NOW) == NOW
    assert sig.verify(body, sandbox_sign(body, SECRET), [SECRET]) > 0  # the sender's clock, now
    assert header == sig.sign(body, SECRET, timestamp=NOW)  # our sign() is the same contract


def test_a_known_vector() -> None:
    body = b'{"event_id":"e-1","record_id":"7"}'
    expected = hmac.new(b"k", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert sig.compute(body, "k", 1700000000) == expected
    assert sig.parse_header(f"t=1700000000, v1={expected.upper()}") == (1700000000, [expected])
    assert sig.verify(body, f"t=1700000000,v0=ignored,v1={expected}", ["k"], now=1700000000) == 1700000000


@pytest.mark.parametrize("case, header, secrets, message", [
    ("tampered body", lambda b: sandbox_sign(b + b" ", SECRET, timestamp=NOW), [SECRET], "no v1 signature matches"),
    ("wrong secret", lambda b: sandbox_sign(b, "not-the-secret", timestamp=NOW), [SECRET], "no v1 signature matches"),
    ("new secret, receiver has only the old", lambda b: sandbox_sign(b, SECRET, timestamp=NOW), [OLD_SECRET],
     "no v1 signature matches"),
    ("stale", lambda b: sandbox_sign(b, SECRET, timestamp=NOW - 301), [SECRET], "timestamp too old"),
    ("future", lambda b: sandbox_sign(b, SECRET, timestamp=NOW + 301), [SECRET], "timestamp in the future"),
    ("missing", lambda b: None, [SECRET], "missing X-NS-Signature"),
    ("empty", lambda b: "", [SECRET], "missing X-NS-Signature"),
    ("no timestamp", lambda b: "v1=" + "0" * 64, [SECRET], "no timestamp"),
    ("bad timestamp", lambda b: "t=yesterday,v1=" + "0" * 64, [SECRET], "unix seconds"),
    ("no v1", lambda b: f"t={NOW},v0=abc", [SECRET], "no v1 signature"),
    ("non-ascii v1", lambda b: f"t={NOW},v1=é" + "0" * 63, [SECRET], "no v1 signature matches"),
    ("too long", lambda b: f"t={NOW}," + ",".join(["v1=" + "0" * 64] * 100), [SECRET], "too long"),
])
def test_bad_signatures_are_refused(case: str, header: Any, secrets: list[str], message: str) -> None:
    body = encode(event())
    with pytest.raises(sig.SignatureError, match=message):
        sig.verify(body, header(body), secrets, now=NOW)


def test_secret_rotation() -> None:
    body = encode(event())
    # the receiver holds both while senders move over: either signature is accepted
    assert sig.verify(body, sandbox_sign(body, OLD_SECRET, timestamp=NOW), [SECRET, OLD_SECRET], now=NOW)
    assert sig.verify(body, sandbox_sign(body, SECRET, timestamp=NOW), [SECRET, OLD_SECRET], now=NOW)
    # a sender holding both signs with both: a receiver with either one accepts
    both = sig.sign(body, SECRET, OLD_SECRET, timestamp=NOW)
    assert both.count("v1=") == 2
    assert sig.verify(body, both, [SECRET], now=NOW) and sig.verify(body, both, [OLD_SECRET], now=NOW)
    assert sig.secrets_from_env({sig.SECRET_ENV: f" {SECRET}, {OLD_SECRET} ,,"}) == [SECRET, OLD_SECRET]
    with pytest.raises(sig.SecretConfigError, match="NETSUITE_WEBHOOK_SECRET is not set"):
        sig.secrets_from_env({sig.SECRET_ENV: " , "})


def test_the_tolerance_is_five_minutes_both_ways() -> None:
    body = encode(event())
    for t in (NOW - 300, NOW + 300):
        assert sig.verify(body, sandbox_sign(body, SECRET, timestamp=t), [SECRET], now=NOW) == t


def test_every_candidate_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    original = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return original(a, b)

    monkeypatch.setattr(sig.hmac, "compare_digest", spy)
    body = encode(event())
    header = sig.sign(body, SECRET, "other", timestamp=NOW)  # the first v1 matches the first secret
    assert sig.verify(body, header, [SECRET, OLD_SECRET, "third"], now=NOW) == NOW
    assert len(calls) == 3 * 2  # no early exit: every secret against every v1 value
    assert all(isinstance(a, bytes) and isinstance(b, bytes) for a, b in calls)


# -------------------------------------------------------------------------------------------
# Payload


def test_a_valid_event_parses() -> None:
    parsed = parse_event(encode(event(event_id="e-1", record_type="CustomerPayment", record_id=42, event="XEDIT",
                                      account="1234567-sb1", occurred_at="2027-01-15T09:00:00+01:00", extra="ok")),
                         account_id=ACCOUNT)
    assert (parsed.event_id, parsed.account, parsed.record_type, parsed.record_id, parsed.event) == (
        "e-1", ACCOUNT, "customerpayment", 42, "xedit")
    assert parsed.occurred_at == dt.datetime(2027, 1, 15, 8, 0, tzinfo=dt.timezone.utc)
    naive = parse_event(encode(event(occurred_at="2027-01-15T08:00:00")))
    assert naive.occurred_at.tzinfo == dt.timezone.utc  # the contract says UTC


# (field, body, message): every invalid input and what the 400 says
INVALID = [
    (None, b"{not json", "body is not valid JSON"),
    (None, b"\xff\xfe", "body is not UTF-8"),
    (None, b"[1, 2]", "body must be a JSON object, got list"),
    (None, b"[" * 50000, "body is not valid JSON"),
    ("event_id", event(event_id=...), "event_id is missing"),
    ("event_id", event(event_id=""), "event_id is empty"),
    ("event_id", event(event_id=12), "event_id must be a string"),
    ("event_id", event(event_id="x" * 129), "at most 128 characters"),
    ("event_id", event(event_id="a\u0000b"), "control characters"),
    ("account", event(account=...), "account is missing"),
    ("account", event(account="7654321"), "not this integration's account"),
    ("record_type", event(record_type="salesorder"), "record_type 'salesorder' is not one of customer, invoice"),
    ("record_type", event(record_type=...), "record_type is missing"),
    ("record_id", event(record_id="12a"), "record_id must be an integer string"),
    ("record_id", event(record_id="-3"), "record_id must be an integer string"),
    ("record_id", event(record_id="0"), "positive internal id"),
    ("record_id", event(record_id=1.5), "record_id must be an integer string, got float"),
    ("record_id", event(record_id=True), "record_id must be an integer string, got bool"),
    ("record_id", event(record_id=...), "record_id is missing"),
    ("event", event(event="void"), "event 'void' is not one of create, edit, xedit, delete"),
    ("event", event(event=None), "event is missing"),
    ("occurred_at", event(occurred_at="yesterday"), "occurred_at must be an ISO 8601 timestamp"),
    ("occurred_at", event(occurred_at="2027-13-45T00:00:00Z"), "occurred_at must be an ISO 8601 timestamp"),
    ("occurred_at", event(occurred_at=1700000000), "occurred_at must be a string"),
]


@pytest.mark.parametrize("field, body, message", INVALID)
def test_invalid_payloads_name_the_field(field: str | None, body: Any, message: str) -> None:
    raw = body if isinstance(body, bytes) else encode(body)
    with pytest.raises(PayloadError, match=message) as caught:
        parse_event(raw, account_id=ACCOUNT)
    assert caught.value.field == field


# -------------------------------------------------------------------------------------------
# The app, in process, on SQLite and PostgreSQL


class Clock:
    def __init__(self) -> None:
        self.now = float(NOW)

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def inbox(warehouse_url: str) -> Iterator[Inbox]:
    box = Inbox(warehouse_url)
    yield box
    box.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(inbox: Inbox, clock: Clock) -> Client:
    app = WebhookApp(inbox, [SECRET, OLD_SECRET], account_id=ACCOUNT, max_body_bytes=MAX_BODY, clock=clock)
    return Client(app)


def post(client: Client, raw: bytes, header: str | None = "sign", *, secret: str = SECRET,
         timestamp: int = NOW) -> Any:
    headers = {"Content-Type": "application/json"}
    if header == "sign":
        headers["X-NS-Signature"] = sandbox_sign(raw, secret, timestamp=timestamp)
    elif header is not None:
        headers["X-NS-Signature"] = header
    return client.post(PATH, data=raw, headers=headers)


def stored(inbox: Inbox, event_id: str) -> list[dict[str, Any]]:
    with inbox.engine().connect() as conn:
        return [dict(r) for r in conn.execute(select(webhook_inbox).where(webhook_inbox.c.event_id == event_id))
                .mappings()]


def test_a_valid_event_is_stored_and_acknowledged(client: Client, inbox: Inbox) -> None:
    body = event(record_type="creditmemo", record_id="77", event="create")
    raw = encode(body)
    response = post(client, raw)
    assert response.status_code == 202, response.text
    assert response.json == {"event_id": body["event_id"], "duplicate": False}
    (row,) = stored(inbox, body["event_id"])
    assert (row["source"], row["account"], row["record_type"], row["record_id"], row["event"]) == (
        "netsuite", ACCOUNT, "creditmemo", 77, "create")
    assert row["occurred_at"] == dt.datetime(2027, 1, 15, 8, 0, tzinfo=dt.timezone.utc)
    assert row["body"] == raw.decode() and row["received_at"].tzinfo is not None
    assert row["id"] == latest_id(inbox.engine())


def test_a_duplicate_is_acknowledged_and_stored_once(client: Client, inbox: Inbox, clock: Clock) -> None:
    body = event()
    raw = encode(body)
    first = post(client, raw)
    clock.now += 60
    again = post(client, raw, timestamp=NOW + 55)  # redelivered, signed afresh
    same = post(client, raw)  # the very same signed request, replayed within five minutes
    assert [r.status_code for r in (first, again, same)] == [202, 202, 202]
    assert [r.json["duplicate"] for r in (first, again, same)] == [False, True, True]
    assert len(stored(inbox, body["event_id"])) == 1


def test_a_replay_after_five_minutes_is_refused(client: Client, inbox: Inbox, clock: Clock) -> None:
    body = event()
    raw = encode(body)
    assert post(client, raw).status_code == 202
    clock.now += 301
    response = post(client, raw)
    assert response.status_code == 401
    assert response.json["error"] == "invalid_signature" and "timestamp too old" in response.json["message"]
    assert len(stored(inbox, body["event_id"])) == 1


@pytest.mark.parametrize("header, message", [
    (None, "missing X-NS-Signature header"),
    ("t=1,v1=00", "timestamp too old"),
    (f"t={NOW},v1=" + "0" * 64, "no v1 signature matches"),
    ("garbage", "has no timestamp"),
])
def test_bad_signatures_get_401_before_the_body_is_parsed(client: Client, inbox: Inbox, header: str | None,
                                                         message: str) -> None:
    body = event()
    response = post(client, encode(body), header)
    assert response.status_code == 401
    assert response.json == {"error": "invalid_signature", "message": response.json["message"]}
    assert message in response.json["message"]
    assert stored(inbox, body["event_id"]) == []
    # an unparsable body with a bad signature is a 401, not a 400: nothing is parsed before the check
    assert post(client, b"{not json", header).status_code == 401


def test_a_signature_with_the_old_secret_is_accepted_while_rotating(client: Client) -> None:
    assert post(client, encode(event()), secret=OLD_SECRET).status_code == 202
    assert post(client, encode(event()), secret="retired").status_code == 401


@pytest.mark.parametrize("field, body, message", INVALID)
def test_invalid_payloads_get_400_naming_the_field(client: Client, inbox: Inbox, field: str | None, body: Any,
                                                   message: str) -> None:
    raw = body if isinstance(body, bytes) else encode(body)
    if len(raw) > MAX_BODY:
        raw = raw[:MAX_BODY]  # the deep-nesting case, cut to size: still not JSON
    response = post(client, raw)
    assert response.status_code == 400, response.text
    assert response.json["error"] == "invalid_payload" and response.json["field"] == field
    assert message in response.json["message"]
    if isinstance(body, dict) and isinstance(body.get("event_id"), str) and body["event_id"].isprintable():
        assert stored(inbox, body["event_id"]) == []


def test_a_body_over_the_limit_gets_413(client: Client) -> None:
    raw = encode(event(padding="x" * MAX_BODY))
    response = post(client, raw)
    assert response.status_code == 413
    assert response.json == {"error": "body_too_large", "message": f"body is larger than {MAX_BODY} bytes"}
    assert post(client, encode(event(padding="x" * (MAX_BODY - 300)))).status_code == 202  # just under: fine


def test_other_paths_and_methods(client: Client) -> None:
    stripe = client.post("/stripe/events", data=b"{}")
    assert stripe.status_code == 404 and stripe.json["error"] == "not_found"
    assert client.post("/elsewhere", data=b"{}").status_code == 404
    wrong = client.get(PATH)
    assert wrong.status_code == 405 and wrong.headers["Allow"] == "POST"
    assert client.post("/health").status_code == 405
    health = client.get("/health")
    assert health.status_code == 200 and health.json == {"status": "ok", "warehouse": "ok"}


def test_one_log_line_per_event_without_secrets(client: Client, caplog: pytest.LogCaptureFixture) -> None:
    body = event(record_type="customer", record_id="87")
    raw = encode(body)
    header = sandbox_sign(raw, SECRET, timestamp=NOW)
    with caplog.at_level(logging.INFO, logger="ns_pipelines.webhooks"):
        client.post(PATH, data=raw, headers={"X-NS-Signature": header})
        post(client, raw, f"t={NOW},v1=" + "1" * 64)
    lines = [r.getMessage() for r in caplog.records if r.name == "ns_pipelines.webhooks"]
    assert len(lines) == 2
    assert body["event_id"] in lines[0] and "customer 87 edit, stored as inbox id" in lines[0]
    assert "rejected 401" in lines[1]
    text = "\n".join(lines)
    assert SECRET not in text and OLD_SECRET not in text and header.split("v1=")[1] not in text
    assert '"occurred_at"' not in text  # no bodies


# -------------------------------------------------------------------------------------------
# Warehouse down: 503, nothing acknowledged


def unreachable_urls(tmp_path: Path) -> dict[str, str]:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the SQLite file's folder should be")
    return {
        "sqlite": f"sqlite:///{blocker / 'warehouse.sqlite3'}",
        "postgres": f"postgresql://ns:ns@127.0.0.1:{free_port()}/ns_test",  # nobody listens there
    }


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_503_when_the_warehouse_is_unavailable(tmp_path: Path, kind: str, caplog: pytest.LogCaptureFixture) -> None:
    url = unreachable_urls(tmp_path)[kind]
    app = WebhookApp(Inbox(url), [SECRET], account_id=ACCOUNT)
    client = Client(app)
    raw = encode(event())
    with caplog.at_level(logging.INFO, logger="ns_pipelines.webhooks"):
        started = time.monotonic()
        response = client.post(PATH, data=raw, headers={"X-NS-Signature": sandbox_sign(raw, SECRET)})
        assert time.monotonic() - started < 10
    assert response.status_code == 503
    assert response.json["error"] == "warehouse_unavailable" and response.headers["Retry-After"] == "5"
    assert "event_id" not in response.json  # not acknowledged
    assert "NOT stored" in caplog.text and "ns:ns@" not in caplog.text  # no password in logs
    health = client.get("/health")
    assert health.status_code == 503 and health.json["status"] == "unavailable"
    # bad input still gets its own answer while the warehouse is down
    assert client.post(PATH, data=raw, headers={"X-NS-Signature": "t=1,v1=00"}).status_code == 401


def test_the_receiver_recovers_when_the_warehouse_comes_back(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("not yet a folder")
    app = WebhookApp(Inbox(f"sqlite:///{blocker / 'warehouse.sqlite3'}"), [SECRET])
    client = Client(app)
    raw = encode(event())
    headers = {"X-NS-Signature": sandbox_sign(raw, SECRET)}
    assert client.post(PATH, data=raw, headers=headers).status_code == 503
    blocker.unlink()
    blocker.mkdir()  # the sender retries the same event: now it is stored
    assert client.post(PATH, data=raw, headers=headers).status_code == 202
    assert client.get("/health").status_code == 200
    app.inbox.close()


# -------------------------------------------------------------------------------------------
# Over loopback, through waitress


@pytest.fixture(scope="module")
def server(warehouse_url: str) -> Iterator[WebhookServer]:
    settings = ReceiverSettings(port=0, threads=8, max_body_bytes=MAX_BODY)
    app = build_app(settings, warehouse_url=warehouse_url,
                    environ={sig.SECRET_ENV: f"{SECRET},{OLD_SECRET}", "NETSUITE_ACCOUNT_ID": ACCOUNT})
    with WebhookServer(app, settings) as running:
        yield running


def test_the_server_answers_over_loopback(server: WebhookServer) -> None:
    raw = encode(event())
    ok = requests.post(server.url + PATH, data=raw, headers={"X-NS-Signature": sandbox_sign(raw, SECRET)}, timeout=10)
    assert ok.status_code == 202 and ok.headers["Content-Type"] == "application/json"
    assert requests.get(server.url + "/health", timeout=10).json()["status"] == "ok"
    bad = requests.post(server.url + PATH, data=raw, headers={"X-NS-Signature": "t=1,v1=0"}, timeout=10)
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_signature"
    # over the app's limit: its JSON 413; far over: waitress refuses before buffering it
    big = requests.post(server.url + PATH, data=b"x" * (MAX_BODY + 1), timeout=10)
    assert big.status_code == 413 and big.json()["error"] == "body_too_large"
    huge = requests.post(server.url + PATH, data=b"x" * (MAX_BODY * 8), timeout=10)
    assert huge.status_code == 413

    def chunks() -> Iterator[bytes]:  # chunked transfer: no Content-Length to check up front
        for _ in range(3):
            yield b"x" * (MAX_BODY // 2)

    chunked = requests.post(server.url + PATH, data=chunks(), timeout=10)
    assert chunked.status_code == 413
    assert requests.post(server.url + "/stripe/events", data=b"{}", timeout=10).status_code == 404


def test_load_nothing_lost_nothing_duplicated(server: WebhookServer, warehouse_url: str) -> None:
    """2,000 events from 8 threads (every 10th also sent twice), while a reader follows the inbox
    the way the sensor does (ids after a cursor): every event stored once, and the reader sees
    each exactly once, never a row behind its cursor."""
    total, threads = 2000, 8
    prefix = f"load-{uuid.uuid4().hex[:8]}-"
    engine = server.app.inbox.engine()
    start_cursor = latest_id(engine) or 0
    bodies = [encode(event(event_id=f"{prefix}{i}", record_id=str(1000 + i % 97),
                           record_type=("invoice", "customerpayment", "customer")[i % 3])) for i in range(total)]
    statuses: list[int] = []
    duplicates_acknowledged = []
    lock = threading.Lock()
    stop = threading.Event()
    seen: list[str] = []

    def follow() -> None:  # the sensor's view, concurrently with the writers
        cursor = start_cursor
        while True:
            done = stop.is_set()
            rows = read_events(engine, after=cursor, limit=500)
            seen.extend(r.event_id for r in rows)
            if rows:
                cursor = rows[-1].id
            elif done:
                return
            else:
                time.sleep(0.01)

    def send(worker: int) -> None:
        session = requests.Session()
        for i in range(worker, total, threads):
            raw = bodies[i]
            for attempt in range(2 if i % 10 == 0 else 1):
                r = session.post(server.url + PATH, data=raw, headers={"X-NS-Signature": sandbox_sign(raw, SECRET)},
                                 timeout=30)
                with lock:
                    statuses.append(r.status_code)
                    if attempt:
                        duplicates_acknowledged.append(r.json()["duplicate"])
        session.close()

    reader = threading.Thread(target=follow)
    reader.start()
    workers = [threading.Thread(target=send, args=(w,)) for w in range(threads)]
    started = time.monotonic()
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=240)
    elapsed = time.monotonic() - started
    stop.set()
    reader.join(timeout=60)
    assert not any(w.is_alive() for w in workers) and not reader.is_alive()

    sent = total + total // 10
    print(f"\n[{engine.dialect.name}] {sent} requests ({total} events) from {threads} threads in {elapsed:.2f} s: "
          f"{sent / elapsed:,.0f} requests/s, {total / elapsed:,.0f} new events/s")
    assert statuses.count(202) == sent
    assert duplicates_acknowledged == [True] * (total // 10)
    with engine.connect() as conn:
        ids = conn.execute(select(webhook_inbox.c.event_id).where(webhook_inbox.c.event_id.like(prefix + "%"))).scalars()
        ids = list(ids)
    assert len(ids) == len(set(ids)) == total
    mine = [e for e in seen if e.startswith(prefix)]
    assert len(mine) == len(set(mine)) == total  # the follower missed nothing and saw nothing twice


# -------------------------------------------------------------------------------------------
# Command line


def test_the_command_needs_a_secret() -> None:
    result = CliRunner().invoke(webhook_server_command, [], env={sig.SECRET_ENV: ""})
    assert result.exit_code == 2 and "NETSUITE_WEBHOOK_SECRET is not set" in result.output
    help_text = CliRunner().invoke(webhook_server_command, ["--help"]).output
    assert "--max-body-bytes" in help_text and "/netsuite/events" in help_text


def test_the_command_serves_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, sig.SECRET_ENV: SECRET, "NS_WAREHOUSE_URL": f"sqlite:///{tmp_path / 'wh.sqlite3'}",
           "NETSUITE_ACCOUNT_ID": ACCOUNT}
    code = "from ns_pipelines.webhooks.cli import webhook_server_command as c; c()"
    proc = subprocess.Popen([sys.executable, "-c", code, "--port", str(port), "--threads", "2"], env=env,
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(url + "/health", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline and proc.poll() is None, "the receiver did not come up"
            time.sleep(0.1)
        raw = encode(event())
        assert requests.post(url + PATH, data=raw, headers={"X-NS-Signature": sandbox_sign(raw, SECRET)},
                             timeout=10).status_code == 202
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, output
    assert "listening on http://127.0.0.1" in output and "stored as inbox id 1" in output
    assert "webhook receiver stopped" in output and SECRET not in output
