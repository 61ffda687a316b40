"""The Stripe assets in real Dagster runs against the Stripe sandbox: dg.materialize of stripe/*
with their checks, the code location's definitions, and the whole webhook path (a signed event
from the sandbox's own webhook sender -> receiver -> inbox -> stripe_events_sensor -> the run it
requests -> the warehouse row)."""
from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import requests
from sqlalchemy import func, select

from ns_pipelines.defs.resources import WarehouseResource
from ns_pipelines.defs.stripe import STRIPE_ASSETS, StripeResource, stripe_events_sensor, stripe_raw_tables
from ns_pipelines.defs.stripe.checks import CHECKS
from ns_pipelines.sandbox.netsuite.server import SandboxServer
from ns_pipelines.sandbox.stripe.server import StripeSandboxServer
from ns_pipelines.warehouse import create_warehouse_engine
from ns_pipelines.warehouse.tables.stripe import charges
from ns_pipelines.webhooks.app import WebhookApp
from ns_pipelines.webhooks.inbox import Inbox
from ns_pipelines.webhooks.server import ReceiverSettings, WebhookServer

QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


@pytest.fixture
def stripe_account(tmp_path: Path) -> Iterator[StripeSandboxServer]:
    with SandboxServer(tmp_path / "netsuite", scale="tiny", seed=42) as netsuite, \
            StripeSandboxServer(tmp_path / "stripe", netsuite=netsuite, seed=42) as account:
        yield account


def resources(account: StripeSandboxServer, warehouse_url: str) -> dict[str, Any]:
    return {"stripe": StripeResource(api_key=account.api_key, api_base=account.base_url, max_network_retries=1),
            "warehouse": WarehouseResource(url=warehouse_url)}


def count(warehouse_url: str, table: Any) -> int:
    engine = create_warehouse_engine(warehouse_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(table)).scalar_one())
    finally:
        engine.dispose()


def test_materialize_the_stripe_assets_and_their_checks(stripe_account: StripeSandboxServer,
                                                         fresh_warehouse_url: str) -> None:
    result = dg.materialize([stripe_raw_tables, *CHECKS], resources=resources(stripe_account, fresh_warehouse_url),
                            run_config=QUIET)
    assert result.success
    materialized = {m.asset_key.to_user_string(): m for m in result.get_asset_materialization_events()}
    assert set(materialized) == {spec.key.to_user_string() for spec, _ in STRIPE_ASSETS.values()}
    for object_type, (spec, table) in STRIPE_ASSETS.items():
        metadata = materialized[spec.key.to_user_string()].materialization.metadata
        assert metadata["dagster/row_count"].value == count(fresh_warehouse_url, table) > 0
        assert metadata["ns/mode"].value == "backfill"
    checks = {(e.asset_key.to_user_string(), e.check_name): e.passed for e in result.get_asset_check_evaluations()}
    assert len(checks) == len(CHECKS) and all(checks.values()), checks
    assert ("stripe/charges", "balance_transactions_present") in checks

    again = dg.materialize([stripe_raw_tables], resources=resources(stripe_account, fresh_warehouse_url),
                           run_config=QUIET)
    modes = {m.materialization.metadata["ns/mode"].value for m in again.get_asset_materialization_events()}
    assert again.success and modes == {"events"}


def test_the_code_location_has_the_stripe_definitions() -> None:
    from ns_pipelines.definitions import defs

    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert {f"stripe/{n}" for n in ("customers", "charges", "refunds", "disputes", "payouts",
                                     "balance_transactions")} <= keys
    spec = graph.get(dg.AssetKey(["stripe", "charges"]))
    assert spec.group_name == "stripe_raw" and "stripe" in spec.kinds and spec.owners
    assert spec.description and "dagster/column_schema" in spec.metadata
    assert defs.resolve_job_def("stripe_sync_job") is not None
    assert defs.resolve_sensor_def("stripe_events_sensor") is not None
    # the NetSuite jobs do not pull the Stripe tables in
    netsuite_job = defs.resolve_job_def("netsuite_sync_job")
    assert not any("stripe" in k.to_user_string() for k in netsuite_job.asset_layer.selected_asset_keys)


def test_a_sandbox_webhook_becomes_a_targeted_run(stripe_account: StripeSandboxServer,
                                                  fresh_warehouse_url: str) -> None:
    run_resources = resources(stripe_account, fresh_warehouse_url)
    assert dg.materialize([stripe_raw_tables], resources=run_resources, run_config=QUIET).success
    inbox = Inbox(fresh_warehouse_url)
    # Migrate now: alembic's module-level context is not thread-safe, and the sensor context below
    # (an ephemeral Dagster instance) runs alembic on this thread while the receiver's writer would.
    inbox.engine()
    app = WebhookApp(inbox, ["unused-netsuite-secret"], stripe_secrets=[stripe_account.webhook_secret])
    with WebhookServer(app, ReceiverSettings(port=0)) as receiver:
        admin = {"Authorization": f"Bearer {stripe_account.admin_token}"}
        requests.put(stripe_account.admin_url + "/webhook", json={"url": receiver.url + "/stripe/events"},
                     headers=admin, timeout=10).raise_for_status()
        customer = stripe_account.client().v1.customers.list({"limit": 1}).data[0].id
        made = requests.post(stripe_account.admin_url + "/payments", headers=admin, timeout=30, json={
            "customer": customer, "amount": 4321, "currency": "eur", "method": "card"})
        made.raise_for_status()
        charge_id = made.json()["charge"]["id"]

        deadline = time.monotonic() + 30
        while True:  # the sandbox delivers in the background
            with dg.build_sensor_context(cursor=None, resources={"warehouse": WarehouseResource(
                    url=fresh_warehouse_url)}) as context:
                tick = stripe_events_sensor(context)
            object_ids = (tick.run_requests[0].run_config["ops"]["stripe_raw_tables"]["config"]["object_ids"]
                          if isinstance(tick, dg.SensorResult) and tick.run_requests else {})
            if charge_id in object_ids.get("charge", []):
                break
            assert time.monotonic() < deadline, f"no webhook for {charge_id} reached the inbox: {tick}"
            time.sleep(0.3)
    inbox.close()

    request = tick.run_requests[0]
    with create_warehouse_engine(fresh_warehouse_url).connect() as conn:
        assert conn.execute(select(charges.c.id).where(charges.c.id == charge_id)).first() is None
    run = dg.materialize([stripe_raw_tables], selection=request.asset_selection, run_config=request.run_config,
                         resources=run_resources, tags=request.tags)
    assert run.success
    assert {m.materialization.metadata["ns/mode"].value for m in run.get_asset_materialization_events()} == {"targeted"}
    engine = create_warehouse_engine(fresh_warehouse_url)
    try:
        with engine.connect() as conn:
            row = conn.execute(select(charges).where(charges.c.id == charge_id)).mappings().one()
    finally:
        engine.dispose()
    assert (row["amount"], row["currency"], row["status"]) == (4321, "eur", "succeeded")


def test_the_resource_reads_only_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    resource = StripeResource.from_env_vars({"STRIPE_API_KEY": "sk_test_abc", "STRIPE_API_BASE": "http://127.0.0.1:9"})
    assert resource.api_key == dg.EnvVar("STRIPE_API_KEY") and resource.api_base == dg.EnvVar("STRIPE_API_BASE")
    assert StripeResource.from_env_vars({}).api_base is None  # Stripe's own API by default
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_from_env")
    monkeypatch.delenv("STRIPE_API_BASE", raising=False)

    @dg.asset
    def probe(stripe: StripeResource) -> None:
        config = stripe.stripe_config()
        assert (config.api_key, config.api_base) == ("sk_test_from_env", "https://api.stripe.com")

    assert dg.materialize([probe], resources={"stripe": StripeResource.from_env_vars()}, run_config=QUIET).success
