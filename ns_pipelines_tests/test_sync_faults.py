"""The sync engine under faults: 429 storms, 5xx, dropped connections, runs killed in the middle,
a token revoked mid-run, malformed records. Each ends equal to NetSuite, or fails cleanly."""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ns_pipelines.netsuite import RECONNECT_INSTRUCTIONS, AuthenticationError, DecodeError
from ns_pipelines.sandbox.netsuite.server import SandboxServer
from ns_pipelines.sync import SyncValidationError, sync_record_type
from ns_pipelines_tests.sync_helpers import (
    admin,
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
from ns_pipelines.warehouse import customers, invoices


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SandboxServer]:
    with SandboxServer(tmp_path / "sandbox", scale="small", seed=23) as server:
        yield server


def _count(engine, table) -> int:  # noqa: ANN001
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_storms_server_errors_and_dropped_connections(server: SandboxServer, fresh_warehouse_url: str) -> None:
    admin(server, "PATCH", "/settings", {"faults": {"rate_limit_storm_rate": 0.15, "server_error_rate": 0.1,
                                                    "drop_connection_rate": 0.05, "seed": 7}})
    client = make_client(server)
    engine = make_engine(fresh_warehouse_url)
    settings = make_settings(server, page_size=300)
    try:
        sync_everything(client, engine, settings)
        assert_warehouse_matches(server, engine)
        make_changes(server)
        sync_everything(client, engine, settings)
        assert_warehouse_matches(server, engine)
        stats = client.stats.snapshot()
        assert stats["throttled"] > 0 and stats["server_errors"] > 0 and stats["transport_errors"] > 0
        assert stats["failures"] == 0 and stats["peak_in_flight"] <= client.config.concurrency
    finally:
        admin(server, "PATCH", "/settings", {"faults": {"rate_limit_storm_rate": 0, "server_error_rate": 0,
                                                        "drop_connection_rate": 0}})
        client.close()
        engine.dispose()


class Killed(BaseException):
    """Like a KeyboardInterrupt or the process dying: not an Exception the code could swallow."""


@pytest.mark.parametrize("kind", ["exception", "kill"])
def test_run_killed_in_the_middle_then_rerun(server: SandboxServer, tmp_path: Path, kind: str) -> None:
    client = make_client(server)
    engine = make_engine(f"sqlite:///{tmp_path / 'wh.sqlite3'}")
    settings = make_settings(server, page_size=150, parallel_ranges=4)
    batches = {"n": 0}

    def progress(stage: str, rows: int) -> None:
        batches["n"] += 1
        if batches["n"] == 5:
            raise (RuntimeError("stopped by the operator") if kind == "exception" else Killed())

    try:
        with pytest.raises(RuntimeError if kind == "exception" else Killed):
            sync_record_type(client, engine, "paymentapplication", settings=settings, progress=progress)
        # the parallel readers stopped with the run
        assert not [t for t in threading.enumerate() if t.name.startswith("ns-sync-range")]
        state = state_row(engine, "paymentapplication")
        assert state["cursor_last_modified"] is None and state["window_mode"] == "full"
        intervals = json.loads(state["window_position"])["intervals"]
        assert len(intervals) == 4 and sum(1 for i in intervals if i[2] is not None) >= 1
        written = state["last_run_rows"]
        assert 0 < written <= 5 * 150
        total = len(truth(server)["netsuite_payment_applications"])

        rerun = sync_record_type(client, engine, "paymentapplication", settings=settings)
        assert rerun.resumed and rerun.rows_read == total - written  # nothing read twice, nothing skipped
        # the other record types (first syncs) and a later incremental: all equal to NetSuite
        sync_everything(client, engine, settings)
        assert_warehouse_matches(server, engine)
        make_changes(server)
        batches["n"] = 0
        with pytest.raises(RuntimeError if kind == "exception" else Killed):
            sync_everything(client, engine, settings, progress=progress)
        sync_everything(client, engine, settings)
        assert_warehouse_matches(server, engine)
    finally:
        client.close()
        engine.dispose()


def test_token_revoked_mid_run_fails_promptly_without_partial_cursor(server: SandboxServer, tmp_path: Path) -> None:
    client = make_client(server)
    engine = make_engine(f"sqlite:///{tmp_path / 'wh.sqlite3'}")
    settings = make_settings(server, page_size=100)
    token_id = server.environment()["NETSUITE_TOKEN_ID"]
    revoked_at: dict[str, float] = {}

    def progress(stage: str, rows: int) -> None:
        if not revoked_at:
            admin(server, "POST", "/tokens/revoke", {"token_id": token_id})
            revoked_at["t"] = time.monotonic()

    try:
        with pytest.raises(AuthenticationError) as excinfo:
            sync_record_type(client, engine, "invoice", settings=settings, progress=progress)
        assert time.monotonic() - revoked_at["t"] < 5
        assert RECONNECT_INSTRUCTIONS in str(excinfo.value) and excinfo.value.status == 401
        state = state_row(engine, "invoice")
        assert state["cursor_last_modified"] is None  # the cursor did not move
        written = _count(engine, invoices)
        assert written == state["last_run_rows"] and 0 < written < len(truth(server)["netsuite_invoices"])
        # the committed rows are exactly those the stored position covers
        with engine.connect() as conn:
            ids = set(conn.execute(select(invoices.c.id)).scalars())
        for lower, upper, after, _done in json.loads(state["window_position"])["intervals"]:
            in_range = {i for i in ids if (lower is None or i >= lower) and (upper is None or i <= upper)}
            assert not in_range or max(in_range) == after[0]

        # a new token: the run resumes and ends equal to NetSuite
        fresh = admin(server, "POST", "/tokens", {"make_default": True})
        client.close()
        client = make_client(server, token_id=fresh["token_id"], token_secret=fresh["token_secret"])
        result = sync_record_type(client, engine, "invoice", settings=settings)
        assert result.resumed and result.cursor_after is not None
        assert warehouse_rows(engine)["netsuite_invoices"] == truth(server)["netsuite_invoices"]
    finally:
        client.close()
        engine.dispose()


def _middle_invoice(server: SandboxServer, offset: int) -> int:
    return sandbox_rows(server, "SELECT id FROM \"transaction\" WHERE type = 'CustInvc' ORDER BY id LIMIT 1 OFFSET ?",
                        offset)[0]["id"]


@pytest.mark.parametrize("defect", ["impossible_date", "unknown_currency", "negative_total"])
def test_malformed_record_names_it_and_writes_nothing_of_its_batch(server: SandboxServer, tmp_path: Path,
                                                                   defect: str) -> None:
    bad = _middle_invoice(server, 450)  # in the third batch of 200
    with server.account.store.write() as conn:
        if defect == "impossible_date":
            conn.execute('UPDATE "transaction" SET trandate = \'2025-02-30\' WHERE id = ?', (bad,))
        elif defect == "unknown_currency":
            conn.execute('UPDATE "transaction" SET currency = 99 WHERE id = ?', (bad,))
        else:
            conn.execute('UPDATE "transaction" SET foreigntotal = -5 WHERE id = ?', (bad,))
    client = make_client(server)
    engine = make_engine(f"sqlite:///{tmp_path / 'wh.sqlite3'}")
    settings = make_settings(server, page_size=200, parallel_ranges=1)
    try:
        expected_error = SyncValidationError if defect == "negative_total" else DecodeError
        with pytest.raises(expected_error) as excinfo:
            sync_record_type(client, engine, "invoice", settings=settings)
        message = str(excinfo.value)
        assert f"invoice {bad}" in message
        column = {"impossible_date": "tran_date", "unknown_currency": "currency", "negative_total": "total"}[defect]
        assert column in message
        if isinstance(excinfo.value, DecodeError):
            assert int(excinfo.value.record_id) == bad and excinfo.value.column == column
        else:
            assert excinfo.value.record_ids == (bad,) and excinfo.value.columns == (column,)
        # two whole batches were written, nothing of the third; the cursor did not move
        with engine.connect() as conn:
            ids = sorted(conn.execute(select(invoices.c.id)).scalars())
        assert len(ids) == 400 and max(ids) < bad
        state = state_row(engine, "invoice")
        assert state["cursor_last_modified"] is None
        assert json.loads(state["window_position"])["intervals"][0][2] == [ids[-1]]
        # the same failure again (nothing skipped past it) ...
        with pytest.raises(expected_error):
            sync_record_type(client, engine, "invoice", settings=settings)
        assert _count(engine, invoices) == 400
        # ... until the record is fixed in NetSuite
        with server.account.store.write() as conn:
            conn.execute('UPDATE "transaction" SET trandate = \'2025-02-28\', currency = 1, foreigntotal = 5 '
                         'WHERE id = ?', (bad,))
        sync_record_type(client, engine, "invoice", settings=settings)
        assert warehouse_rows(engine)["netsuite_invoices"] == truth(server)["netsuite_invoices"]
        assert _count(engine, customers) == 0
    finally:
        client.close()
        engine.dispose()
