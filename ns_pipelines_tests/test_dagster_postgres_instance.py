"""The production profile (deploy/production/dagster.yaml) on the test PostgreSQL server: a
DagsterInstance built from it in a fresh database, a NetSuite sync job run on it against the
sandbox, and the run, its events and the pool limit found in PostgreSQL. Skips (fails under
CI=true) without NS_TEST_POSTGRES_URL, like every PostgreSQL test."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL

from ns_pipelines.defs import ar, netsuite, schedules
from ns_pipelines.defs.resources import NetSuiteResource, WarehouseResource
from ns_pipelines.sandbox.netsuite.server import SandboxServer
from ns_pipelines_tests.dagster_instance_helpers import fresh_dagster_database, production_dagster_home

QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


@pytest.fixture(scope="module")
def dagster_database() -> Iterator[URL]:
    """A new, empty PostgreSQL database for Dagster's storage (dropped afterwards)."""
    with fresh_dagster_database() as database:
        yield database


@pytest.fixture(scope="module")
def instance(dagster_database: URL, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dg.DagsterInstance]:
    """A DagsterInstance from the production profile, as the webserver and daemon build it."""
    # The profile reads DAGSTER_PG_URL (dagster-postgres connects with psycopg2: the plain scheme).
    environment = production_dagster_home(tmp_path_factory.mktemp("dagster_home"), dagster_database)
    with pytest.MonkeyPatch.context() as mp:
        for name, value in environment.items():
            mp.setenv(name, value)
        with dg.DagsterInstance.from_config(environment["DAGSTER_HOME"]) as created:
            yield created


def test_profile_configures_postgres_queue_pools_and_monitoring(instance: dg.DagsterInstance) -> None:
    from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage

    assert isinstance(instance.run_storage, PostgresRunStorage)
    assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
    assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
    assert isinstance(instance.run_coordinator, dg.QueuedRunCoordinator)
    config = instance.get_concurrency_config()
    assert config.pool_config.default_pool_limit == 1
    assert config.run_queue_config.max_concurrent_runs == 4
    tag_limits = config.run_queue_config.tag_concurrency_limits
    limits = {(limit["key"], limit["value"]): limit["limit"] for limit in tag_limits}
    assert limits[("ns/trigger", "redundancy")] == 1 and limits[("ns/trigger", "schedule")] == 1
    # every sensor's and schedule's runs queue behind their own kind, Stripe webhook runs included
    from ns_pipelines.defs.stripe.sensors import TRIGGER_TAGS

    assert limits[("ns/trigger", TRIGGER_TAGS["ns/trigger"])] == 1
    assert instance.run_monitoring_enabled
    assert instance.run_monitoring_settings["free_slots_after_run_end_seconds"] == 300


def test_sync_job_runs_on_the_production_instance(instance: dg.DagsterInstance, dagster_database: URL,
                                                  tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with SandboxServer(tmp_path / "sandbox", scale="tiny", seed=3) as server:
        for name, value in server.environment().items():
            monkeypatch.setenv(name, value)
        resources = {"netsuite": NetSuiteResource.from_env_vars(),
                     "warehouse": WarehouseResource(url=f"sqlite:///{tmp_path / 'warehouse.sqlite3'}")}
        defs = dg.Definitions.merge(netsuite.defs, ar.defs, schedules.defs, dg.Definitions(resources=resources))
        result = defs.resolve_job_def("netsuite_sync_job").execute_in_process(
            instance=instance, run_config=QUIET, raise_on_error=False)
    assert result.success, [e.event_specific_data.error.message for e in result.get_step_failure_events()]

    record = instance.get_run_record_by_id(result.run_id)
    assert record is not None and record.dagster_run.status == dg.DagsterRunStatus.SUCCESS
    invoices = dg.AssetKey(["netsuite", "invoices"])
    latest = instance.get_latest_materialization_event(invoices)
    assert latest is not None and latest.run_id == result.run_id
    # the pool limit of the profile applies to the pool the raw step uses
    info = instance.event_log_storage.get_concurrency_info("netsuite_api")
    assert info.slot_count == 1 and info.active_slot_count == 0  # and the run gave its slot back

    # straight from PostgreSQL: the run and its events are in the profile's database
    engine = create_engine(dagster_database)
    try:
        with engine.connect() as conn:
            status = conn.execute(text("SELECT status FROM runs WHERE run_id = :id"), {"id": result.run_id}).scalar()
            events = conn.execute(text("SELECT COUNT(*) FROM event_logs WHERE run_id = :id AND "
                                       "dagster_event_type = 'ASSET_MATERIALIZATION'"), {"id": result.run_id}).scalar()
            pool = conn.execute(text("SELECT COUNT(*) FROM concurrency_slots WHERE concurrency_key = 'netsuite_api'")
                                ).scalar()
    finally:
        engine.dispose()
    assert status == "SUCCESS"
    assert events == 12  # nine raw tables and three receivables tables
    assert pool == 1
