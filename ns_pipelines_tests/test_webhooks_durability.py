"""The receiver's durability under concurrency: group commit never acknowledges what was not
committed, concurrent duplicates are stored once, and a locked warehouse gets 503 (SQLite and
PostgreSQL, over loopback through waitress)."""
from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from sqlalchemy import Engine, create_engine, event, select, text
from sqlalchemy.engine import make_url

from ns_pipelines.sandbox.netsuite.notifications import sign
from ns_pipelines.warehouse import create_warehouse_engine, upgrade_warehouse
from ns_pipelines.warehouse.tables.inbox import webhook_inbox
from ns_pipelines.webhooks.group_commit import GroupCommitWriter, WriterClosed, WriteTimeout
from ns_pipelines.webhooks.inbox import Inbox
from ns_pipelines.webhooks.server import ReceiverSettings, WebhookServer, build_app

SECRET = "durability-secret"
ACCOUNT = "1234567_SB1"
PATH = "/netsuite/events"


def event_body(event_id: str | None = None, record_id: int = 42) -> bytes:
    return json.dumps({"event_id": event_id or str(uuid.uuid4()), "account": ACCOUNT, "record_type": "invoice",
                       "record_id": str(record_id), "event": "edit", "occurred_at": "2027-01-15T08:00:00Z"}).encode()


def post(url: str, raw: bytes, session: requests.Session | None = None) -> requests.Response:
    return (session or requests).post(url + PATH, data=raw, headers={"X-NS-Signature": sign(raw, SECRET)}, timeout=30)


def rows_of(engine: Engine, event_ids: list[str]) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(webhook_inbox.c.event_id).where(webhook_inbox.c.event_id.in_(event_ids)))
                    .scalars())


# ------------------------------------------------------------------------------------------ the writer


def test_concurrent_rows_share_transactions_and_each_caller_gets_its_own_answer() -> None:
    committed: list[list[str]] = []
    stored: dict[str, int] = {}
    lock = threading.Lock()

    def write_batch(rows: list[dict[str, Any]]) -> dict[str, int]:
        time.sleep(0.01)  # a commit: meanwhile the next batch fills up
        with lock:
            ids = [r["event_id"] for r in rows]
            assert len(ids) == len(set(ids))  # the writer dedupes within a batch
            committed.append(ids)
            new = {i: len(stored) + n + 1 for n, i in enumerate(x for x in ids if x not in stored)}
            stored.update(new)
            return new

    writer = GroupCommitWriter(write_batch)
    names = [f"e{i % 150}" for i in range(200)]  # 50 events sent twice
    with ThreadPoolExecutor(max_workers=32) as pool:
        results = list(pool.map(lambda name: (name, writer.submit({"event_id": name}, timeout=10)), names))
    writer.close()
    assert sorted(stored) == sorted(set(names))
    firsts = [name for name, r in results if not r.duplicate]
    assert sorted(firsts) == sorted(set(names))  # exactly one caller per event is told "stored"
    assert all(r.inbox_id == stored[name] for name, r in results if not r.duplicate)
    assert all(r.inbox_id is None for _, r in results if r.duplicate)
    assert writer.batches == len(committed) < 100  # 200 calls, far fewer transactions


def test_a_failed_batch_fails_every_caller_in_it() -> None:
    started = threading.Event()
    release = threading.Event()

    def write_batch(rows: list[dict[str, Any]]) -> dict[str, int]:
        started.set()
        release.wait(5)
        raise RuntimeError("commit failed")

    writer = GroupCommitWriter(write_batch)
    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(writer.submit, {"event_id": f"e{i}"}, timeout=10) for i in range(8)]
        started.wait(5)
        release.set()
        errors = [f.exception(timeout=10) for f in futures]
    assert all(isinstance(e, RuntimeError) and "commit failed" in str(e) for e in errors)
    writer.close()


def test_a_caller_stops_waiting_after_its_timeout_and_a_closed_writer_refuses() -> None:
    release = threading.Event()
    writer = GroupCommitWriter(lambda rows: (release.wait(5), {})[1])
    with pytest.raises(WriteTimeout):
        writer.submit({"event_id": "slow"}, timeout=0.2)
    release.set()
    writer.close()
    with pytest.raises(WriterClosed):
        writer.submit({"event_id": "late"}, timeout=1)


# ------------------------------------------------------------------------------------------ over loopback


def serve(inbox: Inbox, threads: int = 16) -> WebhookServer:
    settings = ReceiverSettings(port=0, threads=threads, store_timeout=inbox.store_timeout)
    app = build_app(settings, environ={"NETSUITE_WEBHOOK_SECRET": SECRET, "NETSUITE_ACCOUNT_ID": ACCOUNT})
    app.inbox.close()
    app.inbox = inbox
    return WebhookServer(app, settings)


@pytest.fixture
def migrated(fresh_warehouse_url: str) -> Iterator[Engine]:
    engine = create_warehouse_engine(fresh_warehouse_url)
    upgrade_warehouse(engine)
    yield engine
    engine.dispose()


def test_an_engine_whose_commit_fails_never_gets_an_acknowledgement(migrated: Engine) -> None:
    """Every commit fails (after the insert ran): concurrent requests all get 503 and nothing is
    in the inbox; once commits work again the retried events are stored once each."""
    failing = create_warehouse_engine(migrated.url)
    broken = [False]

    @event.listens_for(failing, "commit")
    def _refuse(conn: Any) -> None:
        if broken[0]:
            raise OSError("disk full (test)")

    inbox = Inbox(engine=failing, store_timeout=2)
    inbox.engine()  # schema checked while commits still work: the first failure is an insert's commit
    broken[0] = True
    bodies = [event_body() for _ in range(24)]
    ids = [json.loads(b)["event_id"] for b in bodies]
    with serve(inbox) as server, ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(lambda raw: post(server.url, raw), bodies))
        assert [a.status_code for a in answers] == [503] * len(bodies)
        assert all(a.json()["error"] == "warehouse_unavailable" and "event_id" not in a.json() for a in answers)
        assert rows_of(migrated, ids) == []
        broken[0] = False
        retried = list(pool.map(lambda raw: post(server.url, raw), bodies))
        assert [(a.status_code, a.json()["duplicate"]) for a in retried] == [(202, False)] * len(bodies)
    assert sorted(rows_of(migrated, ids)) == sorted(ids)
    failing.dispose()


def test_concurrent_deliveries_of_one_event_are_stored_once(fresh_warehouse_url: str) -> None:
    inbox = Inbox(fresh_warehouse_url)
    raws = [event_body() for _ in range(5)]
    sends = [raw for raw in raws for _ in range(8)]  # each event delivered 8 times at once
    barrier = threading.Barrier(len(sends))

    def deliver(raw: bytes) -> requests.Response:
        barrier.wait(10)
        return post(server.url, raw)

    with serve(inbox, threads=len(sends)) as server, ThreadPoolExecutor(max_workers=len(sends)) as pool:
        answers = list(pool.map(deliver, sends))
        engine = inbox.engine()
        ids = [json.loads(r)["event_id"] for r in raws]
        stored = rows_of(engine, ids)
    assert [a.status_code for a in answers] == [202] * len(sends)
    for event_id in ids:
        flags = [a.json()["duplicate"] for a in answers if a.json()["event_id"] == event_id]
        assert sorted(flags) == [False] + [True] * 7  # one "stored", seven "duplicate"
    assert sorted(stored) == sorted(ids)


class Lock:
    """The warehouse held by another session: SQLite's write lock, or PostgreSQL's table lock."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        self._conn: Any = None
        self._engine: Engine | None = None

    def __enter__(self) -> "Lock":
        if self.url.get_backend_name() == "sqlite":
            self._conn = sqlite3.connect(str(self.url.database), isolation_level=None)
            self._conn.execute("BEGIN EXCLUSIVE")
        else:
            self._engine = create_engine(self.url.set(drivername="postgresql+psycopg"))
            self._conn = self._engine.connect()
            self._conn.begin()
            self._conn.execute(text("LOCK TABLE ns_webhook_inbox IN ACCESS EXCLUSIVE MODE"))
        return self

    def __exit__(self, *exc: object) -> None:
        self._conn.rollback() if self._engine is not None else self._conn.execute("ROLLBACK")
        self._conn.close()
        if self._engine is not None:
            self._engine.dispose()


def test_503_while_the_warehouse_is_locked_then_the_retry_is_stored_once(fresh_warehouse_url: str) -> None:
    inbox = Inbox(fresh_warehouse_url, store_timeout=0.5)
    engine = inbox.engine()  # migrated before the lock
    first, second = event_body(), event_body()
    with serve(inbox) as server:
        assert post(server.url, first).status_code == 202
        with Lock(fresh_warehouse_url):
            started = time.monotonic()
            refused = post(server.url, second)
            waited = time.monotonic() - started
            assert refused.status_code == 503, refused.text
            assert refused.headers["Retry-After"] == "5" and refused.json()["error"] == "warehouse_unavailable"
            assert waited >= 0.4  # it waited for the lock (store_timeout) before giving up
        retried = post(server.url, second)
        again = post(server.url, first)
    assert (retried.status_code, retried.json()["duplicate"]) == (202, False)
    assert (again.status_code, again.json()["duplicate"]) == (202, True)
    ids = [json.loads(first)["event_id"], json.loads(second)["event_id"]]
    assert sorted(rows_of(engine, ids)) == sorted(ids)
    inbox.close()


def test_the_receiver_stops_even_when_its_wake_up_pipe_is_already_closed(tmp_path: Any) -> None:
    """Stopping closes the receiver's sockets from its loop thread, woken through a pipe; if that
    pipe was closed under it, stop() closes them from the stopping thread instead, and the loop ends."""
    import os

    inbox = Inbox(f"sqlite:///{tmp_path / 'wh.sqlite3'}")
    server = serve(inbox).start()
    assert post(server.url, event_body()).status_code == 202
    thread = server._thread  # noqa: SLF001
    trigger = server._server.trigger  # noqa: SLF001
    os.close(trigger.trigger)  # the pipe's write end, as a stray close elsewhere would
    trigger._fds = [trigger._fds[0]]  # noqa: SLF001 - so that its own close does not close it again
    server.stop()
    assert thread is not None and not thread.is_alive()
