"""A full sync in worker processes (ns_pipelines/sync/processes.py): the same tables as NetSuite,
one budget across the processes, every request seen by the caller's hooks, failures and stops.

The sandbox answers 50 ms late and allows 4 requests at once; the client's budget is 3.
"""
from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from ns_pipelines.netsuite import DecodeError, NetSuiteClient, RequestEvent
from ns_pipelines.netsuite.budget import NoBudget
from ns_pipelines.sandbox.netsuite.server import SandboxServer
from ns_pipelines.sandbox.netsuite.settings import SandboxSettings
from ns_pipelines.sync import RECORD_TYPES, ConcurrentSyncError, sync_concurrently
from ns_pipelines.sync.concurrent import iter_sync_concurrently
from ns_pipelines.sync.processes import WEIGHTS, plan_groups, use_processes
from ns_pipelines.warehouse import create_warehouse_engine
from ns_pipelines_tests.sync_helpers import (
    assert_warehouse_matches,
    make_changes,
    make_client,
    make_engine,
    make_settings,
    sandbox_rows,
    state_row,
)

BUDGET = 3
SANDBOX_LIMIT = 4
LATENCY_MS = 50
PROCESSES_LOG = "ns_pipelines.sync.processes"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SandboxServer]:
    settings = SandboxSettings(latency_ms=LATENCY_MS, concurrency_limit=SANDBOX_LIMIT)
    with SandboxServer(tmp_path / "sandbox", settings, scale=200, seed=21) as account:
        yield account


def _workers_started(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == PROCESSES_LOG and "processes:" in r.getMessage()]


def _sandbox_stats(server: SandboxServer) -> dict[str, Any]:
    stats = server.account.stats()
    server.account.governor.reset_stats()
    return stats


def test_plan_groups_balances_the_weights_and_keeps_the_order() -> None:
    types = [rt for rt in RECORD_TYPES if rt != "deletedrecord"]
    groups = plan_groups(types, 2)
    assert sorted(rt for group in groups for rt in group) == sorted(types)
    loads = [sum(WEIGHTS[rt] for rt in group) for group in groups]
    assert max(loads) - min(loads) <= min(WEIGHTS.values()) + 1e-9
    assert "paymentapplication" in groups[0]  # the heaviest starts at once, in the calling process
    for group in groups:
        assert group == [rt for rt in types if rt in group]
    assert plan_groups(["invoice", "customer"], 4) == [["invoice"], ["customer"]]
    assert plan_groups(types, 1) == [types]


def test_a_full_sync_in_processes_equals_netsuite_within_one_budget(server: SandboxServer, fresh_warehouse_url: str,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=PROCESSES_LOG)
    client = make_client(server, concurrency=BUDGET)
    seen: list[RequestEvent] = []
    client.add_request_hook(seen.append)
    engine = make_engine(fresh_warehouse_url)
    settings = dataclasses.replace(make_settings(server, page_size=20), processes=2)
    stages: list[str] = []
    try:
        _sandbox_stats(server)
        results = sync_concurrently(client, engine, RECORD_TYPES, settings=settings, mode="full",
                                    progress=lambda stage, rows: stages.append(stage))
        stats = _sandbox_stats(server)

        assert len(_workers_started(caplog)) == 1
        assert_warehouse_matches(server, engine)
        assert [r.record_type for r in results] == list(RECORD_TYPES)
        for result in results:
            assert result.cursor_after is not None
            assert state_row(engine, result.record_type)["cursor_last_modified"] == result.cursor_after
        # one budget over both processes: the sandbox never saw more, nor refused a request
        assert stats["concurrency"]["peak"] <= BUDGET and stats["status_429"] == 0
        # every request of the worker reached the caller's hooks and statistics
        assert len(seen) == stats["requests"] == client.stats_snapshot()["requests"]
        assert sum(r.requests for r in results) == stats["requests"]
        # the worker's batches were reported here, and deletions came after every other record type
        assert {s.split(":")[0] for s in stages} == set(RECORD_TYPES)
        first_deletion = min(i for i, s in enumerate(stages) if s.startswith("deletedrecord"))
        assert all(stages.index(f"{rt}:done") < first_deletion for rt in RECORD_TYPES[:-1])
        assert not multiprocessing.active_children()

        # once every record type has a cursor, an incremental sync stays in this process
        caplog.clear()
        make_changes(server)
        sync_concurrently(client, engine, RECORD_TYPES, settings=settings, mode="incremental")
        assert not _workers_started(caplog)
        assert_warehouse_matches(server, engine)
    finally:
        client.close()
        engine.dispose()


def test_a_record_type_failing_in_a_worker_keeps_its_type_and_lets_the_others_finish(
        server: SandboxServer, tmp_path: Path) -> None:
    bad = sandbox_rows(server, "SELECT id FROM \"transaction\" WHERE type = 'CustInvc' ORDER BY id LIMIT 1 OFFSET 30"
                       )[0]["id"]
    with server.account.store.write() as conn:
        conn.execute('UPDATE "transaction" SET currency = 99 WHERE id = ?', (bad,))
    client = make_client(server, concurrency=BUDGET)
    engine = make_engine(f"sqlite:///{tmp_path / 'wh.sqlite3'}")
    settings = dataclasses.replace(make_settings(server, page_size=20), processes=2)
    groups = plan_groups([rt for rt in RECORD_TYPES if rt != "deletedrecord"], 2)
    assert "invoice" not in groups[0]  # so the failure happens in the worker process
    try:
        with pytest.raises(ConcurrentSyncError) as excinfo:
            sync_concurrently(client, engine, RECORD_TYPES, settings=settings, mode="full")
        error = excinfo.value
        assert error.record_types == ["invoice"] and error.skipped == ["deletedrecord"]
        decode = error.errors["invoice"]
        assert isinstance(decode, DecodeError) and int(decode.record_id) == bad and decode.column == "currency"
        assert any("in sync worker process" in note for note in decode.__notes__)
        assert {r.record_type for r in error.results} == set(RECORD_TYPES) - {"invoice", "deletedrecord"}
        assert state_row(engine, "invoice")["cursor_last_modified"] is None
        assert state_row(engine, "customerpayment")["cursor_last_modified"] is not None
    finally:
        client.close()
        engine.dispose()


def test_a_worker_killed_mid_run_fails_its_record_types_and_a_rerun_completes(
        server: SandboxServer, tmp_path: Path) -> None:
    client = make_client(server, concurrency=BUDGET)
    engine = make_engine(f"sqlite:///{tmp_path / 'wh.sqlite3'}")
    settings = dataclasses.replace(make_settings(server, page_size=10), processes=2)
    remote = set(plan_groups([rt for rt in RECORD_TYPES if rt != "deletedrecord"], 2)[1])

    def progress(stage: str, rows: int) -> None:
        if stage.split(":")[0] in remote:
            for child in multiprocessing.active_children():
                os.kill(child.pid, signal.SIGKILL)

    try:
        with pytest.raises(ConcurrentSyncError) as excinfo:
            sync_concurrently(client, engine, RECORD_TYPES, settings=settings, mode="full", progress=progress)
        failed = excinfo.value.errors
        assert failed and set(failed) <= remote
        assert all("exited with code -9" in str(exc) for exc in failed.values())
        assert not multiprocessing.active_children()
        sync_concurrently(client, engine, RECORD_TYPES, settings=settings, mode="incremental")
        assert_warehouse_matches(server, engine)
    finally:
        client.close()
        engine.dispose()


def test_closing_the_iterator_stops_every_worker_and_the_next_run_resumes(server: SandboxServer,
                                                                          tmp_path: Path) -> None:
    client = make_client(server, concurrency=BUDGET)
    engine = make_engine(f"sqlite:///{tmp_path / 'wh.sqlite3'}")
    settings = dataclasses.replace(make_settings(server, page_size=10), processes=2)
    try:
        results = iter_sync_concurrently(client, engine, RECORD_TYPES, settings=settings, mode="full")
        first = next(results)
        results.close()
        assert not multiprocessing.active_children()
        assert state_row(engine, first.record_type)["cursor_last_modified"] is not None
        sync_concurrently(client, engine, RECORD_TYPES, settings=settings, mode="incremental")
        assert_warehouse_matches(server, engine)
    finally:
        client.close()
        engine.dispose()


def test_processes_are_used_only_where_they_can_share_the_budget_and_the_warehouse(server: SandboxServer,
                                                                                   tmp_path: Path) -> None:
    types = ["invoice", "customerpayment"]
    settings = dataclasses.replace(make_settings(server), processes=2)
    file_engine = make_engine(f"sqlite:///{tmp_path / 'wh.sqlite3'}")
    memory_engine = create_warehouse_engine("sqlite://")
    client = make_client(server)
    with requests.Session() as session:
        injected = NetSuiteClient(client.config, session=session)
        unbudgeted = NetSuiteClient(client.config, budget=NoBudget(BUDGET))
        try:
            assert use_processes(client, file_engine, types, settings=settings, mode="full") == 2
            assert use_processes(client, file_engine, types, settings=settings, mode="incremental") == 2  # no cursor
            assert use_processes(client, file_engine, types[:1], settings=settings, mode="full") == 0
            assert use_processes(client, file_engine, types, settings=dataclasses.replace(settings, processes=1),
                                 mode="full") == 0
            assert use_processes(client, memory_engine, types, settings=settings, mode="full") == 0
            assert use_processes(injected, file_engine, types, settings=settings, mode="full") == 0
            assert use_processes(unbudgeted, file_engine, types, settings=settings, mode="full") == 0
        finally:
            for thing in (client, injected, unbudgeted):
                thing.close()
            file_engine.dispose()
            memory_engine.dispose()


def test_the_setting_reads_auto_or_a_number() -> None:
    from ns_pipelines.sync import SyncConfigError, SyncSettings

    assert SyncSettings.from_env({}).processes is None
    assert SyncSettings.from_env({"NS_SYNC_PROCESSES": "auto"}).worker_processes == min(os.cpu_count() or 1, 4)
    assert SyncSettings.from_env({"NS_SYNC_PROCESSES": "3"}).worker_processes == 3
    with pytest.raises(SyncConfigError, match="NS_SYNC_PROCESSES"):
        SyncSettings.from_env({"NS_SYNC_PROCESSES": "0"})
    with pytest.raises(SyncConfigError, match="NS_SYNC_PROCESSES"):
        SyncSettings.from_env({"NS_SYNC_PROCESSES": "many"})
