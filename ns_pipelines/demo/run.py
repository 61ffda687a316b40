"""`make demo`: every asset of the code location, materialized through Dagster against the sandboxes.

1. Start the NetSuite sandbox and the Stripe sandbox seeded from it (data in .data/demo/sandbox,
   kept between runs) and set their NETSUITE_* and STRIPE_* variables in this process.
2. Turn writing back on for the demo (NS_WRITEBACK_ENABLED=true) with the sandbox account's Stripe
   fee account, adjustment account and USD bank account, unless the user set them.
3. Second and later runs: change a few records through the admin APIs (a NetSuite user editing,
   invoicing and recording a payment; a customer paying an invoice in Stripe).
4. Rounds of `dg.materialize` over every asset and check (NetSuite and Stripe sync, receivables,
   reconciliation, writeback plan and log) on the persistent Dagster instance in DAGSTER_HOME
   (.dagster_home, the one `make dev` opens), into the default SQLite warehouse
   (.data/warehouse.sqlite3; NS_WAREHOUSE_URL is ignored on purpose so the demo never writes sandbox
   data into a configured warehouse). Round 1 writes the payments and refunds; the next round syncs
   them back, sees them done and writes the deposits of the payouts whose payments are now in
   NetSuite; rounds go on until one writes nothing (at most MAX_ROUNDS).
5. Print per-table row counts, the checks, the ageing, the reconciliation summary (matched, written,
   exceptions by reason) and where the warehouse is; stop the sandboxes.
"""
from __future__ import annotations

import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

import click
import requests
from sqlalchemy import Engine, select

from ..sandbox.netsuite.server import SandboxServer
from ..sandbox.stripe.server import StripeSandboxServer
from .changes import netsuite_changes, stripe_payment_and_payout
from .report import reconciliation_summary, round_report, sync_report

RUN_TAGS = {"ns/trigger": "demo"}
QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
MAX_ROUNDS = 3


def run_demo(data_dir: Path, scale: str | int = "small", seed: int = 42) -> None:
    import dagster as dg

    from ..defs.resources import NetSuiteResource, WarehouseResource
    from ..defs.stripe.resources import StripeResource
    from ..dev import ensure_pool_limit, prepare_dagster_home
    from ..sandbox.cli import print_progress
    from ..warehouse import default_warehouse_url

    home = prepare_dagster_home()
    if os.environ.get("NS_WAREHOUSE_URL"):
        click.echo("(NS_WAREHOUSE_URL is ignored: the demo writes only to the default SQLite warehouse)")
    warehouse = WarehouseResource(url=default_warehouse_url())
    click.echo(f"Starting the NetSuite and Stripe sandboxes ({scale} account, seed {seed}, data in {data_dir}) ...")
    with SandboxServer(data_dir, scale=scale, seed=seed, progress=print_progress) as server, \
            StripeSandboxServer(data_dir, netsuite=server, seed=seed) as stripe:
        os.environ.update(server.environment())
        os.environ.update(stripe.environment())
        click.echo(f"NetSuite sandbox for account {server.settings.account_id} at {server.base_url}, Stripe "
                   f"sandbox at {stripe.base_url}; their NETSUITE_* and STRIPE_* variables are set for this process.")
        bank_subsidiary = configure_sandbox_writeback(server, stripe)
        engine = warehouse.engine
        synced_before = _synced_record_types(engine)
        if synced_before:
            click.echo(f"The warehouse was synced before ({len(synced_before)} record types have a cursor): "
                       "this run is incremental.")
        else:
            click.echo("First run: every NetSuite record type and Stripe object is read in full.")
        changes = netsuite_changes(server, engine) if synced_before else []
        changes += stripe_payment_and_payout(server, stripe, subsidiary=bank_subsidiary)
        if changes:
            click.echo("Before it, the demo changed the sandboxes through their admin APIs, as NetSuite users "
                       "and a paying customer would:")
            for change in changes:
                click.echo(f"  - {change}")

        assets, asset_keys, checks = _everything()
        check_count = sum(len(list(c.check_specs)) for c in checks)
        click.echo(f"Materializing {len(asset_keys)} assets and running {check_count} checks through Dagster "
                   f"(instance in {home}), in rounds until a round writes nothing to NetSuite ...")
        resources = {"netsuite": NetSuiteResource.from_env_vars(usage_warehouse=warehouse), "warehouse": warehouse,
                     "stripe": StripeResource.from_env_vars()}
        results: list[Any] = []
        seconds: list[float] = []
        with dg.DagsterInstance.get() as instance:
            ensure_pool_limit(instance)
            for number in range(1, MAX_ROUNDS + 1):
                started = time.monotonic()
                result = dg.materialize([*assets, *checks], resources=resources, instance=instance,
                                        run_config=QUIET_LOGS, tags={**RUN_TAGS, "ns/demo_round": str(number)},
                                        raise_on_error=False)
                results.append(result)
                seconds.append(time.monotonic() - started)
                written = round_report(number, result, engine, result.run_id, seconds[-1])
                if not result.success or not written:
                    break
        sync_report(results[0], asset_keys, engine, warehouse, seconds[0], incremental=bool(synced_before))
        reconciliation_summary(engine, [r.run_id for r in results])
        click.echo(f"Dagster runs {', '.join(r.run_id[:8] for r in results)} ({sum(seconds):.1f}s in all) are "
                   f"stored in {home}: `make dev` opens the UI on them.")
        engine.dispose()
        click.echo("Stopping the sandboxes.")
    if not all(r.success for r in results):
        raise click.ClickException("a Dagster run failed (see the steps above)")


def configure_sandbox_writeback(server: SandboxServer, stripe: StripeSandboxServer) -> int | None:
    """The demo writes back into its sandbox: writing on, with the sandbox account's own accounts and
    the Stripe account's integration start date. Stripe pays out to the bank accounts of the
    subsidiary most Stripe customers belong to; returns that subsidiary."""
    from ..netsuite import NetSuiteClient

    scenarios = requests.get(f"{stripe.admin_url}/scenarios", timeout=30,
                             headers={"Authorization": f"Bearer {stripe.admin_token}"}).json()
    linked = {int(ns_id) for ns_id in scenarios["customers"]}
    defaults = {"NS_WRITEBACK_ENABLED": "true", "NS_RECON_START_DATE": str(scenarios["integration_start_date"])}
    with NetSuiteClient.from_env(server.environment()) as client:
        accounts = client.suiteql.query_all(
            "SELECT a.id, a.acctname, a.accttype, a.subsidiary, c.symbol AS currency FROM account a "
            "LEFT JOIN currency c ON c.id = a.currency ORDER BY a.id")
        customers = client.suiteql.query_all("SELECT id, subsidiary FROM customer ORDER BY id")
    homes = Counter(int(row["subsidiary"]) for row in customers if int(row["id"]) in linked and row.get("subsidiary"))
    subsidiary = homes.most_common(1)[0][0] if homes else None
    by_name = {row["acctname"]: int(row["id"]) for row in accounts}
    banks: dict[str, int] = {}
    for row in accounts:
        if row["accttype"] == "Bank" and row.get("currency") and (
                subsidiary is None or str(row.get("subsidiary")) == str(subsidiary)):
            banks.setdefault(str(row["currency"]).upper(), int(row["id"]))
    if "Stripe Fees" in by_name:
        defaults["NS_RECON_FEE_ACCOUNT_ID"] = str(by_name["Stripe Fees"])
    if "Bad Debt Expense" in by_name:  # where the demo books chargebacks and other Stripe adjustments
        defaults["NS_RECON_ADJUSTMENT_ACCOUNT_ID"] = str(by_name["Bad Debt Expense"])
    if banks:
        defaults["NS_WRITEBACK_BANK_ACCOUNTS"] = ",".join(f"{cur}={aid}" for cur, aid in sorted(banks.items()))
    chosen = {name: value for name, value in defaults.items() if not os.environ.get(name)}
    os.environ.update(chosen)
    if chosen:
        click.echo("Writing back into the sandbox is on (as in `make demo`): " + ", ".join(
            f"{name}={value}" for name, value in chosen.items()))
    return subsidiary


def _everything() -> tuple[list[Any], list[str], list[Any]]:
    """The asset definitions to materialize, the asset keys in report order, and the checks."""
    from ..defs.ar import AR_ASSETS
    from ..defs.ar.checks import CHECKS as AR_CHECKS
    from ..defs.netsuite import netsuite_raw_tables
    from ..defs.netsuite.checks import CHECKS as RAW_CHECKS
    from ..defs.reconciliation import ASSETS as RECON_ASSETS
    from ..defs.reconciliation import CHECKS as RECON_CHECKS
    from ..defs.stripe import ASSETS as STRIPE_ASSETS
    from ..defs.stripe.checks import CHECKS as STRIPE_CHECKS
    from ..defs.writeback.assets import WRITEBACK_ASSETS
    from ..defs.writeback.checks import CHECKS as WRITEBACK_CHECKS

    assets = [netsuite_raw_tables, *AR_ASSETS, *STRIPE_ASSETS, *RECON_ASSETS, *WRITEBACK_ASSETS]
    keys: list[str] = []
    for asset in assets:
        keys += [key.to_user_string() for key in asset.keys if key.to_user_string() not in keys]
    return assets, keys, [*RAW_CHECKS, *AR_CHECKS, *STRIPE_CHECKS, *RECON_CHECKS, *WRITEBACK_CHECKS]


def _synced_record_types(engine: Engine) -> list[str]:
    from ..warehouse import sync_state

    with engine.connect() as conn:
        return list(conn.execute(select(sync_state.c.record_type).order_by(sync_state.c.record_type)).scalars())
