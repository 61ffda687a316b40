"""Seconds from a record saved in NetSuite (the sandbox) to its row in the warehouse, with the
whole near-real-time path running as deployed:

    sandbox (its change notifications) -> `ns-pipelines webhook-server` -> ns_webhook_inbox
    -> Dagster daemon: netsuite_change_events_sensor -> run queue -> targeted run -> warehouse

Each part is a process of its own: the sandbox, the receiver, and `dagster-daemon run` on a
temporary DAGSTER_HOME (the daemon starts the code location's gRPC server, which launches each
run in a process). An initial sync fills the warehouse first. Then the changes are made through
the sandbox's admin API, as a UI user would, `--spacing` seconds apart (alternately an invoice's
memo and a customer's phone, each on a record of its own), and the warehouse is polled for each
new value. Printed: median, 95th percentile and max seconds, and where the time went (delivery to
the inbox, the runs' queueing and duration).

Dagster cadence (1.13): the sensor daemon evaluates sensors in a loop every 5 s at best
(dagster._daemon.sensor.MIN_INTERVAL_LOOP_TIME), so a minimum_interval below 5 s changes
nothing; the queued run coordinator dequeues every `dequeue_interval_seconds` (default 5; 1 here);
with pools enforced per run (the default), a run is not even launched until the previous one has
ended, so the bench's instance enforces them per op with one run launched ahead.
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from sqlalchemy import Engine, select

from ..dev import project_root
from .accounts import SandboxProcess
from .measured import SYNC, Job, run_measured
from .webhooks import ReceiverProcess

Echo = Callable[[str], None]

POLL_EVERY_S = 0.2
DAEMON_START_TIMEOUT_S = 300.0


def instance_config(project_yaml: str, dequeue_interval: int) -> dict:
    """The project's dagster.yaml, plus: the run queue checked every `dequeue_interval` s, and
    pools enforced per op with one run launched ahead, so that the next run's process start
    overlaps the current run (its NetSuite step then waits for the pool slot)."""
    config = yaml.safe_load(project_yaml) or {}
    config["run_coordinator"] = {"module": "dagster", "class": "QueuedRunCoordinator",
                                 "config": {"dequeue_interval_seconds": dequeue_interval}}
    pools = config.setdefault("concurrency", {}).setdefault("pools", {})
    pools.update(granularity="op", op_granularity_run_buffer=1)
    return config


@dataclass
class LatencyBenchOptions:
    changes: int = 50
    spacing: float = 1.0  # seconds between two changes
    sensor_interval: int = 5  # NS_WEBHOOK_SENSOR_INTERVAL_SECONDS
    dequeue_interval: int = 1  # the run queue's dequeue_interval_seconds
    timeout: float = 180.0  # a change not in the warehouse after this long counts as missing
    warmup_timeout: float = DAEMON_START_TIMEOUT_S
    keep: bool = False  # keep the bench's folder (logs, DAGSTER_HOME, warehouse) afterwards


@dataclass
class Change:
    number: int
    table: str  # "invoice" or "customer"
    record_id: int
    value: str
    saved_at: float = 0.0  # wall clock just before the admin call
    in_warehouse_at: float | None = None
    in_inbox_at: float | None = None

    @property
    def seconds(self) -> float | None:
        return None if self.in_warehouse_at is None else self.in_warehouse_at - self.saved_at


def _candidates(data_dir: Path, count: int) -> tuple[list[int], list[int]]:
    """Invoice and customer ids to change, each once (from the sandbox's own database)."""
    conn = sqlite3.connect(f"file:{data_dir / 'netsuite.sqlite3'}?mode=ro", uri=True)
    try:
        invoices = [r[0] for r in conn.execute(
            "SELECT id FROM \"transaction\" WHERE type = 'CustInvc' AND voided = 'F' ORDER BY id LIMIT ?", (count,))]
        customers = [r[0] for r in conn.execute(
            "SELECT id FROM customer WHERE isinactive = 'F' AND representingsubsidiary IS NULL ORDER BY id LIMIT ?",
            (count,))]
    finally:
        conn.close()
    return invoices, customers


def plan_changes(data_dir: Path, count: int, label: str) -> list[Change]:
    invoices, customers = _candidates(data_dir, count)
    plan: list[Change] = []
    for n in range(count):
        table, pool = ("invoice", invoices) if n % 2 == 0 or not customers else ("customer", customers)
        if not pool:
            raise RuntimeError("the sandbox account has too few invoices and customers")
        record_id = pool.pop(0) if len(pool) > 1 else pool[0]
        value = f"{label}-{n}" if table == "invoice" else f"+1 555 {n:04d} {label[-4:]}"
        plan.append(Change(n, table, int(record_id), value))
    return plan


def save(sandbox: SandboxProcess, change: Change) -> None:
    change.saved_at = time.time()
    if change.table == "invoice":
        sandbox.admin("PATCH", f"/records/invoice/{change.record_id}", {"memo": change.value})
    else:
        sandbox.admin("PATCH", f"/records/customer/{change.record_id}", {"phone": change.value})


class WarehouseWatcher:
    """Polls the warehouse for the changes' new values on a thread of its own."""

    def __init__(self, engine: Engine, echo: Echo, total: int) -> None:
        self.engine, self.echo, self.total = engine, echo, total
        self.pending: list[Change] = []
        self.done: list[Change] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="warehouse-watcher", daemon=True)

    def watch(self, change: Change) -> None:
        with self.lock:
            self.pending.append(change)

    def _found(self) -> set[int]:
        from ..warehouse.tables.netsuite import customers, invoices

        with self.lock:
            pending = list(self.pending)
        by_table = {"invoice": (invoices, invoices.c.memo), "customer": (customers, customers.c.phone)}
        found: set[int] = set()
        with self.engine.connect() as conn:
            for name, (table, column) in by_table.items():
                wanted = {c.record_id: c for c in pending if c.table == name}
                if wanted:
                    rows = conn.execute(select(table.c.id, column).where(table.c.id.in_(list(wanted))))
                    found |= {wanted[i].number for i, value in rows if value == wanted[i].value}
        return found

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                found = self._found()
            except Exception as exc:  # noqa: BLE001 - SQLite busy while a run writes: poll again
                sys.stderr.write(f"\n    (warehouse poll failed: {type(exc).__name__}; retrying)\n")
                found = set()
            now = time.time()
            with self.lock:
                for change in [c for c in self.pending if c.number in found]:
                    change.in_warehouse_at = now
                    self.pending.remove(change)
                    self.done.append(change)
                    sys.stderr.write(f"\r    {len(self.done):>3}/{self.total} changes in the warehouse; "
                                     f"last: {change.table} {change.record_id} after {change.seconds:.1f} s   ")
                    sys.stderr.flush()
            self.stop.wait(POLL_EVERY_S)

    def wait_all(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if not self.pending:
                    break
            time.sleep(POLL_EVERY_S)
        sys.stderr.write("\n")


class DagsterDaemon:
    """`dagster-daemon run -w workspace.yaml` on a temporary DAGSTER_HOME, in its own process group
    (its code server and run processes are stopped with it)."""

    def __init__(self, home: Path, environment: dict[str, str], dequeue_interval: int, log_path: Path) -> None:
        self.home, self.environment, self.log_path = home, environment, log_path
        self.dequeue_interval = dequeue_interval
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> "DagsterDaemon":
        self.home.mkdir(parents=True, exist_ok=True)
        config = instance_config((project_root() / "dagster.yaml").read_text(), self.dequeue_interval)
        (self.home / "dagster.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        daemon = Path(sys.executable).with_name("dagster-daemon")
        env = {**os.environ, **self.environment, "DAGSTER_HOME": str(self.home)}
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen([str(daemon), "run", "-w", "workspace.yaml"], cwd=project_root(), env=env,
                                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def __exit__(self, *exc: object) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)  # the group this object started: daemon, code server, runs
            process.wait(timeout=60)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()


@dataclass
class RunFigures:
    runs: int = 0
    failed: int = 0
    queued_s: list[float] = field(default_factory=list)  # created -> started (queue and launch)
    running_s: list[float] = field(default_factory=list)  # started -> ended (process start, the sync)


def run_figures(home: Path) -> RunFigures:
    """The sensor's runs on the bench's instance."""
    import dagster as dg

    from ..defs.webhooks.targeting import TRIGGER_TAGS

    figures = RunFigures()
    with dg.DagsterInstance.from_config(str(home)) as instance:
        for record in instance.get_run_records(dg.RunsFilter(tags=TRIGGER_TAGS)):
            figures.runs += 1
            figures.failed += record.dagster_run.status == dg.DagsterRunStatus.FAILURE
            created = record.create_timestamp.timestamp()
            if record.start_time:
                figures.queued_s.append(record.start_time - created)
                if record.end_time:
                    figures.running_s.append(record.end_time - record.start_time)
    return figures


def wait_for_runs(home: Path, timeout: float) -> int:
    """Wait until no run of the instance is queued or in progress (a run stopped by the bench's
    shutdown would count as failed); the number still unfinished at the timeout."""
    import dagster as dg

    unfinished = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
                  dg.DagsterRunStatus.STARTED]
    deadline = time.monotonic() + timeout
    with dg.DagsterInstance.from_config(str(home)) as instance:
        while True:
            left = len(instance.get_run_ids(dg.RunsFilter(statuses=unfinished)))
            if not left or time.monotonic() > deadline:
                return left
            time.sleep(1)


def _inbox_times(engine: Engine, changes: list[Change]) -> None:
    """When the receiver stored each change's event (the first one after the save)."""
    from ..warehouse.tables.inbox import webhook_inbox as t

    with engine.connect() as conn:
        for change in changes:
            saved = dt.datetime.fromtimestamp(change.saved_at - 1, dt.timezone.utc)
            first = conn.execute(select(t.c.received_at).where(
                t.c.record_type == change.table, t.c.record_id == change.record_id, t.c.received_at >= saved)
                .order_by(t.c.id).limit(1)).scalar()
            change.in_inbox_at = first.timestamp() if first is not None else None


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(-(-q * len(ordered) // 1)) - 1))]  # nearest rank


def _summary(values: list[float]) -> str:
    if not values:
        return "none"
    return (f"median {statistics.median(values):.1f} s, p95 {_percentile(values, 0.95):.1f} s, "
            f"max {max(values):.1f} s (n={len(values)})")


def report(changes: list[Change], runs: RunFigures, options: LatencyBenchOptions, echo: Echo) -> dict[str, float]:
    seconds = [c.seconds for c in changes if c.seconds is not None]
    missing = [c for c in changes if c.seconds is None]
    delivery = [c.in_inbox_at - c.saved_at for c in changes if c.in_inbox_at is not None]
    echo(f"   saved in the sandbox -> row in the warehouse: {_summary(seconds)}; target p95 < 15 s")
    if missing:
        echo(f"   NOT in the warehouse after {options.timeout:g} s: {len(missing)} change(s): "
             + ", ".join(f"{c.table} {c.record_id}" for c in missing[:10]))
    echo(f"   of which saved -> event in the inbox (sandbox notifier, receiver): {_summary(delivery)}")
    echo(f"   sensor runs: {runs.runs} ({runs.failed} failed) for {len(changes)} changes; run created -> started "
         f"(queue, launch): {_summary(runs.queued_s)}; started -> ended (process start, targeted sync): "
         f"{_summary(runs.running_s)}")
    figures = {"changes": float(len(changes)), "missing": float(len(missing))}
    if seconds:
        figures.update(median_s=statistics.median(seconds), p95_s=_percentile(seconds, 0.95), max_s=max(seconds))
    return figures


def run(options: LatencyBenchOptions, echo: Echo) -> dict[str, float]:
    """Start everything, sync, make the changes, print the figures."""
    from ..warehouse import create_warehouse_engine

    if options.changes < 1:
        raise ValueError("--changes must be at least 1")
    tmp = Path(tempfile.mkdtemp(prefix="ns-bench-latency-"))
    try:
        url = f"sqlite:///{tmp / 'warehouse.sqlite3'}"
        echo(f"Latency, sandbox save -> warehouse row: {options.changes} changes {options.spacing:g} s apart; "
             f"sensor interval {options.sensor_interval} s, run queue dequeue interval {options.dequeue_interval} s; "
             f"SQLite warehouse; logs in {tmp}")
        with SandboxProcess(tmp / "sandbox", latency_ms=0, concurrency_limit=5, budget=3) as sandbox:
            env = {**sandbox.environment, "NS_WAREHOUSE_URL": url,
                   "NS_WEBHOOK_SENSOR_INTERVAL_SECONDS": str(options.sensor_interval)}
            echo("   initial sync ...")
            initial = run_measured(Job(SYNC, env, "initial sync", url))
            echo(f"   initial sync: {initial.rows:,} rows in {initial.seconds:.1f} s")
            with ReceiverProcess(url, tmp / "receiver.log", threads=8, store_timeout=5,
                                 secret=env["NETSUITE_WEBHOOK_SECRET"], account=env["NETSUITE_ACCOUNT_ID"]) as receiver, \
                    DagsterDaemon(tmp / "dagster_home", env, options.dequeue_interval, tmp / "dagster.log"):
                sandbox.admin("PATCH", "/settings", {"notify_url": receiver.url + "/netsuite/events"})
                engine = create_warehouse_engine(url)
                try:
                    changes = _measure(sandbox, engine, options, echo, label=tmp.name)
                    _inbox_times(engine, changes)
                    left = wait_for_runs(tmp / "dagster_home", options.timeout)
                    if left:
                        echo(f"   {left} run(s) still unfinished when the daemon was stopped")
                finally:
                    engine.dispose()
            runs = run_figures(tmp / "dagster_home")
        return report(changes, runs, options, echo)
    finally:
        if options.keep:
            echo(f"   kept {tmp} (receiver.log, dagster.log, dagster_home, warehouse.sqlite3)")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def _measure(sandbox: SandboxProcess, engine: Engine, options: LatencyBenchOptions, echo: Echo,
             label: str) -> list[Change]:
    plan = plan_changes(sandbox.data_dir, options.changes + 1, label)
    warmup, changes = plan[0], plan[1:]
    echo("   warming up: one change through the whole path (daemon, code server, first run) ...")
    watcher = WarehouseWatcher(engine, echo, 1)
    watcher.thread.start()
    started = time.time()
    save(sandbox, warmup)
    watcher.watch(warmup)
    watcher.wait_all(options.warmup_timeout)
    if warmup.in_warehouse_at is None:
        watcher.stop.set()
        raise RuntimeError(f"the warm-up change did not reach the warehouse in {options.warmup_timeout:g} s "
                           "(see dagster.log in the bench's folder)")
    echo(f"   warm-up change in the warehouse after {time.time() - started:.1f} s (includes starting the daemon)")
    watcher.total, watcher.done = len(changes), []
    for change in changes:
        save(sandbox, change)
        watcher.watch(change)
        time.sleep(options.spacing)
    watcher.wait_all(options.timeout)
    watcher.stop.set()
    watcher.thread.join(5)
    return changes
