"""Connecting to the warehouse: one SQLAlchemy URL, SQLite locally, PostgreSQL in production."""
from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
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

    On a SQLite file, the writers that come through here queue first (_WriterQueue), so that the
    next one starts as soon as the previous one commits.
    """
    path = _sqlite_file(engine.url) if engine.url.get_backend_name() == "sqlite" else None
    with _writer_queue(path) if path is not None else nullcontext():
        with engine.connect() as conn:
            conn.execution_options(**{WRITE_LOCK_OPTION: True})
            with conn.begin():
                yield conn


class _WriterQueue:
    """The begin_write writers of one SQLite file, in turn: a lock among this process's threads,
    then an flock on `<database>.writers` among processes.

    SQLite's busy handler retries a locked database after sleeps that grow from 1 to 100 ms, so a
    waiting writer often starts tens of milliseconds after the lock was freed; with several
    processes writing (a full sync's worker processes) that idled the database between commits.
    Queued here, a writer polls every 0.2 to 2 ms. After the busy timeout it goes ahead anyway and
    SQLite's own lock decides, as before: other writers (engine.begin()) never queue here.
    """

    def __init__(self, path: Path) -> None:
        self.threads = threading.RLock()
        self.path = f"{path}.writers"
        self.fd = -1  # open (and flocked) during a turn only: no descriptor is kept per database
        self.depth = 0  # nested begin_write in one thread: the flock is taken once

    @contextmanager
    def turn(self) -> Iterator[None]:
        deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_SECONDS
        if not self.threads.acquire(timeout=SQLITE_BUSY_TIMEOUT_SECONDS):
            yield
            return
        try:
            if self.depth == 0:
                self.fd = self._flock(deadline)
            self.depth += 1
            try:
                yield
            finally:
                self.depth -= 1
                if self.depth == 0 and self.fd >= 0:
                    os.close(self.fd)  # releases the flock
                    self.fd = -1
        finally:
            self.threads.release()

    def _flock(self, deadline: float) -> int:
        """A descriptor holding the flock, or -1 after the busy timeout (or if the file cannot be opened)."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        except OSError:
            return -1
        pause = 0.0002
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    return -1
                time.sleep(pause)
                pause = min(pause * 2, 0.002)


# Weak: a queue lives while a writer takes or holds its turn (the turn's generator holds it), so
# a process that opens many SQLite files (tests, benchmarks) does not keep one per file forever.
_WRITER_QUEUES: weakref.WeakValueDictionary[tuple[str, int], _WriterQueue] = weakref.WeakValueDictionary()
_WRITER_QUEUES_LOCK = threading.Lock()


def _writer_queue(path: Path) -> Any:
    key = (str(path.resolve()), os.getpid())
    with _WRITER_QUEUES_LOCK:
        queue = _WRITER_QUEUES.get(key)
        if queue is None:
            queue = _WRITER_QUEUES[key] = _WriterQueue(path)
    return queue.turn()


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
