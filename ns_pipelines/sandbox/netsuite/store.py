"""Access to the sandbox's SQLite ground truth: a connection per thread, one writer at a time."""
from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from .schema import DDL

DB_FILENAME = "netsuite.sqlite3"


class Store:
    """The account's data. Readers run concurrently (WAL); writes are serialised by `write()`."""

    def __init__(self, data_dir: Path | str, timezone: str = "America/Los_Angeles") -> None:
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.data_dir / DB_FILENAME
        self.zone = ZoneInfo(timezone)
        self._local = threading.local()
        self._write_lock = threading.RLock()
        self._clock_lock = threading.Lock()
        self._last_stamp: datetime | None = None
        self.clock_offset = timedelta(0)
        with self._write_lock:
            self.connect().executescript(DDL)  # executescript manages its own transaction

    def connect(self) -> sqlite3.Connection:
        """This thread's connection (autocommit off; use `write()` for changes)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=60, check_same_thread=False, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=OFF")
            conn.execute("PRAGMA cache_size=-200000")
            self._local.conn = conn
        return conn

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A consistent snapshot for a multi-statement read."""
        conn = self.connect()
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            conn.execute("COMMIT")

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; commits on success, rolls back on any exception."""
        with self._write_lock:
            conn = self.connect()
            if conn.in_transaction:  # nested use from the same thread joins the outer transaction
                yield conn
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def now(self) -> str:
        """Account-local 'YYYY-MM-DD HH:MM:SS', never earlier than a stamp already handed out.

        Like NetSuite, two changes in one second share a stamp; readers use an overlap window.
        `clock_offset` lets tests move the account's clock (e.g. to age invoices).
        """
        with self._clock_lock:
            stamp = (datetime.now(self.zone) + self.clock_offset).replace(microsecond=0, tzinfo=None)
            if self._last_stamp is not None and stamp < self._last_stamp:
                stamp = self._last_stamp
            self._last_stamp = stamp
            return stamp.strftime("%Y-%m-%d %H:%M:%S")

    def today(self) -> str:
        return (datetime.now(self.zone) + self.clock_offset).strftime("%Y-%m-%d")

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.connect().execute("SELECT value FROM sandbox_meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        with self.write() as conn:
            conn.execute("INSERT INTO sandbox_meta(key, value) VALUES (?, ?) "
                         "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
