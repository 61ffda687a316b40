"""Measured runs, each in a fresh (spawned) process: a sync with `sync_all`, or the baseline that
reads the same pages and decodes them with the client but stores nothing.

A fresh process per run makes its memory and CPU time the run's own. The peak is the process's
RSS high-water mark (VmHWM), reset just before the run: ru_maxrss would not do, as Linux carries
it over from the parent's image across the spawn's exec. A full sync that runs worker processes
(sync/processes.py) counts their CPU time too, and its peak is that of the processes together
(sampled) when that is larger.
"""
from __future__ import annotations

import multiprocessing
import os
import resource
import sys
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

SYNC = "sync"
FETCH = "fetch"
PROGRESS_EVERY_S = 2.0


@dataclass(frozen=True)
class Job:
    """What a measured process runs: `kind` SYNC (into `warehouse_url`, `mode`) or FETCH."""

    kind: str
    environment: dict[str, str]
    label: str
    warehouse_url: str | None = None
    mode: str = "full"
    migrate: bool = True


@dataclass
class TypeFigures:
    record_type: str
    rows: int
    requests: int  # the fetch baseline counts pages
    seconds: float
    finished_at: float | None = None  # seconds from the start of the run (syncs only)


@dataclass
class Measured:
    """Figures of one measured run."""

    label: str
    rows: int  # NetSuite rows read
    requests: int  # HTTP requests sent
    seconds: float
    cpu_seconds: float  # user + system CPU time of the process and its worker processes during the run
    request_seconds: float  # sum of the requests' durations (slots held)
    rss_before: int  # bytes, just before the run (imports, client and engine made)
    peak_rss: int  # bytes, the peak during the run: this process's, or its and its workers' together if larger
    per_type: list[TypeFigures] = field(default_factory=list)
    sandbox_cpu_seconds: float = 0.0  # CPU time of the sandbox's process during the run (set by the caller)

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    @property
    def in_flight(self) -> float:
        """Requests in flight on average over the run."""
        return self.request_seconds / self.seconds if self.seconds else 0.0

    @property
    def request_ms(self) -> float:
        """Mean duration of a request, as the client saw it."""
        return 1000 * self.request_seconds / self.requests if self.requests else 0.0


def run_measured(job: Job) -> Measured:
    """Run `job` in a new process and return its figures (its progress goes to stderr)."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(job, sender), name=f"bench-{job.kind}")
    process.start()
    sender.close()
    try:
        outcome = receiver.recv()
    except EOFError:
        outcome = None
    process.join()
    if outcome is None:
        outcome = f"the measured process died (exit code {process.exitcode})"
    if isinstance(outcome, str):
        raise RuntimeError(f"{job.label}: {outcome}")
    return outcome


def _child(job: Job, sender: Connection) -> None:
    try:
        sender.send(_measure(job))
    except BaseException:  # noqa: BLE001 - reported by the parent
        sender.send(traceback.format_exc())
    finally:
        sender.close()


def _status_bytes(field_name: str, pid: int | str = "self") -> int:
    """A size from /proc/<pid>/status (VmRSS, VmHWM), in bytes; 0 when the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _reset_peak_rss() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")  # Linux: VmHWM := VmRSS
    except OSError:
        pass


def _cpu_seconds() -> float:
    """This process's CPU time and that of its children that have ended (a sync's worker
    processes are joined before the sync returns)."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def _tree_rss() -> int:
    """Bytes resident in this process and its live children (a sync's worker processes)."""
    total = _status_bytes("VmRSS")
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return total
    for task in tasks:
        try:
            children = Path(f"/proc/self/task/{task}/children").read_text().split()
        except OSError:
            continue
        total += sum(_status_bytes("VmRSS", pid) for pid in children)
    return total


class _TreePeak:
    """The largest RSS of the process tree, sampled every SAMPLE_S while a run goes on (the
    children's peaks between samples are missed; this process's own peak is exact, VmHWM)."""

    SAMPLE_S = 0.05

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="bench-rss", daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(self.SAMPLE_S):
            self.peak = max(self.peak, _tree_rss())

    def __enter__(self) -> "_TreePeak":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


class _Ticker:
    """Progress on stderr, at most every PROGRESS_EVERY_S: rows so far and the rate."""

    def __init__(self, label: str, what: str) -> None:
        self.label, self.what = label, what
        self.started = self.last = time.monotonic()
        self.lock = threading.Lock()

    def show(self, rows: int, *, final: bool = False) -> None:
        now = time.monotonic()
        with self.lock:
            if not final and now - self.last < PROGRESS_EVERY_S:
                return
            self.last = now
        elapsed = now - self.started
        rate = rows / elapsed if elapsed else 0.0
        sys.stderr.write(f"\r    {self.label}: {rows:>10,} {self.what} in {elapsed:6.1f} s ({rate:,.0f}/s)   "
                         + ("\n" if final else ""))
        sys.stderr.flush()


def _measure(job: Job) -> Measured:
    from ..netsuite import NetSuiteClient, NetSuiteConfig, RequestEvent
    from ..sync import SyncSettings
    from ..warehouse import create_warehouse_engine, upgrade_warehouse

    settings = SyncSettings.from_env(job.environment)
    client = NetSuiteClient(NetSuiteConfig.from_env(job.environment))
    held = [0.0]

    def on_request(event: RequestEvent) -> None:
        held[0] += event.duration_s

    client.add_request_hook(on_request)
    engine = None
    if job.kind == SYNC:
        engine = create_warehouse_engine(job.warehouse_url)
        if job.migrate:
            upgrade_warehouse(engine)
    rss_before = _status_bytes("VmRSS")
    _reset_peak_rss()
    requests_before = int(client.stats_snapshot()["requests"])
    cpu_before = _cpu_seconds()
    started = time.perf_counter()
    with _TreePeak() as tree:
        if job.kind == SYNC:
            rows, per_type = _sync(client, engine, settings, job)
        else:
            rows, per_type = _fetch(client, settings, job)
    seconds = time.perf_counter() - started
    figures = Measured(
        label=job.label, rows=rows, requests=int(client.stats_snapshot()["requests"]) - requests_before,
        seconds=seconds, cpu_seconds=_cpu_seconds() - cpu_before, request_seconds=held[0], rss_before=rss_before,
        peak_rss=max(_status_bytes("VmHWM"), tree.peak), per_type=per_type)
    client.close()
    if engine is not None:
        engine.dispose()
    return figures


def _sync(client: Any, engine: Any, settings: Any, job: Job) -> tuple[int, list[TypeFigures]]:
    from ..sync import sync_all

    ticker = _Ticker(job.label, "rows written")
    written: dict[str, int] = {}
    last_commit: dict[str, float] = {}

    def progress(stage: str, rows_written: int) -> None:
        record_type = stage.split(":", 1)[0]
        written[record_type] = rows_written  # rows_written counts per record type
        last_commit[record_type] = time.monotonic() - ticker.started
        ticker.show(sum(written.values()))

    results = sync_all(client, engine, settings=settings, mode=job.mode, progress=progress)
    ticker.show(sum(r.rows_written for r in results), final=True)
    per_type = [TypeFigures(r.record_type, r.rows_read, r.requests, r.seconds, last_commit.get(r.record_type))
                for r in results]
    return sum(r.rows_read for r in results), per_type


def _fetch(client: Any, settings: Any, job: Job) -> tuple[int, list[TypeFigures]]:
    """Every query of a full sync (SOURCES and deletedrecord), read as the sync reads them (id
    ranges in parallel where the sync does), all record types at once; rows decoded by RowDecoder."""
    from ..sync import SOURCES
    from ..sync.reading import plan_intervals, read_intervals
    from ..sync.sources import deleted_record_sources

    budget = client.config.concurrency
    ticker = _Ticker(job.label, "rows decoded")
    total = [0]
    lock = threading.Lock()

    def read(name: str, source: Any) -> TypeFigures:
        started = time.perf_counter()
        query = source.query()
        intervals = plan_intervals(client.suiteql, query, settings.ranges_for(budget) if source.parallel else 1,
                                   min_rows=settings.min_rows_per_range)
        decoder = source.decoder(settings)
        rows = pages = 0
        for _, page in read_intervals(client.suiteql, query, intervals, workers=budget, page_size=settings.page_size):
            if page is None:
                continue
            for item in page.items:
                decoder.decode(item)
            rows += len(page.items)
            pages += 1
            with lock:
                total[0] += len(page.items)
            ticker.show(total[0])
        return TypeFigures(name, rows, pages, time.perf_counter() - started)

    named = [*SOURCES.items(), *(("deletedrecord", s) for s in deleted_record_sources())]
    with ThreadPoolExecutor(max_workers=len(named), thread_name_prefix="bench-fetch") as pool:
        per_type = list(pool.map(lambda item: read(*item), named))
    ticker.show(total[0], final=True)
    return total[0], per_type
