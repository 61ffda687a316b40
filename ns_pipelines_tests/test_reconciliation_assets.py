"""The reconciliation assets in a real Dagster run (dg.materialize) on SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import dagster as dg
import pytest

from ns_pipelines.defs.reconciliation import exceptions, payment_matches, payout_matches, reconciliation_tables
from ns_pipelines.defs.reconciliation.checks import CHECKS
from ns_pipelines.defs.resources import WarehouseResource
from ns_pipelines.reconciliation.checks import deposits_balance, every_charge_accounted_for
from ns_pipelines.reconciliation.settings import ReconSettings
from ns_pipelines.warehouse import create_warehouse_engine, upgrade_warehouse
from ns_pipelines.warehouse.tables import netsuite as ns
from ns_pipelines.warehouse.tables import reconciliation as recon
from ns_pipelines.warehouse.tables import stripe as st
from ns_pipelines_tests.test_reconciliation_rows import (
    application,
    balance_transaction,
    charge,
    customer,
    insert,
    invoice,
    netsuite_payment,
    payout,
    rows,
)


def test_materialize_the_three_tables(fresh_warehouse_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NETSUITE_TIMEZONE", "UTC")
    monkeypatch.setenv("NS_RECON_FEE_ACCOUNT_ID", "601")
    engine = create_warehouse_engine(fresh_warehouse_url)
    upgrade_warehouse(engine)
    insert(engine, ns.customers, customer(1))
    insert(engine, ns.invoices, invoice(10, 1, "0.00", status="B"), invoice(11, 1, "80.00"))
    insert(engine, ns.customer_payments, netsuite_payment(500, "stripe:ch_done", 1, "100.00"))
    insert(engine, ns.payment_applications, application(10, 500, "100.00"))
    insert(engine, st.charges, charge("ch_done", 10000, netsuite_customer_id=1),
           charge("ch_new", 5000, netsuite_customer_id=1), charge("ch_lost", 700))
    insert(engine, st.payouts, payout("po_1", 9680))
    insert(engine, st.balance_transactions, balance_transaction("txn_ch_done", 10000, 320, "ch_done", "po_1"))

    result = dg.materialize([reconciliation_tables, *CHECKS],
                            resources={"warehouse": WarehouseResource(url=fresh_warehouse_url)})

    assert result.success
    assert {(e.asset_check_key.name, e.passed) for e in result.get_asset_check_evaluations()} == {
        ("every_charge_accounted_for", True), ("deposits_balance", True)}
    by_key = {event.asset_key: event.materialization.metadata for event in result.get_asset_materialization_events()}
    assert set(by_key) == {payment_matches.key, payout_matches.key, exceptions.key}
    assert by_key[payment_matches.key]["dagster/row_count"].value == 2
    assert by_key[payment_matches.key]["ns/create_payment_done"].value == 1
    assert by_key[payment_matches.key]["ns/create_payment_planned"].value == 1
    assert by_key[payout_matches.key]["ns/ready"].value == 1
    assert by_key[exceptions.key]["ns/error"].value == 1
    assert [(r["external_id"], r["state"]) for r in rows(engine, recon.payment_matches)] == [
        ("stripe:ch_done", "done"), ("stripe:ch_new", "planned")]
    assert [r["status"] for r in rows(engine, recon.payout_matches)] == ["ready"]
    assert [r["code"] for r in rows(engine, recon.exceptions)] == ["customer_unresolved"]
    engine.dispose()


def test_asset_specs_describe_their_tables() -> None:
    for spec, table in ((payment_matches, recon.payment_matches), (payout_matches, recon.payout_matches),
                        (exceptions, recon.exceptions)):
        assert spec.group_name == "reconciliation" and spec.owners and spec.kinds and spec.description
        assert spec.metadata["dagster/table_name"] == table.name
        schema = spec.metadata["dagster/column_schema"]
        assert [c.name for c in schema.columns] == [c.name for c in table.columns]
        assert all(c.description for c in schema.columns)
    deps = {dep.asset_key for dep in payment_matches.deps}
    assert dg.AssetKey(["stripe", "charges"]) in deps and dg.AssetKey(["netsuite", "invoices"]) in deps


def test_definitions_include_the_reconciliation_assets() -> None:
    from ns_pipelines.definitions import defs

    keys = set(defs.resolve_all_asset_keys())
    assert {payment_matches.key, payout_matches.key, exceptions.key} <= keys


def test_checks_catch_a_dropped_charge_and_an_unbalanced_deposit(fresh_warehouse_url: str) -> None:
    engine = create_warehouse_engine(fresh_warehouse_url)
    upgrade_warehouse(engine)
    insert(engine, st.charges, charge("ch_dropped", 5000, netsuite_customer_id=1), charge("ch_old", 700,
           created=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)))
    insert(engine, recon.payout_matches, {
        "payout_id": "po_1", "external_id": "stripe:po_1", "state": "planned", "status": "ready", "currency": "USD",
        "amount": D("96.80"), "fee_total": D("3.20"), "tran_date": dt.date(2026, 3, 1), "memo": "Stripe payout po_1",
        "lines": '[{"kind": "payment", "amount": "100.00"}, {"kind": "fee", "amount": "-3.00"}]',
        "item_count": 1, "payment_count": 1, "refund_count": 0, "reason": "hand-made"})
    settings = ReconSettings(start_date=dt.date(2026, 2, 1))

    dropped = every_charge_accounted_for(engine, settings)
    assert not dropped.passed and dropped.metadata["sample"] == ["ch_dropped"]  # ch_old is before the start
    unbalanced = deposits_balance(engine)
    assert not unbalanced.passed and unbalanced.metadata["sample"] == [
        {"payout_id": "po_1", "amount": "96.80", "lines_total": "97.00", "currency": "USD"}]
    engine.dispose()
