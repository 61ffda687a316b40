"""How many change events per second the webhook receiver accepts, with none lost or duplicated,
and what it does while the warehouse is briefly unavailable.

Processes: the receiver is `ns-pipelines webhook-server` in a process of its own (as deployed);
the load comes from `--processes` sender processes (webhook_load.py: keep-alive connections,
bounded concurrency, every `--duplicate-every`th event sent twice at the same moment by two
senders, 503s and dropped connections retried until a 202).

Afterwards the inbox is compared with what was acknowledged: lost = acknowledged event ids not in
the inbox, duplicated = inbox rows beyond one per event id, unacknowledged = stored but never
answered 202 (allowed: the sender retries those; it is never the other way round).

The outage runs hold the warehouse for `--outage-seconds` during the load: on SQLite an exclusive
write lock kept longer than the receiver's busy timeout (`--store-timeout`); on PostgreSQL an
ACCESS EXCLUSIVE lock on the inbox table in another session, after terminating the receiver's
connections (pg_terminate_backend), so that it reconnects into a locked table.
"""
from __future__ import annotations

import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from .child import process_cpu_seconds, stop_process
from .sync import postgres_schema
from .webhook_load import ACCOUNT, SenderFigures, plan_sends, run_load

Echo = Callable[[str], None]

SECRET = "bench-webhook-secret"
START_TIMEOUT_S = 60.0


@dataclass
class WebhookBenchOptions:
    events: int = 20_000
    processes: int = 2  # sender processes
    concurrency: int = 32  # requests in flight at once, over all sender processes
    duplicate_every: int = 10  # every n-th event is also sent a second time, concurrently
    receiver_threads: int = 32
    store_timeout: float = 1.0  # the receiver's NS_WEBHOOK_STORE_TIMEOUT_SECONDS in these runs
    outage_seconds: float = 3.0  # 0: no outage runs
    outage_after: float = 1.0  # seconds into the load
    postgres_url: str | None = None
    sqlite: bool = True


# ------------------------------------------------------------------------------------------ receiver


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ReceiverProcess:
    """`ns-pipelines webhook-server` on a free port, its log in `log_path`."""

    def __init__(self, warehouse_url: str, log_path: Path, *, threads: int, store_timeout: float,
                 secret: str = SECRET, account: str = ACCOUNT) -> None:
        self.warehouse_url = warehouse_url
        self.log_path = log_path
        self.threads = threads
        self.store_timeout = store_timeout
        self.secret = secret
        self.account = account
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "ReceiverProcess":
        env = {**os.environ, "NS_WAREHOUSE_URL": self.warehouse_url, "NETSUITE_WEBHOOK_SECRET": self.secret,
               "NETSUITE_ACCOUNT_ID": self.account}
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "ns_pipelines.cli", "webhook-server", "--port", str(self.port),
                 "--threads", str(self.threads), "--store-timeout", str(self.store_timeout),
                 "--connection-limit", "1000"], env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:  # /health answers 200 once the inbox table is migrated
            if self.process.poll() is not None:
                raise RuntimeError(f"the receiver exited with status {self.process.returncode}; see {self.log_path}")
            try:
                if requests.get(self.url + "/health", timeout=5).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                self.__exit__()
                raise RuntimeError(f"the receiver did not become healthy in {START_TIMEOUT_S:.0f} s")
            time.sleep(0.1)

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.process.pid) if self.process else 0.0

    def __exit__(self, *exc: object) -> None:
        process, self.process = self.process, None
        stop_process(process)


# ------------------------------------------------------------------------------------------ outage


@dataclass
class Outage:
    """The warehouse made unavailable for `seconds`, `after` seconds into the load."""

    url: str
    seconds: float
    after: float  # <= 0: taken before the first request is sent
    began: float = 0.0
    ended: float = 0.0
    terminated: int = 0  # PostgreSQL: receiver connections killed at the start
    how: str = ""
    load_started: float = 0.0
    holding: threading.Event = field(default_factory=threading.Event)

    def __call__(self) -> None:
        if self.after > 0:
            time.sleep(max(0.0, self.load_started + self.after - time.time()))
        if make_url(self.url).get_backend_name() == "sqlite":
            self._sqlite()
        else:
            self._postgres()

    def _sqlite(self) -> None:
        path = make_url(self.url).database
        conn = sqlite3.connect(str(path), timeout=30, isolation_level=None)
        try:
            conn.execute("BEGIN EXCLUSIVE")
            self.began = time.time()
            self.holding.set()
            self.how = f"an exclusive write lock held {self.seconds:g} s in another process's connection"
            time.sleep(self.seconds)
            conn.execute("ROLLBACK")
            self.ended = time.time()
        finally:
            conn.close()

    def _postgres(self) -> None:
        url = make_url(self.url)
        application = url.query.get("application_name")
        engine = create_engine(url.set(query={k: v for k, v in url.query.items() if k != "application_name"}))
        try:
            with engine.connect() as conn, conn.begin():
                conn.execute(text("LOCK TABLE ns_webhook_inbox IN ACCESS EXCLUSIVE MODE"))
                self.began = time.time()
                self.holding.set()
                self.terminated = int(conn.execute(text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = :app AND pid <> pg_backend_pid()"), {"app": application}).scalar() or 0)
                self.how = (f"the receiver's {self.terminated} connection(s) terminated, then the inbox table "
                            f"locked ACCESS EXCLUSIVE for {self.seconds:g} s")
                time.sleep(self.seconds)
                conn.rollback()
                self.ended = time.time()
        finally:
            engine.dispose()


# ------------------------------------------------------------------------------------------ runs


@dataclass
class RunResult:
    label: str
    figures: SenderFigures
    duplicates_sent: int
    stored_rows: int
    stored_distinct: int
    lost: int
    duplicated: int
    unacknowledged: int
    seconds: float
    receiver_cpu: float

    @property
    def events_per_s(self) -> float:
        return len(self.figures.acknowledged) / self.seconds if self.seconds else 0.0


def _inbox_event_ids(url: str, prefix: str) -> list[str]:
    from ..warehouse import create_warehouse_engine
    from ..warehouse.tables.inbox import webhook_inbox

    engine = create_warehouse_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(select(webhook_inbox.c.event_id)
                                     .where(webhook_inbox.c.event_id.like(prefix + "%"))).scalars())
    finally:
        engine.dispose()


def measure(url: str, label: str, options: WebhookBenchOptions, workdir: Path,
            outage: Outage | None = None) -> RunResult:
    """One load run against a receiver on `url`, checked against the inbox afterwards."""
    prefix = f"bench-{uuid.uuid4().hex[:8]}-"
    log_path = workdir / f"receiver-{prefix.strip('-')}.log"
    sys.stderr.write(f"    {label}: starting the receiver and {options.processes} sender process(es), "
                     f"sending {options.events:,} events ...\n")
    with ReceiverProcess(url, log_path, threads=options.receiver_threads,
                         store_timeout=options.store_timeout) as receiver:
        cpu_before = receiver.cpu_seconds()
        helper = threading.Thread(target=outage, daemon=True, name="outage") if outage else None

        def start_outage() -> None:
            if outage is None or helper is None:
                return
            outage.load_started = time.time()
            helper.start()
            if outage.after <= 0:  # unavailable from the first request on
                outage.holding.wait(30)

        figures = run_load("127.0.0.1", receiver.port, prefix, events=options.events,
                           duplicate_every=options.duplicate_every, processes=options.processes,
                           concurrency=options.concurrency, secret=SECRET, on_ready=start_outage)
        if helper is not None:
            helper.join()
        receiver_cpu = receiver.cpu_seconds() - cpu_before
    seconds = figures.finished - figures.started
    stored = _inbox_event_ids(url, prefix)
    distinct = set(stored)
    sends = sum(len(p) for p in plan_sends(options.events, options.duplicate_every, options.processes))
    return RunResult(label=label, figures=figures, duplicates_sent=sends - options.events, stored_rows=len(stored), stored_distinct=len(distinct),
                     lost=len(figures.acknowledged - distinct), duplicated=len(stored) - len(distinct),
                     unacknowledged=len(distinct - figures.acknowledged), seconds=seconds,
                     receiver_cpu=receiver_cpu / seconds if seconds else 0.0)


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def report(result: RunResult, options: WebhookBenchOptions, echo: Echo) -> None:
    f = result.figures
    echo(f"   {result.label}: {len(f.acknowledged):,} events acknowledged in {result.seconds:.2f} s = "
         f"{result.events_per_s:,.0f} events/s ({f.requests / result.seconds:,.0f} requests/s); "
         f"duplicates sent {result.duplicates_sent:,} (acknowledged as duplicate {f.acknowledged_duplicate:,}); "
         f"lost {result.lost}, duplicated {result.duplicated}")
    echo(f"     inbox rows {result.stored_rows:,} = distinct event ids {result.stored_distinct:,}; acknowledged "
         f"{len(f.acknowledged):,}; stored but not acknowledged {result.unacknowledged}; 503 answers {f.unavailable:,}, "
         f"dropped connections {f.dropped:,}, other answers {dict(f.other) or 0}, given up {f.gave_up}")
    echo(f"     202 latency p50 {1000 * statistics.median(f.latencies or [0]):.1f} ms, p99 "
         f"{1000 * _percentile(f.latencies, 0.99):.1f} ms; receiver CPU {result.receiver_cpu:.2f} core-seconds "
         f"per second (of {os.cpu_count()})")


def report_outage(result: RunResult, outage: Outage, store_timeout: float, echo: Echo) -> None:
    f = result.figures
    # A request queued behind a failing batch is answered up to two store timeouts after the lock ends.
    during = [t for t in f.unavailable_at if outage.began <= t <= outage.ended + 2 * store_timeout + 1]
    if f.unavailable_at:
        first, last = min(f.unavailable_at) - f.started, max(f.unavailable_at) - f.started
        window = f"first 503 at +{first:.1f} s, last at +{last:.1f} s"
    else:
        window = "no 503"
    echo(f"     outage from +{outage.began - f.started:.1f} s to +{outage.ended - f.started:.1f} s: {outage.how}; "
         f"{f.unavailable:,} requests answered 503 ({len(during):,} within the outage and its timeouts; {window}) "
         f"and retried by the senders")
    verdict = "every acknowledged event is in the inbox exactly once" \
        if result.lost == 0 and result.duplicated == 0 and f.gave_up == 0 and not f.other \
        else "FAILED: events lost, duplicated or given up"
    echo(f"     after the outage: {verdict} (lost {result.lost}, duplicated {result.duplicated})")


@contextmanager
def _warehouses(options: WebhookBenchOptions, workdir: Path) -> Iterator[list[tuple[str, Callable[[], Iterator[str]]]]]:
    """(name, factory of a fresh warehouse URL) for each backend of the run."""

    @contextmanager
    def sqlite() -> Iterator[str]:
        yield f"sqlite:///{workdir / f'inbox-{uuid.uuid4().hex[:6]}.sqlite3'}"

    @contextmanager
    def postgres() -> Iterator[str]:
        assert options.postgres_url is not None
        with postgres_schema(options.postgres_url) as url:
            # A name of our own, so that the outage terminates this receiver's connections only.
            yield make_url(url).update_query_dict({"application_name": f"nsbench-{uuid.uuid4().hex[:8]}"}) \
                .render_as_string(hide_password=False)

    backends = [("SQLite", sqlite)] if options.sqlite else []
    if options.postgres_url:
        backends.append(("PostgreSQL", postgres))
    yield backends


def run(options: WebhookBenchOptions, echo: Echo) -> dict[str, RunResult]:
    """Every run: steady load per backend, then the same load with an outage; printed as it goes."""
    if options.processes < 1 or options.concurrency < options.processes or options.events < 1:
        raise ValueError("need events >= 1, processes >= 1 and concurrency >= processes")
    results: dict[str, RunResult] = {}
    threads_each = max(1, options.concurrency // options.processes)
    echo(f"Webhook receiver: {options.events:,} signed events (every {options.duplicate_every}th also sent twice, "
         f"concurrently) from {options.processes} sender process(es) x {threads_each} keep-alive connections; "
         f"receiver: waitress, {options.receiver_threads} threads, group commit; store timeout "
         f"{options.store_timeout:g} s")
    if not options.postgres_url:
        echo("   (PostgreSQL skipped: no --postgres-url / NS_TEST_POSTGRES_URL)")
    with tempfile.TemporaryDirectory(prefix="ns-bench-webhooks-") as tmp, _warehouses(options, Path(tmp)) as backends:
        workdir = Path(tmp)
        for name, fresh in backends:
            with fresh() as url:
                result = measure(url, name, options, workdir)
                report(result, options, echo)
                results[name] = result
        if options.outage_seconds > 0:
            echo(f"\nWarehouse unavailable for {options.outage_seconds:g} s during the load "
                 f"(receiver store timeout {options.store_timeout:g} s)")
            for name, fresh in backends:
                with fresh() as url:
                    outage = Outage(url, options.outage_seconds, options.outage_after)
                    result = measure(url, f"{name} with an outage", options, workdir, outage=outage)
                    report(result, options, echo)
                    report_outage(result, outage, options.store_timeout, echo)
                    results[f"{name} outage"] = result
    return results
