"""Proof: syncs in separate processes, plus webhook-style targeted syncs, stay within one budget.

Three full syncs and two processes of repeated targeted syncs (what the change-events sensor's
runs do) start at once against one sandbox that answers every request 30 ms late while holding
one of its slots, and allows 12 at once. Each process has its own warehouse and its own client
with NETSUITE_CONCURRENCY=2. The sandbox's own statistics (admin stats: the most requests it had
in flight) are the judge:

- with the cross-process budget (slot files; PostgreSQL advisory locks when the warehouse is
  PostgreSQL), the sandbox never sees more than 2 requests at once, and processes did wait for it;
- with NS_BUDGET_MODE=off, the same set-up goes over 2 (each process keeps only its own limit):
  the contrast shows the requests really overlap, so the first result is not vacuous.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import requests

from ns_pipelines.monitoring import read_usage, summarize
from ns_pipelines.sandbox.netsuite.server import SandboxServer
from ns_pipelines.sandbox.netsuite.settings import SandboxSettings
from ns_pipelines.warehouse import create_warehouse_engine, upgrade_warehouse
from ns_pipelines_tests.postgres import postgres_schema

BUDGET = 2
SANDBOX_LIMIT = 12
LATENCY_MS = 30
FULL_SYNCS = 3
TARGETED_PROCESSES = 2
TARGETED_ROUNDS = 6

WORKER = r"""
import json, sys, time
from pathlib import Path
from ns_pipelines.monitoring import monitor_client
from ns_pipelines.netsuite import NetSuiteClient, NetSuiteConfig, RetryPolicy
from ns_pipelines.sync import RECORD_TYPES, SyncSettings, sync_concurrently, sync_record_type
from ns_pipelines.warehouse import create_warehouse_engine, upgrade_warehouse

kind, ready, go, out, ids, usage_url = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]), \
    sys.argv[5], sys.argv[6]
client = NetSuiteClient(NetSuiteConfig.from_env(retry=RetryPolicy(initial_backoff_s=0.05, max_backoff_s=0.5)))
monitor_client(client, url=usage_url, label=kind)
engine = create_warehouse_engine()
upgrade_warehouse(engine)
settings = SyncSettings.from_env()
ready.touch()
while not go.exists():
    time.sleep(0.005)
if kind == "full":
    sync_concurrently(client, engine, RECORD_TYPES, settings=settings, mode="full")
else:
    invoice_ids = [int(i) for i in ids.split(",")]
    for _ in range(int(kind.split(":")[1])):
        sync_record_type(client, engine, "invoice", settings=settings, record_ids=invoice_ids)
        sync_record_type(client, engine, "customer", settings=settings, record_ids=[1, 2, 3])
out.write_text(json.dumps({**client.stats_snapshot(), "budget": repr(client.budget)}))
client.close()
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    settings = SandboxSettings(latency_ms=LATENCY_MS, concurrency_limit=SANDBOX_LIMIT)
    with SandboxServer(tmp_path_factory.mktemp("proof") / "sandbox", settings, scale="tiny", seed=7) as account:
        yield account


def admin(server: SandboxServer, method: str, path: str) -> dict[str, Any]:
    token = server.credentials.admin_token
    response = requests.request(method, server.admin_url + path, headers={"Authorization": f"Bearer {token}"},
                                timeout=30)
    response.raise_for_status()
    return response.json()


def invoice_ids(server: SandboxServer) -> list[int]:
    rows = server.account.store.connect().execute(
        "SELECT id FROM \"transaction\" WHERE type = 'CustInvc' ORDER BY id LIMIT 8").fetchall()
    return [int(r[0]) for r in rows]


def run_workers(server: SandboxServer, workdir: Path, warehouse_urls: list[str], mode: str,
                usage_url: str) -> list[dict[str, Any]]:
    """Start every worker, wait until all are ready, let them go at once; their client stats.
    Each syncs into its own warehouse; all record their API usage in the one at `usage_url`."""
    workdir.mkdir(parents=True)
    kinds = ["full"] * FULL_SYNCS + [f"targeted:{TARGETED_ROUNDS}"] * TARGETED_PROCESSES
    assert len(warehouse_urls) == len(kinds)
    go = workdir / "go"
    ids = ",".join(str(i) for i in invoice_ids(server))
    procs = []
    for n, (kind, url) in enumerate(zip(kinds, warehouse_urls)):
        env = {**os.environ, **server.environment(), "NETSUITE_CONCURRENCY": str(BUDGET), "NS_WAREHOUSE_URL": url,
               "NS_BUDGET_MODE": mode, "NS_BUDGET_DIR": str(workdir.parent / "budget"), "NS_SYNC_PAGE_SIZE": "20",
               "NS_API_USAGE_FLUSH_SECONDS": "3600"}
        args = [sys.executable, "-c", WORKER, kind, str(workdir / f"ready-{n}"), str(go), str(workdir / f"out-{n}.json"),
                ids, usage_url]
        procs.append(subprocess.Popen(args, env=env, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      text=True))
    deadline = time.monotonic() + 120
    while not all((workdir / f"ready-{n}").exists() for n in range(len(procs))):
        assert time.monotonic() < deadline, "workers did not start"
        assert all(p.poll() is None for p in procs), [p.communicate()[0] for p in procs if p.poll() is not None]
        time.sleep(0.05)
    admin(server, "POST", "/stats/reset")
    go.touch()
    outputs = [p.communicate(timeout=300)[0] for p in procs]
    for proc, output in zip(procs, outputs):
        assert proc.returncode == 0, output
    return [json.loads((workdir / f"out-{n}.json").read_text()) for n in range(len(procs))]


@pytest.fixture(params=["files", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouses(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, list[str], list[str]]]:
    """(budget kind, warehouses of the bounded run, warehouses of the unbounded run): one per process."""
    count = FULL_SYNCS + TARGETED_PROCESSES
    if request.param == "files":
        yield ("files", [f"sqlite:///{tmp_path / f'on-{n}.sqlite3'}" for n in range(count)],
               [f"sqlite:///{tmp_path / f'off-{n}.sqlite3'}" for n in range(count)])
        return
    with ExitStack() as stack:
        urls = [stack.enter_context(postgres_schema(f"proof{n}")) for n in range(2 * count)]
        yield "postgres", urls[:count], urls[count:]


def test_processes_and_targeted_syncs_stay_within_one_budget(server: SandboxServer, tmp_path: Path,
                                                               warehouses: tuple[str, list[str], list[str]]) -> None:
    kind, bounded_urls, unbounded_urls = warehouses
    usage_url = f"sqlite:///{tmp_path / 'usage.sqlite3'}"
    usage_engine = create_warehouse_engine(usage_url)
    upgrade_warehouse(usage_engine)
    started = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)
    bounded = run_workers(server, tmp_path / "bounded", bounded_urls, "auto", usage_url)
    stats = admin(server, "GET", "/stats")
    expected = "FileSlotBudget" if kind == "files" else "AdvisoryLockBudget"
    assert all(out["budget"].startswith(expected) for out in bounded)
    requests_sent = sum(out["requests"] for out in bounded)
    waits = sum(out["budget_waits"] for out in bounded)
    print(f"[{kind}] budget on: {requests_sent} requests, sandbox peak {stats['peak_concurrency']}, "
          f"{waits} waits for the shared budget, 429s {stats['status_429']}")
    assert stats["requests"] == requests_sent > 100
    assert stats["peak_concurrency"] <= BUDGET
    assert stats["status_429"] == 0 and stats["status_401"] == 0
    assert waits > 0  # processes did compete for the budget

    # API monitoring saw the same: every request, each process within the budget, the budget hit
    rows = read_usage(usage_engine, started)
    summary = summarize(rows, started, dt.datetime.now(dt.timezone.utc))
    assert summary.requests == requests_sent and len(summary.sources) == len(bounded)
    assert max(r.peak_concurrency for r in rows) <= BUDGET and {r.budget for r in rows} == {BUDGET}
    assert summary.total is not None and summary.total.budget_waits == waits and summary.total.over_limit == 0
    assert summary.warnings and "budget (2) was fully used" in summary.warnings[0]

    unbounded = run_workers(server, tmp_path / "unbounded", unbounded_urls, "off", usage_url)
    stats = admin(server, "GET", "/stats")
    print(f"[{kind}] budget off: {sum(o['requests'] for o in unbounded)} requests, "
          f"sandbox peak {stats['peak_concurrency']}")
    assert all(out["budget"] == "NoBudget()" for out in unbounded)
    assert stats["peak_concurrency"] > BUDGET
