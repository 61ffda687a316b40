"""The production profile (deploy/production/dagster.yaml) with a real `dagster-daemon run`.

A DAGSTER_HOME holding the profile, on a fresh PostgreSQL database; a tiny NetSuite sandbox; a
PostgreSQL warehouse schema; runs of `netsuite_sync_job` submitted with `dagster job launch -w
workspace.yaml` (the run coordinator queues them) and a `dagster-daemon run -w workspace.yaml`
subprocess that must dequeue and launch them (DefaultRunLauncher: a run process per run).

It proves that:
1. a run submitted while no daemon runs stays QUEUED, and the daemon started afterwards dequeues
   it, launches it and it succeeds (its rows are in the warehouse);
2. runs queued together all succeed, and their `netsuite_raw_tables` steps (pool `netsuite_api`,
   limit 1 from the profile's `pools.default_limit`) never run at the same time: the step
   start/success times read back from the instance do not overlap, and a step that found the
   slot taken says so ("Step blocked by limit for pool netsuite_api");
3. the daemon heartbeats into the instance (every daemon the profile requires, the run queue's
   among them) and `dagster-daemon liveness-check` says it is live.

Skips (fails under CI=true) without NS_TEST_POSTGRES_URL, like every PostgreSQL test. Every wait
is bounded (WAIT_SECONDS); the daemon's process group is killed at the end, and a failure prints
the tail of the daemon's log and the run's errors.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import pytest
import yaml
from sqlalchemy import text

from ns_pipelines.sandbox.netsuite.server import SandboxServer
from ns_pipelines.sandbox.netsuite.settings import SandboxSettings
from ns_pipelines_tests.dagster_instance_helpers import (
    PROFILE,
    PROJECT_ROOT,
    WORKSPACE,
    fresh_dagster_database,
    production_dagster_home,
)
from ns_pipelines_tests.postgres import postgres_schema

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

JOB = "netsuite_sync_job"
POOLED_STEP = "netsuite_raw_tables"  # the one step of the job in pool netsuite_api
POOL = "netsuite_api"
WAIT_SECONDS = 120  # per wait: the machine may be small and busy
# Every NetSuite request takes this long in the sandbox, so a raw step lasts a few seconds and two
# unlimited ones would surely overlap.
SANDBOX_LATENCY_MS = 25
TERMINAL = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}
ET = dg.DagsterEventType


def _bin(name: str) -> str:
    """A console script of the interpreter running the tests (the project's venv)."""
    candidate = Path(sys.executable).parent / name
    found = str(candidate) if candidate.exists() else shutil.which(name)
    assert found, f"{name} not found beside {sys.executable} nor on PATH"
    return found


def _quiet_schedule_environment() -> dict[str, str]:
    """The code location's schedules run by default; move their times 12 hours away so that no
    tick of theirs adds a run to the ones under test."""
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=12)
    cron = f"{later.minute} {later.hour} * * *"
    return {
        "NS_SYNC_CRON": cron,
        "NS_SYNC_SCHEDULE_TIMEZONE": "UTC",
        "NS_API_USAGE_CRON": cron,
        "NS_REDUNDANCY_SYNC_TIME": f"{later.hour:02d}:{later.minute:02d}",
        "NS_REDUNDANCY_SYNC_TIMEZONE": "UTC",
        # the sensors tick rarely (they launch nothing here: the inboxes are empty; the Stripe
        # events sensor shares the webhook interval)
        "NS_WEBHOOK_SENSOR_INTERVAL_SECONDS": "600",
        "NS_CONNECTION_CHECK_INTERVAL_SECONDS": "600",
    }


@dataclass
class Production:
    """The production set-up under test: environment, instance, and the daemon once started."""

    environment: dict[str, str]
    instance: dg.DagsterInstance
    warehouse_url: str
    workdir: Path
    daemon: subprocess.Popen | None = None
    daemon_started_at: float | None = None
    launched: list[str] = field(default_factory=list)

    @property
    def daemon_log(self) -> Path:
        return self.workdir / "daemon.log"

    # ---------------------------------------------------------------- processes
    def start_daemon(self) -> None:
        if self.daemon is not None:
            return
        log = self.daemon_log.open("ab")
        self.daemon = subprocess.Popen(
            [_bin("dagster-daemon"), "run", "-w", str(WORKSPACE), "--log-level", "info"],
            cwd=PROJECT_ROOT, env=self.environment, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True)  # its own process group: killed as one
        log.close()
        self.daemon_started_at = time.time()

    def stop_daemon(self) -> None:
        if self.daemon is None:
            return
        _kill_group(self.daemon)
        self.daemon = None

    def submit(self, count: int = 1, op_selection: str | None = None) -> list[str]:
        """Submit `count` runs of JOB (or of its `op_selection`) with `dagster job launch`, in
        parallel; their run ids."""
        run_ids = [str(uuid.uuid4()) for _ in range(count)]
        processes = []
        for run_id in run_ids:
            command = [_bin("dagster"), "job", "launch", "-w", str(WORKSPACE), "-j", JOB, "--run-id", run_id,
                       "--tags", json.dumps({"ns/test": "production-daemon"})]
            if op_selection:
                command += ["--op-selection", op_selection]
            processes.append(subprocess.Popen(
                command, cwd=PROJECT_ROOT, env=self.environment, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True))
        deadline = time.monotonic() + WAIT_SECONDS
        outputs = []
        try:
            for process in processes:
                out, _ = process.communicate(timeout=max(1.0, deadline - time.monotonic()))
                outputs.append((process.returncode, out.decode(errors="replace")))
        except subprocess.TimeoutExpired:
            self.fail(f"`dagster job launch` did not finish within {WAIT_SECONDS} s")
        finally:
            for process in processes:
                _kill_group(process)
        for code, out in outputs:
            if code != 0:
                self.fail(f"`dagster job launch` exited {code}:\n{out[-4000:]}")
        self.launched += run_ids
        return run_ids

    # ---------------------------------------------------------------- waiting and diagnostics
    def wait_for(self, what: str, condition: Callable[[], bool], timeout: float = WAIT_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.daemon is not None and self.daemon.poll() is not None:
                self.fail(f"the daemon exited ({self.daemon.returncode}) while waiting for {what}")
            if condition():
                return
            time.sleep(0.5)
        self.fail(f"timed out after {timeout:.0f} s waiting for {what}")

    def wait_for_runs(self, run_ids: Sequence[str]) -> dict[str, dg.DagsterRun]:
        runs: dict[str, dg.DagsterRun] = {}

        def finished() -> bool:
            for run_id in run_ids:
                run = self.instance.get_run_by_id(run_id)
                assert run is not None, f"run {run_id} is not in the instance"
                runs[run_id] = run
            return all(run.status in TERMINAL for run in runs.values())

        self.wait_for(f"runs {', '.join(r[:8] for r in run_ids)} to finish", finished)
        return runs

    def events(self, run_id: str, *types: dg.DagsterEventType) -> list[dg.EventLogEntry]:
        entries = self.instance.all_logs(run_id)
        return [e for e in entries if e.dagster_event is not None
                and (not types or e.dagster_event.event_type in types)]

    def diagnostics(self) -> str:
        lines = []
        for run_id in self.launched:
            run = self.instance.get_run_by_id(run_id)
            lines.append(f"run {run_id}: {run.status.value if run else 'missing'}")
            for entry in self.events(run_id, ET.STEP_FAILURE, ET.RUN_FAILURE, ET.ENGINE_EVENT):
                event = entry.dagster_event
                error = getattr(event.event_specific_data, "error", None)
                message = error.to_string() if error is not None else (entry.user_message or event.message or "")
                lines.append(f"  {event.event_type_value} {event.step_key or ''}: {message[:1500]}")
        try:
            heartbeats = self.instance.get_daemon_heartbeats()
            lines.append("daemon heartbeats: " + ", ".join(
                f"{kind} {time.time() - beat.timestamp:.0f}s ago{' with errors' if beat.errors else ''}"
                for kind, beat in sorted(heartbeats.items())))
        except Exception as exc:  # noqa: BLE001 - diagnostics only
            lines.append(f"daemon heartbeats unreadable: {exc}")
        log = self.daemon_log.read_text(errors="replace").splitlines() if self.daemon_log.exists() else []
        lines.append(f"--- daemon log (last 80 of {len(log)} lines, {self.daemon_log}) ---")
        lines += log[-80:]
        return "\n".join(lines)

    def fail(self, message: str) -> None:
        pytest.fail(f"{message}\n{self.diagnostics()}", pytrace=False)

    def check(self, condition: bool, message: str) -> None:
        if not condition:
            self.fail(message)


def _kill_group(process: subprocess.Popen) -> None:
    """SIGTERM the process group (the daemon's code server and run processes with it), then
    SIGKILL what is left after 20 s."""
    if process.poll() is not None:
        try:  # the leader is gone; its children may not be
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def production(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Production]:
    """Everything but the daemon: DAGSTER_HOME from the profile on a fresh database, the sandbox,
    the warehouse, and an instance of the test process on the same storage."""
    from ns_pipelines.warehouse import create_warehouse_engine, upgrade_warehouse

    workdir = tmp_path_factory.mktemp("production_daemon")
    with fresh_dagster_database("daemon") as database, postgres_schema("production_daemon") as warehouse_url, \
            SandboxServer(workdir / "sandbox", SandboxSettings(latency_ms=SANDBOX_LATENCY_MS),
                          scale="tiny", seed=7) as sandbox:
        engine = create_warehouse_engine(warehouse_url)
        try:  # migrated once here, not by two runs racing on an empty schema
            upgrade_warehouse(engine)
        finally:
            engine.dispose()
        environment = {
            **os.environ,
            **sandbox.environment(),
            **production_dagster_home(workdir / "dagster_home", database),
            "NS_WAREHOUSE_URL": warehouse_url,
            **_quiet_schedule_environment(),
            "PYTHONUNBUFFERED": "1",
        }
        with pytest.MonkeyPatch.context() as mp:  # the instance of this process reads the same variables
            mp.setenv("DAGSTER_HOME", environment["DAGSTER_HOME"])
            mp.setenv("DAGSTER_PG_URL", environment["DAGSTER_PG_URL"])
            with dg.DagsterInstance.from_config(environment["DAGSTER_HOME"]) as instance:
                state = Production(environment, instance, warehouse_url, workdir)
                try:
                    yield state
                finally:
                    state.stop_daemon()


@pytest.fixture(scope="module")
def daemon(production: Production) -> Production:
    production.start_daemon()
    return production


def test_profile_names_the_queued_run_coordinator_by_its_public_module() -> None:
    profile = yaml.safe_load(PROFILE.read_text())
    coordinator = profile["run_coordinator"]
    assert coordinator == {"module": "dagster", "class": "QueuedRunCoordinator"}
    assert getattr(dg, coordinator["class"]) is dg.QueuedRunCoordinator


def test_daemon_dequeues_a_queued_run_and_it_succeeds(production: Production) -> None:
    # submitted while no daemon runs: the run waits in the queue
    assert production.daemon is None, "this test must run before the daemon starts"
    [run_id] = production.submit(1)
    time.sleep(3)
    run = production.instance.get_run_by_id(run_id)
    assert run is not None
    production.check(run.status == dg.DagsterRunStatus.QUEUED, f"without a daemon the run is {run.status}")
    lifecycle_types = (ET.RUN_ENQUEUED, ET.RUN_STARTING, ET.RUN_START, ET.RUN_SUCCESS, ET.RUN_FAILURE)
    assert [e.dagster_event.event_type for e in production.events(run_id, *lifecycle_types)] == [ET.RUN_ENQUEUED]

    production.start_daemon()
    run = production.wait_for_runs([run_id])[run_id]
    production.check(run.status == dg.DagsterRunStatus.SUCCESS, f"run {run_id} ended {run.status}")

    # queued by the CLI, then taken off the queue and launched (RUN_STARTING, written by the
    # daemon's dequeue), started in its own process, succeeded
    lifecycle = [e.dagster_event.event_type for e in production.events(run_id, *lifecycle_types)]
    assert lifecycle == [ET.RUN_ENQUEUED, ET.RUN_STARTING, ET.RUN_START, ET.RUN_SUCCESS]
    starting = production.events(run_id, ET.RUN_STARTING)[0]
    assert starting.timestamp >= production.daemon_started_at
    materialized = production.events(run_id, ET.ASSET_MATERIALIZATION)
    assert len(materialized) == 12  # nine raw tables and three receivables tables

    from ns_pipelines.warehouse import create_warehouse_engine

    engine = create_warehouse_engine(production.warehouse_url)
    try:
        with engine.connect() as conn:
            invoices = conn.execute(text("SELECT COUNT(*) FROM netsuite_invoices")).scalar()
    finally:
        engine.dispose()
    assert invoices and invoices > 0


def test_queued_runs_share_the_netsuite_api_pool_one_step_at_a_time(daemon: Production) -> None:
    run_ids = daemon.submit(3, op_selection=POOLED_STEP)  # the raw tables only: the step in the pool
    runs = daemon.wait_for_runs(run_ids)
    failed = {r[:8]: run.status.value for r, run in runs.items() if run.status != dg.DagsterRunStatus.SUCCESS}
    daemon.check(not failed, f"runs did not succeed: {failed}")

    @dataclass
    class Run:
        run_id: str
        started: float  # RUN_START: the run process began executing (its first step is the pooled one)
        step_start: float  # STEP_START of the pooled step: it holds the slot from here ...
        step_end: float  # ... to its STEP_SUCCESS
        blocked: bool  # it said "Step blocked by limit for pool netsuite_api"

    def one(run_id: str, event_type: dg.DagsterEventType, step: str | None = None) -> float:
        found = [e.timestamp for e in daemon.events(run_id, event_type) if step is None or e.step_key == step]
        daemon.check(len(found) == 1, f"run {run_id[:8]}: {len(found)} {event_type.value} events")
        return found[0]

    timeline = sorted((Run(
        run_id=run_id,
        started=one(run_id, ET.RUN_START),
        step_start=one(run_id, ET.STEP_START, POOLED_STEP),
        step_end=one(run_id, ET.STEP_SUCCESS, POOLED_STEP),
        blocked=any(e.step_key == POOLED_STEP and f"blocked by limit for pool {POOL}" in (e.message or "")
                    for e in daemon.events(run_id, ET.ENGINE_EVENT)),
    ) for run_id in run_ids), key=lambda run: run.step_start)
    origin = min(run.started for run in timeline)
    described = "\n".join(
        f"  run {run.run_id[:8]}: started {run.started - origin:6.2f} s, {POOLED_STEP} "
        f"{run.step_start - origin:6.2f} -> {run.step_end - origin:6.2f} s{', was blocked' if run.blocked else ''}"
        for run in timeline)

    # the limit: one pooled step at a time, across runs
    for first, second in zip(timeline, timeline[1:]):
        daemon.check(second.step_start >= first.step_end,
                     f"{POOLED_STEP} of run {second.run_id[:8]} started before that of {first.run_id[:8]} ended: "
                     f"the {POOL} pool let two run at once\n{described}")
    # and it was really in play: a run that began while another held the slot waited for it
    waited = [(run, holder) for run in timeline for holder in timeline
              if holder is not run and holder.step_start < run.started < holder.step_end - 0.5]
    daemon.check(bool(waited), f"no run began while another held the {POOL} slot: nothing was tested\n{described}")
    for run, holder in waited:
        daemon.check(run.blocked, f"run {run.run_id[:8]} began while {holder.run_id[:8]} held the {POOL} slot "
                                  f"but its step was never blocked\n{described}")

    info = daemon.instance.event_log_storage.get_concurrency_info(POOL)
    assert info.slot_count == 1  # the profile's default pool limit
    assert info.active_slot_count == 0  # every run gave its slot back


def test_daemon_heartbeats_and_liveness_check(daemon: Production) -> None:
    required = set(daemon.instance.get_required_daemon_types())
    assert "QUEUED_RUN_COORDINATOR" in required and "MONITORING" in required

    def all_beating() -> bool:
        beats = daemon.instance.get_daemon_heartbeats()
        return required <= set(beats) and all(time.time() - beats[k].timestamp < WAIT_SECONDS for k in required)

    daemon.wait_for(f"heartbeats of {sorted(required)}", all_beating)
    beats = daemon.instance.get_daemon_heartbeats()
    assert all(beats[k].timestamp >= daemon.daemon_started_at - 1 for k in required)

    result = subprocess.run([_bin("dagster-daemon"), "liveness-check"], cwd=PROJECT_ROOT, env=daemon.environment,
                            capture_output=True, text=True, timeout=WAIT_SECONDS)
    daemon.check(result.returncode == 0 and "Daemon live" in result.stdout,
                 f"liveness-check exited {result.returncode}: {result.stdout}{result.stderr}")
