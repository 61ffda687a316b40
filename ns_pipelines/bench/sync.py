"""How fast and how lean the warehouse sync (`sync_all`) is against the sandbox.

Figures (printed, never asserted):
1. a full sync at the sandbox's latency (200 ms) and concurrency limit (5) as a fraction of the
   API bound, concurrency x 1,000 rows per page / latency (25,000 rows/s), with the measurements
   that explain a shortfall;
2. at zero latency, rows/s into SQLite and PostgreSQL against a baseline that reads the same pages
   and decodes them with the client, storing nothing: the pipeline's own overhead;
3. requests and seconds of an incremental sync after the same changes on a small and a large
   account (they should be close: the cost follows the changes, not the size);
4. the peak RSS of the syncing process during a full sync of a medium and a large account.

Every sync runs in a process of its own, the sandbox in another (see accounts.py, measured.py).
"""
from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from .accounts import SandboxProcess, SeedProgress, account_counts, cached_account, working_copy
from .changes import make_changes
from .measured import FETCH, SYNC, Job, Measured, run_measured

PAGE_ROWS = 1_000
MIB = 1024 * 1024

Echo = Callable[[str], None]


@dataclass
class SyncBenchOptions:
    transactions: int = 200_000  # figures 1 and 2
    latency_ms: float = 200.0
    latency_mode: str = "response"  # the sandbox's (docs/sandbox-design.md, "Latency")
    concurrency: int = 5  # the account's limit and the client's budget (NETSUITE_CONCURRENCY)
    runs: int = 3  # full syncs of figure 1; the median is the figure
    incremental_sizes: tuple[int, ...] = (10_000, 1_000_000)
    memory_sizes: tuple[int, ...] = (100_000, 1_000_000)
    changes: int = 100
    incremental_latency_ms: float = 200.0  # a second incremental run at this latency; 0: none
    cache_dir: Path = Path(".data/bench")
    postgres_url: str | None = None  # a server URL; each run gets a new schema, dropped afterwards

    @property
    def api_bound(self) -> float:
        """Rows per second the API allows: requests in flight x rows per page / latency."""
        return self.concurrency * PAGE_ROWS / (self.latency_ms / 1000)


QUICK = {"transactions": 5_000, "incremental_sizes": (1_000, 20_000), "memory_sizes": (2_000, 20_000)}


@contextmanager
def postgres_schema(server_url: str) -> Iterator[str]:
    """A new, empty schema on the server; yields a URL whose connections use it. Dropped on exit."""
    server = make_url(server_url)
    if server.drivername in ("postgresql", "postgres"):
        server = server.set(drivername="postgresql+psycopg")
    schema = f"nsbench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        options = " ".join(filter(None, [server.query.get("options"), f"-csearch_path={schema}"]))
        yield server.update_query_dict({"options": options}).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def _mib(value: int) -> str:
    return f"{value / MIB:,.0f} MiB"


def _mix(done: Counter[str]) -> str:
    return ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in done.most_common())


@dataclass
class _Bench:
    options: SyncBenchOptions
    workdir: Path
    echo: Echo
    seed_progress: SeedProgress | None
    figures: dict[str, float] = field(default_factory=dict)

    def account(self, transactions: int) -> tuple[Path, int]:
        """A working copy of the cached account, and its number of transactions."""
        pristine = cached_account(self.options.cache_dir, transactions, self.echo, self.seed_progress)
        copy = working_copy(pristine, self.workdir / f"account-{transactions}-{uuid.uuid4().hex[:6]}")
        return copy, int(account_counts(pristine).get("transaction", transactions))

    def sandbox(self, data_dir: Path, latency_ms: float) -> SandboxProcess:
        o = self.options
        return SandboxProcess(data_dir, latency_ms=latency_ms, latency_mode=o.latency_mode,
                              concurrency_limit=o.concurrency, budget=o.concurrency)

    @staticmethod
    def measure(sandbox: SandboxProcess, job: Job) -> Measured:
        """Run `job` in a process of its own, noting the sandbox's CPU time meanwhile."""
        before = sandbox.cpu_seconds()
        measured = run_measured(job)
        measured.sandbox_cpu_seconds = sandbox.cpu_seconds() - before
        return measured

    def sqlite_url(self, name: str) -> str:
        return f"sqlite:///{self.workdir / f'{name}-{uuid.uuid4().hex[:6]}.sqlite3'}"

    def copy_sqlite(self, url: str) -> str:
        """A copy of a SQLite warehouse that no process has open."""
        source = Path(make_url(url).database or "")
        copy = source.with_name(f"{source.stem}-copy-{uuid.uuid4().hex[:6]}.sqlite3")
        for suffix in ("", "-wal"):
            if Path(f"{source}{suffix}").exists():
                shutil.copyfile(f"{source}{suffix}", f"{copy}{suffix}")
        return f"sqlite:///{copy}"

    @staticmethod
    def drop_sqlite(*urls: str) -> None:
        for url in urls:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{make_url(url).database}{suffix}").unlink(missing_ok=True)

    # ------------------------------------------------------------------ figures 1 and 2
    def throughput(self) -> None:
        o = self.options
        self.echo(f"\n1. Full sync at {o.latency_ms:g} ms per request (latency mode {o.latency_mode}), "
                  f"account limit {o.concurrency}, "
                  f"NETSUITE_CONCURRENCY={o.concurrency}; API bound {o.concurrency} x {PAGE_ROWS:,} rows / "
                  f"{o.latency_ms / 1000:g} s = {o.api_bound:,.0f} rows/s")
        data_dir, count = self.account(o.transactions)
        self.echo(f"   account: {count:,} transactions")
        urls = [self.sqlite_url("zero")]
        with self.sandbox(data_dir, o.latency_ms) as sandbox:
            env = sandbox.environment
            syncs = []
            for run in range(o.runs):
                url = self.sqlite_url(f"latency-{run}")
                syncs.append(self.measure(sandbox, Job(SYNC, env, f"sync into SQLite ({run + 1}/{o.runs})", url)))
                self.drop_sqlite(url)
            fetch = self.measure(sandbox, Job(FETCH, env, "fetch + decode only"))
            self.report_bound(syncs, fetch)

            self.echo(f"\n2. Zero latency, same account ({count:,} transactions): the pipeline's own overhead")
            sandbox.set_latency(0)
            baseline = self.measure(sandbox, Job(FETCH, env, "fetch + decode only"))
            runs = [("SQLite", self.measure(sandbox, Job(SYNC, env, "sync into SQLite", urls[0])))]
            if o.postgres_url:
                with postgres_schema(o.postgres_url) as url:
                    runs.append(("PostgreSQL", self.measure(sandbox, Job(SYNC, env, "sync into PostgreSQL", url))))
            self.report_overhead(baseline, runs)
        shutil.rmtree(data_dir, ignore_errors=True)
        self.drop_sqlite(*urls)

    def report_bound(self, syncs: list[Measured], fetch: Measured) -> None:
        o = self.options
        fractions = [run.rows_per_s / o.api_bound for run in syncs]
        sync = sorted(syncs, key=lambda run: run.rows_per_s)[(len(syncs) - 1) // 2]  # the median (lower middle)
        fraction = sync.rows_per_s / o.api_bound
        self.figures.update(bound_rows_per_s=sync.rows_per_s, bound_fraction=fraction, bound_fractions=fractions,
                            bound_fetch_fraction=fetch.rows_per_s / o.api_bound)
        for number, (run, run_fraction) in enumerate(zip(syncs, fractions), 1):
            self.echo(f"   run {number}: {run.rows:,} NetSuite rows in {run.requests:,} requests, {run.seconds:.1f} s: "
                      f"{run.rows_per_s:,.0f} rows/s = {run_fraction:.3f} of the API bound; {run.request_ms:,.0f} ms "
                      f"per request, {run.in_flight:.2f} in flight")
        self.echo(f"   sync into SQLite, median of {len(syncs)}: {sync.rows_per_s:,.0f} rows/s = {fraction:.2f} of the "
                  f"API bound (target >= 0.8); lowest {min(fractions):.3f}, highest {max(fractions):.3f}")
        self.explain(sync)
        self.echo("     per record type, rows / requests / seconds (finished at): " + "; ".join(
            f"{t.record_type} {t.rows:,}/{t.requests}/{t.seconds:.1f} ({t.finished_at or 0:.1f})"
            for t in sync.per_type))
        self.echo(f"   the same pages fetched and decoded, nothing stored, every record type at once: "
                  f"{fetch.rows:,} rows in {fetch.requests:,} requests, {fetch.seconds:.1f} s: "
                  f"{fetch.rows_per_s:,.0f} rows/s = {fetch.rows_per_s / o.api_bound:.2f} of the bound")
        self.explain(fetch)

    def explain(self, run: Measured) -> None:
        """Where a run's time went: CPU of both processes, requests in flight and their duration."""
        self.echo(f"     CPU-seconds per second: the measured process (with its workers) "
                  f"{run.cpu_seconds / run.seconds:.2f}, the sandbox {run.sandbox_cpu_seconds / run.seconds:.2f} "
                  f"(of {os.cpu_count()} cores); requests in flight {run.in_flight:.2f} of {self.options.concurrency} "
                  f"on average, {run.request_ms:,.0f} ms each; "
                  f"pages {run.rows / (run.requests * PAGE_ROWS):.0%} full")
        # CPU time per row depends less on what else the machine runs than seconds do
        self.echo(f"     CPU per row: the measured process {1e6 * run.cpu_seconds / max(1, run.rows):.1f} us, the sandbox "
                  f"{1e6 * run.sandbox_cpu_seconds / max(1, run.rows):.1f} us ({1e3 * run.sandbox_cpu_seconds / max(1, run.requests):.1f} "
                  f"ms per request); load average {os.getloadavg()[0]:.1f}")

    def report_overhead(self, baseline: Measured, runs: list[tuple[str, Measured]]) -> None:
        self.figures["baseline_rows_per_s"] = baseline.rows_per_s
        self.echo(f"   fetch + decode only (baseline): {baseline.rows:,} rows in {baseline.seconds:.1f} s: "
                  f"{baseline.rows_per_s:,.0f} rows/s")
        self.explain(baseline)
        for name, run in runs:
            ratio = run.rows_per_s / baseline.rows_per_s
            self.figures[f"{name.lower()}_rows_per_s"] = run.rows_per_s
            self.figures[f"{name.lower()}_ratio"] = ratio
            self.echo(f"   sync into {name}: {run.rows:,} rows in {run.seconds:.1f} s: {run.rows_per_s:,.0f} rows/s "
                      f"= {ratio:.2f} of the baseline; {(run.seconds - baseline.seconds) / run.rows * 1e6:,.0f} us "
                      f"more per row")
            self.explain(run)

    # ------------------------------------------------------------------ figures 3 and 4
    def sizes(self) -> None:
        o = self.options
        incremental: dict[int, list[tuple[float, Measured]]] = {}
        memory: dict[int, Measured] = {}
        counts: dict[int, int] = {}
        mixes: list[Counter[str]] = []
        sizes = sorted({*o.incremental_sizes, *o.memory_sizes})
        self.echo(f"\nFigures 3 and 4, accounts of {', '.join(f'{n:,}' for n in sizes)} transactions: "
                  f"a full sync at zero latency, then {o.changes} changes and incremental syncs")
        for size in sizes:
            data_dir, counts[size] = self.account(size)
            url = self.sqlite_url(f"warehouse-{size}")
            with self.sandbox(data_dir, 0) as sandbox:
                env = sandbox.environment
                memory[size] = self.measure(sandbox, Job(SYNC, env, f"full sync, {size:,} transactions", url))
                if size in o.incremental_sizes:
                    latencies = (0.0, o.incremental_latency_ms) if o.incremental_latency_ms else (0.0,)
                    # One warehouse per latency, so that every run reads the same changes once.
                    urls = [url, *(self.copy_sqlite(url) for _ in latencies[1:])]
                    mixes.append(make_changes(sandbox, o.changes))
                    incremental[size] = []
                    for latency, run_url in zip(latencies, urls):
                        sandbox.set_latency(latency)
                        label = f"incremental, {size:,} transactions, {latency:g} ms"
                        job = Job(SYNC, env, label, run_url, mode="incremental", migrate=False)
                        incremental[size].append((latency, self.measure(sandbox, job)))
                    sandbox.set_latency(0)
                    self.drop_sqlite(*urls[1:])
            shutil.rmtree(data_dir, ignore_errors=True)
            self.drop_sqlite(url)
        self.report_incremental(incremental, counts, mixes)
        self.report_memory({n: m for n, m in memory.items() if n in o.memory_sizes}, counts)

    def report_incremental(self, runs: dict[int, list[tuple[float, Measured]]], counts: dict[int, int],
                           mixes: list[Counter[str]]) -> None:
        if not runs:
            return
        self.echo(f"\n3. Incremental sync after {self.options.changes} changes made as a UI user "
                  f"({_mix(mixes[0])}); the same changes synced at each latency")
        for size, measured in runs.items():
            self.echo(f"   {counts[size]:>9,} transactions: " + "; ".join(
                f"{latency:g} ms: {m.requests} requests ({m.request_ms:,.0f} ms each), {m.seconds:.2f} s, "
                f"{m.rows:,} rows read" for latency, m in measured))
            for latency, m in measured:
                self.figures[f"incremental_{size}_{latency:g}ms_requests"] = m.requests
                self.figures[f"incremental_{size}_{latency:g}ms_seconds"] = m.seconds
        small, large = min(runs), max(runs)
        if small != large:
            for (latency, a), (_, b) in zip(runs[small], runs[large]):
                self.echo(f"   {counts[large]:,} vs {counts[small]:,} transactions at {latency:g} ms: "
                          f"requests x{b.requests / a.requests:.2f}, seconds x{b.seconds / a.seconds:.2f}")

    def report_memory(self, runs: dict[int, Measured], counts: dict[int, int]) -> None:
        if not runs:
            return
        self.echo("\n4. Peak memory of a full sync (the syncing process with its worker processes; the sandbox runs in "
                  "another process)")
        for size, m in runs.items():
            self.figures[f"memory_{size}_peak_mib"] = m.peak_rss / MIB
            self.echo(f"   {counts[size]:>9,} transactions: {m.rows:,} rows in {m.seconds:.1f} s "
                      f"({m.rows_per_s:,.0f} rows/s); RSS before the sync {_mib(m.rss_before)}, "
                      f"peak during it {_mib(m.peak_rss)} (+{_mib(m.peak_rss - m.rss_before)})")


def run(options: SyncBenchOptions, echo: Echo, seed_progress: SeedProgress | None = None) -> dict[str, float]:
    """Run every figure and print it; returns the main figures by name."""
    options.cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ns-bench-sync-") as tmp:
        bench = _Bench(options, Path(tmp), echo, seed_progress)
        bench.throughput()
        bench.sizes()
        return bench.figures
