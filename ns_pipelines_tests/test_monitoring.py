"""API usage monitoring without Dagster (ns_pipelines/monitoring): aggregation per minute, merging
upserts on SQLite and PostgreSQL, and a real client's requests written by its monitor."""
from __future__ import annotations

import datetime as dt
import json
import os
import random
import socket
import statistics
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, inspect, select

from ns_pipelines.monitoring import (
    LatencyHistogram,
    MinuteUsage,
    UsageRecorder,
    UsageSettings,
    by_minute,
    merge_usage,
    minute_of,
    monitor_client,
    read_usage,
    summarize,
    window,
)
from ns_pipelines.netsuite import NetSuiteClient, NetSuiteConfig, RetryPolicy
from ns_pipelines.netsuite.budget import NoBudget
from ns_pipelines.netsuite.transport import RequestEvent
from ns_pipelines.sandbox.netsuite.server import SandboxServer
from ns_pipelines.sandbox.netsuite.settings import SandboxSettings
from ns_pipelines.warehouse import create_warehouse_engine, upgrade_warehouse
from ns_pipelines.warehouse.tables.monitoring import api_usage

UTC = dt.timezone.utc
T0 = 1_800_000_000.0  # a minute boundary (divisible by 60)
ACCOUNT = "1234567_SB1"


def event(ms: float, *, status: int | None = 200, in_flight: int = 1, over_limit: bool = False, waited: float = 0.0,
          template: str = "/services/rest/query/v1/suiteql", method: str = "POST", budget: int = 3) -> RequestEvent:
    return RequestEvent(method=method, path=template, path_template=template, status=status, duration_s=ms / 1000,
                        in_flight=in_flight, attempt=1, limit=budget, budget=budget, over_limit=over_limit,
                        budget_wait_s=waited)


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# --------------------------------------------------------------------------------------------
# Aggregation


def test_histogram_percentiles_are_within_one_percent_and_merge_exactly() -> None:
    rng = random.Random(5)
    values = [rng.lognormvariate(4, 1) for _ in range(5000)]
    whole, first, second = LatencyHistogram(), LatencyHistogram(), LatencyHistogram()
    for i, value in enumerate(values):
        whole.add(value)
        (first if i % 2 else second).add(value)
    assert first.merge(second) == whole
    ordered = sorted(values)
    for q in (0.5, 0.95, 0.99):
        exact = ordered[round(q * (len(values) - 1))]
        assert whole.quantile(q) == pytest.approx(exact, rel=0.011)
    assert LatencyHistogram.from_json(whole.to_json()) == whole
    assert LatencyHistogram().quantile(0.5) == 0.0


def test_recorder_aggregates_events_per_minute() -> None:
    clock = Clock(T0 + 5)
    recorder = UsageRecorder(ACCOUNT, "test@host:1", clock)
    recorder(event(100, in_flight=1))
    recorder(event(200, in_flight=3, waited=0.01))
    recorder(event(50, status=429, in_flight=2, over_limit=True))
    recorder(event(900, status=401, over_limit=True))
    recorder(event(30, status=500))
    recorder(event(20, status=None, method="GET", template="/services/rest/record/v1/invoice/{id}"))
    clock.now = T0 + 61
    recorder(event(10))

    first, second = recorder.drain()
    assert recorder.drain() == []
    assert first.minute == dt.datetime.fromtimestamp(T0, UTC) == minute_of(T0 + 59)
    assert (first.requests, first.peak_concurrency, first.budget, first.budget_waits) == (6, 3, 3, 1)
    assert (first.over_limit, first.errors) == (2, 2)  # over-limit answers are not counted twice
    assert first.latency_max_ms == pytest.approx(900) and first.latency_total_ms == pytest.approx(1300)
    assert first.latency_p50_ms == pytest.approx(statistics.median_low([100, 200, 50, 900, 30, 20]), rel=0.01)
    assert first.endpoints == {"POST /services/rest/query/v1/suiteql": [5, 2, 1],
                               "GET /services/rest/record/v1/invoice/{id}": [1, 0, 1]}
    assert first.budget_hit and not second.budget_hit
    assert (second.minute - first.minute, second.requests) == (dt.timedelta(minutes=1), 1)


def test_failed_flush_puts_minutes_back() -> None:
    clock = Clock(T0)
    recorder = UsageRecorder(ACCOUNT, "s", clock)
    recorder(event(10))
    drained = recorder.drain()
    recorder(event(20))
    recorder.restore(drained)
    (minute,) = recorder.drain()
    assert minute.requests == 2 and minute.latency_total_ms == pytest.approx(30)


def test_summary_over_sources() -> None:
    m0 = dt.datetime.fromtimestamp(T0, UTC)
    a = MinuteUsage(m0, ACCOUNT, "a", requests=10, peak_concurrency=2, budget=3, over_limit=0, latency_max_ms=50)
    b = MinuteUsage(m0, ACCOUNT, "b", requests=5, peak_concurrency=1, budget=3, budget_waits=2, latency_max_ms=80)
    c = MinuteUsage(m0 + dt.timedelta(minutes=1), ACCOUNT, "a", requests=1, peak_concurrency=1, budget=3, over_limit=1)
    (first, second) = by_minute([a, b, c])
    assert (first.requests, first.peak_concurrency, first.budget_waits, first.latency_max_ms) == (15, 2, 2, 80)
    assert first.budget_hit and not second.budget_hit and second.over_limit == 1
    summary = summarize([a, b, c], m0, m0 + dt.timedelta(minutes=2))
    assert summary.requests == 16 and summary.sources == ["a", "b"]
    assert [m.minute for m in summary.minutes_at_budget] == [m0]
    assert len(summary.warnings) == 2 and "budget (3)" in summary.warnings[0] and "over-limit" in summary.warnings[1]
    assert summarize([a], m0, m0).warnings == []
    since, until = window(dt.datetime(2026, 1, 1, 10, 30, 15, tzinfo=UTC), 60)
    assert (since, until) == (dt.datetime(2026, 1, 1, 9, 31, tzinfo=UTC), dt.datetime(2026, 1, 1, 10, 31, tzinfo=UTC))


def test_settings_from_env() -> None:
    assert UsageSettings.from_env({}) == UsageSettings(True, 60.0, None)
    assert UsageSettings.from_env({"NS_API_USAGE": "off", "NS_API_USAGE_FLUSH_SECONDS": "5",
                                   "NS_API_USAGE_SOURCE": "cli"}) == UsageSettings(False, 5.0, "cli")
    for bad in ({"NS_API_USAGE": "maybe"}, {"NS_API_USAGE_FLUSH_SECONDS": "0"}, {"NS_API_USAGE_FLUSH_SECONDS": "x"}):
        with pytest.raises(ValueError):
            UsageSettings.from_env(bad)


# --------------------------------------------------------------------------------------------
# The table, on SQLite and PostgreSQL


def _minute(recorder_events: list[RequestEvent], source: str, at: float = T0) -> MinuteUsage:
    recorder = UsageRecorder(ACCOUNT, source, Clock(at))
    for e in recorder_events:
        recorder(e)
    (usage,) = recorder.drain()
    return usage


def test_minutes_merge_into_their_row(warehouse_engine: Engine) -> None:
    with warehouse_engine.begin() as conn:
        conn.execute(delete(api_usage))
    first = _minute([event(10), event(20, in_flight=2)], "merge@h:1")
    second = _minute([event(30), event(1000, status=429, over_limit=True, in_flight=3)], "merge@h:1")
    other = _minute([event(40)], "other@h:2")
    assert merge_usage(warehouse_engine, [first, other]) == 2
    assert merge_usage(warehouse_engine, [second]) == 1

    m0 = dt.datetime.fromtimestamp(T0, UTC)
    rows = read_usage(warehouse_engine, m0, m0 + dt.timedelta(minutes=1))
    assert [r.source for r in rows] == ["merge@h:1", "other@h:2"]
    merged = rows[0]
    assert (merged.requests, merged.peak_concurrency, merged.over_limit, merged.errors) == (4, 3, 1, 0)
    assert merged.latency_max_ms == pytest.approx(1000) and merged.latency_total_ms == pytest.approx(1060)
    assert merged.histogram == first.histogram.merge(second.histogram)
    assert merged.endpoints == {"POST /services/rest/query/v1/suiteql": [4, 1, 0]}
    assert merged.minute == m0
    with warehouse_engine.connect() as conn:
        stored = conn.execute(select(api_usage).where(api_usage.c.source == "merge@h:1")).one()
    assert float(stored.latency_p95_ms) == pytest.approx(merged.latency_p95_ms, abs=0.001)
    assert float(stored.latency_p50_ms) == pytest.approx(20, rel=0.02)
    assert json.loads(stored.latency_histogram) and stored.updated_at.tzinfo is not None
    assert read_usage(warehouse_engine, m0 + dt.timedelta(minutes=1)) == []
    assert [r.source for r in read_usage(warehouse_engine, m0, account="other")] == []


# --------------------------------------------------------------------------------------------
# A real client, its monitor and the warehouse


@pytest.fixture(scope="module")
def slow_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    with SandboxServer(tmp_path_factory.mktemp("usage") / "sandbox", SandboxSettings(latency_ms=20),
                       scale="tiny") as server:
        yield server


def _client(server: SandboxServer, concurrency: int = 2) -> NetSuiteClient:
    config = NetSuiteConfig.from_env({**server.environment(), "NETSUITE_CONCURRENCY": str(concurrency)},
                                     retry=RetryPolicy(initial_backoff_s=0.01, max_backoff_s=0.05))
    return NetSuiteClient(config, budget=NoBudget())


def _parallel(client: NetSuiteClient, count: int) -> None:
    with ThreadPoolExecutor(4) as pool:
        for future in [pool.submit(client.suiteql.query_page, "SELECT id FROM customer", limit=3) for _ in range(count)]:
            future.result()


def _stored(engine: Engine, source_prefix: str) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(api_usage).where(api_usage.c.source.startswith(source_prefix))))


def test_a_client_writes_its_usage_when_it_closes(slow_sandbox: SandboxServer, fresh_warehouse_url: str) -> None:
    engine = create_warehouse_engine(fresh_warehouse_url)
    upgrade_warehouse(engine)
    client = _client(slow_sandbox, concurrency=2)
    monitor = monitor_client(client, url=fresh_warehouse_url, label="close-test",
                             settings=UsageSettings(flush_seconds=3600))
    assert monitor is not None
    _parallel(client, 12)
    with pytest.raises(Exception):
        client.suiteql.query_page("SELECT nosuchcolumn FROM customer", limit=1)
    assert _stored(engine, "close-test") == []  # nothing before the flush
    client.close()
    rows = _stored(engine, "close-test@")
    assert sum(r.requests for r in rows) == client.stats.requests == 13
    assert sum(r.errors for r in rows) == 1 and sum(r.over_limit for r in rows) == 0
    assert max(r.peak_concurrency for r in rows) == 2 and {r.budget for r in rows} == {2}
    assert all(r.account == ACCOUNT and float(r.latency_p50_ms) >= 20 for r in rows)
    endpoints = json.loads(rows[0].endpoints)
    assert "POST /services/rest/query/v1/suiteql" in endpoints
    engine.dispose()


def test_a_client_flushes_periodically(slow_sandbox: SandboxServer, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'warehouse.sqlite3'}"
    engine = create_warehouse_engine(url)
    upgrade_warehouse(engine)
    client = _client(slow_sandbox)
    monitor_client(client, url=url, label="periodic", settings=UsageSettings(flush_seconds=0.5))
    _parallel(client, 4)
    deadline = time.monotonic() + 10
    while not _stored(engine, "periodic@") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert sum(r.requests for r in _stored(engine, "periodic@")) == 4  # written while the client is open
    _parallel(client, 3)
    client.close()
    assert sum(r.requests for r in _stored(engine, "periodic@")) == 7


def test_no_warehouse_no_table_no_monitoring(slow_sandbox: SandboxServer, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "warehouse.sqlite3"
    client = _client(slow_sandbox)
    monitor = monitor_client(client, url=f"sqlite:///{missing}", settings=UsageSettings(flush_seconds=3600))
    _parallel(client, 1)
    client.close()
    assert monitor is not None and monitor.flushed_rows == 0 and not missing.exists()  # never created

    empty = tmp_path / "empty.sqlite3"
    create_warehouse_engine(f"sqlite:///{empty}").connect().close()  # a database without the table
    client = _client(slow_sandbox)
    monitor = monitor_client(client, url=f"sqlite:///{empty}", settings=UsageSettings(flush_seconds=3600))
    _parallel(client, 1)
    client.close()
    assert monitor is not None and monitor.flushed_rows == 0
    assert not inspect(create_warehouse_engine(f"sqlite:///{empty}")).has_table(api_usage.name)

    assert monitor_client(_client(slow_sandbox), settings=UsageSettings(enabled=False)) is None


def test_a_command_monitors_every_client_and_flushes_at_exit(slow_sandbox: SandboxServer, tmp_path: Path) -> None:
    """monitoring_new_clients() in a separate process, as a command's entry point uses it; the process
    never closes its client: the minutes are written when it exits."""
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'warehouse.sqlite3'}"
    engine = create_warehouse_engine(url)
    upgrade_warehouse(engine)
    code = ("from ns_pipelines.monitoring import monitoring_new_clients\n"
            "from ns_pipelines.netsuite import NetSuiteClient, NetSuiteConfig\n"
            "with monitoring_new_clients('my-command'):\n"
            "    client = NetSuiteClient(NetSuiteConfig.from_env())\n"
            "    for _ in range(3):\n"
            "        client.suiteql.query_page('SELECT id FROM customer', limit=1)\n")
    env = {**os.environ, **slow_sandbox.environment(), "NS_WAREHOUSE_URL": url, "NS_BUDGET_DIR": str(tmp_path / "b")}
    env.pop("NS_API_USAGE", None)
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    rows = _stored(engine, "my-command@")
    assert sum(r.requests for r in rows) == 3
    assert {r.source for r in rows} == {f"my-command@{socket.gethostname()}:{int(r.source.rsplit(':', 1)[1])}"
                                         for r in rows}
    assert all(int(r.source.rsplit(":", 1)[1]) != os.getpid() for r in rows)  # written by the command's process
