"""`make demo`: every NetSuite and receivables asset, materialized through Dagster against the sandbox.

1. Start the sandbox account (data in .data/demo/sandbox, kept between runs) and set its NETSUITE_*
   variables in this process.
2. Second and later runs: change a few records through the sandbox's admin API, as a user in the
   NetSuite UI would, so the incremental sync has something to pick up.
3. `dg.materialize` every asset and check of the code location with the real resources, on the
   persistent Dagster instance in DAGSTER_HOME (.dagster_home, the one `make dev` opens), into the
   default SQLite warehouse (.data/warehouse.sqlite3). NS_WAREHOUSE_URL is ignored on purpose: the
   demo never writes sandbox data into a configured (production) warehouse.
4. Print per-table row counts, the checks, the ageing summary and where the warehouse is; stop the
   sandbox.
"""
from __future__ import annotations

import os
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
import requests
from sqlalchemy import Engine, func, select

from .sandbox.netsuite.server import SandboxServer

RUN_TAGS = {"ns/trigger": "demo"}
QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def run_demo(data_dir: Path, scale: str | int = "small", seed: int = 42) -> None:
    import dagster as dg

    from .defs.resources import NetSuiteResource, WarehouseResource
    from .dev import ensure_pool_limit, prepare_dagster_home

    from .warehouse import default_warehouse_url

    home = prepare_dagster_home()
    if os.environ.get("NS_WAREHOUSE_URL"):
        click.echo("(NS_WAREHOUSE_URL is ignored: the demo writes only to the default SQLite warehouse)")
    warehouse = WarehouseResource(url=default_warehouse_url())
    click.echo(f"Starting the NetSuite sandbox ({scale} account, seed {seed}, data in {data_dir}) ...")
    from .sandbox.cli import print_progress

    with SandboxServer(data_dir, scale=scale, seed=seed, progress=print_progress) as server:
        os.environ.update(server.environment())
        click.echo(f"Sandbox for account {server.settings.account_id} at {server.base_url}; its NETSUITE_* "
                   "variables are set for this process.")
        engine = warehouse.engine
        synced_before = _synced_record_types(engine)
        if synced_before:
            click.echo(f"The warehouse was synced before ({len(synced_before)} record types have a cursor): "
                       "this run is incremental.")
            changes = _make_changes(server, engine)
            if changes:
                click.echo("Before it, the demo changed the sandbox through its admin API, as a user in the "
                           "NetSuite UI would:")
                for change in changes:
                    click.echo(f"  - {change}")
        else:
            click.echo("First run: every record type is read in full.")

        assets, asset_keys, checks = _everything()
        check_count = sum(len(list(c.check_specs)) for c in checks)
        click.echo(f"Materializing {len(asset_keys)} assets and running {check_count} checks through Dagster "
                   f"(instance in {home}) ...")
        with dg.DagsterInstance.get() as instance:
            ensure_pool_limit(instance)
            started = time.monotonic()
            result = dg.materialize(
                [*assets, *checks],
                resources={"netsuite": NetSuiteResource.from_env_vars(), "warehouse": warehouse},
                instance=instance,
                run_config=QUIET_LOGS,
                tags=RUN_TAGS,
                raise_on_error=False,
            )
            seconds = time.monotonic() - started
        _report(result, asset_keys, engine, warehouse, seconds,
                incremental=bool(synced_before))
        click.echo(f"Dagster run {result.run_id} is stored in {home}: `make dev` opens the UI on it.")
        engine.dispose()
        click.echo("Stopping the sandbox.")
    if not result.success:
        raise click.ClickException("the Dagster run failed (see the steps above)")


def _everything() -> tuple[list[Any], list[str], list[Any]]:
    """The asset definitions to materialize, the asset keys in report order, and the checks."""
    from .defs.ar import AR_ASSETS
    from .defs.ar.checks import CHECKS as AR_CHECKS
    from .defs.netsuite import RAW_ASSETS, netsuite_raw_tables
    from .defs.netsuite.checks import CHECKS as RAW_CHECKS

    keys = [spec.key.to_user_string() for spec, _ in RAW_ASSETS.values()]
    keys += [asset.key.to_user_string() for asset in AR_ASSETS]
    return [netsuite_raw_tables, *AR_ASSETS], keys, [*RAW_CHECKS, *AR_CHECKS]


def _synced_record_types(engine: Engine) -> list[str]:
    from .warehouse import sync_state

    with engine.connect() as conn:
        return list(conn.execute(select(sync_state.c.record_type).order_by(sync_state.c.record_type)).scalars())


# ------------------------------------------------------------------------------------------------
# changes made through the admin API before an incremental run


def _make_changes(server: SandboxServer, engine: Engine) -> list[str]:
    """Edit a customer, invoice it, and record a payment: the three show up in the next sync."""
    from .warehouse import customers, invoices

    c, i = customers.c, invoices.c
    with engine.connect() as conn:
        row = conn.execute(
            select(c.id, c.entity_id, c.currency, i.amount_unpaid)
            .join(invoices, i.customer_id == c.id)
            .where(
                c.is_deleted.is_(False), c.is_intercompany.is_(False), c.is_inactive.is_(False),
                i.is_deleted.is_(False), i.is_voided.is_(False), i.is_intercompany.is_(False),
                i.amount_unpaid > 0, i.currency == c.currency,
            )
            .order_by(func.coalesce(i.due_date, i.tran_date), i.id)
            .limit(1)
        ).first()
    if row is None:
        click.echo("(no open invoice to work with: the demo makes no changes)")
        return []
    admin = requests.Session()
    admin.headers["Authorization"] = f"Bearer {server.credentials.admin_token}"
    stamp = time.strftime("%H%M%S")
    changes: list[str] = []
    try:
        _admin(admin, "PATCH", f"{server.admin_url}/records/customer/{row.id}", {"phone": f"+1 555 01{stamp[-2:]}"})
        changes.append(f"edited customer {row.entity_id} (phone)")
        invoice = _admin(admin, "POST", f"{server.admin_url}/records/invoice", {
            "entity": {"id": str(row.id)}, "memo": f"demo add-on {stamp}",
            "item": {"items": [{"amount": 125.0, "description": "Demo add-on"}]},
        })
        changes.append(f"created invoice {invoice} for {row.entity_id} (125.00 {row.currency})")
        amount = Decimal(row.amount_unpaid)
        payment = _admin(admin, "POST", f"{server.admin_url}/records/customerPayment", {
            "customer": {"id": str(row.id)}, "payment": float(amount), "autoApply": True,
            "memo": f"demo payment {stamp}",
        })
        changes.append(f"recorded payment {payment} from {row.entity_id} ({amount:,.2f} {row.currency}, "
                       "applied to its oldest open invoices)")
    except requests.RequestException as exc:
        click.echo(f"(the admin API refused a demo change: {exc}; continuing with what was changed)")
    finally:
        admin.close()
    return changes


def _admin(session: requests.Session, method: str, url: str, body: dict[str, Any]) -> str:
    response = session.request(method, url, json=body, timeout=30)
    if response.status_code >= 400:
        raise requests.HTTPError(f"{method} {url.split('/v1', 1)[-1]}: {response.status_code} {response.text[:300]}")
    return str(response.json().get("id", ""))


# ------------------------------------------------------------------------------------------------
# report


def _meta_value(metadata: dict[str, Any], key: str, default: Any = None) -> Any:
    value = metadata.get(key)
    return default if value is None else getattr(value, "value", value)


def _report(result: Any, order: list[str], engine: Engine, warehouse: Any, seconds: float, *,
            incremental: bool) -> None:
    from .defs.ar.assets import BUCKETS, bucket_totals

    events = {e.asset_key.to_user_string(): dict(e.materialization.metadata)
              for e in result.get_asset_materialization_events()}
    materialized = {key: events[key] for key in order if key in events}
    click.echo("")
    click.echo(f"{'asset':<30}{'table':<32}{'rows':>9}{'read':>8}{'written':>9}{'deleted':>9}  mode")
    read = written = requests_made = 0
    for key, meta in materialized.items():
        table = _table_name(key)
        rows = _meta_value(meta, "dagster/row_count", 0)
        if key.startswith("netsuite/"):
            r, w = _meta_value(meta, "ns/rows_read", 0), _meta_value(meta, "ns/rows_written", 0)
            d = _meta_value(meta, "ns/rows_soft_deleted", 0)
            read, written = read + r, written + w
            requests_made += _meta_value(meta, "ns/requests", 0)
            click.echo(f"{key:<30}{table:<32}{rows:>9,}{r:>8,}{w:>9,}{d:>9,}  {_meta_value(meta, 'ns/mode', '')}")
        else:
            click.echo(f"{key:<30}{table:<32}{rows:>9,}{'':>8}{'':>9}{'':>9}  rebuilt")
    for event in result.get_step_failure_events():
        error = event.event_specific_data.error
        click.echo(f"FAILED {event.step_key}: {error.message.strip() if error else 'see the run in the UI'}")
    for event in result.get_step_skipped_events():
        click.echo(f"skipped {event.step_key} (an upstream step failed or a blocking check did)")
    click.echo("")
    if incremental:
        click.echo(f"incremental run: {written:,} rows changed since the last sync ({read:,} read, the overlap "
                   f"window included; {requests_made:,} NetSuite requests; {seconds:.1f}s).")
    else:
        click.echo(f"full load: {written:,} rows written from {requests_made:,} NetSuite requests in {seconds:.1f}s.")

    evaluations = result.get_asset_check_evaluations()
    failed = [e for e in evaluations if not e.passed]
    click.echo(f"checks: {len(evaluations) - len(failed)} passed, {len(failed)} failed")
    for e in failed:
        click.echo(f"  {e.severity.value}: {e.asset_check_key.asset_key.to_user_string()}:{e.asset_check_key.name}"
                   f" - {e.description}")

    click.echo("")
    click.echo("Ageing of open receivables (amounts in each currency, by days past due):")
    header = f"{'currency':<10}{'customers':>10}" + "".join(f"{label:>15}" for label, _ in BUCKETS) + f"{'total':>16}"
    click.echo(header)
    for r in bucket_totals(engine):
        click.echo(f"{r['currency']:<10}{r['customers']:>10,}" + "".join(f"{r[col]:>15,.2f}" for _, col in BUCKETS)
                   + f"{r['total']:>16,.2f}")
    click.echo("")
    where = engine.url.database if warehouse.dialect == "sqlite" else warehouse.display_url
    click.echo(f"Warehouse: {where} ({warehouse.dialect}); tables netsuite_* (raw) and ar_* (receivables).")


def _table_name(asset_key: str) -> str:
    """netsuite/invoices -> netsuite_invoices, ar/aging -> ar_aging (the warehouse table)."""
    return asset_key.replace("/", "_", 1)
