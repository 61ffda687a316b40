"""Several record types synced at once, sharing one NetSuite client (so one concurrency budget).

    results = sync_concurrently(client, engine, RECORD_TYPES, settings=settings, mode="incremental")
    for result in iter_sync_concurrently(client, engine, ["invoice", "deposit"], settings=settings):
        ...                                  # each SyncResult as its record type finishes

Threads. Each record type runs `sync_record_type` in a thread of its own (at most `workers`, by
default the client's budget, at least 2); a full pass of a large type still reads its id ranges
in parallel inside (reading.py). Every request of every thread goes through the one client, whose
limiter never lets more than NETSUITE_CONCURRENCY requests be in flight: more threads only queue
for a slot. The pool starts the usually largest record types first (LARGEST_FIRST), so the
biggest pass does not start late and form the tail. `deletedrecord` reads alongside the others
but writes only after all of them have finished (its `before_write` waits), because it
soft-deletes rows in their tables (and an upsert would revive a row deleted under it); when one
of them failed it writes nothing. A full (or first) sync of several record types may run them in
worker processes (processes.py): a group in threads here, the other groups in processes.

Writes. Each record type commits from its own thread only (the range readers of a full pass
only fetch), and the record types write different tables and different ns_sync_state rows.
SQLite serialises the writers: `begin_write` takes the lock at BEGIN IMMEDIATE and waits up to
the busy timeout, and every transaction is one batch, so a writer waits for a few batches at
most. PostgreSQL writes in parallel. An in-memory SQLite engine (one connection per thread, or a
single shared connection) cannot be shared by threads: those run the record types one after the
other in the calling thread.

Errors. An exception in one record type does not stop the others: they finish their pass (so
each of their tables is complete with its cursor moved), `deletedrecord` writes nothing, and a
`ConcurrentSyncError` naming the failed record types is raised at the end (the first error is its
__cause__; `.errors` and `.results` hold the rest). The failed record type's committed batches
stay and its next run resumes the pass. Anything else (KeyboardInterrupt, a run being
terminated, an exception from `on_result` or from the consumer of the iterator) stops every
record type after its current batch, then propagates.

Statistics. SyncResult.requests counts the requests of that record type only (a request hook
attributes each HTTP attempt to the record type whose thread sent it); the results returned
are `ConcurrentSyncResult`s, which add its `throttled` answers and `retries`.
"""
from __future__ import annotations

import dataclasses
import logging
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from functools import cached_property
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.pool import SingletonThreadPool, StaticPool

from ns_pipelines.netsuite import ClientStats, NetSuiteClient, RequestEvent
from ns_pipelines.netsuite.suiteql import SuiteQL
from ns_pipelines.sync.processes import use_processes
from ns_pipelines.sync.runner import (
    RECORD_TYPES,
    Progress,
    SharedClock,
    SyncResult,
    sync_deletions,
    sync_record_type,
)
from ns_pipelines.sync.settings import SyncSettings

logger = logging.getLogger(__name__)

__all__ = ["ConcurrentSyncError", "ConcurrentSyncResult", "Stopped", "iter_sync_concurrently", "sync_concurrently"]

DELETIONS = "deletedrecord"
# Record types usually largest first: a thread pool starts them in this order, so the biggest
# full passes do not start late and form the tail (others keep their given order after these).
LARGEST_FIRST = ("paymentapplication", "invoice", "customerpayment")
MIN_WORKERS = 2  # even on a budget of 1: one record type writes while another waits for NetSuite


@dataclasses.dataclass
class ConcurrentSyncResult(SyncResult):
    """A SyncResult with the record type's own share of the client's statistics."""

    throttled: int = 0  # 429 answers to this record type's requests
    retries: int = 0  # attempts after the first of a call


class ConcurrentSyncError(RuntimeError):
    """One or more record types failed; the others finished their pass.

    `errors`: record type -> exception; `results`: the record types that completed;
    `skipped`: record types not run because of the failure (deletedrecord).
    """

    def __init__(self, errors: dict[str, BaseException], results: Sequence[SyncResult], skipped: Sequence[str]) -> None:
        self.errors = dict(errors)
        self.results = list(results)
        self.skipped = list(skipped)
        self.record_types = list(self.errors)
        parts = [f"{rt}: {type(exc).__name__}: {exc}" for rt, exc in self.errors.items()]
        head = f"NetSuite sync failed for {', '.join(self.record_types)}"
        tail = f" ({len(self.results)} other record type(s) completed"
        tail += f"; not run: {', '.join(self.skipped)})" if self.skipped else ")"
        super().__init__(head + tail + "\n" + "\n".join(parts))


class Stopped(Exception):
    """Raised from the progress callback to stop a record type after its current batch (not an
    error of the record type)."""


# -------------------------------------------------------------------------------------------
# One client, statistics per record type


class _Tally:
    """A request hook on the shared client that counts each HTTP attempt for the record type
    whose thread sent it (the thread-local set by _ClientView.request)."""

    def __init__(self, client: NetSuiteClient) -> None:
        self.client = client
        self.local = threading.local()

    def __enter__(self) -> "_Tally":
        self.client.add_request_hook(self)
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.remove_request_hook(self)

    def __call__(self, event: RequestEvent) -> None:
        stats: ClientStats | None = getattr(self.local, "stats", None)
        if stats is not None:
            stats.add(requests=1, retries=int(event.attempt > 1), throttled=int(event.status == 429))


class _ClientView:
    """The shared client as one record type sees it: the same session, budget, retries and
    signing (every request goes through the shared client), its own request statistics."""

    def __init__(self, client: NetSuiteClient, tally: _Tally) -> None:
        self._client = client
        self._tally = tally
        self.config = client.config
        self.limiter = client.limiter
        self.stats = ClientStats()

    @cached_property
    def suiteql(self) -> SuiteQL:
        return SuiteQL(self, row_cap=self._client.suiteql.row_cap)  # type: ignore[arg-type]

    def request(self, *args: Any, **kwargs: Any) -> Any:
        local = self._tally.local
        previous = getattr(local, "stats", None)
        local.stats = self.stats
        try:
            return self._client.request(*args, **kwargs)
        finally:
            local.stats = previous

    def stats_snapshot(self) -> dict[str, int | float]:
        data = self.stats.snapshot()
        data.update(in_flight=self.limiter.in_flight, limit=self.limiter.limit, budget=self.limiter.budget)
        return data

    def __getattr__(self, name: str) -> Any:  # anything else: the shared client's
        return getattr(self._client, name)


# -------------------------------------------------------------------------------------------
# Running


def _record_types(record_types: Iterable[str]) -> list[str]:
    wanted: list[str] = []
    for name in record_types:
        rt = str(name).strip().lower()
        if rt not in RECORD_TYPES:
            raise ValueError(f"unknown record type {name!r}; one of {', '.join(RECORD_TYPES)}")
        if rt not in wanted:
            wanted.append(rt)
    return wanted


def _largest_first(record_types: Sequence[str]) -> list[str]:
    """The record types with LARGEST_FIRST ahead of the others (each group's order kept)."""
    rank = {rt: i for i, rt in enumerate(LARGEST_FIRST)}
    return sorted(record_types, key=lambda rt: rank.get(rt, len(LARGEST_FIRST)))


def _threads_allowed(engine: Engine) -> bool:
    """False for in-memory SQLite: a connection per thread (each its own empty database) or one
    connection shared by every thread."""
    return not isinstance(engine.pool, (SingletonThreadPool, StaticPool))


class _Sync:
    def __init__(self, client: NetSuiteClient, engine: Engine, settings: SyncSettings, mode: str,
                 progress: Progress | None, run_id: str, tally: _Tally) -> None:
        self.client = client
        self.engine = engine
        self.settings = settings
        self.mode = mode
        self.progress = progress
        self.run_id = run_id
        self.tally = tally
        self.stop = threading.Event()
        self.progress_lock = threading.Lock()
        self.errors: dict[str, BaseException] = {}
        self.results: list[SyncResult] = []
        self.clock = SharedClock()  # NetSuite's newest timestamps, read once for every record type
        self.others_done = threading.Event()  # deletions may write (or, cancel_deletions, must not)
        self.cancel_deletions = False

    def wait_for_others(self) -> None:
        """deletedrecord's `before_write`: its soft deletes wait until every other record type
        has finished its pass; none are written when one failed or the sync is stopping."""
        self.others_done.wait()
        if self.cancel_deletions or self.stop.is_set():
            raise Stopped(DELETIONS)

    def start_early(self) -> tuple[ThreadPoolExecutor, Future[ConcurrentSyncResult]]:
        """deletedrecord in a thread now: it reads while the others sync, and writes after them."""
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ns-sync-deletions")
        return pool, pool.submit(self.one, DELETIONS)

    def release_deletions(self, more_errors: Mapping[str, BaseException] | None = None) -> None:
        """Every other record type has finished: the deletions may write, unless one failed."""
        self.cancel_deletions = bool(self.errors) or bool(more_errors)
        self.others_done.set()

    def finish_early(self, pool: ThreadPoolExecutor, future: Future[ConcurrentSyncResult]) -> Iterator[SyncResult]:
        """Let the early deletions write (unless a record type failed) and wait for their result."""
        if not self.others_done.is_set():
            self.release_deletions()
        try:
            result = self.finished(DELETIONS, future.result)  # None when cancelled (Stopped at the gate)
        finally:
            pool.shutdown(wait=True)
        if result is not None:
            yield result

    def tick(self, stage: str, rows: int) -> None:
        """Called by the runner after every committed batch: stop here, or report."""
        if self.stop.is_set():
            raise Stopped(stage)
        self.progress_one_at_a_time(stage, rows)

    def one(self, record_type: str) -> ConcurrentSyncResult:
        view = _ClientView(self.client, self.tally)
        client: Any = view
        if record_type == DELETIONS:
            result = sync_deletions(client, self.engine, settings=self.settings, mode=self.mode, progress=self.tick,
                                    run_id=self.run_id, before_write=self.wait_for_others, clock=self.clock)
        else:
            result = sync_record_type(client, self.engine, record_type, settings=self.settings, mode=self.mode,
                                      progress=self.tick, run_id=self.run_id, clock=self.clock)
        values = {f.name: getattr(result, f.name) for f in dataclasses.fields(SyncResult)}
        stats = view.stats.snapshot()
        return ConcurrentSyncResult(**values, throttled=int(stats["throttled"]), retries=int(stats["retries"]))

    def finished(self, record_type: str, outcome: Callable[[], ConcurrentSyncResult]) -> SyncResult | None:
        """The result, or None after recording the record type's error (the others go on)."""
        try:
            result = outcome()
        except Stopped:
            return None
        except Exception as exc:  # noqa: BLE001 - reported with the others' results at the end
            self.failed(record_type, exc)
            return None
        self.results.append(result)
        return result

    def failed(self, record_type: str, exc: BaseException) -> None:
        logger.error("NetSuite sync of %s failed: %s: %s", record_type, type(exc).__name__, exc)
        self.errors[record_type] = exc

    def inline(self, record_types: Sequence[str]) -> Iterator[SyncResult]:
        for record_type in record_types:
            result = self.finished(record_type, lambda rt=record_type: self.one(rt))
            if result is not None:
                yield result

    def in_processes(self, record_types: Sequence[str], processes: int, workers: int) -> Iterator[SyncResult]:
        """The record types in groups (processes.py): the first group in threads here, started at
        once, the others in worker processes; for a full sync larger than one core."""
        from ns_pipelines.sync.processes import LocalGroup, plan_groups, run_in_processes

        groups = plan_groups(record_types, processes)
        here = groups[0]
        local = LocalGroup(here, lambda: self.threaded(here, min(workers, len(here))), self.stop.set)
        errors: dict[str, BaseException] = {}
        try:
            for result in run_in_processes(self.client, self.engine, groups[1:], settings=self.settings,
                                           mode=self.mode, progress=self.progress_one_at_a_time, run_id=self.run_id,
                                           errors=errors, local=local, on_all_done=self.release_deletions):
                if result.record_type not in here:  # finished() has recorded those
                    self.results.append(result)
                yield result
        finally:
            for record_type, exc in errors.items():
                if record_type not in self.errors:
                    self.failed(record_type, exc)

    def progress_one_at_a_time(self, stage: str, rows: int) -> None:
        """A batch of this process's or of a worker process's, reported one call at a time (the
        caller's callback need not be thread-safe)."""
        if self.progress is not None:
            with self.progress_lock:
                self.progress(stage, rows)

    def threaded(self, record_types: Sequence[str], workers: int) -> Iterator[SyncResult]:
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ns-sync-type")
        pending: dict[Future[ConcurrentSyncResult], str] = {}
        try:
            pending.update({pool.submit(self.one, rt): rt for rt in _largest_first(record_types)})
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in sorted(done, key=lambda f: record_types.index(pending[f])):
                    result = self.finished(pending.pop(future), future.result)
                    if result is not None:
                        yield result
        finally:
            if pending:
                # An interrupt, a worker's BaseException or a closed iterator: stop every record
                # type after its current batch (committed batches stay; the next run resumes).
                self.stop.set()
            pool.shutdown(wait=True, cancel_futures=True)


def iter_sync_concurrently(client: NetSuiteClient, engine: Engine, record_types: Iterable[str], *,
                           settings: SyncSettings, mode: str = "incremental", progress: Progress | None = None,
                           run_id: str | None = None, workers: int | None = None) -> Iterator[SyncResult]:
    """Sync `record_types` at once on one client; yield each SyncResult as its record type
    finishes (deletedrecord last). Raises ConcurrentSyncError at the end if any failed.

    mode: "incremental" or "full" (targeted reads go through sync_record_type). `progress(stage,
    rows_written)` is called after every committed batch of any record type, from their threads
    but one call at a time; stages start with the record type. `workers`: record types run at
    once (default: the client's budget, at least 2).
    """
    if mode not in ("incremental", "full"):
        raise ValueError(f"sync_concurrently mode must be incremental or full, not {mode!r}")
    wanted = _record_types(record_types)
    others = [rt for rt in wanted if rt != DELETIONS]
    deletions = [rt for rt in wanted if rt == DELETIONS]
    size = workers if workers is not None else max(MIN_WORKERS, client.config.concurrency)
    threads = _threads_allowed(engine) and size > 1
    if not threads and wanted:
        logger.info("warehouse %s cannot be shared by threads: syncing record types one at a time",
                    engine.url.render_as_string(hide_password=True))

    with _Tally(client) as tally:
        sync = _Sync(client, engine, settings, mode, progress, run_id or uuid.uuid4().hex, tally)
        # Deletions read while the others sync (their first request does not wait for the slowest
        # record type) and write after them: their soft deletes land on the others' rows.
        early = sync.start_early() if deletions and others and threads else None
        try:
            for group in (others, [] if early is not None else deletions):
                if not group:
                    continue
                if sync.errors:
                    break  # deletions soft-delete into the tables of the failed record types too: not now
                if group is deletions:
                    sync.others_done.set()
                processes = use_processes(client, engine, group, settings=settings, mode=mode) \
                    if threads and group is others else 0
                if processes:
                    yield from sync.in_processes(group, processes, size)
                elif threads and len(group) > 1:
                    yield from sync.threaded(group, min(size, len(group)))
                else:
                    yield from sync.inline(group)
            if early is not None:
                yield from sync.finish_early(*early)
        finally:
            if early is not None and not sync.others_done.is_set():
                sync.cancel_deletions = True  # stopped early (an interrupt, a closed iterator)
                sync.others_done.set()
                early[0].shutdown(wait=True)
    if sync.errors:
        ran = set(sync.errors) | {r.record_type for r in sync.results}
        skipped = [rt for rt in wanted if rt not in ran]
        first = next(iter(sync.errors.values()))
        raise ConcurrentSyncError(sync.errors, sync.results, skipped) from first


def sync_concurrently(client: NetSuiteClient, engine: Engine, record_types: Iterable[str], *,
                      settings: SyncSettings, mode: str = "incremental", progress: Progress | None = None,
                      run_id: str | None = None, on_result: Callable[[SyncResult], None] | None = None,
                      workers: int | None = None) -> list[SyncResult]:
    """Sync several record types at once sharing `client` (its budget bounds the requests in
    flight across all of them); deletedrecord runs after the others. `on_result(result)` is
    called in the calling thread as each record type finishes. Returns the results in the order
    of `record_types`; raises ConcurrentSyncError if any record type failed (after the others
    finished). See the module docstring."""
    wanted = _record_types(record_types)
    results: list[SyncResult] = []
    for result in iter_sync_concurrently(client, engine, wanted, settings=settings, mode=mode,
                                         progress=progress, run_id=run_id, workers=workers):
        results.append(result)
        if on_result is not None:
            on_result(result)
    order = {rt: i for i, rt in enumerate(wanted)}
    return sorted(results, key=lambda r: order[r.record_type])
