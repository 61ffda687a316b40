"""The cross-process NetSuite budget (ns_pipelines/netsuite/budget.py) and its use by the client.

Both kinds are exercised for real: slot files locked with flock by several processes, and
PostgreSQL advisory locks held by several sessions. The proof with three syncs in separate
processes against one sandbox is test_budget_proof.py.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from ns_pipelines.netsuite import NetSuiteClient, NetSuiteConfig, RetryPolicy
from ns_pipelines.netsuite.budget import (
    AdvisoryLockBudget,
    BudgetSettings,
    FileSlotBudget,
    NoBudget,
    advisory_key,
    budget_name,
    default_budget_dir,
    shared_budget,
)
from ns_pipelines.sandbox.netsuite.server import SandboxServer
from ns_pipelines.sandbox.netsuite.settings import SandboxSettings
from ns_pipelines_tests.postgres import require_postgres

SPAWN = multiprocessing.get_context("spawn")
FORK = multiprocessing.get_context("fork")


def _libpq(url: Any) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def make_budget(kind: str, where: str, slots: int) -> Any:
    if kind == "files":
        return FileSlotBudget(where, slots)
    return AdvisoryLockBudget(where.split("|", 1)[1], int(where.split("|", 1)[0]), slots)


@pytest.fixture(params=["files", pytest.param("postgres", marks=pytest.mark.postgres)])
def budget_location(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """(kind, where): a slot directory, or "key|conninfo" of a fresh advisory key."""
    if request.param == "files":
        return "files", str(tmp_path / "budget")
    conninfo = _libpq(require_postgres())
    return "postgres", f"{advisory_key('test', uuid.uuid4().hex)}|{conninfo}"


# --------------------------------------------------------------------------------------------
# Several processes, one budget


def _hammer(kind: str, where: str, slots: int, rounds: int, holders: Any, peak: Any, waits: Any,
            start: Any) -> None:
    budget = make_budget(kind, where, slots)
    start.wait(60)  # a barrier: every process has its budget before any starts
    for _ in range(rounds):
        lease = budget.acquire()
        with holders.get_lock():
            holders.value += 1
            peak.value = max(peak.value, holders.value)
        if lease.waited:
            with waits.get_lock():
                waits.value += 1
        time.sleep(0.004)
        with holders.get_lock():
            holders.value -= 1
        budget.release(lease)
    budget.close()


def test_processes_never_hold_more_slots_than_the_budget(budget_location: tuple[str, str]) -> None:
    kind, where = budget_location
    slots, workers, rounds = 2, 5, 25
    holders, peak, waits = SPAWN.Value("i", 0), SPAWN.Value("i", 0), SPAWN.Value("i", 0)
    start = SPAWN.Barrier(workers)
    procs = [SPAWN.Process(target=_hammer, args=(kind, where, slots, rounds, holders, peak, waits, start))
             for _ in range(workers)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(120)
        assert proc.exitcode == 0
    assert peak.value == slots  # the budget was used to the full ...
    assert waits.value > 0  # ... others waited for it ...
    assert holders.value == 0  # ... and never more than `slots` held at once (peak above)


def _hold_all(kind: str, where: str, slots: int, ready: Any) -> None:
    budget = make_budget(kind, where, slots)
    for _ in range(slots):
        budget.acquire()
    ready.set()
    time.sleep(600)


def test_a_killed_holder_releases_its_slots(budget_location: tuple[str, str]) -> None:
    kind, where = budget_location
    ready = SPAWN.Event()
    holder = SPAWN.Process(target=_hold_all, args=(kind, where, 2, ready))
    holder.start()
    try:
        assert ready.wait(60)
        budget = make_budget(kind, where, 2)
        assert budget.is_full()
        got: list[Any] = []
        waiter = threading.Thread(target=lambda: got.append(budget.acquire()), daemon=True)
        waiter.start()
        time.sleep(0.3)
        assert not got  # blocked while the holder lives
        os.kill(holder.pid, signal.SIGKILL)
        waiter.join(10)
        assert got and got[0].waited
        budget.release(got[0])
        budget.close()
    finally:
        holder.kill()
        holder.join(10)


def test_a_forked_child_does_not_share_its_parents_slots(tmp_path: Path) -> None:
    """flock belongs to the open file: a child must reopen, not reuse (or unlock) inherited slots."""
    budget = FileSlotBudget(tmp_path / "budget", 2)
    held = budget.acquire()
    result = FORK.Queue()

    def child() -> None:
        second = budget.acquire()  # the one slot the parent does not hold
        result.put(("full after one", budget.is_full()))
        budget.release(second)
        result.put(("full after release", budget.is_full()))

    proc = FORK.Process(target=child)
    proc.start()
    proc.join(30)
    assert proc.exitcode == 0
    assert result.get(timeout=5) == ("full after one", True)
    assert result.get(timeout=5) == ("full after release", False)
    other = FileSlotBudget(tmp_path / "budget", 2)
    assert other.acquire().slot != held.slot  # the parent still holds its slot after the child exited
    assert other.is_full()
    budget.release(held)
    assert not other.is_full()


def test_a_subprocess_does_not_inherit_a_held_slot(tmp_path: Path) -> None:
    budget = FileSlotBudget(tmp_path / "budget", 1)
    lease = budget.acquire()
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        budget.release(lease)
        assert not FileSlotBudget(tmp_path / "budget", 1).is_full()
    finally:
        child.kill()
        child.wait()


# --------------------------------------------------------------------------------------------
# Cost on the hot path


def _timings(acquire: Callable[[], Any], release: Callable[[Any], None], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        release(acquire())
        out.append(time.perf_counter() - t0)
    return out


def test_a_free_file_slot_costs_microseconds(tmp_path: Path) -> None:
    budget = FileSlotBudget(tmp_path / "budget", 3)
    median = statistics.median(_timings(budget.acquire, budget.release, 2000))
    print(f"file slot acquire+release median {median * 1e6:.1f} us")
    assert median < 0.0002


@pytest.mark.postgres
def test_a_free_advisory_slot_costs_one_round_trip() -> None:
    budget = AdvisoryLockBudget(_libpq(require_postgres()), advisory_key("cost", uuid.uuid4().hex), 3)
    median = statistics.median(_timings(budget.acquire, budget.release, 300))
    print(f"advisory slot acquire+release median {median * 1e6:.1f} us")
    assert median < 0.002  # two loopback round trips
    budget.close()


# --------------------------------------------------------------------------------------------
# Choosing the budget


def test_settings_and_choice_of_budget(tmp_path: Path) -> None:
    sqlite_url = f"sqlite:///{tmp_path / 'wh' / 'warehouse.sqlite3'}"
    settings = BudgetSettings.from_env({"NS_WAREHOUSE_URL": sqlite_url})
    assert settings.mode == "auto"
    assert default_budget_dir(settings) == (tmp_path / "wh" / "netsuite-budget").resolve()
    budget = shared_budget("1234567_SB1", "http://127.0.0.1:1", 3, settings)
    assert isinstance(budget, FileSlotBudget) and budget.slots == 3
    assert budget.directory == (tmp_path / "wh" / "netsuite-budget" / budget_name("1234567_SB1", "http://127.0.0.1:1"))
    assert shared_budget("1234567_SB1", "http://127.0.0.1:1", 3, settings) is budget  # one per process
    assert shared_budget("1234567_SB1", "http://127.0.0.1:2", 3, settings) is not budget  # another address
    explicit = BudgetSettings.from_env({"NS_BUDGET_DIR": str(tmp_path / "b"), "NS_BUDGET_MODE": "files"})
    assert default_budget_dir(explicit) == tmp_path / "b"
    assert isinstance(shared_budget("a", "http://x", 2, BudgetSettings.from_env({"NS_BUDGET_MODE": "off"})), NoBudget)
    with pytest.raises(ValueError, match="NS_BUDGET_MODE"):
        BudgetSettings.from_env({"NS_BUDGET_MODE": "sometimes"})
    with pytest.raises(ValueError, match="PostgreSQL warehouse"):
        shared_budget("a", "http://x", 2, BudgetSettings(mode="postgres", warehouse_url=sqlite_url))
    assert budget_name("1234567_SB1", "http://h/") == budget_name("1234567_sb1", "http://h")


@pytest.mark.postgres
def test_a_postgres_warehouse_means_advisory_locks() -> None:
    url = require_postgres().render_as_string(hide_password=False)
    budget = shared_budget("1234567_SB1", f"http://pg-{uuid.uuid4().hex}", 2, BudgetSettings(warehouse_url=url))
    assert isinstance(budget, AdvisoryLockBudget)
    lease = budget.acquire()
    assert not budget.is_full()
    second = budget.acquire()
    assert budget.is_full() and {lease.slot, second.slot} == {0, 1}
    budget.release(lease)
    budget.release(second)
    assert not budget.is_full()


# --------------------------------------------------------------------------------------------
# The client draws on the budget


@pytest.fixture
def slow_sandbox(tmp_path: Path) -> Iterator[SandboxServer]:
    with SandboxServer(tmp_path / "sandbox", SandboxSettings(latency_ms=40, concurrency_limit=10),
                       scale="tiny") as server:
        yield server


def _client(server: SandboxServer, budget: Any, concurrency: int) -> NetSuiteClient:
    config = NetSuiteConfig.from_env({**server.environment(), "NETSUITE_CONCURRENCY": str(concurrency)},
                                     retry=RetryPolicy(initial_backoff_s=0.01, max_backoff_s=0.05))
    return NetSuiteClient(config, budget=budget)


def _burst(clients: list[NetSuiteClient], per_client: int) -> None:
    with ThreadPoolExecutor(len(clients) * 4) as pool:
        futures = [pool.submit(c.suiteql.query_page, "SELECT id FROM customer", limit=5)
                   for c in clients for _ in range(per_client)]
        for future in futures:
            future.result()


def test_clients_of_one_process_share_the_budget(slow_sandbox: SandboxServer, tmp_path: Path) -> None:
    settings = BudgetSettings(mode="files", directory=str(tmp_path / "budget"))
    env = slow_sandbox.environment()
    budget = shared_budget(env["NETSUITE_ACCOUNT_ID"], slow_sandbox.base_url, 2, settings)
    clients = [_client(slow_sandbox, budget, 2) for _ in range(3)]
    slow_sandbox.account.governor.reset_stats()
    _burst(clients, 8)
    stats = slow_sandbox.account.stats()
    assert stats["requests"] == 24 and stats["peak_concurrency"] == 2
    assert sum(c.stats.budget_waits for c in clients) > 0

    unbounded = [_client(slow_sandbox, NoBudget(), 2) for _ in range(3)]
    slow_sandbox.account.governor.reset_stats()
    _burst(unbounded, 8)
    assert slow_sandbox.account.stats()["peak_concurrency"] > 2  # the contrast: each client keeps only its own 2


def test_the_default_client_budget_follows_the_environment(slow_sandbox: SandboxServer, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NS_BUDGET_DIR", str(tmp_path / "budget"))
    monkeypatch.delenv("NS_BUDGET_MODE", raising=False)
    client = NetSuiteClient(NetSuiteConfig.from_env(slow_sandbox.environment()))
    assert isinstance(client.budget, FileSlotBudget) and client.budget.slots == 3
    assert str(client.budget.directory).startswith(str(tmp_path / "budget"))
    monkeypatch.setenv("NS_BUDGET_MODE", "off")
    assert isinstance(NetSuiteClient(NetSuiteConfig.from_env(slow_sandbox.environment())).budget, NoBudget)
    monkeypatch.setenv("NS_BUDGET_MODE", "postgres")  # with a SQLite warehouse: refused, in-process limit kept
    assert isinstance(NetSuiteClient(NetSuiteConfig.from_env(slow_sandbox.environment())).budget, NoBudget)


def test_over_limit_answers_are_counted_and_slow_the_client(tmp_path: Path) -> None:
    """A slow 401 at the budget and a 429 both count as over-limit; the limit halves."""
    settings = SandboxSettings(latency_ms=60, concurrency_limit=1, over_limit_mode="401", over_limit_401_delay_s=0.05)
    with SandboxServer(tmp_path / "sandbox", settings, scale="tiny") as server:
        events: list[Any] = []
        client = _client(server, NoBudget(), 3)
        client.add_request_hook(events.append)
        _burst([client], 6)
        assert client.stats.over_limit > 0 and client.stats.auth_errors == client.stats.over_limit
        assert client.limiter.limit < 3
        assert sum(e.over_limit for e in events) == client.stats.over_limit
        assert all(e.status == 401 for e in events if e.over_limit)

        server.settings.over_limit_mode = "429"
        client = _client(server, NoBudget(), 3)
        client.add_request_hook(events.append)
        events.clear()
        _burst([client], 6)
        assert client.stats.over_limit == client.stats.throttled > 0
        assert {e.status for e in events if e.over_limit} == {429}


@pytest.mark.postgres
def test_a_lost_postgres_session_reconnects() -> None:
    """The server ends the session (its locks go with it): the next acquire reconnects; releases of
    leases from the lost session are ignored instead of unlocking someone else's slot."""
    import psycopg

    conninfo = _libpq(require_postgres())
    budget = AdvisoryLockBudget(conninfo, advisory_key("lost", uuid.uuid4().hex), 2)
    old = budget.acquire()
    pid = budget._conn.info.backend_pid
    with psycopg.connect(conninfo, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    time.sleep(0.2)
    first = budget.acquire()  # the failed try drops the session, the next one reconnects
    second = budget.acquire()
    assert {first.slot, second.slot} == {0, 1} and first.generation > old.generation
    budget.release(old)  # void: must not free first's or second's lock
    assert budget.is_full()
    budget.release(first)
    budget.release(second)
    assert not budget.is_full()
    budget.close()
