"""The sync engine (ns_pipelines/sync) against the sandbox, on SQLite and PostgreSQL.

The expected warehouse content is built here straight from the sandbox's SQLite file with plain
SQL (an independent path from the sync's SuiteQL and mapping): after a full sync every raw table
equals it row for row, and after edits, voids, deletions, applications and unapplications an
incremental sync makes it equal again while reading few rows.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from ns_pipelines.sandbox.netsuite.server import SandboxServer
from ns_pipelines.sync import SyncConfigError, SyncSettings, sync_record_type
from ns_pipelines.sync.sources import account_timestamp
from ns_pipelines.warehouse import (
    PreparedUpsert,
    customer_payments,
    customer_refunds,
    customers,
    deleted_records,
    invoices,
    journal_lines,
    payment_applications,
)
from ns_pipelines_tests.sync_helpers import (
    UTC,
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


# -------------------------------------------------------------------------------------------
# Settings


def test_settings_from_env_defaults_and_parsing() -> None:
    s = SyncSettings.from_env({})
    assert s.timezone == "America/Los_Angeles" and s.overlap == dt.timedelta(minutes=10)
    assert s.parallel_ranges is None and s.ranges_for(3) == 3 and s.exclude_intercompany is True
    assert s.intercompany_customer_ids == frozenset() and s.page_size == 1000 and s.warehouse_url is None
    s = SyncSettings.from_env({"NETSUITE_TIMEZONE": "Europe/Amsterdam", "NS_SYNC_OVERLAP_MINUTES": "3",
                               "NS_SYNC_PARALLEL_RANGES": "8", "NS_INTERCOMPANY_CUSTOMER_IDS": " 101, 205 ,",
                               "NS_EXCLUDE_INTERCOMPANY": "false", "NS_WAREHOUSE_URL": "sqlite:///x.db",
                               "NS_SYNC_PAGE_SIZE": "250"})
    assert (s.timezone, s.overlap, s.parallel_ranges, s.intercompany_customer_ids) == (
        "Europe/Amsterdam", dt.timedelta(minutes=3), 8, frozenset({101, 205}))
    assert s.exclude_intercompany is False and s.warehouse_url == "sqlite:///x.db" and s.page_size == 250
    assert s.is_intercompany_customer(101, None) and s.is_intercompany_customer(7, 3)
    assert not s.is_intercompany_customer(7, None) and not s.is_intercompany_customer(None, None)
    for env, name in (({"NETSUITE_TIMEZONE": "Mars/Olympus"}, "NETSUITE_TIMEZONE"),
                      ({"NS_SYNC_OVERLAP_MINUTES": "ten"}, "NS_SYNC_OVERLAP_MINUTES"),
                      ({"NS_SYNC_PARALLEL_RANGES": "0"}, "NS_SYNC_PARALLEL_RANGES"),
                      ({"NS_INTERCOMPANY_CUSTOMER_IDS": "101,abc"}, "NS_INTERCOMPANY_CUSTOMER_IDS"),
                      ({"NS_EXCLUDE_INTERCOMPANY": "maybe"}, "NS_EXCLUDE_INTERCOMPANY"),
                      ({"NS_SYNC_PAGE_SIZE": "5000"}, "NS_SYNC_PAGE_SIZE")):
        with pytest.raises(SyncConfigError, match=name):
            SyncSettings.from_env(env)


def test_account_timestamp_is_local_and_safe_across_dst() -> None:
    la = ZoneInfo("America/Los_Angeles")
    assert account_timestamp(dt.datetime(2024, 7, 1, 19, 0, tzinfo=UTC), la) == \
        "TO_TIMESTAMP('2024-07-01 12:00:00', 'YYYY-MM-DD HH24:MI:SS')"
    # 2024-11-03 01:30 happens twice in Los Angeles; read from the earlier reading of that wall time
    assert account_timestamp(dt.datetime(2024, 11, 3, 8, 30, tzinfo=UTC), la) == \
        "TO_TIMESTAMP('2024-11-03 00:30:00', 'YYYY-MM-DD HH24:MI:SS')"
    assert account_timestamp(dt.datetime(2024, 11, 3, 9, 30, tzinfo=UTC), la) == \
        "TO_TIMESTAMP('2024-11-03 00:30:00', 'YYYY-MM-DD HH24:MI:SS')"
    with pytest.raises(ValueError):
        account_timestamp(dt.datetime(2024, 1, 1), la)


# -------------------------------------------------------------------------------------------
# Full, then incremental: every table equals NetSuite


@pytest.fixture
def small_server(tmp_path: Path) -> Iterator[SandboxServer]:
    with SandboxServer(tmp_path / "sandbox", scale="small", seed=11) as server:
        yield server


def test_full_then_incremental_equals_netsuite(small_server: SandboxServer, fresh_warehouse_url: str) -> None:
    server = small_server
    client = make_client(server)
    engine = make_engine(fresh_warehouse_url)
    settings = make_settings(server, page_size=400, env={"NS_INTERCOMPANY_CUSTOMER_IDS": "103"})
    ic = frozenset({103})
    try:
        first = sync_everything(client, engine, settings)
        assert {r.mode for r in first.values()} == {"full"}
        counts = assert_warehouse_matches(server, engine, ic)
        assert counts[invoices.name] > 500 and counts[payment_applications.name] > 1000
        assert counts[journal_lines.name] > 20 and counts[deleted_records.name] > 0
        full_read = sum(r.rows_read for r in first.values())
        # the full pass read big tables in parallel ranges, within the client's budget
        assert client.stats.peak_in_flight <= client.config.concurrency
        assert first["invoice"].pages >= 3 and first["invoice"].cursor_after is not None
        for rt, result in first.items():
            row = state_row(engine, rt)
            assert row is not None and row["window_mode"] is None and row["window_position"] is None
            assert row["cursor_last_modified"] == result.cursor_after

        # nothing changed: an incremental run reads (almost) nothing and writes the same
        again = sync_everything(client, engine, settings)
        assert {r.mode for r in again.values()} == {"incremental"}
        assert sum(r.rows_read for r in again.values()) < full_read / 50
        assert_warehouse_matches(server, engine, ic)

        done = make_changes(server)
        changed = sync_everything(client, engine, settings)
        counts_after = assert_warehouse_matches(server, engine, ic)
        incremental_read = sum(r.rows_read for r in changed.values())
        assert incremental_read < full_read / 20, (incremental_read, full_read)
        assert changed["paymentapplication"].rows_soft_deleted >= 2  # unapplied + deleted payment's links
        assert changed["deletedrecord"].rows_soft_deleted >= 3
        assert counts_after[invoices.name] == counts[invoices.name]  # one new, one deleted

        wh = warehouse_rows(engine)
        dead = wh[invoices.name][done["deleted_invoice"]]
        assert dead["is_deleted"] and dead["status"] == "CLOSED"
        assert wh[invoices.name][done["voided_invoice"]]["status"] == "V"
        assert wh[invoices.name][done["voided_invoice"]]["is_voided"] is True
        assert wh[invoices.name][done["edited_invoice"]]["memo"] == "edited by a user"
        assert wh[customer_payments.name][done["deleted_payment"]]["is_deleted"]
        voided = wh[customer_payments.name][done["voided_payment"]]
        assert voided["status"] == "V" and voided["is_voided"] and not voided["is_deleted"]
        assert not any(r["next_doc_id"] == done["voided_payment"] and not r["is_deleted"]
                       for r in wh[payment_applications.name].values())
        assert counts_after[customer_refunds.name] == counts[customer_refunds.name] + 1
        assert wh[payment_applications.name][done["unapplied"]]["is_deleted"]
        lines = [r for k, r in wh[journal_lines.name].items() if k[0] == done["deleted_journal"]]
        assert lines and all(r["is_deleted"] for r in lines)
        assert wh[customers.name][done["customer"]]["email"] == "ap@changed.example"
        assert wh[customers.name][103]["is_intercompany"] is True
        for result in changed.values():
            assert result.cursor_after >= result.cursor_before
    finally:
        client.close()
        engine.dispose()


def test_account_time_zone_and_date_preference_do_not_matter(tmp_path: Path) -> None:
    """Another account: Tokyo time, DD.MM.YYYY dates, numbers as strings, null columns present."""
    from ns_pipelines.sandbox.netsuite.settings import SandboxSettings

    account = SandboxSettings(timezone="Asia/Tokyo", date_format="DD.MM.YYYY", numbers_as_strings=True,
                              omit_null_columns=False)
    with SandboxServer(tmp_path / "sandbox", account, scale=500, seed=9) as server:
        client = make_client(server)
        engine = make_engine(f"sqlite:///{tmp_path / 'wh.sqlite3'}")
        settings = make_settings(server)
        assert settings.timezone == "Asia/Tokyo" and settings.date_format == "DD.MM.YYYY"
        try:
            sync_everything(client, engine, settings)
            assert_warehouse_matches(server, engine)
            make_changes(server)
            sync_everything(client, engine, settings)
            assert_warehouse_matches(server, engine)
        finally:
            client.close()
            engine.dispose()


def test_full_mode_marks_rows_netsuite_no_longer_has(tmp_path: Path) -> None:
    with SandboxServer(tmp_path / "sandbox", scale="tiny", seed=5) as server:
        client = make_client(server)
        engine = make_engine(f"sqlite:///{tmp_path / 'wh.sqlite3'}")
        settings = make_settings(server)
        try:
            sync_everything(client, engine, settings)
            # A record that vanished without a deletedrecord row (purged history): only a full
            # resync can notice.
            victim = sandbox_rows(server, "SELECT id FROM \"transaction\" WHERE type = 'CustInvc' "
                                  "AND NOT EXISTS (SELECT 1 FROM nexttransactionlinelink l WHERE l.previousdoc = id) "
                                  "ORDER BY id LIMIT 1")[0]["id"]
            with server.account.store.write() as conn:
                conn.execute('DELETE FROM transactionline WHERE "transaction" = ?', (victim,))
                conn.execute('DELETE FROM "transaction" WHERE id = ?', (victim,))
            incremental = sync_record_type(client, engine, "invoice", settings=settings)
            assert incremental.rows_soft_deleted == 0
            full = sync_record_type(client, engine, "invoice", settings=settings, mode="full")
            assert full.mode == "full" and full.rows_soft_deleted == 1
            row = warehouse_rows(engine)[invoices.name][victim]
            assert row["is_deleted"] and row["status"] == "CLOSED" and row["deleted_at"] is not None
            again = sync_record_type(client, engine, "invoice", settings=settings, mode="full")
            assert again.rows_soft_deleted == 0
        finally:
            client.close()
            engine.dispose()


# -------------------------------------------------------------------------------------------
# The cursor moves with the rows


class Boom(RuntimeError):
    pass


def test_cursor_atomicity_failure_between_batches(small_server: SandboxServer, fresh_warehouse_url: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    server = small_server
    client = make_client(server)
    engine = make_engine(fresh_warehouse_url)
    settings = make_settings(server, page_size=200, parallel_ranges=1)
    real_execute = PreparedUpsert.execute
    calls = {"n": 0}

    def failing_execute(self, conn):  # noqa: ANN001, ANN202
        written = real_execute(self, conn)
        calls["n"] += 1
        if calls["n"] == 3:  # inside the third batch's transaction, after its rows went in
            raise Boom("injected failure between the rows and the cursor")
        return written

    try:
        monkeypatch.setattr(PreparedUpsert, "execute", failing_execute)
        with pytest.raises(Boom):
            sync_record_type(client, engine, "invoice", settings=settings)
        monkeypatch.setattr(PreparedUpsert, "execute", real_execute)
        # two batches committed with their position; the third rolled back with its rows
        state = state_row(engine, "invoice")
        assert state["cursor_last_modified"] is None and state["window_mode"] == "full"
        position = json.loads(state["window_position"])
        (lower, upper, after, done), = position["intervals"]
        with engine.connect() as conn:
            ids = sorted(conn.execute(select(invoices.c.id)).scalars())
        assert len(ids) == 400 and after == [ids[-1]]
        assert state["last_run_rows"] == 400

        result = sync_record_type(client, engine, "invoice", settings=settings)
        assert result.resumed and result.mode == "full"
        assert result.rows_read == len(truth(server)[invoices.name]) - 400  # resumed after the last id
        state = state_row(engine, "invoice")
        assert state["window_mode"] is None and state["cursor_last_modified"] == result.cursor_after
        expected = truth(server)[invoices.name]
        actual = {k: v for k, v in warehouse_rows(engine)[invoices.name].items()}
        assert actual == expected
    finally:
        client.close()
        engine.dispose()


def test_rows_changed_during_a_pass_are_not_lost(tmp_path: Path) -> None:
    """A row whose id the pass already passed and that changes during the pass is read by the
    next pass, even if rows read later in the pass carry later timestamps."""
    with SandboxServer(tmp_path / "sandbox", scale="small", seed=3) as server:
        client = make_client(server)
        engine = make_engine(f"sqlite:///{tmp_path / 'wh.sqlite3'}")
        settings = make_settings(server, page_size=100, parallel_ranges=1)
        first_ids = [r["id"] for r in sandbox_rows(
            server, "SELECT id FROM \"transaction\" WHERE type = 'CustInvc' AND voided = 'F' ORDER BY id LIMIT 1")]
        last_ids = [r["id"] for r in sandbox_rows(
            server, "SELECT id FROM \"transaction\" WHERE type = 'CustInvc' AND voided = 'F' ORDER BY id DESC LIMIT 1")]
        edits = {"n": 0}

        def progress(stage: str, rows: int) -> None:
            edits["n"] += 1
            if edits["n"] == 2:  # the first invoices are written: change one of them, then a later one
                server.account.records.update("invoice", str(first_ids[0]), {"memo": "changed mid-pass"}, context="UI")
                server.account.store.clock_offset += dt.timedelta(hours=2)
                server.account.records.update("invoice", str(last_ids[0]), {"memo": "later"}, context="UI")

        try:
            sync_record_type(client, engine, "invoice", settings=settings, progress=progress)
            memo = warehouse_rows(engine)[invoices.name][first_ids[0]]["memo"]
            assert memo != "changed mid-pass"  # its id was passed before the change
            sync_record_type(client, engine, "invoice", settings=settings)
            assert warehouse_rows(engine)[invoices.name][first_ids[0]]["memo"] == "changed mid-pass"
            assert warehouse_rows(engine)[invoices.name][last_ids[0]]["memo"] == "later"
        finally:
            client.close()
            engine.dispose()


# -------------------------------------------------------------------------------------------
# Targeted mode


def test_targeted_mode_reads_exactly_those_records(small_server: SandboxServer, warehouse_url: str) -> None:
    server = small_server
    client = make_client(server)
    engine = make_engine(warehouse_url)
    settings = make_settings(server)
    try:
        for rt in ("invoice", "customerpayment", "paymentapplication"):
            sync_record_type(client, engine, rt, settings=settings, mode="full")
        before = {rt: state_row(engine, rt) for rt in ("invoice", "paymentapplication")}
        rec = server.account.records
        pair = sandbox_rows(server, "SELECT l.previousdoc, l.nextdoc FROM nexttransactionlinelink l JOIN \"transaction\" p "
                            "ON p.id = l.nextdoc WHERE p.type = 'CustPymt' AND p.status = 'B' AND l.previoustype = "
                            "'CustInvc' ORDER BY l.nextdoc LIMIT 1")[0]
        invoice_id, payment_id = pair["previousdoc"], pair["nextdoc"]
        other = sandbox_rows(server, "SELECT id FROM \"transaction\" WHERE type = 'CustInvc' AND id <> ? AND voided = 'F' "
                             "ORDER BY id LIMIT 1", invoice_id)[0]["id"]
        rec.update("customerPayment", str(payment_id),
                   {"apply": {"items": [{"doc": {"id": str(invoice_id)}, "apply": False}]}}, context="UI")
        rec.update("invoice", str(other), {"memo": "not targeted"}, context="UI")

        result = sync_record_type(client, engine, "invoice", settings=settings, record_ids=[invoice_id, 999999])
        assert result.mode == "targeted" and result.rows_read <= 3
        wh = warehouse_rows(engine)
        expected = truth(server)
        assert wh[invoices.name][invoice_id] == expected[invoices.name][invoice_id]  # reopened
        assert wh[invoices.name][other]["memo"] != "not targeted"  # not read
        assert wh[payment_applications.name][(invoice_id, 0, payment_id, 0)]["is_deleted"]  # its link vanished
        assert result.rows_soft_deleted == 1
        # the cursors and passes are untouched
        for rt, row in before.items():
            now = state_row(engine, rt)
            assert (now["cursor_last_modified"], now["window_mode"]) == (row["cursor_last_modified"], row["window_mode"])
        # a targeted payment re-read brings the payment and its remaining links
        result = sync_record_type(client, engine, "customerpayment", settings=settings, record_ids=[payment_id])
        assert warehouse_rows(engine)[customer_payments.name][payment_id] == \
            truth(server)[customer_payments.name][payment_id]
        with pytest.raises(ValueError):
            sync_record_type(client, engine, "deletedrecord", settings=settings, record_ids=[1])
        with pytest.raises(ValueError):
            sync_record_type(client, engine, "salesorder", settings=settings)
    finally:
        client.close()
        engine.dispose()
