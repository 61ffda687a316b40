"""The warehouse layer on SQLite and PostgreSQL: migrations, upserts, types, soft deletes, cursors."""
from __future__ import annotations

import datetime as dt
import gc
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError, StatementError

from ns_pipelines import warehouse as wh
from ns_pipelines.warehouse import writes
from ns_pipelines_tests.postgres import fresh_warehouse_url  # noqa: F401 - fixture (also in conftest)

UTC = dt.timezone.utc
TOKYO = dt.timezone(dt.timedelta(hours=9))
T0 = dt.datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)

EXPECTED_TABLES = {
    "ns_webhook_inbox",
    "netsuite_customers",
    "netsuite_invoices",
    "netsuite_customer_payments",
    "netsuite_credit_memos",
    "netsuite_customer_refunds",
    "netsuite_deposits",
    "netsuite_journal_lines",
    "netsuite_payment_applications",
    "netsuite_deleted_records",
    "ar_open_items",
    "ar_customer_balances",
    "ar_aging",
    "ns_sync_state",
    "ns_netsuite_api_usage",
    "stripe_customers",
    "stripe_charges",
    "stripe_refunds",
    "stripe_disputes",
    "stripe_payouts",
    "stripe_balance_transactions",
    "reconciliation_payment_matches",
    "reconciliation_payout_matches",
    "reconciliation_exceptions",
    "writeback_plan",
    "writeback_log",
}


@pytest.fixture
def engine(fresh_warehouse_url: str) -> Iterator[sa.Engine]:
    engine = wh.create_warehouse_engine(fresh_warehouse_url)
    wh.upgrade_warehouse(engine)
    yield engine
    engine.dispose()


def invoice(id_: int, **values: object) -> dict[str, object]:
    row: dict[str, object] = {
        "id": id_,
        "tran_id": f"INV{id_}",
        "customer_id": 7,
        "currency": "USD",
        "exchange_rate": Decimal("1"),
        "tran_date": dt.date(2026, 2, 1),
        "due_date": dt.date(2026, 3, 3),
        "status": "A",
        "status_text": "Open",
        "total": Decimal("100.00"),
        "amount_paid": Decimal("0"),
        "amount_unpaid": Decimal("100.00"),
        "is_intercompany": False,
        "is_voided": False,
        "created_at": T0,
        "last_modified": T0,
    }
    row.update(values)
    return row


def fetch(engine: sa.Engine, table: sa.Table, *where: sa.ColumnElement[bool]) -> list[sa.RowMapping]:
    with engine.connect() as conn:
        key = list(table.primary_key.columns)
        return list(conn.execute(sa.select(table).where(*where).order_by(*key)).mappings())


# --- migrations -----------------------------------------------------------------------------


def test_migrations_create_every_table(fresh_warehouse_url: str) -> None:
    assert wh.current_revision(fresh_warehouse_url) is None
    wh.upgrade_warehouse(fresh_warehouse_url)
    engine = wh.create_warehouse_engine(fresh_warehouse_url)
    try:
        tables = set(sa.inspect(engine).get_table_names())
        assert tables == EXPECTED_TABLES | {wh.VERSION_TABLE}
        assert set(wh.metadata.tables) == EXPECTED_TABLES
        assert wh.current_revision(engine) == wh.head_revision()
        indexes = {
            (t, tuple(ix["column_names"])) for t in EXPECTED_TABLES for ix in sa.inspect(engine).get_indexes(t)
        }
        for table in ("netsuite_invoices", "netsuite_customer_payments", "netsuite_credit_memos"):
            for column in ("customer_id", "status", "last_modified"):
                assert (table, (column,)) in indexes
        assert ("netsuite_invoices", ("due_date",)) in indexes
        assert ("netsuite_journal_lines", ("customer_id",)) in indexes
    finally:
        engine.dispose()


def test_upgrade_is_idempotent_and_keeps_data(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        wh.upsert_rows(conn, wh.invoices, [invoice(1)])
    wh.upgrade_warehouse(engine)
    wh.upgrade_warehouse(engine.url.render_as_string(hide_password=False))
    assert wh.current_revision(engine) == wh.head_revision()
    assert [r["id"] for r in fetch(engine, wh.invoices)] == [1]


def test_migration_matches_metadata(engine: sa.Engine) -> None:
    assert wh.schema_diffs(engine) == []
    # The comparison is not vacuous: a column the migrations lack shows up.
    changed = sa.MetaData()
    for table in wh.metadata.tables.values():
        table.to_metadata(changed)
    changed.tables["netsuite_invoices"].append_column(sa.Column("new_column", sa.Integer))
    diffs = wh.schema_diffs(engine, target=changed)
    assert [d[0] for d in diffs] == ["add_column"] and diffs[0][3].name == "new_column"


NEXT_REVISION = """
import sqlalchemy as sa
from alembic import op

revision = "9999_test"
down_revision = {head!r}


def upgrade():
    # recreate="always": the copy-and-swap SQLite needs for most changes, on both dialects.
    with op.batch_alter_table("netsuite_invoices", recreate="always") as batch:
        batch.add_column(sa.Column("test_flag", sa.Boolean(), server_default=sa.false(), nullable=False))
"""


def test_existing_warehouse_upgrades_in_place(engine: sa.Engine, tmp_path: Path) -> None:
    """A warehouse with data at the current head takes a later revision and keeps its rows."""
    from alembic import command

    from ns_pipelines.warehouse.migrate import MIGRATIONS_DIR, alembic_config

    (tmp_path / "9999_test.py").write_text(NEXT_REVISION.format(head=wh.head_revision()))
    with engine.begin() as conn:
        wh.upsert_rows(conn, wh.invoices, [invoice(1, total=Decimal("1234567.89")), invoice(2)])
    with wh.begin_write(engine) as conn:
        config = alembic_config(conn)
        config.set_main_option("version_locations", f"{MIGRATIONS_DIR / 'versions'}:{tmp_path}")
        command.upgrade(config, "heads")
    assert wh.current_revision(engine) == "9999_test"
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, test_flag FROM netsuite_invoices ORDER BY id")).all()
    assert [(r[0], bool(r[1])) for r in rows] == [(1, False), (2, False)]
    assert [r["total"] for r in fetch(engine, wh.invoices)] == [Decimal("1234567.89"), Decimal("100")]
    assert {ix["name"] for ix in sa.inspect(engine).get_indexes("netsuite_invoices")} >= {
        "ix_netsuite_invoices_customer_id", "ix_netsuite_invoices_due_date"}


def test_upgrade_leaves_other_tables_alone(fresh_warehouse_url: str) -> None:
    """Dagster's storage (its own alembic_version) may share the database."""
    engine = wh.create_warehouse_engine(fresh_warehouse_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
            conn.execute(sa.text("INSERT INTO alembic_version VALUES ('dagster_rev')"))
        wh.upgrade_warehouse(engine)
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one() == "dagster_rev"
        assert wh.current_revision(engine) == wh.head_revision()
        assert wh.schema_diffs(engine) == []
    finally:
        engine.dispose()


@pytest.mark.timeout(60)
def test_concurrent_upgrades_do_not_collide(fresh_warehouse_url: str) -> None:
    """Several Dagster steps may each upgrade the warehouse as they start."""
    barrier = threading.Barrier(2)

    def upgrade() -> None:
        barrier.wait()
        wh.upgrade_warehouse(fresh_warehouse_url)

    with ThreadPoolExecutor(2) as pool:
        for future in [pool.submit(upgrade) for _ in range(2)]:
            future.result()
    assert wh.current_revision(fresh_warehouse_url) == wh.head_revision()
    assert wh.schema_diffs(fresh_warehouse_url) == []


def test_every_column_has_a_description() -> None:
    for table in wh.metadata.tables.values():
        assert table.comment, table.name
        for column in table.columns:
            assert column.comment and len(column.comment) > 5, f"{table.name}.{column.name}"
        if table.name.startswith("netsuite_") and table.name != "netsuite_deleted_records":
            assert {"last_modified", "is_deleted", "deleted_at", "synced_at"} <= set(table.c.keys())


def test_money_is_numeric_never_float() -> None:
    for table in wh.metadata.tables.values():
        for column in table.columns:
            name = f"{table.name}.{column.name}"
            # Every number with decimals is ExactDecimal, every timestamp UTCDateTime.
            assert not isinstance(column.type, (sa.Float, sa.Numeric, sa.DateTime)), name
            if isinstance(column.type, wh.ExactDecimal):
                assert column.type.impl.asdecimal, name
    assert isinstance(wh.invoices.c.total.type, wh.ExactDecimal)
    assert isinstance(wh.invoices.c.last_modified.type, wh.UTCDateTime)


# --- upserts ------------------------------------------------------------------------------


def test_upsert_inserts_then_updates(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        assert wh.upsert_rows(conn, wh.invoices, [invoice(1), invoice(2, memo="keep me")]) == 2
    later = T0 + dt.timedelta(hours=1)
    with engine.begin() as conn:
        # Partial row for 2: only the given columns change, memo stays.
        changed = {"id": 2, "status": "B", "status_text": "Paid In Full", "amount_paid": Decimal("100"),
                   "amount_unpaid": Decimal("0"), "last_modified": later}
        assert wh.upsert_rows(conn, wh.invoices, [changed, invoice(3)]) == 2
    rows = fetch(engine, wh.invoices)
    assert [r["id"] for r in rows] == [1, 2, 3]
    second = rows[1]
    assert (second["status"], second["amount_unpaid"], second["memo"]) == ("B", Decimal("0"), "keep me")
    assert second["last_modified"] == later
    assert all(r["is_deleted"] is False and r["synced_at"].tzinfo is not None for r in rows)


def test_upsert_last_row_wins_within_a_call(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        assert wh.upsert_rows(conn, wh.invoices, [invoice(1, memo="a"), invoice(1, memo="b")]) == 1
        assert wh.upsert_rows(conn, wh.invoices, []) == 0
    assert [r["memo"] for r in fetch(engine, wh.invoices)] == ["b"]


def test_upsert_rejects_unknown_columns(engine: sa.Engine) -> None:
    with engine.begin() as conn, pytest.raises(KeyError, match="nope"):
        wh.upsert_rows(conn, wh.invoices, [invoice(1, nope=1)])


def test_upsert_and_soft_delete_in_batches(engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    # 4,000 invoices x 19 columns = 76,000 values: more than one statement could bind at once.
    rows = [invoice(i, total=Decimal(i) / 100) for i in range(1, 4001)]
    with engine.begin() as conn:
        assert wh.upsert_rows(conn, wh.invoices, rows) == 4000
    # Small batches: 7 rows per executemany, IN lists sized for a 40-parameter limit.
    monkeypatch.setattr(writes, "UPSERT_BATCH_ROWS", 7)
    monkeypatch.setattr(writes, "_max_params", lambda conn: 40)
    apps = [
        {"previous_doc_id": i, "previous_line": 0, "next_doc_id": 9000 + i, "next_line": 0,
         "link_type": "Payment", "amount": Decimal("1.5"), "currency": "EUR", "last_modified": T0}
        for i in range(1, 51)
    ]
    with engine.begin() as conn:
        assert wh.upsert_rows(conn, wh.payment_applications, apps) == 50
        assert wh.soft_delete(conn, wh.invoices, range(1, 101), T0) == 100
        keys = [(a["previous_doc_id"], 0, a["next_doc_id"], 0) for a in apps[:30]]
        assert wh.soft_delete(conn, wh.payment_applications, keys, T0) == 30
    with engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.sum(wh.invoices.c.total))).scalar_one()
        deleted = conn.execute(sa.select(sa.func.count()).where(wh.invoices.c.is_deleted)).scalar_one()
        links = conn.execute(
            sa.select(sa.func.count()).where(wh.payment_applications.c.is_deleted.is_(False))
        ).scalar_one()
    assert total == sum(Decimal(i) / 100 for i in range(1, 4001)) == Decimal("80020.00")
    assert (deleted, links) == (100, 20)


# --- types --------------------------------------------------------------------------------


MONEY_VALUES = [
    Decimal("1234567.89"),
    Decimal("0.01"),
    Decimal("-1234.5"),
    Decimal("1234567890"),  # JPY: no decimals
    Decimal("99999999999.9999"),  # 15 significant digits: the most SQLite stores exactly
    Decimal("0.0001"),
]


def test_decimals_round_trip_exactly(engine: sa.Engine) -> None:
    rows = [
        invoice(i, total=value, amount_unpaid=value, currency="JPY" if i == 4 else "USD",
                exchange_rate=Decimal("0.0068123457"))
        for i, value in enumerate(MONEY_VALUES, start=1)
    ]
    rows.append(invoice(99, total=0.1, amount_unpaid=7, amount_paid="2.50"))  # float, int, str
    with engine.begin() as conn:
        wh.upsert_rows(conn, wh.invoices, rows)
    got = fetch(engine, wh.invoices)
    for row, value in zip(got, MONEY_VALUES):
        assert isinstance(row["total"], Decimal)
        assert row["total"] == value and row["total"].as_tuple().exponent == -4
        assert row["exchange_rate"] == Decimal("0.0068123457")
    assert (got[-1]["total"], got[-1]["amount_unpaid"], got[-1]["amount_paid"]) == (
        Decimal("0.1"), Decimal("7"), Decimal("2.5"))
    with engine.connect() as conn:
        total = conn.execute(
            sa.select(sa.func.sum(wh.invoices.c.total)).where(wh.invoices.c.id.in_([1, 2]))
        ).scalar_one()
        over = conn.execute(sa.select(wh.invoices.c.id).where(wh.invoices.c.total > Decimal("1234567.88"))
                            .order_by(wh.invoices.c.id)).scalars().all()
    assert total == Decimal("1234567.90")
    assert over == [1, 4, 5]


def test_decimals_never_round_silently(engine: sa.Engine) -> None:
    with engine.begin() as conn, pytest.raises(StatementError, match="does not fit"):
        wh.upsert_rows(conn, wh.invoices, [invoice(1, total=Decimal("100000000000000"))])
    with engine.begin() as conn, pytest.raises(StatementError, match="finite"):
        wh.upsert_rows(conn, wh.invoices, [invoice(1, total=Decimal("NaN"))])
    sixteen_digits = Decimal("123456789012.3456")
    if engine.dialect.name == "sqlite":
        with engine.begin() as conn, pytest.raises(StatementError, match="significant digits"):
            wh.upsert_rows(conn, wh.invoices, [invoice(1, total=sixteen_digits)])
    else:
        with engine.begin() as conn:
            wh.upsert_rows(conn, wh.invoices, [invoice(1, total=sixteen_digits)])
        assert fetch(engine, wh.invoices)[0]["total"] == sixteen_digits


def test_aware_datetimes_round_trip_in_utc(engine: sa.Engine) -> None:
    tokyo = dt.datetime(2026, 3, 1, 18, 30, 15, 123456, tzinfo=TOKYO)  # == T0
    with engine.begin() as conn:
        wh.upsert_rows(conn, wh.invoices, [invoice(1, last_modified=tokyo, created_at=None),
                                           invoice(2, last_modified=T0 + dt.timedelta(seconds=1))])
    first = fetch(engine, wh.invoices)[0]
    assert first["last_modified"] == T0 and first["last_modified"].utcoffset() == dt.timedelta(0)
    assert first["last_modified"].tzinfo is not None and first["created_at"] is None
    assert first["tran_date"] == dt.date(2026, 2, 1) and first["due_date"] == dt.date(2026, 3, 3)
    with engine.connect() as conn:  # cursor-style comparison with an aware value in another zone
        newer = conn.execute(
            sa.select(wh.invoices.c.id).where(wh.invoices.c.last_modified > tokyo)
        ).scalars().all()
    assert newer == [2]
    with engine.begin() as conn, pytest.raises(StatementError, match="naive"):
        wh.upsert_rows(conn, wh.invoices, [invoice(3, last_modified=dt.datetime(2026, 3, 1))])


# --- soft delete --------------------------------------------------------------------------


def test_soft_delete_keeps_the_row(engine: sa.Engine) -> None:
    deleted_at = dt.datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    with engine.begin() as conn:
        wh.upsert_rows(conn, wh.invoices, [invoice(1), invoice(2)])
        wh.upsert_rows(conn, wh.customers, [{"id": 7, "entity_id": "C7", "last_modified": T0}])
        assert wh.soft_delete(conn, wh.invoices, [1], deleted_at) == 1
        assert wh.soft_delete(conn, wh.customers, [7], deleted_at) == 1
    with engine.begin() as conn:  # deleting again keeps the first deleted_at
        assert wh.soft_delete(conn, wh.invoices, [1, 404], deleted_at + dt.timedelta(days=1)) == 0
    first, second = fetch(engine, wh.invoices)
    assert first["is_deleted"] is True and first["deleted_at"] == deleted_at
    assert (first["status"], first["total"], first["tran_id"]) == ("CLOSED", Decimal("100"), "INV1")
    assert first["status_text"].startswith("Closed")
    assert second["is_deleted"] is False and second["status"] == "A"
    customer = fetch(engine, wh.customers)[0]
    assert (customer["is_deleted"], customer["entity_id"]) == (True, "C7")


def test_soft_delete_by_composite_key_or_column(engine: sa.Engine) -> None:
    lines = [
        {"journal_entry_id": je, "line_id": line, "customer_id": 7, "amount": Decimal("10"), "last_modified": T0}
        for je in (50, 51) for line in (1, 2)
    ]
    apps = [
        {"previous_doc_id": 1, "previous_line": 0, "next_doc_id": pay, "next_line": 0, "amount": Decimal("5"),
         "link_type": "Payment", "currency": "USD", "last_modified": T0}
        for pay in (60, 61)
    ]
    with engine.begin() as conn:
        wh.upsert_rows(conn, wh.journal_lines, lines)
        wh.upsert_rows(conn, wh.payment_applications, apps)
        assert wh.soft_delete(conn, wh.journal_lines, [50], T0, column="journal_entry_id") == 2
        assert wh.soft_delete(conn, wh.journal_lines, [(51, 2)], T0) == 1
        assert wh.soft_delete(conn, wh.payment_applications, [61], T0, column=wh.payment_applications.c.next_doc_id) == 1
    assert [(r["journal_entry_id"], r["line_id"], r["is_deleted"]) for r in fetch(engine, wh.journal_lines)] == [
        (50, 1, True), (50, 2, True), (51, 1, False), (51, 2, True)]
    assert [(r["next_doc_id"], r["is_deleted"]) for r in fetch(engine, wh.payment_applications)] == [
        (60, False), (61, True)]
    # A row NetSuite has again (an application re-made) is live again when upserted.
    with engine.begin() as conn:
        wh.upsert_rows(conn, wh.payment_applications, [apps[1]])
    assert [r["is_deleted"] for r in fetch(engine, wh.payment_applications)] == [False, False]


def test_soft_delete_each_gives_each_live_row_its_own_date(engine: sa.Engine) -> None:
    day = dt.timedelta(days=1)
    lines = [{"journal_entry_id": je, "line_id": line, "customer_id": 7, "amount": Decimal("10"), "last_modified": T0}
             for je in (50, 51) for line in (1, 2)]
    with engine.begin() as conn:
        wh.upsert_rows(conn, wh.invoices, [invoice(i) for i in (1, 2, 3, 4)])
        wh.upsert_rows(conn, wh.journal_lines, lines)
        assert wh.soft_delete(conn, wh.invoices, [4], T0) == 1
    with engine.begin() as conn:
        # 404 was never in the warehouse; 4 was deleted already and keeps its first date
        dates = {1: T0 + day, 3: T0 + 3 * day, 404: T0, 4: T0 + 9 * day}
        assert wh.soft_delete_each(conn, wh.invoices, dates) == 2
        assert wh.soft_delete_each(conn, wh.journal_lines, {51: T0 + 2 * day, 52: T0}, column="journal_entry_id") == 2
        assert wh.soft_delete_each(conn, wh.invoices, {}) == 0
    assert [(r["id"], r["is_deleted"], r["deleted_at"], r["status"]) for r in fetch(engine, wh.invoices)] == [
        (1, True, T0 + day, "CLOSED"), (2, False, None, "A"), (3, True, T0 + 3 * day, "CLOSED"), (4, True, T0, "CLOSED")]
    assert [(r["journal_entry_id"], r["is_deleted"], r["deleted_at"]) for r in fetch(engine, wh.journal_lines)] == [
        (50, False, None), (50, False, None), (51, True, T0 + 2 * day), (51, True, T0 + 2 * day)]


# --- sync state ---------------------------------------------------------------------------


def test_cursor_and_rows_commit_together(engine: sa.Engine) -> None:
    class Crash(Exception):
        pass

    with pytest.raises(Crash), engine.begin() as conn:
        wh.upsert_rows(conn, wh.invoices, [invoice(1), invoice(2)])
        wh.write_cursor(conn, "invoice", last_modified=T0, last_id=2, mode="incremental", rows=2)
        assert wh.read_cursor(conn, "invoice") is not None  # visible inside the transaction
        raise Crash("after the upsert, before the commit")
    assert fetch(engine, wh.invoices) == []
    with engine.connect() as conn:
        assert wh.read_cursor(conn, "invoice") is None

    with engine.begin() as conn:
        wh.upsert_rows(conn, wh.invoices, [invoice(1), invoice(2)])
        wh.write_cursor(conn, "invoice", last_modified=T0, last_id=2, mode="incremental", rows=2, run_id="r1")
    with engine.begin() as conn:  # the same run commits its next page
        wh.write_cursor(conn, "invoice", last_modified=T0 + dt.timedelta(minutes=5), last_id=9,
                        mode="incremental", rows=3, run_id="r1")
    with engine.connect() as conn:
        cursor = wh.read_cursor(conn, "invoice")
    assert cursor is not None
    assert (cursor.last_modified, cursor.last_id, cursor.last_run_mode) == (T0 + dt.timedelta(minutes=5), 9, "incremental")
    assert (cursor.last_run_id, cursor.last_run_rows, cursor.rows_total) == ("r1", 5, 5)
    assert cursor.updated_at.tzinfo is not None and len(fetch(engine, wh.invoices)) == 2

    with engine.begin() as conn:  # a new run starts its own count; None restarts from scratch
        wh.write_cursor(conn, "invoice", last_modified=None, mode="full", rows=4, run_id="r2")
        wh.write_cursor(conn, "customer", last_modified=T0, last_id=1, mode="incremental", rows=1)
    with engine.connect() as conn:
        cursor, other = wh.read_cursor(conn, "invoice"), wh.read_cursor(conn, "customer")
    assert cursor is not None and other is not None
    assert (cursor.last_modified, cursor.last_id, cursor.last_run_rows, cursor.rows_total) == (None, None, 4, 9)
    assert (other.last_run_id, other.last_run_rows) == (None, 1)


@pytest.mark.timeout(60)
def test_sqlite_writers_wait_for_each_other(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'w.sqlite3'}"
    wh.upgrade_warehouse(url)
    first, second = wh.create_warehouse_engine(url), wh.create_warehouse_engine(url)
    try:
        holding, done = threading.Event(), threading.Event()

        def other_writer() -> None:
            holding.wait()
            with wh.begin_write(second) as conn:  # waits for the lock instead of failing
                assert wh.read_cursor(conn, "invoice") is not None  # sees the committed cursor
                wh.upsert_rows(conn, wh.invoices, [invoice(2)])
                wh.write_cursor(conn, "invoice", last_modified=T0, last_id=2, mode="incremental", rows=1)
            done.set()

        thread = threading.Thread(target=other_writer)
        thread.start()
        with wh.begin_write(first) as conn:
            wh.upsert_rows(conn, wh.invoices, [invoice(1)])
            wh.write_cursor(conn, "invoice", last_modified=T0, last_id=1, mode="incremental", rows=1)
            holding.set()
            assert not done.wait(0.3)  # still blocked while this transaction holds the lock
        thread.join(10)
        assert done.is_set() and [r["id"] for r in fetch(first, wh.invoices)] == [1, 2]

        # Why begin_write: a plain transaction that read before another writer committed
        # cannot write afterwards; SQLite refuses at once rather than waiting.
        with second.begin() as conn:
            wh.read_cursor(conn, "invoice")
            with wh.begin_write(first) as other:
                wh.upsert_rows(other, wh.invoices, [invoice(3)])
            with pytest.raises(OperationalError, match="locked"):
                wh.upsert_rows(conn, wh.invoices, [invoice(4)])
    finally:
        first.dispose()
        second.dispose()


def test_sqlite_writer_queues_live_only_while_used(tmp_path: Path) -> None:
    from ns_pipelines.warehouse import engine as engine_module

    url = f"sqlite:///{tmp_path / 'q.sqlite3'}"
    wh.upgrade_warehouse(url)
    engine = wh.create_warehouse_engine(url)
    key = (str((tmp_path / "q.sqlite3").resolve()), os.getpid())
    try:
        for number in (1, 2):
            with wh.begin_write(engine) as conn:
                assert key in engine_module._WRITER_QUEUES
                wh.upsert_rows(conn, wh.invoices, [invoice(number)])
        gc.collect()
        assert key not in engine_module._WRITER_QUEUES  # not kept for every file a process ever wrote
        assert [r["id"] for r in fetch(engine, wh.invoices)] == [1, 2]
    finally:
        engine.dispose()


# --- connecting ---------------------------------------------------------------------------


def test_default_url_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(wh.WAREHOUSE_URL_ENV, raising=False)
    expected = tmp_path.resolve() / ".data" / "warehouse.sqlite3"
    assert wh.resolve_warehouse_url().database == str(expected)
    engine = wh.create_warehouse_engine()
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    finally:
        engine.dispose()
    assert expected.is_file()

    monkeypatch.setenv(wh.WAREHOUSE_URL_ENV, "postgresql://ns:secret@db.example:5432/warehouse")
    url = wh.resolve_warehouse_url()
    assert (url.drivername, url.host, url.database, url.password) == ("postgresql+psycopg", "db.example", "warehouse", "secret")
    assert wh.resolve_warehouse_url("postgres://u@h/d").drivername == "postgresql+psycopg"
    assert wh.resolve_warehouse_url("postgresql+psycopg://u@h/d").drivername == "postgresql+psycopg"
    assert wh.resolve_warehouse_url("sqlite:///x.sqlite3").database == "x.sqlite3"  # argument beats env
    engine = wh.create_warehouse_engine()
    assert engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg"
    engine.dispose()
    relative = wh.create_warehouse_engine("sqlite:///nested/dir/w.sqlite3")
    relative.dispose()
    assert (tmp_path / "nested" / "dir").is_dir()
