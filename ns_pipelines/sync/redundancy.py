"""The daily redundancy sync: compare every record's id and lastmodifieddate in NetSuite with the
warehouse, repair the drift, and report it (behaviour.md section 3).

    result = reconcile_record_type(client, engine, "invoice", settings=settings)
    result.drift.missing, result.drift.stale, result.drift.vanished     # counts
    results = reconcile_all(client, engine, settings=settings)          # every record type

Comparing. Per record type, one cheap keyset query lists `id, lastmodifieddate` (journal lines:
entry, line and both timestamps; applications: the four link keys and the link's timestamp),
paged by id, the large types over parallel id ranges within the client's budget. Each page is
compared with the warehouse rows of the same key range as it arrives, so memory stays one page
per range whatever the account's size:
- missing: NetSuite has the record, the warehouse has no live row for it;
- stale: both have it, with a different lastmodifieddate;
- vanished: the warehouse has a live row NetSuite no longer lists.

Repairing goes through the runner's targeted mode (the same reads, mapping, validation and
writes as every sync): the drifting records (documents, for lines and applications) are re-read,
and whatever NetSuite does not return is soft-deleted there, so a vanished record is confirmed
absent by a second read before it is marked. Customers of repaired documents are re-read too
(their balances follow their documents). Deletions (`deletedrecord`) are compared by
(record type, id, deleteddate); any missing one makes the deletions' full pass run. Cursors are
left alone: the repair is not a pass. A record type never synced gets its first (full) pass
first, then the comparison.
"""
from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, Table, select

from ns_pipelines.netsuite import KeysetQuery, Kind, NetSuiteClient, RowDecoder
from ns_pipelines.sync.reading import Interval, plan_intervals, read_intervals
from ns_pipelines.sync.runner import RECORD_TYPES, Progress, SyncResult, customers_of, sync_deletions, sync_record_type
from ns_pipelines.sync.settings import SyncSettings
from ns_pipelines.sync.sources import (
    DELETED_CUSTOMERS,
    DELETED_TRANSACTIONS,
    JOURNAL_LINES,
    LINKS,
    TRANSACTION_TYPE_CODES,
    datetime_sql,
)
from ns_pipelines.warehouse import TABLES_BY_RECORD_TYPE, customers, deleted_records, journal_lines, sync_state
from ns_pipelines.warehouse import payment_applications as links_table

logger = logging.getLogger(__name__)

__all__ = ["Drift", "RedundancyResult", "reconcile_all", "reconcile_record_type"]

SAMPLE_SIZE = 10  # ids kept per kind of drift, for the report

Key = tuple[int, ...]


@dataclass
class Drift:
    """What the comparison found for one record type (keys as tuples; samples are the first few)."""

    missing: int = 0
    stale: int = 0
    vanished: int = 0
    samples: dict[str, list[Any]] = field(default_factory=lambda: {"missing": [], "stale": [], "vanished": []})

    @property
    def total(self) -> int:
        return self.missing + self.stale + self.vanished

    def add(self, kind: str, key: tuple[Any, ...]) -> None:
        setattr(self, kind, getattr(self, kind) + 1)
        if len(self.samples[kind]) < SAMPLE_SIZE:
            self.samples[kind].append(key[0] if len(key) == 1 else list(key))


@dataclass
class RedundancyResult:
    """One record type's comparison and repair; reads like a SyncResult (mode "redundancy")."""

    record_type: str
    mode: str
    netsuite_rows: int  # records NetSuite listed
    warehouse_rows: int  # live warehouse rows compared
    drift: Drift
    repaired_ids: int  # records (documents) re-read to repair the drift
    customers_refreshed: int
    rows_read: int
    rows_written: int
    rows_soft_deleted: int
    pages: int
    requests: int
    seconds: float
    cursor_before: dt.datetime | None
    cursor_after: dt.datetime | None
    repair: list[SyncResult] = field(default_factory=list)


@dataclass(frozen=True)
class _Inventory:
    """How to list one record type's keys and modification times, on both sides."""

    record_type: str
    table: Table
    query: KeysetQuery
    columns: dict[str, Kind]  # decoding of the SuiteQL rows
    stamps: tuple[str, ...]  # timestamp columns of a SuiteQL row; the newest is the record's
    document_of: Callable[[Key], int]  # the id the targeted re-read takes


def _simple(record_type: str, table: Table, from_: str, where: str | None, key: str) -> _Inventory:
    alias = key.split(".")[0]
    return _Inventory(
        record_type, table,
        KeysetQuery(select=f"{key} AS id, {datetime_sql(f'{alias}.lastmodifieddate')} AS last_modified",
                    from_=from_, where=where, key=key, key_names=("id",)),
        {"id": Kind.ID, "last_modified": Kind.DATETIME}, ("last_modified",), lambda k: k[0])


def _inventories() -> dict[str, _Inventory]:
    found = {"customer": _simple("customer", customers, "customer c", None, "c.id")}
    for record_type, code in TRANSACTION_TYPE_CODES.items():
        if record_type != "journalentry":
            found[record_type] = _simple(record_type, TABLES_BY_RECORD_TYPE[record_type], "transaction t",
                                         f"t.type = '{code}'", "t.id")
    found["journalentry"] = _Inventory(
        "journalentry", journal_lines,
        KeysetQuery(select=(f"tl.transaction AS journal_entry_id, tl.id AS line_id, "
                            f"{datetime_sql('t.lastmodifieddate')} AS tran_last_modified, "
                            f"{datetime_sql('tl.linelastmodifieddate')} AS line_last_modified"),
                    from_=JOURNAL_LINES.from_, where=JOURNAL_LINES.where, key=JOURNAL_LINES.key,
                    key_names=JOURNAL_LINES.key_names),
        {"journal_entry_id": Kind.ID, "line_id": Kind.INT, "tran_last_modified": Kind.DATETIME,
         "line_last_modified": Kind.DATETIME},
        ("tran_last_modified", "line_last_modified"), lambda k: k[0])
    found["paymentapplication"] = _Inventory(
        "paymentapplication", links_table,
        KeysetQuery(select=("l.previousdoc AS previous_doc_id, l.previousline AS previous_line, "
                            "l.nextdoc AS next_doc_id, l.nextline AS next_line, "
                            f"{datetime_sql('l.lastmodifieddate')} AS last_modified"),
                    from_="nexttransactionlinelink l JOIN transaction nt ON nt.id = l.nextdoc",
                    where=LINKS.where, key=LINKS.key, key_names=LINKS.key_names),
        {"previous_doc_id": Kind.ID, "previous_line": Kind.INT, "next_doc_id": Kind.ID, "next_line": Kind.INT,
         "last_modified": Kind.DATETIME},
        ("last_modified",), lambda k: k[2])
    return found


INVENTORIES: dict[str, _Inventory] = _inventories()


def _second(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    value = value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc).replace(microsecond=0)


class _Comparison:
    """Streams NetSuite pages against the warehouse rows of the same key ranges."""

    def __init__(self, inventory: _Inventory, engine: Engine, settings: SyncSettings) -> None:
        self.inv = inventory
        self.engine = engine
        self.decoder = RowDecoder(inventory.columns, timezone=settings.zone, to_utc=True,
                                  record_type=inventory.record_type, id_column=inventory.query.key_names[0],
                                  extra="drop")
        self.key_columns = [inventory.table.c[name] for name in inventory.query.key_names]
        self.drift = Drift()
        self.documents: set[int] = set()
        self.netsuite_rows = 0
        self.warehouse_rows = 0

    def warehouse(self, after: Key | None, through: Key | None, lower: int | None,
                   upper: int | None) -> dict[Key, tuple[dt.datetime | None, bool]]:
        """Warehouse rows with after < key <= through (tuples), the first column within [lower, upper]."""
        first = self.key_columns[0]
        table = self.inv.table
        stmt = select(*self.key_columns, table.c.last_modified, table.c.is_deleted)
        low = after[0] if after is not None else lower
        high = through[0] if through is not None else upper
        if low is not None:
            stmt = stmt.where(first >= low)
        if high is not None:
            stmt = stmt.where(first <= high)
        rows: dict[Key, tuple[dt.datetime | None, bool]] = {}
        width = len(self.key_columns)
        with self.engine.connect() as conn:  # one short read per page: no transaction held open
            found = conn.execute(stmt).all()
        for row in found:
            key = tuple(int(v) for v in row[:width])
            if (after is not None and key <= after) or (through is not None and key > through):
                continue
            rows[key] = (_second(row[width]), bool(row[width + 1]))
        return rows

    def compare(self, netsuite: dict[Key, dt.datetime | None], warehouse: dict[Key, tuple[dt.datetime | None, bool]]
                ) -> None:
        self.netsuite_rows += len(netsuite)
        self.warehouse_rows += sum(1 for _, deleted in warehouse.values() if not deleted)
        for key, stamp in netsuite.items():
            have = warehouse.get(key)
            if have is None or have[1]:
                self._drift("missing", key)
            elif have[0] != stamp:
                self._drift("stale", key)
        for key, (_, deleted) in warehouse.items():
            if not deleted and key not in netsuite:
                self._drift("vanished", key)

    def _drift(self, kind: str, key: Key) -> None:
        self.drift.add(kind, key)
        self.documents.add(self.inv.document_of(key))

    def page(self, items: Sequence[dict[str, Any]], after: Key | None, lower: int | None) -> Key:
        rows: dict[Key, dt.datetime | None] = {}
        for item in items:
            decoded = self.decoder.decode(item)
            key = tuple(int(decoded[name]) for name in self.inv.query.key_names)
            stamps = [s for s in (decoded.get(c) for c in self.inv.stamps) if s is not None]
            rows[key] = _second(max(stamps)) if stamps else None
        last = max(rows)
        self.compare(rows, self.warehouse(after, last, lower, None))
        return last


def _cursor(engine: Engine, record_type: str) -> dt.datetime | None:
    with engine.connect() as conn:
        return conn.execute(select(sync_state.c.cursor_last_modified)
                            .where(sync_state.c.record_type == record_type)).scalar()


def _requests(client: NetSuiteClient) -> int:
    return int(client.stats_snapshot().get("requests", 0))


def _compare(client: NetSuiteClient, engine: Engine, inventory: _Inventory, settings: SyncSettings,
             ) -> tuple[_Comparison, int]:
    ranges = settings.ranges_for(client.config.concurrency)
    intervals: list[Interval] = plan_intervals(client.suiteql, inventory.query, ranges)
    pages = 1 if ranges > 1 else 0
    workers = min(ranges, client.config.concurrency)
    comparison = _Comparison(inventory, engine, settings)
    if not intervals:  # NetSuite lists nothing: every live warehouse row vanished
        comparison.compare({}, comparison.warehouse(None, None, None, None))
        return comparison, pages
    last: dict[int, Key | None] = {}
    # The outermost ranges reach past NetSuite's [MIN, MAX]: warehouse rows out there vanished too.
    lower_of = {i: (iv.lower if i > 0 else None) for i, iv in enumerate(intervals)}
    upper_of = {i: (iv.upper if i < len(intervals) - 1 else None) for i, iv in enumerate(intervals)}
    with closing(read_intervals(client.suiteql, inventory.query, intervals, workers=workers,
                                page_size=settings.page_size)) as stream:
        for index, page in stream:
            if page is None:
                comparison.compare({}, comparison.warehouse(last.get(index), None, lower_of[index], upper_of[index]))
                continue
            pages += 1
            if page.items:
                last[index] = comparison.page(page.items, last.get(index), lower_of[index])
    return comparison, pages


def _customers_of(engine: Engine, record_type: str, documents: Sequence[int]) -> set[int]:
    table = INVENTORIES[record_type].table
    with engine.connect() as conn:  # applications: the customer is the next document's
        return customers_of(conn, table, documents, "next_doc_id" if table is links_table else None)


def _result(record_type: str, comparison_rows: tuple[int, int], drift: Drift, repairs: list[SyncResult],
            pages: int, requests: int, started: float, cursors: tuple[dt.datetime | None, dt.datetime | None],
            listed: int, repaired_ids: int, customers_refreshed: int = 0) -> RedundancyResult:
    return RedundancyResult(
        record_type=record_type, mode="redundancy", netsuite_rows=comparison_rows[0],
        warehouse_rows=comparison_rows[1], drift=drift, repaired_ids=repaired_ids,
        customers_refreshed=customers_refreshed, rows_read=listed + sum(r.rows_read for r in repairs),
        rows_written=sum(r.rows_written for r in repairs),
        rows_soft_deleted=sum(r.rows_soft_deleted for r in repairs),
        pages=pages + sum(r.pages for r in repairs), requests=requests,
        seconds=round(time.monotonic() - started, 3), cursor_before=cursors[0], cursor_after=cursors[1],
        repair=repairs)


def _reconcile_deletions(client: NetSuiteClient, engine: Engine, settings: SyncSettings,
                         progress: Progress | None, run_id: str | None) -> RedundancyResult:
    """deletedrecord is a log (no soft deletes of its own): missing or different rows make the
    deletions' full pass run; rows NetSuite no longer lists are reported and kept."""
    started, before = time.monotonic(), _requests(client)
    repairs: list[SyncResult] = []
    cursor_before = _cursor(engine, "deletedrecord")
    if cursor_before is None:  # never synced: its first pass (see reconcile_record_type)
        repairs.append(sync_deletions(client, engine, settings=settings, progress=progress, run_id=run_id))
    netsuite: dict[tuple[str, int], dt.datetime | None] = {}
    pages = 0
    for source in (DELETED_CUSTOMERS, DELETED_TRANSACTIONS):
        decoder = source.decoder(settings)
        for page in client.suiteql.keyset_pages(source.query(), page_size=settings.page_size):
            pages += 1
            for row in source.rows(page.items, decoder, settings):
                netsuite[(row["record_type"], int(row["record_id"]))] = _second(row["deleted_at"])
    with engine.connect() as conn:
        warehouse = {(r.record_type, int(r.record_id)): _second(r.deleted_at) for r in conn.execute(
            select(deleted_records.c.record_type, deleted_records.c.record_id, deleted_records.c.deleted_at))}
    drift = Drift()
    for key, when in sorted(netsuite.items()):  # samples read ["invoice", 1234]
        if key not in warehouse:
            drift.add("missing", key)
        elif warehouse[key] != when:
            drift.add("stale", key)
    for key in sorted(set(warehouse) - set(netsuite)):
        drift.add("vanished", key)
    if drift.missing or drift.stale:
        repairs.append(sync_deletions(client, engine, settings=settings, mode="full", progress=progress,
                                      run_id=run_id))
    cursors = (cursor_before, _cursor(engine, "deletedrecord"))
    return _result("deletedrecord", (len(netsuite), len(warehouse)), drift, repairs, pages,
                   _requests(client) - before, started, cursors, len(netsuite), drift.missing + drift.stale)


def reconcile_record_type(client: NetSuiteClient, engine: Engine, record_type: str, *, settings: SyncSettings,
                          progress: Progress | None = None, run_id: str | None = None) -> RedundancyResult:
    """Compare one record type with NetSuite and repair what drifted (module docstring)."""
    record_type = record_type.strip().lower()
    if record_type not in RECORD_TYPES:
        raise ValueError(f"unknown record type {record_type!r}; one of {', '.join(RECORD_TYPES)}")
    if record_type == "deletedrecord":
        return _reconcile_deletions(client, engine, settings, progress, run_id)
    inventory = INVENTORIES[record_type]
    started, before = time.monotonic(), _requests(client)
    repairs: list[SyncResult] = []
    cursor_before = cursor = _cursor(engine, record_type)
    if cursor is None:
        # Never synced (or its first pass was interrupted): the first pass reads everything far
        # cheaper than targeted re-reads of every id would; the comparison then checks it.
        repairs.append(sync_record_type(client, engine, record_type, settings=settings, progress=progress,
                                        run_id=run_id))
        cursor = _cursor(engine, record_type)
    comparison, pages = _compare(client, engine, inventory, settings)
    drift = comparison.drift
    logger.info("%s: NetSuite %d, warehouse %d live; missing %d, stale %d, vanished %d", record_type,
                comparison.netsuite_rows, comparison.warehouse_rows, drift.missing, drift.stale, drift.vanished)
    documents = sorted(comparison.documents)
    refreshed = 0
    if documents:
        repairs.append(sync_record_type(client, engine, record_type, settings=settings, record_ids=documents,
                                        progress=progress, run_id=run_id))
        if record_type != "customer":
            # A drifting document moved its customer's balance: NetSuite's figure is re-read too.
            affected = sorted(_customers_of(engine, record_type, documents))
            if affected:
                repairs.append(sync_record_type(client, engine, "customer", settings=settings,
                                                record_ids=affected, progress=progress, run_id=run_id))
                refreshed = len(affected)
    return _result(record_type, (comparison.netsuite_rows, comparison.warehouse_rows), drift, repairs, pages,
                   _requests(client) - before, started, (cursor_before, cursor), comparison.netsuite_rows,
                   len(documents), refreshed)


def iter_reconcile(client: NetSuiteClient, engine: Engine, record_types: Sequence[str] = RECORD_TYPES, *,
                   settings: SyncSettings, progress: Progress | None = None,
                   run_id: str | None = None) -> Iterator[RedundancyResult]:
    """Each record type in RECORD_TYPES order (deletions last), one after the other on the one
    client: each comparison already reads parallel id ranges within the client's budget."""
    for record_type in [rt for rt in RECORD_TYPES if rt in set(record_types)]:
        yield reconcile_record_type(client, engine, record_type, settings=settings, progress=progress,
                                    run_id=run_id)


def reconcile_all(client: NetSuiteClient, engine: Engine, record_types: Sequence[str] = RECORD_TYPES, *,
                  settings: SyncSettings, progress: Progress | None = None,
                  run_id: str | None = None) -> list[RedundancyResult]:
    return list(iter_reconcile(client, engine, record_types, settings=settings, progress=progress, run_id=run_id))
