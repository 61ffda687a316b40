"""The schedules' cadence and time zones from the environment: defaults, custom values (also as
the code location loads them in a fresh process), and clear errors for invalid values."""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from ns_pipelines.defs.schedules import ScheduleConfigError, ScheduleSettings, build_schedules

ROOT = Path(__file__).resolve().parents[1]


def schedules(environ: dict[str, str]) -> dict[str, dg.ScheduleDefinition]:
    return {s.name: s for s in build_schedules(ScheduleSettings.from_env(environ))}


def test_defaults() -> None:
    found = schedules({})
    incremental, redundancy = found["netsuite_incremental_schedule"], found["netsuite_redundancy_schedule"]
    assert incremental.cron_schedule == "*/15 * * * *" and incremental.execution_timezone == "UTC"
    assert incremental.job_name == "netsuite_sync_job"
    assert redundancy.cron_schedule == "30 2 * * *" and redundancy.execution_timezone == "UTC"
    assert redundancy.job_name == "netsuite_redundancy_job"
    assert {s.default_status for s in found.values()} == {dg.DefaultScheduleStatus.RUNNING}
    assert redundancy.tags == {"ns/trigger": "redundancy"} and incremental.tags == {"ns/trigger": "schedule"}


def test_account_time_zone_is_the_default() -> None:
    found = schedules({"NETSUITE_TIMEZONE": "America/Los_Angeles"})
    assert found["netsuite_redundancy_schedule"].execution_timezone == "America/Los_Angeles"
    assert found["netsuite_incremental_schedule"].execution_timezone == "America/Los_Angeles"


def test_custom_cadence_and_zones() -> None:
    found = schedules({"NS_SYNC_CRON": "0 * * * *", "NS_SYNC_SCHEDULE_TIMEZONE": "Europe/Amsterdam",
                       "NS_REDUNDANCY_SYNC_TIME": "23:05", "NS_REDUNDANCY_SYNC_TIMEZONE": "Asia/Tokyo",
                       "NETSUITE_TIMEZONE": "America/Los_Angeles"})
    incremental, redundancy = found["netsuite_incremental_schedule"], found["netsuite_redundancy_schedule"]
    assert (incremental.cron_schedule, incremental.execution_timezone) == ("0 * * * *", "Europe/Amsterdam")
    assert (redundancy.cron_schedule, redundancy.execution_timezone) == ("5 23 * * *", "Asia/Tokyo")
    # the next tick is 23:05 Tokyo time, whatever the machine's zone
    start = dt.datetime(2027, 3, 1, 12, 0, tzinfo=dt.timezone.utc)
    ticks = redundancy.cron_schedule, redundancy.execution_timezone
    from dagster._utils.schedules import cron_string_iterator

    first = next(cron_string_iterator(start.timestamp(), ticks[0], ticks[1]))
    assert (first.hour, first.minute, first.tzinfo.key if hasattr(first.tzinfo, "key") else str(first.tzinfo)) == (
        23, 5, "Asia/Tokyo")
    assert first.astimezone(dt.timezone.utc) == dt.datetime(2027, 3, 1, 14, 5, tzinfo=dt.timezone.utc)


def test_schedule_requests_its_job() -> None:
    incremental = schedules({})["netsuite_incremental_schedule"]
    with dg.build_schedule_context(scheduled_execution_time=dt.datetime(2027, 3, 1, 12, 15,
                                                                        tzinfo=dt.timezone.utc)) as context:
        data = incremental.evaluate_tick(context)
    (request,) = data.run_requests
    assert request.tags.get("ns/trigger") == "schedule"


@pytest.mark.parametrize("environ, message", [
    ({"NS_SYNC_CRON": "every 15 minutes"}, "NS_SYNC_CRON='every 15 minutes' is not a valid cron expression"),
    ({"NS_SYNC_CRON": "61 * * * *"}, "NS_SYNC_CRON='61 \\* \\* \\* \\*' is not a valid cron"),
    ({"NS_SYNC_SCHEDULE_TIMEZONE": "Mars/Olympus"},
     "NS_SYNC_SCHEDULE_TIMEZONE='Mars/Olympus' is not a known time zone"),
    ({"NS_REDUNDANCY_SYNC_TIME": "2:30pm"}, "NS_REDUNDANCY_SYNC_TIME='2:30pm' is not a time of day as HH:MM"),
    ({"NS_REDUNDANCY_SYNC_TIME": "24:00"}, "NS_REDUNDANCY_SYNC_TIME='24:00'"),
    ({"NS_REDUNDANCY_SYNC_TIMEZONE": "CEST"}, "NS_REDUNDANCY_SYNC_TIMEZONE='CEST' is not a known time zone"),
    ({"NETSUITE_TIMEZONE": "Nowhere"}, "NETSUITE_TIMEZONE='Nowhere' is not a known time zone"),
])
def test_invalid_values_name_the_variable(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ScheduleConfigError, match=message):
        ScheduleSettings.from_env(environ)


def load_in_fresh_process(extra: dict[str, str]) -> subprocess.CompletedProcess:
    code = ("from ns_pipelines.definitions import defs\n"
            "repo = defs.get_repository_def()\n"
            "for s in repo.schedule_defs: print(s.name, repr(s.cron_schedule), s.execution_timezone)\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NS_SYNC", "NS_REDUNDANCY", "NETSUITE_TIMEZONE"))}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**env, **extra}, capture_output=True,
                          text=True, timeout=120)


def test_the_code_location_reads_the_environment() -> None:
    done = load_in_fresh_process({"NS_SYNC_CRON": "0 6 * * *", "NS_REDUNDANCY_SYNC_TIME": "04:45",
                                  "NETSUITE_TIMEZONE": "Europe/London"})
    assert done.returncode == 0, done.stderr
    assert "netsuite_incremental_schedule '0 6 * * *' Europe/London" in done.stdout
    assert "netsuite_redundancy_schedule '45 4 * * *' Europe/London" in done.stdout
    bad = load_in_fresh_process({"NS_REDUNDANCY_SYNC_TIME": "25:00"})
    assert bad.returncode != 0 and "NS_REDUNDANCY_SYNC_TIME='25:00' is not a time of day" in bad.stderr


def test_code_location_holds_the_frequency_control() -> None:
    from ns_pipelines.definitions import defs

    repo = defs.get_repository_def()
    assert {"netsuite_incremental_schedule", "netsuite_redundancy_schedule"} <= {s.name for s in repo.schedule_defs}
    assert {"netsuite_change_events_sensor", "netsuite_connection_sensor"} <= {s.name for s in repo.sensor_defs}

    def drift_checks(job: str) -> set[str]:
        graph = repo.get_job(job).asset_layer.asset_graph
        return {key.asset_key.to_user_string() for key in graph.asset_check_keys if key.name == "redundancy_drift"}

    raw = {spec.key.to_user_string() for spec, _ in __import__(
        "ns_pipelines.defs.netsuite", fromlist=["RAW_ASSETS"]).RAW_ASSETS.values()}
    assert drift_checks("netsuite_redundancy_job") == raw
    for job in ("netsuite_sync_job", "netsuite_full_resync_job", "warehouse_checks_job", "netsuite_change_events_job",
                "netsuite_customer_resync_job"):
        assert drift_checks(job) == set(), job
    redundancy = repo.get_job("netsuite_redundancy_job")
    assert redundancy.tags.get("ns/trigger") == "redundancy"
    resync = repo.get_job("netsuite_customer_resync_job")
    keys = {key.to_user_string() for key in resync.asset_layer.executable_asset_keys}
    assert "netsuite/deleted_records" not in keys and {"netsuite/customers", "ar/aging"} <= keys
    # the launchpad shows one typed, required field: customer_ids, a list of integers
    fields = resync.config_mapping.config_schema.config_type.fields
    assert set(fields) == {"customer_ids"} and fields["customer_ids"].is_required
    assert fields["customer_ids"].config_type.key == "Array.IntSourceType"
    assert resync.config_mapping.resolve_from_unvalidated_config({"customer_ids": [7, 9]}) == {
        "ops": {"netsuite_raw_tables": {"config": {"customer_ids": [7, 9]}}}}
