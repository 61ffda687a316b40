"""Connecting to the warehouse: one SQLAlchemy URL, SQLite locally, PostgreSQL in production."""
from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

WAREHOUSE_URL_ENV = "NS_WAREHOUSE_URL"
DEFAULT_SQLITE_PATH = Path(".data") / "warehouse.sqlite3"
SQLITE_BUSY_TIMEOUT_SECONDS = 30.0
# Execution option read by the SQLite "begin" listener: take the write lock at BEGIN.
WRITE_LOCK_OPTION = "ns_write_lock"


def default_warehouse_url() -> str:
    """`sqlite:///<cwd>/.data/warehouse.sqlite3` (the folder is created when the engine is)."""
    return f"sqlite:///{(Path.cwd() / DEFAULT_SQLITE_PATH).resolve()}"


def resolve_warehouse_url(url: str | URL | None = None) -> URL:
    """The URL to use: `url`, else $NS_WAREHOUSE_URL, else the default SQLite file.

    `postgresql://` and `postgres://` get the psycopg 3 driver (`postgresql+psycopg://`).
    """
    raw = url if url is not None else (os.environ.get(WAREHOUSE_URL_ENV) or default_warehouse_url())
    parsed = make_url(raw)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _sqlite_file(url: URL) -> Path | None:
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:") or url.query.get("mode") == "memory":
        return None
    return Path(database)


def create_warehouse_engine(url: str | URL | None = None, **kwargs: Any) -> Engine:
    """An Engine for the warehouse. Extra keyword arguments go to `sqlalchemy.create_engine`.

    SQLite: a busy timeout (waits for another writer instead of failing with "database is
    locked"), WAL journal, foreign keys on, and real transactions: pysqlite's own implicit
    transaction handling is switched off and SQLAlchemy emits BEGIN, so reads and writes inside
    `engine.begin()` are one transaction.
    """
    resolved = resolve_warehouse_url(url)
    if resolved.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        return create_engine(resolved, **kwargs)

    path = _sqlite_file(resolved)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    connect_args = {"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, **kwargs.pop("connect_args", {})}
    engine = create_engine(resolved, connect_args=connect_args, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # autocommit at the driver; BEGIN comes from below
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_SECONDS * 1000)}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if path is not None:
                _enable_wal(cursor)
                cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(WRITE_LOCK_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


@contextmanager
def begin_write(engine: Engine) -> Iterator[Connection]:
    """A transaction meant to write, like `engine.begin()`, that on SQLite takes the write lock
    at BEGIN (BEGIN IMMEDIATE), waiting up to the busy timeout for another writer.

    With a plain BEGIN, a transaction that reads first (say, the sync cursor) and writes later
    fails at once with "database is locked" if another writer committed in between: SQLite
    cannot upgrade an outdated read snapshot. PostgreSQL ignores the option.
    """
    with engine.connect() as conn:
        conn.execution_options(**{WRITE_LOCK_OPTION: True})
        with conn.begin():
            yield conn


def _enable_wal(cursor: Any, attempts: int = 100, pause_s: float = 0.05) -> None:
    """Switch a database file to WAL once; SQLite does not wait on its busy timeout for this.

    Two processes opening a new warehouse at once would otherwise fail with "database is locked".
    """
    for attempt in range(attempts):
        try:
            if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(pause_s)
