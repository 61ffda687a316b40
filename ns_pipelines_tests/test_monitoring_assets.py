"""The monitoring asset, its budget check and the per-minute sensor, run through Dagster on usage that
real clients recorded against the sandbox (SQLite and PostgreSQL warehouses)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from sqlalchemy import func, select

from ns_pipelines.defs.monitoring import netsuite_api_usage, netsuite_api_usage_sensor, within_budget
from ns_pipelines.defs.monitoring.sensors import settled_until
from ns_pipelines.defs.resources import NetSuiteResource, WarehouseResource
from ns_pipelines.monitoring import MinuteUsage, UsageSettings, merge_usage, monitor_client
from ns_pipelines.netsuite import NetSuiteClient, NetSuiteConfig, RetryPolicy
from ns_pipelines.netsuite.budget import NoBudget
from ns_pipelines.sandbox.netsuite.server import SandboxServer
from ns_pipelines.sandbox.netsuite.settings import SandboxSettings
from ns_pipelines.warehouse import create_warehouse_engine, upgrade_warehouse
from ns_pipelines.warehouse.tables.monitoring import api_usage

UTC = dt.timezone.utc


@pytest.fixture(scope="module")
def sandbox_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    with SandboxServer(tmp_path_factory.mktemp("monitoring") / "sandbox",
                       SandboxSettings(latency_ms=25, concurrency_limit=5), scale="tiny") as server:
        yield server


@pytest.fixture
def warehouse(fresh_warehouse_url: str) -> Iterator[str]:
    engine = create_warehouse_engine(fresh_warehouse_url)
    upgrade_warehouse(engine)
    engine.dispose()
    yield fresh_warehouse_url


def traffic(server: SandboxServer, url: str, *, concurrency: int, requests: int, parallel: bool) -> NetSuiteClient:
    """Real requests from a monitored client, written to the warehouse when it closes."""
    config = NetSuiteConfig.from_env({**server.environment(), "NETSUITE_CONCURRENCY": str(concurrency)},
                                     retry=RetryPolicy(initial_backoff_s=0.01, max_backoff_s=0.05))
    client = NetSuiteClient(config, budget=NoBudget())
    monitor_client(client, url=url, label="traffic", settings=UsageSettings(flush_seconds=3600))
    with ThreadPoolExecutor(6 if parallel else 1) as pool:
        for future in [pool.submit(client.suiteql.query_page, "SELECT id FROM customer", limit=2)
                       for _ in range(requests)]:
            future.result()
    client.close()
    return client


def materialize(url: str) -> tuple[dict[str, Any], dg.AssetCheckEvaluation]:
    result = dg.materialize([netsuite_api_usage, within_budget], resources={"warehouse": WarehouseResource(url=url)})
    assert result.success
    (materialization,) = result.asset_materializations_for_node(netsuite_api_usage.op.name)
    (evaluation,) = result.get_asset_check_evaluations()
    return materialization.metadata, evaluation


def value(metadata: dict[str, Any], key: str) -> Any:
    return metadata[key].value


def test_budget_hit_warns(sandbox_server: SandboxServer, warehouse: str) -> None:
    client = traffic(sandbox_server, warehouse, concurrency=2, requests=10, parallel=True)
    metadata, evaluation = materialize(warehouse)
    assert value(metadata, "ns/window_requests") == client.stats.requests == 10
    assert value(metadata, "ns/window_peak_concurrency") == 2 == value(metadata, "ns/window_budget")
    assert value(metadata, "ns/window_over_limit") == 0 and value(metadata, "ns/window_errors") == 0
    assert value(metadata, "ns/window_minutes_at_budget") >= 1
    assert value(metadata, "ns/window_latency_p50_ms") >= 25
    assert value(metadata, "ns/window_latency_max_ms") >= value(metadata, "ns/window_latency_p95_ms")
    # numbers are int/float metadata, which the UI plots across materializations
    assert isinstance(metadata["ns/window_requests"], dg.IntMetadataValue)
    assert isinstance(metadata["ns/window_latency_p95_ms"], dg.FloatMetadataValue)
    assert "POST /services/rest/query/v1/suiteql" in value(metadata, "ns/endpoints")
    assert "concurrency budget (2) was fully used" in value(metadata, "ns/warnings")
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN
    assert "budget (2) was fully used" in (evaluation.description or "")
    assert evaluation.metadata["ns/peak_concurrency"].value == 2


def test_quiet_usage_passes(sandbox_server: SandboxServer, warehouse: str) -> None:
    traffic(sandbox_server, warehouse, concurrency=3, requests=4, parallel=False)
    metadata, evaluation = materialize(warehouse)
    assert value(metadata, "ns/window_requests") == 4 and value(metadata, "ns/window_peak_concurrency") == 1
    assert value(metadata, "ns/warnings") == "none"
    assert evaluation.passed and evaluation.metadata["ns/requests"].value == 4


def test_over_limit_answers_warn(tmp_path: Path, warehouse: str) -> None:
    """A budget set above the account's limit: NetSuite (the sandbox, limit 1) answers 429."""
    with SandboxServer(tmp_path / "sandbox", SandboxSettings(latency_ms=40, concurrency_limit=1),
                       scale="tiny") as server:
        client = traffic(server, warehouse, concurrency=3, requests=6, parallel=True)
    assert client.stats.over_limit > 0
    metadata, evaluation = materialize(warehouse)
    assert value(metadata, "ns/window_over_limit") == client.stats.over_limit
    assert value(metadata, "ns/window_requests") == client.stats.requests
    assert not evaluation.passed and "over-limit answer" in (evaluation.description or "")
    assert evaluation.metadata["ns/over_limit"].value == client.stats.over_limit


def test_the_resource_records_a_runs_requests(sandbox_server: SandboxServer, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'warehouse.sqlite3'}"
    engine = create_warehouse_engine(url)
    upgrade_warehouse(engine)
    env = {**sandbox_server.environment(), "NS_WAREHOUSE_URL": url, "NS_BUDGET_DIR": str(tmp_path / "budget")}
    for key, val in env.items():
        monkeypatch.setenv(key, val)
    monkeypatch.delenv("NS_API_USAGE", raising=False)

    @dg.asset
    def probe(netsuite: NetSuiteResource) -> None:
        """Three NetSuite requests through the run's client."""
        for _ in range(3):
            netsuite.client.suiteql.query_page("SELECT id FROM customer", limit=1)

    def usage() -> list[tuple[str, int]]:
        with engine.connect() as conn:
            rows = conn.execute(select(api_usage.c.source, func.sum(api_usage.c.requests))
                                .group_by(api_usage.c.source)).all()
        return [(source.split("@")[0], int(total)) for source, total in rows]

    unbound = dg.materialize([probe], resources={"netsuite": NetSuiteResource.from_env_vars()})
    assert unbound.success and usage() == []  # no warehouse bound for usage: nothing recorded
    warehouse = WarehouseResource(url=url)
    result = dg.materialize([probe], resources={"netsuite": NetSuiteResource.from_env_vars(usage_warehouse=warehouse),
                                                "warehouse": warehouse})
    assert result.success
    assert usage() == [(f"dagster run {result.run_id[:8]}", 3)]


def test_sensor_observes_each_settled_minute_once(warehouse: str) -> None:
    engine = create_warehouse_engine(warehouse)
    now = dt.datetime.now(UTC)
    settled = settled_until(now, 60)
    minutes = [settled - dt.timedelta(minutes=k) for k in (5, 3, 1)]
    merge_usage(engine, [MinuteUsage(m, "1234567_SB1", src, requests=n, peak_concurrency=p, budget=3, latency_max_ms=9)
                         for m in minutes for src, n, p in (("a", 4, 2), ("b", 1, 3))])
    merge_usage(engine, [MinuteUsage(settled, "1234567_SB1", "a", requests=7, budget=3)])  # not settled yet
    engine.dispose()
    resources = {"warehouse": WarehouseResource(url=warehouse)}

    with dg.build_sensor_context(resources=resources) as context:
        result = netsuite_api_usage_sensor(context)
    assert isinstance(result, dg.SensorResult) and not result.run_requests
    events = result.asset_events
    assert [e.asset_key for e in events] == [netsuite_api_usage.key] * 3
    assert [e.metadata["ns/minute"].value for e in events] == [m.timestamp() for m in minutes]
    assert {e.metadata["ns/minute_requests"].value for e in events} == {5}
    assert {e.metadata["ns/minute_peak_concurrency"].value for e in events} == {3}
    assert isinstance(events[0].metadata["ns/minute_latency_p95_ms"], dg.FloatMetadataValue)
    assert dt.datetime.fromisoformat(result.cursor) == settled - dt.timedelta(minutes=1)

    with dg.build_sensor_context(cursor=result.cursor, resources=resources) as context:
        again = netsuite_api_usage_sensor(context)
    assert again.asset_events == [] and again.cursor == result.cursor


def test_declared_in_the_code_location() -> None:
    from ns_pipelines.definitions import defs

    spec = next(s for s in defs.resolve_all_asset_specs() if s.key == netsuite_api_usage.key)
    assert spec.group_name == "monitoring" and spec.owners == ["team:accounts-receivable"]
    assert spec.kinds == {"python", "sql"} and spec.description and "over-limit" in spec.description
    columns = [c.name for c in spec.metadata["dagster/column_schema"].columns]
    assert columns == [c.name for c in api_usage.columns]
    repo = defs.get_repository_def()
    assert repo.assets_defs_by_key[netsuite_api_usage.key].op.pool is None  # makes no NetSuite call
    schedule = repo.get_schedule_def("netsuite_api_usage_schedule")
    assert schedule.cron_schedule == "0 * * * *" and schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert schedule.job_name == "netsuite_api_usage_job"
    sensor = repo.get_sensor_def("netsuite_api_usage_sensor")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING and sensor.minimum_interval_seconds == 60
    checks = {(key.asset_key, key.name) for key in repo.asset_checks_defs_by_key}
    assert (netsuite_api_usage.key, "within_budget") in checks
    from ns_pipelines.defs.resources import defs as resource_defs

    bound = resource_defs.resources
    assert bound["netsuite"].usage_warehouse is bound["warehouse"]  # usage goes to the runs' warehouse
