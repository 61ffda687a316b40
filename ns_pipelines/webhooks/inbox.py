"""The durable inbox (ns_webhook_inbox): store each event once, read the ones past a cursor.

    inbox = Inbox("postgresql://...")          # or None: $NS_WAREHOUSE_URL / the default SQLite file
    stored = inbox.store(event, raw_body)      # StoreResult(inbox_id=42, duplicate=False)
    rows = read_events(engine, after=41, limit=500)

Storing is `INSERT ... ON CONFLICT (event_id) DO NOTHING` in one short transaction: a redelivered
event is acknowledged without a second row. The `id` is the sensor's cursor, so a row with a
smaller id must never become visible after one with a larger id: SQLite serialises writers
(BEGIN IMMEDIATE); on PostgreSQL, where BIGSERIAL values are drawn at insert but transactions may
commit in any order, each insert first takes a transaction-scoped advisory lock, so ids are drawn
and committed in the same order (one short insert at a time; measured in the tests' load test).

Any database failure (server down, unreachable file, missing table) raises WarehouseUnavailable:
the receiver then answers 503 and the sender retries; nothing is acknowledged that was not
committed.
"""
from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import SQLAlchemyError

from ns_pipelines.warehouse import begin_write, create_warehouse_engine, dialect_insert, upgrade_warehouse
from ns_pipelines.warehouse.engine import resolve_warehouse_url
from ns_pipelines.warehouse.tables.inbox import webhook_inbox
from ns_pipelines.webhooks.payload import ChangeEvent

__all__ = ["Inbox", "InboxEvent", "StoreResult", "WarehouseUnavailable", "latest_id", "read_events"]

SOURCE_NETSUITE = "netsuite"
INBOX_LOCK_KEY = 0x6E735F6962  # "ns_ib": pg_advisory_xact_lock held by each insert (id order = commit order)
POSTGRES_CONNECT_TIMEOUT_S = 5  # the sender waits 5 s to connect: answer 503 before it gives up


class WarehouseUnavailable(RuntimeError):
    """The inbox could not be read or written; the message names the error class, never the URL."""


@dataclass(frozen=True)
class StoreResult:
    inbox_id: int | None  # None for a duplicate
    duplicate: bool


@dataclass(frozen=True)
class InboxEvent:
    id: int
    event_id: str
    source: str
    account: str
    record_type: str
    record_id: int
    event: str
    occurred_at: dt.datetime
    received_at: dt.datetime


def _unavailable(exc: BaseException) -> WarehouseUnavailable:
    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return WarehouseUnavailable(f"{type(exc).__name__}: {detail[0][:200] if detail else ''}")


class Inbox:
    """The receiver's handle on the warehouse. The engine is created, and the schema brought to
    head, on first use and again after a failure, so the receiver starts (and answers 503) while
    the database is down, and recovers by itself."""

    def __init__(self, url: str | None = None, *, engine: Engine | None = None, pool_size: int = 10) -> None:
        self._url = url
        self._engine = engine
        self._owned = engine is None
        self._pool_size = pool_size
        self._ready = False
        self._lock = threading.Lock()

    @property
    def display_url(self) -> str:
        if self._engine is not None:
            return self._engine.url.render_as_string(hide_password=True)
        try:
            return resolve_warehouse_url(self._url).render_as_string(hide_password=True)
        except Exception:  # noqa: BLE001 - only for display
            return "(invalid warehouse URL)"

    def _create_engine(self) -> Engine:
        url = resolve_warehouse_url(self._url)
        if url.get_backend_name() == "postgresql":
            return create_warehouse_engine(url, pool_size=self._pool_size, max_overflow=self._pool_size,
                                           connect_args={"connect_timeout": POSTGRES_CONNECT_TIMEOUT_S})
        return create_warehouse_engine(url)

    def engine(self) -> Engine:
        """The engine, schema at head; WarehouseUnavailable if either cannot be had now."""
        if self._ready and self._engine is not None:
            return self._engine
        with self._lock:
            try:
                if self._engine is None:
                    self._engine = self._create_engine()
                if not self._ready:
                    upgrade_warehouse(self._engine)
                    self._ready = True
            except (SQLAlchemyError, OSError) as exc:
                raise _unavailable(exc) from exc
        return self._engine

    def ping(self) -> None:
        """Raise WarehouseUnavailable unless the warehouse answers and the inbox table is there."""
        engine = self.engine()
        try:
            with engine.connect() as conn:
                conn.execute(select(webhook_inbox.c.id).limit(1)).first()
        except (SQLAlchemyError, OSError) as exc:
            self._ready = False  # the next use re-checks the schema too (a database restored empty)
            raise _unavailable(exc) from exc

    def store(self, event: ChangeEvent, raw: bytes, *, source: str = SOURCE_NETSUITE,
              received_at: dt.datetime | None = None) -> StoreResult:
        """Insert the event unless its event_id is there already; committed when this returns."""
        engine = self.engine()
        values: dict[str, Any] = {
            "event_id": event.event_id, "source": source, "account": event.account,
            "record_type": event.record_type, "record_id": event.record_id, "event": event.event,
            "occurred_at": event.occurred_at, "received_at": received_at or dt.datetime.now(dt.timezone.utc),
            "body": raw.decode("utf-8"),
        }
        try:
            with begin_write(engine) as conn:
                if conn.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": INBOX_LOCK_KEY})
                stmt = (dialect_insert(conn, webhook_inbox).values(**values)
                        .on_conflict_do_nothing(index_elements=["event_id"]).returning(webhook_inbox.c.id))
                inbox_id = conn.execute(stmt).scalar()
        except (SQLAlchemyError, OSError) as exc:
            self._ready = False
            raise _unavailable(exc) from exc
        return StoreResult(inbox_id=None if inbox_id is None else int(inbox_id), duplicate=inbox_id is None)

    def close(self) -> None:
        if self._engine is not None and self._owned:
            self._engine.dispose()
            self._engine = None
            self._ready = False


def read_events(engine: Engine, *, after: int, limit: int, source: str = SOURCE_NETSUITE) -> list[InboxEvent]:
    """The inbox rows of `source` with id > `after`, oldest first, at most `limit`."""
    t = webhook_inbox.c
    stmt = (select(t.id, t.event_id, t.source, t.account, t.record_type, t.record_id, t.event, t.occurred_at,
                   t.received_at)
            .where(t.id > after, t.source == source).order_by(t.id).limit(limit))
    with engine.connect() as conn:
        return [InboxEvent(**row) for row in conn.execute(stmt).mappings()]


def latest_id(engine: Engine, *, source: str = SOURCE_NETSUITE) -> int | None:
    """The newest inbox id of `source` (None when it has none)."""
    with engine.connect() as conn:
        value = conn.execute(select(func.max(webhook_inbox.c.id)).where(webhook_inbox.c.source == source)).scalar()
    return None if value is None else int(value)
