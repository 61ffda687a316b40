"""The sync engine: NetSuite record types into the raw netsuite_* tables, incrementally and safely.

    result = sync_record_type(client, engine, "invoice", settings=SyncSettings.from_env())
    result = sync_record_type(client, engine, "invoice", settings=s, mode="full")
    result = sync_record_type(client, engine, "invoice", settings=s, record_ids=[1234])  # targeted
    result = sync_deletions(client, engine, settings=s)

Passes and the cursor
---------------------
An incremental pass reads the rows whose modification time is at or after `cursor - overlap`
(account-local TO_TIMESTAMP literal), by keyset on the id, one page at a time. Each page is
decoded, mapped, validated and written in ONE warehouse transaction together with the pass's
position (the last key written, per id range). Rows arrive in id order, not in lastmodifieddate
order, so the cursor cannot follow the rows: it moves only when the pass completes, to the pass's
`through` timestamp, the newest NetSuite timestamp (MAX(lastmodifieddate) ...) read *before*
the pass started. Every row changed after the pass started carries a later timestamp, so the next
pass (from through - overlap) reads it, even if its id had already been passed. A pass that is
interrupted (crash, error, kill) keeps its filter, `through` and position in ns_sync_state; the
next run resumes it from the last committed key: a crash repeats work, never skips it.

The first pass of a record type (no cursor) and mode "full" read everything, the large tables
in parallel id ranges (NS_SYNC_PARALLEL_RANGES, default the client's budget) with one writer.
When a full pass completes, the rows of the table it did not rewrite (synced_at before the pass
started) no longer exist in NetSuite: they are soft-deleted (is_deleted, deleted_at; an invoice
becomes CLOSED). Deletions are otherwise applied from deletedrecord by `sync_deletions`.

Journal lines and payment applications are read again per changed document: an incremental
pass reads the journal entries (or the A/R documents) changed since the cursor, then all their
A/R lines (links), and soft-deletes the warehouse lines (links) of those documents that NetSuite
no longer returns (unapplied payments remove the link, so there is nothing else to read).
Payment applications also read the links changed since the cursor first.

Targeted mode (record_ids) reads exactly those records, plus the links of those documents (and
the A/R lines of journal entries), writes them, and never touches the cursor or a pass in
progress. Ids NetSuite does not return (deleted) are soft-deleted.

Errors: a DecodeError or SyncValidationError stops the run before the batch's transaction (so
nothing of the batch is written and the position does not move); client errors
(AuthenticationError ...) propagate unchanged; committed batches stay, with their position.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, nullcontext
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, Table, or_, select

from ns_pipelines.netsuite import KeysetQuery, NetSuiteClient, Page, RowDecoder
from ns_pipelines.sync.reading import Interval, plan_intervals, read_intervals
from ns_pipelines.sync.settings import SyncSettings
from ns_pipelines.sync.sources import (
    CUSTOMER,
    DELETED_CUSTOMERS,
    DELETED_TRANSACTIONS,
    JOURNAL_LINES,
    LINKS,
    SOURCES,
    TRANSACTION_TYPE_CODES,
    DocumentSource,
    RecordSource,
    account_timestamp,
    documents_source,
    newest_timestamp,
)
from ns_pipelines.sync.validation import validate_batch
from ns_pipelines.warehouse import (
    TABLES_BY_RECORD_TYPE,
    begin_write,
    customers,
    journal_lines,
    payment_applications,
    prepare_upsert,
    soft_delete,
    soft_delete_each,
)
from ns_pipelines.warehouse.sync_state import PassWindow, read_pass_state, write_pass_state

logger = logging.getLogger(__name__)

__all__ = ["MODES", "RECORD_TYPES", "Progress", "SharedClock", "SyncResult", "sync_all", "sync_deletions",
           "sync_record_type"]

RECORD_TYPES: tuple[str, ...] = (
    "customer", "invoice", "customerpayment", "creditmemo", "customerrefund", "deposit", "journalentry",
    "paymentapplication", "deletedrecord",
)
MODES: tuple[str, ...] = ("incremental", "full", "targeted")
TARGETED_CHUNK = 500  # ids per IN (...) list of a targeted read (SuiteQL allows 1000)
_WAREHOUSE_IN_CHUNK = 400  # ids per IN (...) list on the warehouse (SQLite's variable limit)

Progress = Callable[[str, int], None]


class SharedClock:
    """NetSuite's newest timestamps (the `clock` queries: MAX(lastmodifieddate) ...), read once
    per query text for every record type of one sync. A pass's `through` must be read before the
    pass starts; read at the start of the sync it is earlier still, which only makes the next
    incremental pass reread a little more. Most record types share one query (the transaction
    table's): a sync of all of them asks it once, not seven times."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, threading.Event | list[Any]] = {}

    def read(self, client: NetSuiteClient, query: str) -> list[Any]:
        with self._lock:
            value = self._values.get(query)
            if value is None:
                self._values[query] = ready = threading.Event()
        if value is None:
            try:
                stamps = [row.get("m") for row in client.suiteql.query(query)]
            except BaseException:
                with self._lock:
                    del self._values[query]
                ready.set()
                raise
            with self._lock:
                self._values[query] = stamps
            ready.set()
            return stamps
        if isinstance(value, threading.Event):
            value.wait()
            return self.read(client, query)  # read by the other record type, or failed there: try again
        return value


@dataclass
class SyncResult:
    record_type: str
    mode: str  # "incremental" | "full" | "targeted" (a first sync reports "full")
    rows_read: int
    rows_written: int
    rows_soft_deleted: int
    pages: int
    requests: int
    seconds: float
    cursor_before: dt.datetime | None
    cursor_after: dt.datetime | None
    resumed: bool = False  # an interrupted pass was resumed
    run_id: str | None = None


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _chunks(values: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


# -------------------------------------------------------------------------------------------
# Persisted pass state (ns_sync_state.window_*)


@dataclass
class _Window:
    mode: str
    since: dt.datetime | None
    through: dt.datetime | None
    opened_at: dt.datetime
    stream: int = 0
    intervals: list[Interval] | None = None

    def position(self) -> str:
        return json.dumps({"stream": self.stream,
                           "intervals": None if self.intervals is None else [i.to_json() for i in self.intervals]})

    def last_id(self) -> int | None:
        keys = [i.after[0] for i in self.intervals or () if i.after]
        return max(keys) if keys else None


@dataclass
class _State:
    cursor: dt.datetime | None
    window: _Window | None


def _load_state(engine: Engine, record_type: str) -> _State:
    with engine.connect() as conn:
        state = read_pass_state(conn, record_type)
    stored = state.window
    if stored is None:
        return _State(state.cursor, None)
    position = json.loads(stored.position or "{}")
    intervals = position.get("intervals")
    window = _Window(mode=stored.mode, since=stored.since, through=stored.through, opened_at=stored.opened_at,
                     stream=int(position.get("stream") or 0),
                     intervals=[Interval.from_json(i) for i in intervals] if intervals is not None else None)
    return _State(state.cursor, window)


def _save_state(conn: Connection, record_type: str, *, cursor: dt.datetime | None, window: _Window | None,
                mode: str, rows: int, run_id: str) -> None:
    """The cursor and the pass in progress (None: no pass), in the caller's transaction."""
    stored = None if window is None else PassWindow(mode=window.mode, since=window.since, through=window.through,
                                                    opened_at=window.opened_at, position=window.position())
    write_pass_state(conn, record_type, cursor=cursor, window=stored, mode=mode, rows=rows, run_id=run_id,
                     last_id=window.last_id() if window else None)


# -------------------------------------------------------------------------------------------
# A run


@dataclass
class _Batch:
    upserts: list[tuple[Table, str, list[dict[str, Any]]]] = field(default_factory=list)  # (table, record type, rows)
    after_write: Callable[[Connection], int] | None = None  # soft deletes, same transaction
    rows_read: int = 0


class _Run:
    def __init__(self, client: NetSuiteClient, engine: Engine, record_type: str, settings: SyncSettings,
                 progress: Progress | None, run_id: str | None) -> None:
        self.client = client
        self.engine = engine
        self.record_type = record_type
        self.settings = settings
        self.progress = progress
        self.run_id = run_id or uuid.uuid4().hex
        self.rows_read = 0
        self.rows_written = 0
        self.rows_soft_deleted = 0
        self.pages = 0
        self.started = time.monotonic()
        self.requests_before = self._requests()
        self._decoders: dict[int, RowDecoder] = {}
        self.before_write: Callable[[], None] | None = None  # called (once) before the first batch is written

    def _requests(self) -> int:
        try:
            return int(self.client.stats_snapshot().get("requests", 0))
        except Exception:  # noqa: BLE001 - statistics are best effort
            return 0

    def decoder(self, source: RecordSource | DocumentSource) -> RowDecoder:
        key = id(source)
        if key not in self._decoders:
            self._decoders[key] = source.decoder(self.settings)
        return self._decoders[key]

    @property
    def page_size(self) -> int:
        return self.settings.page_size

    def read_all(self, query: KeysetQuery) -> list[dict[str, Any]]:
        """Every row of a (small: one batch of documents) keyset query."""
        items: list[dict[str, Any]] = []
        for page in self.client.suiteql.keyset_pages(query, page_size=self.page_size):
            self.pages += 1
            items.extend(page.items)
        self.rows_read += len(items)
        return items

    def gate(self) -> None:
        """Before the run's first write: `before_write`, once."""
        if self.before_write is not None:
            before, self.before_write = self.before_write, None
            before()

    def commit(self, batch: _Batch, state: Callable[[Connection, int], None] | None, stage: str) -> None:
        """Validate, then write the batch (and the state) in one transaction."""
        for table, record_type, rows in batch.upserts:
            validate_batch(table, rows, record_type=record_type)
        # converted before the transaction: SQLite's one write lock is held only while writing
        prepared = [prepare_upsert(self.engine.dialect, table, rows) for table, _, rows in batch.upserts if rows]
        self.gate()
        with begin_write(self.engine) as conn:
            written = sum(upsert.execute(conn) for upsert in prepared)
            deleted = batch.after_write(conn) if batch.after_write is not None else 0
            if state is not None:
                state(conn, written)
        self.rows_written += written
        self.rows_soft_deleted += deleted
        if self.progress is not None:
            self.progress(stage, self.rows_written)

    def result(self, mode: str, cursor_before: dt.datetime | None, cursor_after: dt.datetime | None,
               resumed: bool = False) -> SyncResult:
        return SyncResult(
            record_type=self.record_type, mode=mode, rows_read=self.rows_read, rows_written=self.rows_written,
            rows_soft_deleted=self.rows_soft_deleted, pages=self.pages,
            requests=max(0, self._requests() - self.requests_before),
            seconds=round(time.monotonic() - self.started, 3), cursor_before=cursor_before,
            cursor_after=cursor_after, resumed=resumed, run_id=self.run_id)


# -------------------------------------------------------------------------------------------
# Soft deletes


def _key_of(table: Table, row: Any) -> Any:
    names = [c.name for c in table.primary_key.columns]
    values = tuple(row[n] for n in names)
    return values[0] if len(values) == 1 else values


def _vanished(conn: Connection, table: Table, doc_columns: Sequence[str], docs: dict[int, dt.datetime | None],
              returned: set[Any], default_at: dt.datetime) -> int:
    """Soft-delete the live rows of `table` that belong to `docs` (by any of `doc_columns`) and
    are not among the keys NetSuite `returned`. deleted_at: the document's lastmodifieddate."""
    pk = list(table.primary_key.columns)
    doc_cols = [table.c[c] for c in doc_columns]
    marked = 0
    by_when: dict[dt.datetime, list[Any]] = defaultdict(list)
    ids = list(docs)
    for chunk in _chunks(ids, _WAREHOUSE_IN_CHUNK // max(1, len(doc_cols))):
        stmt = select(*pk, *[c.label(f"_doc_{i}") for i, c in enumerate(doc_cols)]).where(
            or_(*[c.in_(chunk) for c in doc_cols]), table.c.is_deleted.is_(False))
        for row in conn.execute(stmt).mappings():
            key = _key_of(table, row)
            if key in returned:
                continue
            stamps = [docs.get(row[f"_doc_{i}"]) for i in range(len(doc_cols))]
            stamps = [s for s in stamps if s is not None]
            by_when[max(stamps) if stamps else default_at].append(key)
    for when, keys in by_when.items():
        marked += soft_delete(conn, table, keys, when)
    return marked


def _missing_after_full(conn: Connection, table: Table, opened_at: dt.datetime, deleted_at: dt.datetime) -> int:
    """After a complete full pass: live rows it did not rewrite are gone from NetSuite."""
    pk = list(table.primary_key.columns)
    stmt = select(*pk).where(table.c.synced_at < opened_at, table.c.is_deleted.is_(False))
    keys = [_key_of(table, row) for row in conn.execute(stmt).mappings()]
    if keys:
        logger.info("%s: %d rows no longer in NetSuite after a full pass; marked deleted", table.name, len(keys))
    return soft_delete(conn, table, keys, deleted_at) if keys else 0


# -------------------------------------------------------------------------------------------
# Streams: one keyset query each; a pass runs its streams in order


class _Stream:
    name: str
    parallel: bool = False

    def query(self) -> KeysetQuery:
        raise NotImplementedError

    def batch(self, run: _Run, page: Page) -> _Batch:
        raise NotImplementedError


@dataclass
class _RowsStream(_Stream):
    """Rows of one source: every row, or those changed since a literal."""

    name: str
    source: RecordSource
    since: str | None
    parallel: bool = False

    def query(self) -> KeysetQuery:
        return self.source.query(since=self.since)

    def batch(self, run: _Run, page: Page) -> _Batch:
        rows = self.source.rows(page.items, run.decoder(self.source), run.settings)
        return _Batch(upserts=[(self.source.table, self.source.record_type, rows)], rows_read=len(page.items))


@dataclass
class _Child:
    source: RecordSource
    doc_columns: tuple[str, ...]  # warehouse columns naming the document


JOURNAL_CHILD = _Child(JOURNAL_LINES, ("journal_entry_id",))
LINKS_CHILD = _Child(LINKS, ("previous_doc_id", "next_doc_id"))


def _document_batch(run: _Run, docs: dict[int, dt.datetime | None], children: Sequence[_Child],
                    batch: _Batch | None = None) -> _Batch:
    """All child rows (A/R lines, links) of `docs`, and the soft delete of those that vanished."""
    batch = batch or _Batch()
    if not docs:
        return batch
    vanish: list[tuple[_Child, set[Any]]] = []
    for child in children:
        items = run.read_all(child.source.query(documents=sorted(docs)))
        rows = child.source.rows(items, run.decoder(child.source), run.settings)
        batch.upserts.append((child.source.table, child.source.record_type, rows))
        vanish.append((child, {_key_of(child.source.table, r) for r in rows}))
    previous = batch.after_write
    now = _utcnow()

    def after_write(conn: Connection) -> int:
        marked = previous(conn) if previous is not None else 0
        for child, returned in vanish:
            marked += _vanished(conn, child.source.table, child.doc_columns, docs, returned, now)
        return marked

    batch.after_write = after_write
    return batch


@dataclass
class _DocumentsStream(_Stream):
    """Documents changed since a literal; each page of documents is one batch of their children."""

    name: str
    documents: DocumentSource
    since: str | None
    children: tuple[_Child, ...]
    parallel: bool = False

    def query(self) -> KeysetQuery:
        return self.documents.query(since=self.since)

    def batch(self, run: _Run, page: Page) -> _Batch:
        decoder = run.decoder(self.documents)
        docs = {row["id"]: row["last_modified"] for row in (decoder.decode(i) for i in page.items)}
        return _document_batch(run, docs, self.children, _Batch(rows_read=len(page.items)))


def customers_of(conn: Connection, table: Table, document_ids: Sequence[int], column: str | None = None) -> set[int]:
    """Customers of the warehouse rows (deleted ones too) of these documents: their balances in
    NetSuite move with the documents. `column` names the document; by default the table's id
    (journal lines: journal_entry_id)."""
    doc = table.c[column] if column else (table.c.journal_entry_id if table is journal_lines else table.c.id)
    found: set[int] = set()
    for chunk in _chunks(sorted(document_ids), _WAREHOUSE_IN_CHUNK):
        stmt = select(table.c.customer_id).where(doc.in_(chunk), table.c.customer_id.is_not(None)).distinct()
        found.update(int(v) for v in conn.execute(stmt).scalars())
    return found


def _affected_customers(conn: Connection, transaction_ids: Sequence[int]) -> set[int]:
    """Customers of (warehouse copies of) transactions: their balances change when those go."""
    found: set[int] = set()
    for record_type in TRANSACTION_TYPE_CODES:
        found |= customers_of(conn, TABLES_BY_RECORD_TYPE[record_type], transaction_ids)
    return found


@dataclass
class _DeletionsStream(_RowsStream):
    """deletedrecord rows: stored, and applied as soft deletes in the record's table."""

    def batch(self, run: _Run, page: Page) -> _Batch:
        batch = super().batch(run, page)  # the rows into netsuite_deleted_records
        rows = batch.upserts[0][2]
        transaction_ids = [r["record_id"] for r in rows if r["record_type"] in TRANSACTION_TYPE_CODES]
        if transaction_ids:
            # A deleted transaction changes its customer's balance without touching the customer
            # or any other record: read those customers again, in the same batch.
            with run.engine.connect() as conn:
                affected = sorted(_affected_customers(conn, transaction_ids))
            refreshed: list[dict[str, Any]] = []
            for chunk in _chunks(affected, TARGETED_CHUNK):
                items = run.read_all(CUSTOMER.query(documents=chunk))
                refreshed.extend(CUSTOMER.rows(items, run.decoder(CUSTOMER), run.settings))
            if refreshed:
                batch.upserts.append((customers, "customer", refreshed))

        def after_write(conn: Connection) -> int:
            marked = 0
            by_type: dict[str, dict[int, dt.datetime]] = defaultdict(dict)
            for row in rows:
                by_type[row["record_type"]][row["record_id"]] = row["deleted_at"]
            for record_type, deleted_at_by_id in by_type.items():
                table = TABLES_BY_RECORD_TYPE.get(record_type)
                if table is None:
                    continue
                column = "journal_entry_id" if table is journal_lines else None
                marked += soft_delete_each(conn, table, deleted_at_by_id, column=column)
                if record_type in TRANSACTION_TYPE_CODES:
                    for column in ("previous_doc_id", "next_doc_id"):
                        marked += soft_delete_each(conn, payment_applications, deleted_at_by_id, column=column)
            return marked

        batch.after_write = after_write
        return batch


def _streams(record_type: str, mode: str, since: str | None) -> list[_Stream]:
    full = mode == "full"
    if record_type == "deletedrecord":
        return [_DeletionsStream("deletedrecord:customers", DELETED_CUSTOMERS, since),
                _DeletionsStream("deletedrecord:transactions", DELETED_TRANSACTIONS, since)]
    if record_type == "journalentry":
        if full:
            return [_RowsStream("journalentry:lines", JOURNAL_LINES, None, parallel=True)]
        return [_DocumentsStream("journalentry:entries", documents_source(("Journal",)), since, (JOURNAL_CHILD,))]
    if record_type == "paymentapplication":
        if full:
            return [_RowsStream("paymentapplication:links", LINKS, None, parallel=True)]
        return [_RowsStream("paymentapplication:links", LINKS, since),
                _DocumentsStream("paymentapplication:documents", documents_source(), since, (LINKS_CHILD,))]
    source = SOURCES[record_type]
    return [_RowsStream(record_type, source, since, parallel=full and source.parallel)]


def _literal(since: dt.datetime | None, settings: SyncSettings) -> str | None:
    """A window's lower bound as a SuiteQL timestamp literal in the account's zone."""
    return account_timestamp(since, settings.zone) if since is not None else None


def _clock_queries(record_type: str) -> tuple[str, ...]:
    if record_type == "deletedrecord":
        return DELETED_TRANSACTIONS.clock
    return SOURCES[record_type].clock


# -------------------------------------------------------------------------------------------
# Windowed passes (incremental, full)


def _run_pass(client: NetSuiteClient, engine: Engine, record_type: str, *, settings: SyncSettings, mode: str,
              progress: Progress | None, run_id: str | None,
              before_write: Callable[[], None] | None = None, clock: SharedClock | None = None) -> SyncResult:
    run = _Run(client, engine, record_type, settings, progress, run_id)
    run.before_write = before_write
    state = _load_state(engine, record_type)
    cursor = state.cursor
    window = state.window
    resumed = window is not None and (mode == "incremental" or window.mode == mode)
    if resumed:
        assert window is not None
        logger.info("%s: resuming the %s pass started at %s (stream %d)", record_type, window.mode,
                    window.opened_at.isoformat(), window.stream)
        streams = _streams(record_type, window.mode, _literal(window.since, settings))
    else:
        effective = "full" if mode == "full" or cursor is None else "incremental"
        since = None if effective == "full" else cursor - settings.overlap  # type: ignore[operator]
        streams = _streams(record_type, effective, _literal(since, settings))
    workers = min(settings.ranges_for(client.config.concurrency), client.config.concurrency)
    queries = [stream.query() for stream in streams]

    def ranges_of(index: int) -> int:
        return settings.ranges_for(client.config.concurrency) if streams[index].parallel else 1

    def plan_new(index: int) -> list[Interval]:
        """The stream's intervals (a bounds query, not counted in run.pages: the caller counts)."""
        return plan_intervals(client.suiteql, queries[index], ranges_of(index), min_rows=settings.min_rows_per_range)

    def plan(index: int) -> list[Interval]:
        assert window is not None
        if index != window.stream or window.intervals is None:
            if ranges_of(index) > 1:
                run.pages += 1  # the bounds query
            return plan_new(index)
        return window.intervals

    if not resumed:
        queries_of_clock = _clock_queries(record_type)

        def read_clock() -> list[Any]:
            if clock is None:
                run.pages += len(queries_of_clock)
                return [row.get("m") for q in queries_of_clock for row in client.suiteql.query(q)]
            return [stamp for q in queries_of_clock for stamp in clock.read(client, q)]

        # The first stream's id ranges (a bounds query) while the clock is read: neither reads rows,
        # so the order between them does not matter; the rows are read after both.
        if ranges_of(0) > 1:
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ns-sync-bounds") as pool:
                planned = pool.submit(plan_new, 0)
                stamps = read_clock()
                first_intervals: list[Interval] | None = planned.result()
            run.pages += 1
        else:
            stamps, first_intervals = read_clock(), None
        window = _Window(mode=effective, since=since, through=newest_timestamp(stamps, settings.zone),
                         opened_at=_utcnow(), intervals=first_intervals)
        if before_write is None:  # else the first (gated) write saves it: a pass stopped before it wrote nothing
            with begin_write(engine) as conn:
                _save_state(conn, record_type, cursor=cursor, window=window, mode=effective, rows=0,
                            run_id=run.run_id)
    assert window is not None

    def read(index: int, intervals: list[Interval]) -> Iterator[tuple[int, Page | None]]:
        return read_intervals(client.suiteql, queries[index], intervals, workers=workers,
                              page_size=settings.page_size)

    # A pass whose writes wait (deletions during a concurrent sync) reads every stream first, so
    # that what is left once it may write is writing; deletions are few.
    prefetched: dict[int, tuple[list[Interval], list[tuple[int, Page | None]]]] = {}
    if before_write is not None:
        for index in range(window.stream, len(streams)):
            intervals = plan(index)
            prefetched[index] = (intervals, list(read(index, intervals)))

    for index in range(window.stream, len(streams)):
        stream, query = streams[index], queries[index]
        intervals, ready = prefetched[index] if index in prefetched else (plan(index), None)
        window.stream, window.intervals = index, intervals
        current = window

        def save(conn: Connection, written: int) -> None:
            _save_state(conn, record_type, cursor=cursor, window=current, mode=current.mode, rows=written,
                        run_id=run.run_id)

        # closing(): an error in a batch stops the reader threads now, not when the traceback goes
        with closing(read(index, intervals)) if ready is None else nullcontext(iter(ready)) as pages:
            for position, page in pages:
                if page is None:
                    intervals[position].done = True
                    continue
                run.pages += 1
                run.gate()  # a batch reads the warehouse too (deletions: the customers of deleted documents)
                batch = stream.batch(run, page)
                run.rows_read += batch.rows_read
                intervals[position].after = query_key(query, page.items[-1])
                run.commit(batch, save, stream.name)
        window.stream, window.intervals = index + 1, None
        run.gate()
        with begin_write(engine) as conn:
            save(conn, 0)

    # The pass is complete: move the cursor; a full pass marks what NetSuite no longer has.
    cursor_after = max([c for c in (cursor, window.through) if c is not None], default=None)
    finished = window

    def finish(conn: Connection) -> int:
        marked = 0
        table = SOURCES[record_type].table if record_type in SOURCES else None
        if finished.mode == "full" and table is not None:
            marked = _missing_after_full(conn, table, finished.opened_at, finished.opened_at)
        _save_state(conn, record_type, cursor=cursor_after, window=None, mode=finished.mode, rows=0, run_id=run.run_id)
        return marked

    run.commit(_Batch(after_write=finish), None, f"{record_type}:done")
    return run.result(finished.mode, cursor, cursor_after, resumed)


def query_key(query: KeysetQuery, row: dict[str, Any]) -> tuple[int, ...]:
    return tuple(int(str(row[name]).split(".")[0]) for name in query.result_keys)


# -------------------------------------------------------------------------------------------
# Targeted reads


def _run_targeted(client: NetSuiteClient, engine: Engine, record_type: str, record_ids: Sequence[int], *,
                  settings: SyncSettings, progress: Progress | None, run_id: str | None) -> SyncResult:
    if record_type == "deletedrecord":
        raise ValueError("deletedrecord has no targeted mode: run sync_deletions")
    run = _Run(client, engine, record_type, settings, progress, run_id)
    cursor = _load_state(engine, record_type).cursor
    ids = sorted({int(i) for i in record_ids})
    for chunk in _chunks(ids, TARGETED_CHUNK):
        batch = _Batch()
        docs: dict[int, dt.datetime | None] = {}
        if record_type in SOURCES and record_type not in ("journalentry", "paymentapplication"):
            source = SOURCES[record_type]
            items = run.read_all(source.query(documents=chunk))
            rows = source.rows(items, run.decoder(source), run.settings)
            batch.upserts.append((source.table, record_type, rows))
            found = {r["id"]: r["last_modified"] for r in rows}
            missing = [i for i in chunk if i not in found]
            now = _utcnow()
            table = source.table
            batch.after_write = (lambda conn, table=table, missing=missing, now=now:
                                 soft_delete(conn, table, missing, now) if missing else 0)
            if record_type != "customer":
                docs = {i: found.get(i) for i in chunk}
        else:
            documents = documents_source(("Journal",)) if record_type == "journalentry" else documents_source()
            found_docs = {r["id"]: r["last_modified"] for r in (
                run.decoder(documents).decode(i) for i in run.read_all(documents.query(documents=chunk)))}
            docs = {i: found_docs.get(i) for i in chunk}
        children = {"customer": (), "journalentry": (JOURNAL_CHILD, LINKS_CHILD)}.get(record_type, (LINKS_CHILD,))
        if children:
            _document_batch(run, docs, children, batch)
        run.commit(batch, None, f"{record_type}:targeted")
    return run.result("targeted", cursor, cursor)


# -------------------------------------------------------------------------------------------
# Public API


def sync_record_type(client: NetSuiteClient, engine: Engine, record_type: str, *, settings: SyncSettings,
                     mode: str = "incremental", record_ids: Sequence[int] | None = None,
                     progress: Progress | None = None, run_id: str | None = None,
                     clock: SharedClock | None = None) -> SyncResult:
    """Sync one record type (RECORD_TYPES) into its raw table.

    mode "incremental" (default; the first run reads everything), "full" (read everything, mark
    deleted what NetSuite no longer has) or "targeted" (`record_ids` given: exactly those
    records and their links; the cursor is not touched). `progress(stage, rows_written)` is
    called after every committed batch; an exception it raises stops the run there (committed
    batches stay and the next run resumes after them). `clock`: NetSuite's newest timestamps
    shared by the record types of one sync (sync_concurrently passes one).
    """
    record_type = record_type.strip().lower()
    if record_type not in RECORD_TYPES:
        raise ValueError(f"unknown record type {record_type!r}; one of {', '.join(RECORD_TYPES)}")
    if record_ids is not None or mode == "targeted":
        if record_ids is None:
            raise ValueError("targeted mode needs record_ids")
        return _run_targeted(client, engine, record_type, record_ids, settings=settings, progress=progress,
                             run_id=run_id)
    if mode not in ("incremental", "full"):
        raise ValueError(f"unknown sync mode {mode!r}; one of {', '.join(MODES)}")
    return _run_pass(client, engine, record_type, settings=settings, mode=mode, progress=progress, run_id=run_id,
                     clock=clock)


def sync_deletions(client: NetSuiteClient, engine: Engine, *, settings: SyncSettings, mode: str = "incremental",
                   progress: Progress | None = None, run_id: str | None = None,
                   before_write: Callable[[], None] | None = None, clock: SharedClock | None = None) -> SyncResult:
    """Read deletedrecord by deleteddate (own cursor, overlap), store the rows in
    netsuite_deleted_records and soft-delete the records (and links, journal lines) they name.

    `before_write()` is called before the first batch is written (only the pass's own state is
    written before it): sync_concurrently reads deletions while the other record types sync and
    holds their soft deletes there until those have finished (or raises there to stop)."""
    if mode not in ("incremental", "full"):
        raise ValueError(f"sync_deletions mode must be incremental or full, not {mode!r}")
    return _run_pass(client, engine, "deletedrecord", settings=settings, mode=mode, progress=progress, run_id=run_id,
                     before_write=before_write, clock=clock)


def sync_all(client: NetSuiteClient, engine: Engine, *, settings: SyncSettings, mode: str = "incremental",
             progress: Progress | None = None, run_id: str | None = None) -> list[SyncResult]:
    """Every record type, concurrently on the one client (its budget), deletions after the others
    (sync/concurrent.py); the results in RECORD_TYPES order. A failure in a record type lets the
    others finish, then raises ConcurrentSyncError naming it."""
    from ns_pipelines.sync.concurrent import sync_concurrently

    return sync_concurrently(client, engine, RECORD_TYPES, settings=settings, mode=mode, progress=progress,
                             run_id=run_id)
