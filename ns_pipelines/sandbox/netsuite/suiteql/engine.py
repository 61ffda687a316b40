"""SuiteQLEngine: run a SuiteQL query against the store, one page at a time.

- Translations are cached (LRU by query text and the settings that shape them): a client sends
  the same text once per page.
- Snapshots: the engine keeps an epoch that moves whenever any connection sees data committed
  since its previous page (`PRAGMA data_version` for other connections' commits, `total_changes`
  for its own). The epoch is read before the page's read transaction starts and again after the
  connection's check; when both readings agree, every connection that reads that epoch sees the
  same data, so what one page learnt (count, boundary rows) serves the next page on any
  connection. When they differ (data just changed), nothing is reused or remembered.
- total_results: when the page ends the result (a short page) it is offset + count; otherwise
  `COUNT(*)` over the translated query (same read snapshot as the page), cached per query text
  and epoch for COUNT_TTL_S seconds. The TTL bounds drift for SYSDATE-relative queries.
- The page is `SELECT <formatted columns> FROM (<query>) LIMIT :limit OFFSET :offset`, so paging
  happens in SQLite and an `ORDER BY id` keyset query walks the primary key.
- Seeking: for a query ordered by plain ascending columns (compiler.Form.after_sql), a page also
  reads one row past its end. When the sort key strictly increases over those rows, the key of
  its last row is remembered as the boundary of the next offset (per query text and epoch), and
  that page is then read with `(key) > (boundary)` instead of making SQLite skip `offset` rows
  through the joins. The rows are the same: the next page is exactly the rows ordered after the
  boundary, and a seeked page whose key does not strictly increase is read again by offset.
  Queries using SYSDATE are not seeked (the rows before a boundary change as time passes).
- Translation by shape (shapes.py): keyset texts that differ only in their key literals share
  one compilation, checked once against a real one.
- The HTTP layer asks for the items as JSON text (`execute_json`): SQLite writes them when the
  values allow (formatting.json_item_sql), else they are built and encoded in Python.
- The row cap (settings.suiteql_row_cap, 100,000 as in NetSuite): offset >= cap is a 400; a page
  crossing the cap stops at it; has_more = offset + count < min(total, cap).
"""
from __future__ import annotations

import itertools
import operator
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
from .compiler import SEEK_PARAM, Compiled, Compiler, Form
from .formatting import build_items, encode_items, json_items_text, sqlite_json_agrees
from .problems import invalid_limit, invalid_offset, offset_beyond_cap, unsupported
from .shapes import carries_literals, fill, shape_of

MAX_LIMIT = 1000
TRANSLATION_CACHE_SIZE = 512
COUNT_CACHE_SIZE = 1024
POSITION_CACHE_SIZE = 4096
COUNT_TTL_S = 10.0
SHAPE_WAIT_S = 5.0  # how long a text waits for the check of its shape before compiling alone
_UNTRUSTED = "untrusted"  # a shape whose texts are compiled one by one


@dataclass
class SuiteQLResult:
    items: list[dict[str, object]]  # JSON-ready, without "links" (the HTTP layer adds them)
    total_results: int
    has_more: bool


@dataclass
class SuiteQLJsonPage:
    items_json: str  # the items' JSON, comma-separated, without the enclosing brackets
    count: int
    total_results: int
    has_more: bool


@dataclass
class _Page:
    compiled: Compiled
    rows: list[tuple]
    items_json: str | None  # the items' JSON when SQLite wrote them (compiled.json)
    total: int
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
        self.json_items = sqlite_json_agrees(store.connect())  # else items are always built in Python
        self.compiler = Compiler(self.catalog)
        self._translations = _LRU(TRANSLATION_CACHE_SIZE)
        self._counts = _LRU(COUNT_CACHE_SIZE)
        self._positions = _LRU(POSITION_CACHE_SIZE)
        self._shapes = _LRU(TRANSLATION_CACHE_SIZE)
        self._local = threading.local()
        self._epoch = 0
        self._epoch_lock = threading.Lock()

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
            cached = self._compile_by_shape(q)
            self._translations.put(key, cached)
        if isinstance(cached, ApiError):
            raise cached
        return cached  # type: ignore[return-value]

    def _compile_by_shape(self, q: str) -> Compiled | ApiError:
        """Compile `q`, or fill the trusted compilation of its shape (see shapes.py)."""
        shaped = shape_of(q)
        if shaped is None:
            return self._compile(q)
        shape, literals = shaped
        key = (shape, self.settings.date_format, self.settings.numbers_as_strings)
        with self._shapes.lock:  # one thread checks a new shape; texts arriving meanwhile wait for it
            known = self._shapes.data.get(key)
            if known is None:
                checking = threading.Event()
                self._shapes.data[key] = checking
        if known is None:  # the shape's first text: compile both, trust the shape when they agree
            try:
                real = self._compile(q)
                compiled = self._compile(shape) if isinstance(real, Compiled) else None
                trusted = (isinstance(compiled, Compiled)
                           and carries_literals(compiled, literals, real))  # type: ignore[arg-type]
                self._shapes.put(key, compiled if trusted else _UNTRUSTED)
            finally:
                checking.set()
            return real
        if isinstance(known, threading.Event):
            known.wait(SHAPE_WAIT_S)
            known = self._shapes.get(key)
        if isinstance(known, Compiled):
            self._shapes.get(key)  # keeps it recent
            return fill(known, literals)
        return self._compile(q)

    def _compile(self, q: str) -> Compiled | ApiError:
        try:
            return self.compiler.compile(q, date_format=self.settings.date_format,
                                         numbers_as_strings=self.settings.numbers_as_strings, today=self._today)
        except ApiError as exc:
            return exc
        except RecursionError:
            return unsupported("The query is too deeply nested.")

    # --- connections ------------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        conn = self.store.connect()
        local = self._local
        if getattr(local, "conn", None) is not conn:
            functions.register(conn, self._today, lambda: self.settings.date_format)
            local.conn = conn
            local.seen = None  # a new connection has seen nothing: its first page moves the epoch
        return conn

    def _snapshot_epoch(self, conn: sqlite3.Connection, before: int) -> int | None:
        """Inside the page's read transaction: the epoch shared by every connection that sees this
        data, or None when data changed around this page (then nothing is shared)."""
        seen = (conn.execute("PRAGMA data_version").fetchone()[0], conn.total_changes)
        local = self._local
        if local.seen != seen:
            local.seen = seen
            with self._epoch_lock:
                self._epoch += 1
        return before if self._epoch == before else None

    # --- execution --------------------------------------------------------------------------------

    def execute(self, q: str, *, limit: int, offset: int, links: bool = False) -> SuiteQLResult:
        """One page of `q`. `links=True` starts every item with NetSuite's `"links": []` (the HTTP
        layer's shape, built here to spare a copy of each item)."""
        page = self._page(q, limit, offset, as_json=False)
        items = build_items(page.rows, page.compiled.keys, page.compiled.converters,
                            self.settings.omit_null_columns, links=links)
        return SuiteQLResult(items=items, total_results=page.total, has_more=page.has_more)

    def execute_json(self, q: str, *, limit: int, offset: int) -> SuiteQLJsonPage:
        """One page of `q` as the HTTP layer sends it: the items (each starting with `"links":[]`)
        as JSON text, byte for byte what encoding `execute(..., links=True).items` gives."""
        page = self._page(q, limit, offset, as_json=True)
        text = page.items_json
        if text is None:
            text = encode_items(build_items(page.rows, page.compiled.keys, page.compiled.converters,
                                            self.settings.omit_null_columns, links=True))
        return SuiteQLJsonPage(items_json=text, count=len(page.rows), total_results=page.total,
                               has_more=page.has_more)

    def _page(self, q: str, limit: int, offset: int, *, as_json: bool) -> _Page:
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            raise invalid_limit(limit)
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise invalid_offset(offset)
        cap = self.settings.suiteql_row_cap
        if offset >= cap:
            raise offset_beyond_cap(offset, cap)
        compiled = self.translate(q)
        conn = self._connection()
        params: dict[str, object] = {}
        if compiled.uses_now:
            params["ns_now"] = self._now().strftime("%Y-%m-%d %H:%M:%S")
        wanted = min(limit, cap - offset)
        own_transaction = not conn.in_transaction
        epoch_before = self._epoch
        form = compiled.json if as_json and self.json_items and compiled.json is not None else compiled.rows
        try:
            if own_transaction:
                conn.execute("BEGIN")  # one snapshot for the count and the page
            try:
                epoch = self._snapshot_epoch(conn, epoch_before) if own_transaction else None
                key = None if epoch is None else (q, self.settings.date_format, epoch, self.store.clock_offset)
                cursor = conn.cursor()
                cursor.row_factory = None
                positions = None if compiled.uses_now else key
                rows = self._rows(cursor, form, params, positions, offset, wanted)
                items_json = None
                if form is compiled.json:
                    items_json = json_items_text(rows, compiled.keys, self.settings.omit_null_columns)
                    if items_json is None:  # a value SQLite cannot write as Python does: rows instead
                        rows = self._rows(cursor, compiled.rows, params, positions, offset, wanted)
                if len(rows) < wanted and (rows or offset == 0):
                    total = offset + len(rows)  # the page reached the end: no need to count
                else:
                    total = self._count(conn, key, compiled, params)
                    if rows:
                        total = max(total, offset + len(rows))
            finally:
                if own_transaction:
                    conn.execute("COMMIT")
        except sqlite3.Error as exc:
            reason = functions.last_error() or str(exc)
            raise unsupported(f"The query could not be run: {reason}.") from None
        has_more = offset + len(rows) < min(total, cap)
        return _Page(compiled, rows, items_json, total, has_more)

    def _rows(self, cursor: sqlite3.Cursor, form: Form, params: dict[str, object], key: tuple | None,
              offset: int, wanted: int) -> list[tuple]:
        """The page's rows (hidden key columns last). A seekable form reads after the boundary
        remembered for this offset when there is one, and remembers the next page's boundary when
        the key allows (see the module docstring)."""
        if form.after_sql is None:
            return cursor.execute(form.page_sql, {**params, "ns_limit": wanted, "ns_offset": offset}).fetchall()
        width = form.width
        boundary = self._positions.get((key, offset)) if key is not None else None
        rows: list[tuple] | None = None
        if boundary is not None:
            bound = {f"{SEEK_PARAM}{i}": value for i, value in enumerate(boundary)}  # type: ignore[arg-type]
            rows = cursor.execute(form.after_sql, {**params, **bound, "ns_limit": wanted + 1}).fetchall()
            if not _ascending_keys(rows, width, boundary):  # type: ignore[arg-type]
                rows = None
        if rows is None:
            rows = cursor.execute(form.page_sql, {**params, "ns_limit": wanted + 1, "ns_offset": offset}).fetchall()
            if not _ascending_keys(rows, width, None):
                return rows[:wanted]
        if key is not None and len(rows) > wanted:
            self._positions.put((key, offset + wanted), rows[wanted - 1][-width:])
        return rows[:wanted]

    def _count(self, conn: sqlite3.Connection, key: tuple | None, compiled: Compiled,
               params: dict[str, object]) -> int:
        """COUNT(*) of the query, reused while the epoch stands (and the TTL runs)."""
        now = time.monotonic()
        if key is not None:
            cached = self._counts.get(key)
            if cached is not None:
                expires, total = cached  # type: ignore[misc]
                if now < expires:
                    return total
        total = conn.execute(compiled.count_sql, params).fetchone()[0]
        if key is not None:
            self._counts.put(key, (now + COUNT_TTL_S, total))
        return total

    def clear_caches(self) -> None:
        """Forget translations and counts (for example after the settings changed)."""
        self._translations.clear()
        self._counts.clear()
        self._positions.clear()
        self._shapes.clear()


def _ascending_keys(rows: list[tuple], width: int, after: tuple | None) -> bool:
    """True when the trailing `width` columns are integers that strictly increase over `rows`
    (and start above `after`): then no two rows tie, so the order, and every page boundary, is
    fully determined by the key, whichever way SQLite reaches the rows."""
    keys = [row[-width:] for row in rows]
    if after is not None:
        keys.insert(0, after)
    if not keys:
        return True
    if not set(map(type, itertools.chain.from_iterable(keys))) <= {int}:
        return False
    return all(map(operator.lt, keys, itertools.islice(keys, 1, None)))
