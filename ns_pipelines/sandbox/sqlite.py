"""The sandboxes' SQLite access: a connection per thread, WAL readers, one writer at a time.

NetSuite's Store (netsuite/store.py) and Stripe's StripeStore (stripe/store.py) are this with
their own file name, schema, meta table and pragmas.
"""
from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class SqliteStore:
    """DATA_DIR/`filename` with `ddl` applied. Readers run concurrently (WAL); writes are serialised by `write()`."""

    pragmas: tuple[str, ...] = ("journal_mode=WAL", "synchronous=NORMAL")
    meta_table = "sandbox_meta"  # key TEXT PRIMARY KEY, value TEXT

    def __init__(self, data_dir: Path | str, filename: str, ddl: str) -> None:
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.data_dir / filename
        self._local = threading.local()
        self._write_lock = threading.RLock()
        with self._write_lock:
            self.connect().executescript(ddl)  # executescript manages its own transaction

    def connect(self) -> sqlite3.Connection:
        """This thread's connection (autocommit; use `write()` for changes)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=60, check_same_thread=False, isolation_level=None)
            conn.row_factory = sqlite3.Row
            for pragma in self.pragmas:
                conn.execute(f"PRAGMA {pragma}")
            self._local.conn = conn
        return conn

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

    def close(self) -> None:
        """Close this thread's connection (a thread that ends should)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.connect().execute(f"SELECT value FROM {self.meta_table} WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        with self.write() as conn:
            conn.execute(f"INSERT INTO {self.meta_table}(key, value) VALUES (?, ?) "
                         "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))
