"""Access to the sandbox's SQLite ground truth: a connection per thread, one writer at a time."""
from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from ..sqlite import SqliteStore
from .schema import DDL

DB_FILENAME = "netsuite.sqlite3"


class Store(SqliteStore):
    """The account's data. Readers run concurrently (WAL); writes are serialised by `write()`."""

    pragmas = (*SqliteStore.pragmas, "foreign_keys=OFF", "cache_size=-200000", "mmap_size=1073741824")

    def __init__(self, data_dir: Path | str, timezone: str = "America/Los_Angeles") -> None:
        self.zone = ZoneInfo(timezone)
        self._clock_lock = threading.Lock()
        self._last_stamp: datetime | None = None
        self.clock_offset = timedelta(0)
        super().__init__(data_dir, DB_FILENAME, DDL)

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A consistent snapshot for a multi-statement read."""
        conn = self.connect()
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
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
