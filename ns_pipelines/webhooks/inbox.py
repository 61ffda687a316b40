"""The durable inbox (ns_webhook_inbox): store each event once, read the ones past a cursor.

    inbox = Inbox("postgresql://...")          # or None: $NS_WAREHOUSE_URL / the default SQLite file
    stored = inbox.store(event, raw_body)      # a ChangeEvent or a StripeEvent -> StoreResult(inbox_id=42, ...)
    rows = read_events(engine, after=41, limit=500)
    prune_consumed(engine, source="netsuite", through_id=41, received_before=cutoff)   # retention

Storing is `INSERT ... ON CONFLICT (event_id) DO NOTHING`: a redelivered event is acknowledged
without a second row. Requests do not write themselves: one writer thread per Inbox
(group_commit.py) inserts the events of all concurrent requests in one transaction and answers
each request only after that commit. The `id` is the sensor's cursor, so a row with a smaller id
must never become visible after one with a larger id: SQLite serialises writers (BEGIN
IMMEDIATE); on PostgreSQL, where BIGSERIAL values are drawn at insert but transactions may commit
in any order, each batch first takes a transaction-scoped advisory lock (several receiver
processes), so ids are drawn and committed in the same order.

Any database failure (server down, unreachable file, missing table, a lock held longer than
`store_timeout`: SQLite's busy timeout, PostgreSQL's lock_timeout) raises WarehouseUnavailable:
the receiver then answers 503 and the sender retries; nothing is acknowledged that was not
committed.

Retention: the inbox is a receipt log. Each sensor deletes the rows of its own source up to the
cursor it has committed (prune_consumed), once they are older than NS_WEBHOOK_INBOX_RETENTION_DAYS;
a row past a sensor's cursor is never deleted.
"""
from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from itertools import takewhile
from typing import Any

from sqlalchemy import Engine, delete, event, func, select, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from ns_pipelines.stripe.webhook import SOURCE as SOURCE_STRIPE
from ns_pipelines.stripe.webhook import StripeEvent
from ns_pipelines.warehouse import begin_write, create_warehouse_engine, dialect_insert, upgrade_warehouse
from ns_pipelines.warehouse.engine import resolve_warehouse_url
from ns_pipelines.warehouse.tables.inbox import webhook_inbox
from ns_pipelines.webhooks.group_commit import DEFAULT_MAX_BATCH, GroupCommitWriter, Row, WriterClosed, WriteTimeout
from ns_pipelines.webhooks.payload import ChangeEvent

__all__ = ["Inbox", "InboxEvent", "StoreResult", "WarehouseUnavailable", "latest_id", "prune_consumed", "read_events"]

SOURCE_NETSUITE = "netsuite"
# pg_advisory_xact_lock held by each batch (id order = commit order), one key per schema: inboxes
# in other schemas of the same database (tests, benchmarks, a second deployment) do not wait on it.
INBOX_LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtextextended('ns_webhook_inbox:' || current_schema(), 0))"
POSTGRES_CONNECT_TIMEOUT_S = 5  # the sender waits 5 s to connect: answer 503 before it gives up
DEFAULT_STORE_TIMEOUT_S = 5.0  # how long a batch waits for a lock before the requests in it get 503
APPLICATION_NAME = "ns-pipelines-webhooks"  # pg_stat_activity shows who holds the inbox's connections
PRUNE_BATCH = 500  # rows per delete transaction: short enough not to hold the receiver's inserts back
PRUNE_MAX_BATCHES = 20  # per call, so a sensor tick working off a backlog stays well inside its 60 s


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


def _source_fields(event: ChangeEvent | StripeEvent) -> Row:
    """The columns that differ by sender: NetSuite names records by internal id, Stripe by text id."""
    if isinstance(event, StripeEvent):
        return {"source": SOURCE_STRIPE, "record_type": event.object_type, "record_id": None,
                "object_id": event.object_id, "event": event.action, "occurred_at": event.created}
    return {"source": SOURCE_NETSUITE, "record_type": event.record_type, "record_id": event.record_id,
            "object_id": None, "event": event.event, "occurred_at": event.occurred_at}


def _unavailable(exc: BaseException) -> WarehouseUnavailable:
    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return WarehouseUnavailable(f"{type(exc).__name__}: {detail[0][:200] if detail else ''}")


class Inbox:
    """The receiver's handle on the warehouse. The engine is created, and the schema brought to
    head, on first use and again after a failure, so the receiver starts (and answers 503) while
    the database is down, and recovers by itself."""

    def __init__(self, url: str | None = None, *, engine: Engine | None = None, pool_size: int = 10,
                 store_timeout: float = DEFAULT_STORE_TIMEOUT_S, max_batch: int = DEFAULT_MAX_BATCH) -> None:
        if store_timeout <= 0:
            raise ValueError("store_timeout must be positive")
        self._url = url
        self._engine = engine
        self._owned = engine is None
        self._pool_size = pool_size
        self.store_timeout = float(store_timeout)
        self._ready = False
        self._lock = threading.Lock()
        self._max_batch = max_batch
        self._writer = GroupCommitWriter(self._write_batch, max_batch=max_batch)

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
            connect_args: dict[str, Any] = {"connect_timeout": POSTGRES_CONNECT_TIMEOUT_S}
            if "application_name" not in url.query:
                connect_args["application_name"] = APPLICATION_NAME
            # No pre-ping round trip per batch: a connection found dead is retried once (_write_batch).
            engine = create_warehouse_engine(url, pool_size=self._pool_size, max_overflow=self._pool_size,
                                             connect_args=connect_args, pool_pre_ping=False)
            timeout_ms = int(self.store_timeout * 1000)

            @event.listens_for(engine, "connect")
            def _inbox_timeouts(dbapi_connection: Any, _record: Any) -> None:
                # Once per connection rather than per batch: a locked table or a stuck server
                # fails the batch (503) after store_timeout instead of holding every sender.
                with dbapi_connection.cursor() as cursor:
                    cursor.execute(f"SET lock_timeout = {timeout_ms}")
                    cursor.execute(f"SET statement_timeout = {2 * timeout_ms}")
                dbapi_connection.commit()

            return engine
        engine = create_warehouse_engine(url)
        busy_ms = int(self.store_timeout * 1000)

        @event.listens_for(engine, "connect")
        def _inbox_busy_timeout(dbapi_connection: Any, _record: Any) -> None:
            # After the warehouse's own 30 s: a sender waits ~45 s, so answer 503 well before.
            dbapi_connection.execute(f"PRAGMA busy_timeout = {busy_ms}")

        return engine

    def engine(self) -> Engine:
        """The engine, schema at head; WarehouseUnavailable if either cannot be had now."""
        if self._ready and self._engine is not None:
            return self._engine
        with self._lock:
            try:
                if self._engine is None:
                    self._engine = self._create_engine()
                if not self._ready:
                    self._migrate()
                    self._ready = True
            except (SQLAlchemyError, OSError) as exc:
                raise _unavailable(exc) from exc
        return self._engine

    def _migrate(self) -> None:
        """Bring the schema to head on an engine of its own: the inbox's short lock timeouts are
        for inserts, whereas a migration may rightly wait for another process's migration."""
        if not self._owned:
            upgrade_warehouse(self._engine)
            return
        url = resolve_warehouse_url(self._url)
        connect_args = {"connect_timeout": POSTGRES_CONNECT_TIMEOUT_S} if url.get_backend_name() == "postgresql" else {}
        engine = create_warehouse_engine(url, poolclass=NullPool, connect_args=connect_args)
        try:
            upgrade_warehouse(engine)
        finally:
            engine.dispose()

    def _failed(self, exc: BaseException) -> WarehouseUnavailable:
        """The error to raise; a missing table (a database restored empty) re-checks the schema
        at the next use. Other failures (locks, a server restarting) do not: migrating again
        would only wait longer."""
        text_ = str(getattr(exc, "orig", None) or exc)
        if "no such table" in text_ or ("does not exist" in text_ and "relation" in text_):
            self._ready = False
        return _unavailable(exc)

    def ping(self) -> None:
        """Raise WarehouseUnavailable unless the warehouse answers and the inbox table is there."""
        engine = self.engine()
        try:
            with engine.connect() as conn:
                conn.execute(select(webhook_inbox.c.id).limit(1)).first()
        except (SQLAlchemyError, OSError) as exc:
            raise self._failed(exc) from exc

    def store(self, event: ChangeEvent | StripeEvent, raw: bytes, *,
              received_at: dt.datetime | None = None) -> StoreResult:
        """Insert the event (source "netsuite" or "stripe", from its type) unless its event_id is
        there already; committed when this returns (in a batch with the events of concurrent calls).
        WarehouseUnavailable when it was not."""
        values: Row = {
            "event_id": event.event_id, "account": event.account, **_source_fields(event),
            "received_at": received_at or dt.datetime.now(dt.timezone.utc), "body": raw.decode("utf-8"),
        }
        # The batch ahead may hold the writer for up to a store timeout (or a connect timeout), then ours.
        wait = 2 * self.store_timeout + POSTGRES_CONNECT_TIMEOUT_S
        try:
            stored = self._writer.submit(values, timeout=wait)
        except (WriteTimeout, WriterClosed) as exc:
            raise WarehouseUnavailable(f"{type(exc).__name__}: {exc}") from exc
        return StoreResult(inbox_id=stored.inbox_id, duplicate=stored.duplicate)

    def _write_batch(self, rows: list[Row]) -> dict[str, int]:
        """One transaction inserting `rows` (distinct event ids); the event ids it inserted -> ids.
        A pooled connection found dead (server restarted) is replaced and the batch tried once more:
        the insert is idempotent, so even a retry after a commit whose answer was lost stores once."""
        engine = self.engine()
        for attempt in (1, 2):
            try:
                return self._insert(engine, rows)
            except DBAPIError as exc:
                if attempt == 1 and exc.connection_invalidated:
                    continue
                raise self._failed(exc) from exc
            except (SQLAlchemyError, OSError) as exc:
                raise self._failed(exc) from exc
        raise AssertionError("unreachable")

    @staticmethod
    def _insert(engine: Engine, rows: list[Row]) -> dict[str, int]:
        with begin_write(engine) as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text(INBOX_LOCK_SQL))
            stmt = (dialect_insert(conn, webhook_inbox).on_conflict_do_nothing(index_elements=["event_id"])
                    .returning(webhook_inbox.c.id, webhook_inbox.c.event_id))
            return {event_id: int(inbox_id) for inbox_id, event_id in conn.execute(stmt, rows)}

    @property
    def writer(self) -> GroupCommitWriter:
        return self._writer

    def close(self) -> None:
        """Write what is queued, release the connections; a later store() starts afresh."""
        writer, self._writer = self._writer, GroupCommitWriter(self._write_batch, max_batch=self._max_batch)
        writer.close()
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


def prune_consumed(engine: Engine, *, source: str, through_id: int, received_before: dt.datetime,
                   batch: int = PRUNE_BATCH, max_batches: int = PRUNE_MAX_BATCHES) -> int:
    """Delete the rows of `source` with id <= `through_id` (what its sensor has consumed) received
    before `received_before`, oldest first, `batch` rows per transaction; the number deleted."""
    deleted = 0
    for _ in range(max_batches):
        ids = _prunable_ids(engine, source, through_id, received_before, batch)
        if ids:
            with begin_write(engine) as conn:
                conn.execute(delete(webhook_inbox).where(webhook_inbox.c.id.in_(ids)))
            deleted += len(ids)
        if len(ids) < batch:
            break
    return deleted


def _prunable_ids(engine: Engine, source: str, through_id: int, received_before: dt.datetime,
                  limit: int) -> list[int]:
    """The oldest consumed ids of `source`, up to the first one received since `received_before`.
    Ids follow receipt order, so reading the oldest `limit` rows by id (the primary key) finds
    them without scanning the table; a row a little out of order waits for the next call."""
    t = webhook_inbox.c
    stmt = (select(t.id, t.received_at).where(t.source == source, t.id <= through_id)
            .order_by(t.id).limit(limit))
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return [row.id for row in takewhile(lambda row: row.received_at < received_before, rows)]
