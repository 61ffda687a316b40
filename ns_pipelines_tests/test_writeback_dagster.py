"""The writeback through real Dagster runs: reconciliation rows in the warehouse, the plan asset,
the log asset (only when writing is on), their checks, and the credit-memo refund job."""
from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from sqlalchemy import insert, select

from ns_pipelines.defs.resources import NetSuiteResource, WarehouseResource
from ns_pipelines.defs.stripe.resources import StripeResource
from ns_pipelines.defs.writeback.assets import WRITEBACK_ASSETS
from ns_pipelines.defs.writeback.checks import CHECKS
from ns_pipelines.defs.writeback.jobs import credit_memo_refund_job
from ns_pipelines.sandbox.netsuite.server import SandboxServer
from ns_pipelines.sandbox.stripe.server import StripeSandboxServer
from ns_pipelines.warehouse.tables.reconciliation import payment_matches
from ns_pipelines.warehouse.tables.writeback import writeback_log, writeback_plan
from ns_pipelines_tests.test_writeback_scenarios import USD_CUSTOMER, US_BANK_USD, by_external_id, make_engine, \
    make_invoice, unpaid

D = Decimal


@contextmanager
def sandbox_env(tmp_path: Path) -> Iterator[tuple[SandboxServer, StripeSandboxServer, str]]:
    """Both sandboxes, their variables in the environment, and a SQLite warehouse URL."""
    with SandboxServer(tmp_path / "ns", scale="tiny", seed=42) as ns, \
            StripeSandboxServer(tmp_path / "stripe", netsuite=ns, seed=42) as st, \
            pytest.MonkeyPatch.context() as mp:
        for name, value in ns.environment().items():
            mp.setenv(name, value)
        mp.setenv("STRIPE_API_KEY", st.api_key)
        mp.setenv("STRIPE_API_BASE", st.base_url)
        mp.setenv("NS_WRITEBACK_BANK_ACCOUNTS", f"USD={US_BANK_USD}")
        mp.delenv("NS_WRITEBACK_ENABLED", raising=False)
        yield ns, st, f"sqlite:///{tmp_path / 'warehouse.sqlite3'}"


@pytest.fixture
def env(tmp_path: Path) -> Iterator[tuple[SandboxServer, StripeSandboxServer, str]]:
    with sandbox_env(tmp_path) as values:
        yield values


def _reconciliation_row(url: str, charge: str, invoice: int, amount: str) -> None:
    """What ns_pipelines.reconciliation writes for a succeeded charge (docs/reconciliation.md)."""
    with make_engine(url).begin() as conn:
        conn.execute(insert(payment_matches).values(
            external_id=f"stripe:{charge}", action="create_payment", state="planned", stripe_object_id=charge,
            charge_id=charge, payment_external_id=f"stripe:{charge}", netsuite_customer_id=USD_CUSTOMER,
            currency="USD", amount=D(amount), applications=json.dumps([{"invoice_id": invoice, "amount": amount}]),
            applied_amount=D(amount), unapplied_amount=D(0), is_overpayment=False, is_split=False,
            invoice_rule="explicit_ids", memo=f"Stripe {charge}", reason=f"charge {charge} pays invoice {invoice}"))


def _run(url: str, run_config: dict[str, Any] | None = None) -> dg.ExecuteInProcessResult:
    resources = {"netsuite": NetSuiteResource.from_env_vars(), "warehouse": WarehouseResource(url=url)}
    return dg.materialize([*WRITEBACK_ASSETS, *CHECKS], resources=resources, run_config=run_config or {},
                          raise_on_error=False)


def test_plan_only_until_writing_is_switched_on(env: tuple[SandboxServer, StripeSandboxServer, str]) -> None:
    ns, st, url = env
    charge = st.client().v1.charges.create(params={"amount": 3300, "currency": "usd", "source": "tok_visa"}).id
    invoice = make_invoice(ns, USD_CUSTOMER, "33.00")
    _reconciliation_row(url, charge, invoice, "33.00")

    off = _run(url)
    assert off.success
    assert {e.asset_key.to_user_string() for e in off.get_asset_materialization_events()} == {"writeback/plan"}
    assert by_external_id(ns, f"stripe:{charge}") == [] and unpaid(ns, invoice) == D("33.00")
    with make_engine(url).connect() as conn:
        assert [(r.external_id, r.status) for r in conn.execute(select(writeback_plan))] == [(f"stripe:{charge}", "planned")]
        assert conn.execute(select(writeback_log)).all() == []

    on = _run(url, {"ops": {"writeback__log": {"config": {"enabled": True}}}})
    assert on.success
    assert {e.asset_key.to_user_string() for e in on.get_asset_materialization_events()} == {
        "writeback/plan", "writeback/log"}
    assert all(e.passed for e in on.get_asset_check_evaluations())
    [pay] = by_external_id(ns, f"stripe:{charge}")
    assert unpaid(ns, invoice) == 0
    assert st.client().v1.charges.retrieve(charge).metadata["netsuite_customer_payment_id"] == str(pay["id"])
    meta = {e.asset_key.to_user_string(): e.materialization.metadata for e in on.get_asset_materialization_events()}
    assert meta["writeback/log"]["ns/written"].value == 1


def test_refused_write_fails_the_report_check(env: tuple[SandboxServer, StripeSandboxServer, str]) -> None:
    ns, _st, url = env
    invoice = make_invoice(ns, USD_CUSTOMER, "12.00")
    ns.settings.faults.locked_record_ids = {invoice}
    _reconciliation_row(url, "ch_locked", invoice, "12.00")
    result = _run(url, {"ops": {"writeback__log": {"config": {"enabled": True}}}})
    assert result.success
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert checks["no_duplicate_external_ids_in_netsuite"].passed
    report = checks["refused_writes_reported"]
    assert not report.passed and "stripe:ch_locked" in report.description and "locked" in report.description


def test_credit_memo_refund_job(env: tuple[SandboxServer, StripeSandboxServer, str]) -> None:
    ns, st, url = env
    charge = st.client().v1.charges.create(params={"amount": 5000, "currency": "usd", "source": "tok_visa"}).id
    invoice = make_invoice(ns, USD_CUSTOMER, "80.00")
    _reconciliation_row(url, charge, invoice, "50.00")
    assert _run(url, {"ops": {"writeback__log": {"config": {"enabled": True}}}}).success
    memo = ns.account.records.create("creditmemo", {
        "entity": {"id": str(USD_CUSTOMER)}, "item": {"items": [{"amount": "45.00"}]},
        "apply": {"items": [{"doc": {"id": str(invoice)}, "apply": True, "amount": "30.00"}]}}, context="UI")

    result = credit_memo_refund_job.execute_in_process(
        run_config={"ops": {"refund_credit_memo_op": {"config": {"credit_memo_id": memo}}}},
        resources={"netsuite": NetSuiteResource.from_env_vars(), "warehouse": WarehouseResource(url=url),
                   "stripe": StripeResource.from_env_vars()})
    assert result.success
    refunds = [r for r in st.client().v1.refunds.list(params={"charge": charge}).auto_paging_iter()]
    assert [(r.amount, r.metadata["netsuite_credit_memo_id"]) for r in refunds] == [(1500, str(memo))]
    [ns_refund] = by_external_id(ns, f"stripe:{refunds[0].id}")
    assert refunds[0].metadata["netsuite_customer_refund_id"] == str(ns_refund["id"])
