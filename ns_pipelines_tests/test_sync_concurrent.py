"""Record types synced concurrently on one client (ns_pipelines/sync/concurrent.py).

The sandbox answers every request 50 ms late, while holding one of its concurrency slots, and
allows 4 requests at once; the client's budget is 3. No assertion is on seconds: that the
record types overlap shows in the sandbox's peak concurrency during an incremental pass, and
that requests which need not wait for each other do not shows in their start and end times.
"""
from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from ns_pipelines.sandbox.netsuite.server import SandboxServer
from ns_pipelines.sandbox.netsuite.settings import SandboxSettings
from ns_pipelines.sync import (
    RECORD_TYPES,
    ConcurrentSyncError,
    ConcurrentSyncResult,
    SyncValidationError,
    sync_all,
    sync_concurrently,
    sync_record_type,
)
from ns_pipelines.warehouse import credit_memos, deleted_records
from ns_pipelines_tests.sync_helpers import (
    ALL_TABLES,
    assert_warehouse_matches,
    make_changes,
    make_client,
    make_engine,
    make_settings,
    sandbox_rows,
    state_row,
    sync_everything,
    truth,
    warehouse_rows,
)

BUDGET = 3
SANDBOX_LIMIT = 4
LATENCY_MS = 50


def slow_account(tmp_path: Path, scale: str | int = "tiny", seed: int = 21) -> SandboxServer:
    return SandboxServer(tmp_path / "sandbox", SandboxSettings(latency_ms=LATENCY_MS, concurrency_limit=SANDBOX_LIMIT),
                         scale=scale, seed=seed)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SandboxServer]:
    with slow_account(tmp_path) as account:
        yield account


@pytest.fixture
def larger_server(tmp_path: Path) -> Iterator[SandboxServer]:
    """Enough records for make_changes (payments with applications to unapply, delete, void)."""
    with slow_account(tmp_path, scale=200) as account:
        yield account


def sandbox_stats(server: SandboxServer, reset: bool = False) -> dict[str, Any]:
    stats = server.account.stats()
    if reset:
        server.account.governor.reset_stats()
    return stats


def closed(*things: Any) -> None:
    for thing in things:
        (thing.dispose if isinstance(thing, Engine) else thing.close)()


def test_concurrent_sync_equals_serial_within_the_budget(larger_server: SandboxServer, tmp_path: Path,
                                                         fresh_warehouse_url: str) -> None:
    server = larger_server
    client = make_client(server, concurrency=BUDGET)
    serial = make_engine(f"sqlite:///{tmp_path / 'serial.sqlite3'}")
    engine = make_engine(fresh_warehouse_url)
    settings = make_settings(server, page_size=10)  # many batches: many concurrent writers' commits
    try:
        sync_everything(client, serial, settings)
        sandbox_stats(server, reset=True)
        before = client.stats_snapshot()
        stages: list[str] = []
        finished: list[str] = []
        results = sync_concurrently(client, engine, RECORD_TYPES, settings=settings,
                                    progress=lambda stage, rows: stages.append(stage),
                                    on_result=lambda r: finished.append(r.record_type))
        stats = sandbox_stats(server, reset=True)

        # the same tables as a serial sync, and as NetSuite
        assert warehouse_rows(engine) == warehouse_rows(serial)
        assert_warehouse_matches(server, engine)
        assert [r.record_type for r in results] == list(RECORD_TYPES)
        assert {r.mode for r in results} == {"full"}
        for result in results:
            assert isinstance(result, ConcurrentSyncResult)
            assert state_row(engine, result.record_type)["cursor_last_modified"] == result.cursor_after
            assert result.cursor_after == state_row(serial, result.record_type)["cursor_last_modified"]
        # within the budget (the sandbox never refused a request), and the requests are counted
        # per record type, not the client's total during each
        assert stats["concurrency"]["peak"] <= BUDGET and client.stats.peak_in_flight <= BUDGET
        assert stats["status_429"] == 0 and client.stats.throttled == 0
        assert sum(r.requests for r in results) == client.stats_snapshot()["requests"] - before["requests"]
        # deletions start after every other record type has finished its pass
        assert finished[-1] == "deletedrecord"
        first_deletion = min(i for i, s in enumerate(stages) if s.startswith("deletedrecord"))
        assert all(stages.index(f"{rt}:done") < first_deletion for rt in RECORD_TYPES[:-1])

        # incremental after users' changes: serial syncs one record type at a time (it may read a
        # window's pages ahead), concurrent overlaps record types; both within the budget
        make_changes(server)
        sandbox_stats(server, reset=True)
        sync_everything(client, serial, settings)
        assert sandbox_stats(server, reset=True)["concurrency"]["peak"] <= BUDGET
        again = sync_concurrently(client, engine, RECORD_TYPES, settings=settings)
        stats = sandbox_stats(server)
        assert 1 < stats["concurrency"]["peak"] <= BUDGET and stats["status_429"] == 0
        assert {r.mode for r in again} == {"incremental"}
        assert warehouse_rows(engine) == warehouse_rows(serial)
        assert_warehouse_matches(server, engine)
    finally:
        closed(client, serial, engine)


def test_a_full_pass_reads_its_id_bounds_while_the_clock_is_read(server: SandboxServer,
                                                                 fresh_warehouse_url: str) -> None:
    client = make_client(server, concurrency=BUDGET)
    engine = make_engine(fresh_warehouse_url)
    spans: list[tuple[float, float]] = []
    client.add_request_hook(lambda event: spans.append((time.monotonic() - event.duration_s, time.monotonic())))
    try:
        result = sync_record_type(client, engine, "invoice", settings=make_settings(server, parallel_ranges=2),
                                  mode="full")
        assert result.rows_written == len(truth(server)["netsuite_invoices"])
        (clock_start, clock_end), (bounds_start, bounds_end) = sorted(spans)[:2]
        first_page = sorted(spans)[2][0]
        assert bounds_start < clock_end and clock_start < bounds_end  # at once
        assert first_page >= max(clock_end, bounds_end) - 0.005  # rows only after both
        assert result.requests == len(spans)
    finally:
        closed(client, engine)


def test_error_in_one_record_type_names_it_and_the_others_finish(server: SandboxServer, tmp_path: Path) -> None:
    memos = [r["id"] for r in sandbox_rows(server, "SELECT id FROM \"transaction\" WHERE type = 'CustCred' ORDER BY id")]
    bad = memos[len(memos) // 2]
    with server.account.store.write() as conn:
        conn.execute('UPDATE "transaction" SET foreigntotal = -5 WHERE id = ?', (bad,))
    client = make_client(server, concurrency=BUDGET)
    engine = make_engine(f"sqlite:///{tmp_path / 'wh.sqlite3'}")
    settings = make_settings(server, page_size=2, parallel_ranges=1)
    try:
        with pytest.raises(ConcurrentSyncError) as excinfo:
            sync_all(client, engine, settings=settings)
        error = excinfo.value
        assert error.record_types == ["creditmemo"] and "creditmemo" in str(error) and f"creditmemo {bad}" in str(error)
        assert isinstance(error.__cause__, SyncValidationError)
        assert error.skipped == ["deletedrecord"]  # it soft-deletes into the failed table too
        assert sorted(r.record_type for r in error.results) == sorted(set(RECORD_TYPES) - {"creditmemo", "deletedrecord"})

        # every other table is complete, its cursor moved; the failed one stopped before its bad batch
        expected, actual = truth(server), warehouse_rows(engine)
        for table in ALL_TABLES:
            if table not in (credit_memos, deleted_records):
                assert actual[table.name] == expected[table.name], table.name
        assert actual[deleted_records.name] == {} and state_row(engine, "deletedrecord") is None
        state = state_row(engine, "creditmemo")
        assert state["cursor_last_modified"] is None and state["window_mode"] == "full"
        assert 0 < len(actual[credit_memos.name]) < len(memos) and max(actual[credit_memos.name]) < bad
        assert json.loads(state["window_position"])["intervals"][0][2] == [max(actual[credit_memos.name])]

        # fixed in NetSuite: the next run resumes the credit memos' pass and applies deletions
        with server.account.store.write() as conn:
            conn.execute('UPDATE "transaction" SET foreigntotal = 5 WHERE id = ?', (bad,))
        results = {r.record_type: r for r in sync_all(client, engine, settings=settings)}
        assert results["creditmemo"].resumed and results["deletedrecord"].mode == "full"
        assert_warehouse_matches(server, engine)
    finally:
        closed(client, engine)


class Killed(BaseException):
    """Not an Exception: a kill, an interrupt, a terminated run."""


def test_interrupt_stops_every_record_type_after_its_batch_then_resumes(server: SandboxServer,
                                                                        tmp_path: Path) -> None:
    client = make_client(server, concurrency=BUDGET)
    engine = make_engine(f"sqlite:///{tmp_path / 'wh.sqlite3'}")
    settings = make_settings(server, page_size=2)
    batches: list[str] = []

    def progress(stage: str, rows: int) -> None:
        batches.append(stage)
        if stage.startswith("invoice") and batches.count(stage) == 2:
            raise Killed()

    try:
        with pytest.raises(Killed):
            sync_concurrently(client, engine, RECORD_TYPES, settings=settings, progress=progress)
        done = [rt for rt in RECORD_TYPES if (state_row(engine, rt) or {}).get("window_mode") is None
                and (state_row(engine, rt) or {}).get("cursor_last_modified") is not None]
        assert "invoice" not in done and "deletedrecord" not in done
        assert state_row(engine, "invoice")["window_mode"] == "full"
        results = {r.record_type: r for r in sync_concurrently(client, engine, RECORD_TYPES, settings=settings)}
        assert results["invoice"].resumed
        assert_warehouse_matches(server, engine)
    finally:
        closed(client, engine)


def test_in_memory_sqlite_runs_one_record_type_at_a_time(tmp_path: Path) -> None:
    with SandboxServer(tmp_path / "sandbox", scale="tiny", seed=4) as server:
        client = make_client(server, concurrency=BUDGET)
        engine = make_engine("sqlite://")  # one connection per thread: threads would see empty databases
        try:
            results = sync_concurrently(client, engine, reversed(RECORD_TYPES), settings=make_settings(server))
            assert [r.record_type for r in results] == list(reversed(RECORD_TYPES))
            assert_warehouse_matches(server, engine)
        finally:
            closed(client, engine)


def test_arguments_are_checked(server: SandboxServer) -> None:
    client = make_client(server)
    engine = make_engine("sqlite://")
    try:
        with pytest.raises(ValueError, match="unknown record type 'salesorder'"):
            sync_concurrently(client, engine, ["invoice", "salesorder"], settings=make_settings(server))
        with pytest.raises(ValueError, match="incremental or full"):
            sync_concurrently(client, engine, ["invoice"], settings=make_settings(server), mode="targeted")
        assert sync_concurrently(client, engine, [], settings=make_settings(server)) == []
    finally:
        closed(client, engine)
