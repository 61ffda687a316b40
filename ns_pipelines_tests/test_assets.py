"""Every asset and check, materialized through Dagster against a real sandbox account.

One tiny sandbox per module (the tests change its data through the admin API), a temporary
SQLite warehouse, and one run on PostgreSQL. Resources are the real ones, built from the
sandbox's NETSUITE_* variables as the code location builds them.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import requests
from sqlalchemy import select

import ns_pipelines.warehouse as wh
from ns_pipelines.defs import ar, netsuite
from ns_pipelines.defs.netsuite.jobs import full_resync_config
from ns_pipelines.defs.resources import NetSuiteResource, WarehouseResource
from ns_pipelines.sandbox.netsuite.server import SandboxServer

RAW_KEYS = [spec.key.to_user_string() for spec, _ in netsuite.RAW_ASSETS.values()]
AR_KEYS = [asset.key.to_user_string() for asset in ar.AR_ASSETS]
ALL = [netsuite.netsuite_raw_tables, *ar.AR_ASSETS]  # one step syncs every raw table
CHECKS = [*netsuite.defs.asset_checks, *ar.defs.asset_checks]
CHECK_COUNT = sum(len(list(c.check_specs)) for c in CHECKS)
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}

# What the sandbox (ground truth, SuiteQL table names) holds for each raw table.
SANDBOX_COUNTS = {
    "netsuite/customers": "SELECT COUNT(*) FROM customer",
    "netsuite/invoices": "SELECT COUNT(*) FROM \"transaction\" WHERE type = 'CustInvc'",
    "netsuite/customer_payments": "SELECT COUNT(*) FROM \"transaction\" WHERE type = 'CustPymt'",
    "netsuite/credit_memos": "SELECT COUNT(*) FROM \"transaction\" WHERE type = 'CustCred'",
    "netsuite/customer_refunds": "SELECT COUNT(*) FROM \"transaction\" WHERE type = 'CustRfnd'",
    "netsuite/deposits": "SELECT COUNT(*) FROM \"transaction\" WHERE type = 'Deposit'",
    "netsuite/journal_lines": (
        "SELECT COUNT(*) FROM transactionline tl JOIN \"transaction\" t ON t.id = tl.\"transaction\" "
        "JOIN account a ON a.id = tl.expenseaccount "
        "WHERE t.type = 'Journal' AND tl.entity IS NOT NULL AND a.accttype = 'AcctRec'"
    ),
    "netsuite/payment_applications": (
        "SELECT COUNT(*) FROM nexttransactionlinelink WHERE linktype IN ('Payment', 'Deposit') "
        "AND previoustype IN ('CustInvc', 'Journal', 'CustCred', 'CustPymt') "
        "AND nexttype IN ('CustPymt', 'CustCred', 'CustRfnd', 'Deposit')"
    ),
    "netsuite/deleted_records": (
        "SELECT COUNT(*) FROM deletedrecord WHERE scriptid IN ('customer', 'invoice', 'customerpayment', "
        "'creditmemo', 'customerrefund', 'deposit', 'journalentry')"
    ),
}


@pytest.fixture(scope="module")
def account(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    """A tiny sandbox of this module's own, its NETSUITE_* variables set in the environment."""
    with SandboxServer(tmp_path_factory.mktemp("sandbox"), scale="tiny", seed=7) as server:
        with pytest.MonkeyPatch.context() as mp:
            for name, value in server.environment().items():
                mp.setenv(name, value)
            mp.delenv("NS_WAREHOUSE_URL", raising=False)
            yield server


@pytest.fixture(scope="module")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('warehouse') / 'warehouse.sqlite3'}"


def materialize(url: str, run_config: dict[str, Any] | None = None,
                selection: list[str] | None = None) -> dg.ExecuteInProcessResult:
    resources = {"netsuite": NetSuiteResource.from_env_vars(), "warehouse": WarehouseResource(url=url)}
    return dg.materialize([*ALL, *CHECKS], resources=resources, run_config={**QUIET, **(run_config or {})},
                          selection=selection, raise_on_error=False)


def metadata(result: dg.ExecuteInProcessResult) -> dict[str, dict[str, Any]]:
    return {
        e.asset_key.to_user_string(): {k: getattr(v, "value", v) for k, v in e.materialization.metadata.items()}
        for e in result.get_asset_materialization_events()
    }


def sandbox_counts(server: SandboxServer) -> dict[str, int]:
    conn = server.account.store.connect()
    return {key: conn.execute(sql).fetchone()[0] for key, sql in SANDBOX_COUNTS.items()}


def assert_clean(result: dg.ExecuteInProcessResult) -> dict[str, dict[str, Any]]:
    failures = [e.event_specific_data.error.message for e in result.get_step_failure_events()]
    assert result.success, failures
    evaluations = result.get_asset_check_evaluations()
    assert len(evaluations) == CHECK_COUNT
    assert [e.description for e in evaluations if not e.passed] == []
    meta = metadata(result)
    assert set(meta) == set(RAW_KEYS + AR_KEYS)
    return meta


def test_first_materialization_loads_every_table(account: SandboxServer, sqlite_url: str) -> None:
    meta = assert_clean(materialize(sqlite_url))
    expected = sandbox_counts(account)
    assert {key: meta[key]["dagster/row_count"] for key in RAW_KEYS} == expected
    assert expected["netsuite/invoices"] > 0 and expected["netsuite/payment_applications"] > 0
    for key in RAW_KEYS:
        m = meta[key]
        assert m["ns/rows_read"] == m["ns/rows_written"] == expected[key]
        assert m["ns/requests"] >= 1 and m["ns/cursor_before"] == "none (first sync)"
        assert isinstance(m["ns/cursor_after"], float)  # a timestamp
    for key in AR_KEYS:
        assert meta[key]["dagster/row_count"] > 0
    with WarehouseResource(url=sqlite_url).engine.connect() as conn:
        assert conn.execute(select(wh.open_items.c.transaction_id)).first() is not None


def test_second_materialization_is_incremental(account: SandboxServer, sqlite_url: str) -> None:
    first_total = sum(sandbox_counts(account).values())
    with WarehouseResource(url=sqlite_url).engine.connect() as conn:
        customer_id = conn.execute(select(wh.customers.c.id).order_by(wh.customers.c.id).limit(1)).scalar_one()
    answer = requests.patch(
        f"{account.admin_url}/records/customer/{customer_id}", json={"phone": "+1 555 0199"},
        headers={"Authorization": f"Bearer {account.credentials.admin_token}"}, timeout=30,
    )
    assert answer.status_code == 200, answer.text

    meta = assert_clean(materialize(sqlite_url))
    assert {meta[key]["ns/mode"] for key in RAW_KEYS} == {"incremental"}
    assert all(isinstance(meta[key]["ns/cursor_before"], float) for key in RAW_KEYS)
    assert meta["netsuite/customers"]["ns/rows_written"] >= 1
    read = sum(meta[key]["ns/rows_read"] for key in RAW_KEYS)
    assert read < first_total / 4, read  # the change and the overlap window, not the account
    with WarehouseResource(url=sqlite_url).engine.connect() as conn:
        phone = conn.execute(select(wh.customers.c.phone).where(wh.customers.c.id == customer_id)).scalar_one()
    assert phone == "+1 555 0199"


def test_full_resync_job(account: SandboxServer, sqlite_url: str) -> None:
    resources = {"netsuite": NetSuiteResource.from_env_vars(), "warehouse": WarehouseResource(url=sqlite_url)}
    defs = dg.Definitions.merge(netsuite.defs, ar.defs, dg.Definitions(resources=resources))
    job = defs.resolve_job_def("netsuite_full_resync_job")
    result = job.execute_in_process(run_config={**full_resync_config(), **QUIET}, raise_on_error=False)
    meta = assert_clean(result)
    expected = sandbox_counts(account)
    for key in RAW_KEYS:
        assert meta[key]["ns/mode"] == "full", key
        assert meta[key]["ns/rows_read"] == expected[key], key


def test_one_table_alone(account: SandboxServer, sqlite_url: str) -> None:
    """A selection of one raw table runs the raw tables' step for that record type only."""
    with WarehouseResource(url=sqlite_url).engine.connect() as conn:
        before = {r.record_type: r.updated_at for r in conn.execute(select(wh.sync_state))}
    result = materialize(sqlite_url, full_resync_config(), selection=["netsuite/invoices"])
    assert result.success
    meta = metadata(result)
    assert set(meta) == {"netsuite/invoices"}
    assert meta["netsuite/invoices"]["ns/mode"] == "full"
    assert meta["netsuite/invoices"]["ns/rows_read"] == sandbox_counts(account)["netsuite/invoices"]
    checks = {e.check_name for e in result.get_asset_check_evaluations()}
    assert checks == {"unique_keys", "freshness", "customer_references"}
    with WarehouseResource(url=sqlite_url).engine.connect() as conn:
        after = {r.record_type: r.updated_at for r in conn.execute(select(wh.sync_state))}
    assert {rt for rt in after if after[rt] != before.get(rt)} == {"invoice"}


# A record NetSuite answers with that the sync refuses: (record type, its table, select, break, restore).
BROKEN = {
    "creditmemo": ("netsuite/credit_memos", "SELECT id, foreigntotal FROM \"transaction\" WHERE type = 'CustCred'",
                   'UPDATE "transaction" SET foreigntotal = ? WHERE id = ?', -5),
    "customer": ("netsuite/customers", "SELECT id, datecreated FROM customer",
                 "UPDATE customer SET datecreated = ? WHERE id = ?", "2025-02-30 10:00:00"),
}


@pytest.mark.parametrize("record_type", list(BROKEN))
def test_a_failing_record_type_fails_the_step_naming_it(account: SandboxServer, tmp_path: Path,
                                                        record_type: str) -> None:
    """The other raw tables are still synced and materialized (those downstream of the failed
    one too); deletions are not applied."""
    key, select_sql, update_sql, broken = BROKEN[record_type]
    store = account.account.store
    with store.read() as conn:
        bad, good = conn.execute(select_sql + " ORDER BY id LIMIT 1").fetchone()
    with store.write() as conn:
        conn.execute(update_sql, (broken, bad))
    try:
        result = materialize(f"sqlite:///{tmp_path / 'warehouse.sqlite3'}", selection=RAW_KEYS)
    finally:
        with store.write() as conn:
            conn.execute(update_sql, (good, bad))
    assert not result.success
    (failure,) = result.get_step_failure_events()
    assert failure.step_key == "netsuite_raw_tables"
    message = failure.event_specific_data.error.message
    assert f"NetSuite sync failed for {record_type} " in message and f"{record_type} {bad}" in message
    assert set(metadata(result)) == set(RAW_KEYS) - {key, "netsuite/deleted_records"}


def test_tables_are_reported_in_dependency_order() -> None:
    """Dagster refuses a multi-asset output after one that depends on it: a table that finishes
    before its upstream tables waits for them (or for the end, when they failed)."""
    from types import SimpleNamespace

    from ns_pipelines.defs.netsuite.assets import _DependencyOrder

    order = _DependencyOrder(list(netsuite.RAW_ASSETS))
    done = lambda rt: [r.record_type for r in order.add(SimpleNamespace(record_type=rt))]  # noqa: E731
    assert done("deletedrecord") == [] and done("paymentapplication") == [] and done("invoice") == []
    assert done("customer") == ["customer", "invoice"]
    assert done("creditmemo") == ["creditmemo"]
    assert done("customerpayment") == ["customerpayment"]
    assert done("customerrefund") == ["customerrefund"]
    assert done("deposit") == ["deposit"]
    assert done("journalentry") == ["journalentry", "paymentapplication", "deletedrecord"]

    failed = _DependencyOrder(["customer", "invoice", "paymentapplication"])
    assert [r.record_type for r in failed.add(SimpleNamespace(record_type="paymentapplication"))] == []
    assert [r.record_type for r in failed.add(SimpleNamespace(record_type="invoice"))] == []
    assert [r.record_type for r in failed.rest()] == ["invoice", "paymentapplication"]  # customer failed


def test_no_secret_reaches_run_events(account: SandboxServer, sqlite_url: str) -> None:
    result = materialize(sqlite_url)
    env = account.environment()
    secrets = [env[n] for n in ("NETSUITE_CONSUMER_SECRET", "NETSUITE_TOKEN_SECRET", "NETSUITE_TOKEN_ID")]
    text = "\n".join(f"{e.message} {e.event_specific_data!r}" for e in result.all_events)
    assert text and not [s for s in secrets if s in text]


@pytest.mark.postgres
def test_materialization_on_postgres(account: SandboxServer, postgres_url: str) -> None:
    meta = assert_clean(materialize(postgres_url))
    assert {key: meta[key]["dagster/row_count"] for key in RAW_KEYS} == sandbox_counts(account)
    shown = meta["netsuite/invoices"]["ns/warehouse"]
    assert shown.startswith("postgresql+psycopg://")
    assert ":***@" in shown  # the password is masked
