"""SuiteQLEngine: run a SuiteQL query against the store, one page at a time.

- Translations are cached (LRU by query text and the settings that shape them): a client sends
  the same text once per page.
- total_results: when the page ends the result (a short page) it is offset + count; otherwise
  `COUNT(*)` over the translated query (same read snapshot as the page), cached per query text
  for COUNT_TTL_S seconds and only while the data is unchanged: the entry remembers the
  connection's `PRAGMA data_version` (commits by other connections) and `total_changes` (its own),
  so any write makes the next page recount. The TTL bounds drift for SYSDATE-relative queries.
- The page is `SELECT <formatted columns> FROM (<query>) LIMIT :limit OFFSET :offset`, so paging
  happens in SQLite and an `ORDER BY id` keyset query walks the primary key.
- The row cap (settings.suiteql_row_cap, 100,000 as in NetSuite): offset >= cap is a 400; a page
  crossing the cap stops at it; has_more = offset + count < min(total, cap).
"""
from __future__ import annotations

import itertools
import sqlite3
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime

from ..errors import ApiError
from ..settings import SandboxSettings
from ..store import Store
from . import functions
from .catalog import Catalog
from .compiler import Compiled, Compiler
from .formatting import build_items
from .problems import invalid_limit, invalid_offset, offset_beyond_cap, unsupported

MAX_LIMIT = 1000
TRANSLATION_CACHE_SIZE = 512
COUNT_CACHE_SIZE = 1024
COUNT_TTL_S = 10.0


@dataclass
class SuiteQLResult:
    items: list[dict[str, object]]  # JSON-ready, without "links" (the HTTP layer adds them)
    total_results: int
    has_more: bool


class _LRU:
    def __init__(self, size: int) -> None:
        self.size = size
        self.data: OrderedDict = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: object) -> object | None:
        with self.lock:
            value = self.data.get(key)
            if value is not None:
                self.data.move_to_end(key)
            return value

    def put(self, key: object, value: object) -> None:
        with self.lock:
            self.data[key] = value
            self.data.move_to_end(key)
            while len(self.data) > self.size:
                self.data.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.data.clear()


class SuiteQLEngine:
    def __init__(self, store: Store, settings: SandboxSettings) -> None:
        self.store = store
        self.settings = settings
        self.catalog = Catalog.load(store.connect())
        self.compiler = Compiler(self.catalog)
        self._translations = _LRU(TRANSLATION_CACHE_SIZE)
        self._counts = _LRU(COUNT_CACHE_SIZE)
        self._local = threading.local()
        self._connection_ids = itertools.count(1)

    # --- time -------------------------------------------------------------------------------------

    def _now(self) -> datetime:
        return (datetime.now(self.store.zone) + self.store.clock_offset).replace(tzinfo=None)

    def _today(self) -> date:
        return self._now().date()

    # --- translation ------------------------------------------------------------------------------

    def translate(self, q: str) -> Compiled:
        """The compiled form of `q` (cached); raises ApiError(400) for queries SuiteQL refuses."""
        key = (q, self.settings.date_format, self.settings.numbers_as_strings)
        cached = self._translations.get(key)
        if cached is None:
            try:
                cached = self.compiler.compile(q, date_format=self.settings.date_format,
                                               numbers_as_strings=self.settings.numbers_as_strings,
                                               today=self._today)
            except ApiError as exc:
                cached = exc
            except RecursionError:
                cached = unsupported("The query is too deeply nested.")
            self._translations.put(key, cached)
        if isinstance(cached, ApiError):
            raise cached
        return cached  # type: ignore[return-value]

    # --- connections ------------------------------------------------------------------------------

    def _connection(self) -> tuple[sqlite3.Connection, int]:
        conn = self.store.connect()
        local = self._local
        if getattr(local, "conn", None) is not conn:
            functions.register(conn, self._today, lambda: self.settings.date_format)
            local.conn = conn
            local.conn_id = next(self._connection_ids)
        return conn, local.conn_id

    # --- execution --------------------------------------------------------------------------------

    def execute(self, q: str, *, limit: int, offset: int) -> SuiteQLResult:
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            raise invalid_limit(limit)
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise invalid_offset(offset)
        cap = self.settings.suiteql_row_cap
        if offset >= cap:
            raise offset_beyond_cap(offset, cap)
        compiled = self.translate(q)
        conn, conn_id = self._connection()
        params: dict[str, object] = {}
        if compiled.uses_now:
            params["ns_now"] = self._now().strftime("%Y-%m-%d %H:%M:%S")
        wanted = min(limit, cap - offset)
        own_transaction = not conn.in_transaction
        try:
            if own_transaction:
                conn.execute("BEGIN")  # one snapshot for the count and the page
            try:
                token = (conn.execute("PRAGMA data_version").fetchone()[0], conn.total_changes,
                         self.store.clock_offset)
                cursor = conn.cursor()
                cursor.row_factory = None
                rows = cursor.execute(compiled.page_sql,
                                      {**params, "ns_limit": wanted, "ns_offset": offset}).fetchall()
                if len(rows) < wanted and (rows or offset == 0):
                    total = offset + len(rows)  # the page reached the end: no need to count
                else:
                    total = self._count(conn, (q, self.settings.date_format, conn_id), compiled, params, token)
                    if rows:
                        total = max(total, offset + len(rows))
            finally:
                if own_transaction:
                    conn.execute("COMMIT")
        except sqlite3.Error as exc:
            reason = functions.last_error() or str(exc)
            raise unsupported(f"The query could not be run: {reason}.") from None
        has_more = offset + len(rows) < min(total, cap)
        items = build_items(rows, compiled.keys, compiled.converters, self.settings.omit_null_columns)
        return SuiteQLResult(items=items, total_results=total, has_more=has_more)

    def _count(self, conn: sqlite3.Connection, key: tuple, compiled: Compiled, params: dict[str, object],
               token: tuple) -> int:
        """COUNT(*) of the query, reused while this connection sees the same data (and the TTL runs).

        `PRAGMA data_version` changes when another connection commits and `total_changes` when this
        one writes, so the entry is per connection: (query, date format, connection) -> token.
        """
        now = time.monotonic()
        cached = self._counts.get(key)
        if cached is not None:
            cached_token, expires, total = cached  # type: ignore[misc]
            if cached_token == token and now < expires:
                return total
        total = conn.execute(compiled.count_sql, params).fetchone()[0]
        self._counts.put(key, (token, now + COUNT_TTL_S, total))
        return total

    def clear_caches(self) -> None:
        """Forget translations and counts (for example after the settings changed)."""
        self._translations.clear()
        self._counts.clear()
