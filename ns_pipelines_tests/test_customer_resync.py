"""Manual customer resync: the plain function (SQLite and PostgreSQL), the `resync-customer`
command and netsuite_customer_resync_job, against the sandbox. The warehouse rows of the chosen
customer are damaged behind the sync's back (and one NetSuite value is changed without moving its
lastmodifieddate, which no incremental sync could see); the resync makes every row of that
customer equal NetSuite again, and leaves other customers' rows alone."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import requests
from click.testing import CliRunner
from sqlalchemy import Engine, delete, update

from ns_pipelines.cli import main
from ns_pipelines.defs import ar, netsuite, schedules
from ns_pipelines.defs.resources import NetSuiteResource, WarehouseResource
from ns_pipelines.sandbox.netsuite.server import SandboxServer
from ns_pipelines.sync.customer_resync import CustomerNotFoundError, resync_customers
from ns_pipelines.warehouse import (
    begin_write,
    customer_payments,
    customers,
    deposits,
    invoices,
    journal_lines,
    payment_applications,
)
from ns_pipelines_tests.sync_helpers import make_client, make_engine, make_settings, sandbox_rows, sync_everything, truth
from ns_pipelines_tests.sync_helpers import warehouse_rows as all_rows

QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
TABLES = ("netsuite_customers", "netsuite_invoices", "netsuite_customer_payments", "netsuite_credit_memos",
          "netsuite_customer_refunds", "netsuite_deposits", "netsuite_journal_lines", "netsuite_payment_applications")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SandboxServer]:
    with SandboxServer(tmp_path / "sandbox", scale="tiny", seed=21) as running:
        yield running


def busiest_customer(server: SandboxServer) -> int:
    """A customer with invoices, deposited payments and an A/R journal line."""
    return sandbox_rows(server, """
        SELECT t.entity FROM "transaction" t WHERE t.type IN ('CustInvc', 'CustPymt', 'CustCred') AND EXISTS (
          SELECT 1 FROM "transaction" p JOIN nexttransactionlinelink l ON l.previousdoc = p.id
          WHERE p.entity = t.entity AND l.nexttype = 'Deposit')
        GROUP BY t.entity ORDER BY EXISTS (SELECT 1 FROM transactionline tl JOIN "transaction" j
          ON j.id = tl."transaction" WHERE j.type = 'Journal' AND tl.entity = t.entity) DESC, COUNT(*) DESC
        LIMIT 1""")[0][0]


def expected_documents(server: SandboxServer, customer: int) -> dict[str, set[int]]:
    rows = lambda sql: {r[0] for r in sandbox_rows(server, sql, customer)}  # noqa: E731
    return {
        "invoice": rows("SELECT id FROM \"transaction\" WHERE type = 'CustInvc' AND entity = ?"),
        "customerpayment": rows("SELECT id FROM \"transaction\" WHERE type = 'CustPymt' AND entity = ?"),
        "deposit": rows("SELECT DISTINCT l.nextdoc FROM nexttransactionlinelink l JOIN \"transaction\" p "
                        "ON p.id = l.previousdoc WHERE l.nexttype = 'Deposit' AND p.entity = ?"),
        "journalentry": rows("SELECT DISTINCT tl.\"transaction\" FROM transactionline tl JOIN \"transaction\" t "
                             "ON t.id = tl.\"transaction\" JOIN account a ON a.id = tl.expenseaccount "
                             "WHERE t.type = 'Journal' AND a.accttype = 'AcctRec' AND tl.entity = ?"),
    }


def damage(server: SandboxServer, engine: Engine, customer: int, bystander: int) -> dict[str, Any]:
    docs = expected_documents(server, customer)
    invoice, payment = min(docs["invoice"]), min(docs["customerpayment"])
    deposit = min(docs["deposit"])
    with begin_write(engine) as conn:
        conn.execute(delete(invoices).where(invoices.c.id == invoice))
        conn.execute(update(customer_payments).where(customer_payments.c.id == payment).values(total=1))
        conn.execute(update(deposits).where(deposits.c.id == deposit).values(memo="damaged"))
        conn.execute(delete(payment_applications).where(payment_applications.c.next_doc_id == payment))
        conn.execute(update(customers).where(customers.c.id == customer).values(balance=-1))
        conn.execute(update(customers).where(customers.c.id == bystander).values(email="left@alone.example"))
        if docs["journalentry"]:
            conn.execute(delete(journal_lines).where(journal_lines.c.journal_entry_id == min(docs["journalentry"])))
    other_invoice = max(docs["invoice"])
    with server.account.store.write() as conn:  # a change no incremental sync could see
        conn.execute('UPDATE "transaction" SET memo = ? WHERE id = ?', ("silently changed", other_invoice))
    return {"docs": docs, "other_invoice": other_invoice}


def owned_rows(rows: dict[str, dict[Any, dict]], docs: dict[str, set[int]], customer: int) -> dict[str, dict]:
    """The rows of TABLES that belong to the customer (its documents, their lines and links)."""
    ids = set().union(*docs.values())
    out: dict[str, dict] = {}
    for name in TABLES:
        out[name] = {}
        for key, row in rows[name].items():
            doc = key[0] if name == "netsuite_journal_lines" else key
            if name == "netsuite_customers":
                mine = key == customer
            elif name == "netsuite_payment_applications":
                mine = key[0] in ids or key[2] in ids
            else:
                mine = doc in ids
            if mine and row.get("is_deleted") is not True:
                out[name][key] = {k: v for k, v in row.items() if k != "synced_at"}
    return out


def assert_customer_equals_netsuite(server: SandboxServer, engine: Engine, customer: int,
                                    docs: dict[str, set[int]]) -> None:
    want = owned_rows(truth(server), docs, customer)
    have = owned_rows(all_rows(engine), docs, customer)
    for name in TABLES:
        assert have[name] == want[name], name
    assert want["netsuite_invoices"] and want["netsuite_payment_applications"] and want["netsuite_deposits"]


def test_resync_overwrites_the_customer_and_nothing_else(server: SandboxServer, fresh_warehouse_url: str) -> None:
    client = make_client(server)
    engine = make_engine(fresh_warehouse_url)
    settings = make_settings(server)
    try:
        sync_everything(client, engine, settings)
        customer = busiest_customer(server)
        bystander = next(c for c in sorted(all_rows(engine)["netsuite_customers"]) if c != customer)
        damaged = damage(server, engine, customer, bystander)
        messages: list[str] = []
        result = resync_customers(client, engine, [customer], settings=settings, report=messages.append)
        docs = damaged["docs"]
        for record_type, ids in docs.items():
            assert set(result.documents[record_type]) == ids, record_type
        assert result.documents["customer"] == [customer]
        assert set(result.results) >= {"invoice", "customerpayment", "deposit", "paymentapplication", "customer"}
        assert result.rows_written > 0 and any(m.startswith("invoice: ") for m in messages)
        assert_customer_equals_netsuite(server, engine, customer, docs)
        rows = all_rows(engine)
        assert rows["netsuite_invoices"][damaged["other_invoice"]]["memo"] == "silently changed"
        assert rows["netsuite_customers"][bystander]["email"] == "left@alone.example"  # not re-read

        with pytest.raises(CustomerNotFoundError, match="customer\\(s\\) 987654 not found"):
            resync_customers(client, engine, [customer, 987654], settings=settings)
    finally:
        client.close()
        engine.dispose()


def test_resync_customer_command(server: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'wh.sqlite3'}"
    for name, value in server.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("NS_WAREHOUSE_URL", url)
    engine = make_engine(url)
    client = make_client(server)
    try:
        sync_everything(client, engine, make_settings(server))
        customer = busiest_customer(server)
        bystander = next(c for c in sorted(all_rows(engine)["netsuite_customers"]) if c != customer)
        damaged = damage(server, engine, customer, bystander)
        done = CliRunner().invoke(main, ["resync-customer", str(customer)])
        assert done.exit_code == 0, done.output
        assert f"customers {customer}: " in done.output and "customerpayment: " in done.output
        assert "receivables rebuilt as of" in done.output and "ar_open_items" in done.output
        assert_customer_equals_netsuite(server, engine, customer, damaged["docs"])

        unknown = CliRunner().invoke(main, ["resync-customer", "987654"])
        assert unknown.exit_code == 1 and "987654 not found" in unknown.output
        env = server.environment()
        requests.post(f"{server.admin_url}/tokens/revoke", json={"token_id": env["NETSUITE_TOKEN_ID"]},
                      headers={"Authorization": f"Bearer {env['NETSUITE_SANDBOX_ADMIN_TOKEN']}"},
                      timeout=10).raise_for_status()
        refused = CliRunner().invoke(main, ["resync-customer", str(customer)])
        assert refused.exit_code == 1 and "AuthenticationError" in refused.output
        assert env["NETSUITE_TOKEN_SECRET"] not in refused.output
    finally:
        client.close()
        engine.dispose()


def test_customer_resync_job(server: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in server.environment().items():
        monkeypatch.setenv(name, value)
    url = f"sqlite:///{tmp_path / 'wh.sqlite3'}"
    resources = {"netsuite": NetSuiteResource.from_env_vars(), "warehouse": WarehouseResource(url=url)}
    defs = dg.Definitions.merge(netsuite.defs, ar.defs, schedules.defs, dg.Definitions(resources=resources))
    assert defs.resolve_job_def("netsuite_sync_job").execute_in_process(run_config=QUIET).success
    engine = make_engine(url)
    try:
        customer = busiest_customer(server)
        bystander = next(c for c in sorted(all_rows(engine)["netsuite_customers"]) if c != customer)
        damaged = damage(server, engine, customer, bystander)
        job = defs.resolve_job_def("netsuite_customer_resync_job")
        result = job.execute_in_process(run_config={"customer_ids": [customer]}, raise_on_error=False)
        assert result.success, [e.event_specific_data.error.message for e in result.get_step_failure_events()]
        meta = {e.asset_key.to_user_string(): {k: getattr(v, "value", v) for k, v in e.materialization.metadata.items()}
                for e in result.get_asset_materialization_events()}
        assert {"netsuite/customers", "netsuite/invoices", "netsuite/customer_payments", "netsuite/deposits",
                "netsuite/payment_applications", "ar/open_items", "ar/customer_balances", "ar/aging"} <= set(meta)
        assert "netsuite/deleted_records" not in meta
        assert meta["netsuite/invoices"]["ns/customer_ids"] == [customer]
        assert meta["netsuite/invoices"]["ns/records_resynced"] == len(damaged["docs"]["invoice"])
        assert meta["netsuite/invoices"]["ns/mode"] == "targeted"
        assert all(e.passed for e in result.get_asset_check_evaluations())
        assert_customer_equals_netsuite(server, engine, customer, damaged["docs"])

        with pytest.raises(dg.DagsterInvalidConfigError, match="customer_ids"):
            job.execute_in_process(run_config={"customer_ids": ["ACME"]})
        failed = job.execute_in_process(run_config={"customer_ids": [987654]}, raise_on_error=False)
        assert not failed.success
        (failure,) = failed.get_step_failure_events()
        assert "987654 not found" in failure.event_specific_data.error.message
    finally:
        engine.dispose()
