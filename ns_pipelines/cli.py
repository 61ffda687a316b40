"""The `ns-pipelines` command line: one group, one subcommand per job a user runs by hand."""
from __future__ import annotations

import json
import shlex
from pathlib import Path

import click

from .bench.cli import bench_group
from .dev import dev_command
from .sandbox.cli import sandbox_command
from .webhooks.cli import webhook_server_command
from .writeback.cli import refund_credit_memo_command, writeback_group


# Commands that call the configured NetSuite account (the demo, dev and sandbox commands talk to
# their own sandboxes and must not record into a configured warehouse).
MONITORED_COMMANDS = {"check-connection", "resync-customer", "writeback", "refund-credit-memo"}


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def main(ctx: click.Context) -> None:
    """ns-pipelines: NetSuite and Stripe accounts-receivable sync for Dagster, with a local sandbox.

    Every command reads the NETSUITE_* environment variables (see `ns-pipelines env`).
    """
    if ctx.invoked_subcommand in MONITORED_COMMANDS:
        from .monitoring.monitor import monitoring_new_clients

        # Their NetSuite calls count in ns_netsuite_api_usage like those of Dagster runs (written to
        # NS_WAREHOUSE_URL's warehouse when it has the table; NS_API_USAGE=off turns it off).
        ctx.with_resource(monitoring_new_clients(f"ns-pipelines {ctx.invoked_subcommand}"))


@main.command("env")
@click.argument("credentials_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def env_command(credentials_file: Path) -> None:
    """Print `export` lines for a credentials file written by `ns-pipelines sandbox --credentials-out`.

    Use it as: eval "$(ns-pipelines env .data/sandbox-credentials.json)"
    """
    for key, value in json.loads(credentials_file.read_text()).items():
        click.echo(f"export {key}={shlex.quote(str(value))}")


@main.command("demo")
@click.option("--data-dir", type=click.Path(path_type=Path), default=Path(".data/demo/sandbox"), show_default=True,
              help="Where the demo sandbox keeps its account (reused on the next run).")
@click.option("--scale", default="small", show_default=True, help="Seeded data: tiny, small, medium, large or a number.")
@click.option("--seed", type=int, default=42, show_default=True)
def demo_command(data_dir: Path, scale: str, seed: int) -> None:
    """The whole mission on the embedded defaults, through Dagster: sync the seeded NetSuite and Stripe
    sandboxes into the SQLite warehouse, reconcile, write back into the sandbox, sync again, summarise.

    A second run changes a few records in the sandboxes first, then syncs incrementally and says so.
    """
    from .demo import run_demo
    from .sandbox.cli import parse_scale

    run_demo(data_dir, parse_scale(scale), seed)


@main.command("check-connection")
def check_connection_command() -> None:
    """Sign one trivial SuiteQL query and read the governance limits: say OK, or exactly what is wrong."""
    from .netsuite.health import check_connection

    report = check_connection()
    for line in report.lines():
        click.echo(line)
    if not report.ok:
        raise SystemExit(1)


@main.command("resync-customer")
@click.argument("customer_ids", nargs=-1, required=True, type=click.IntRange(min=1))
def resync_customer_command(customer_ids: tuple[int, ...]) -> None:
    """Re-read customers (NetSuite internal ids) with all their transactions and applications now,
    overwriting their warehouse rows, then rebuild the receivables tables.

    The same resync as the Dagster job netsuite_customer_resync_job; reads the NETSUITE_* variables and
    NS_WAREHOUSE_URL. Exits 1 on any failure, saying what failed.
    """
    import datetime as dt

    from .ar import rebuild_all
    from .netsuite import NetSuiteClient, NetSuiteConfig
    from .sync import SyncSettings
    from .sync.customer_resync import resync_customers
    from .warehouse import create_warehouse_engine, upgrade_warehouse

    try:
        settings = SyncSettings.from_env()
        engine = create_warehouse_engine(settings.warehouse_url)
        upgrade_warehouse(engine)
        with NetSuiteClient(NetSuiteConfig.from_env()) as client:
            result = resync_customers(client, engine, customer_ids, settings=settings, report=click.echo)
        as_of = dt.datetime.now(settings.zone).date()
        rebuilt = rebuild_all(engine, as_of=as_of, settings=settings)
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - every failure ends the command with its message and exit 1
        click.echo(f"resync-customer failed: {type(exc).__name__}: {exc}", err=True)
        raise SystemExit(1) from None
    click.echo("receivables rebuilt as of " + as_of.isoformat() + ": "
               + ", ".join(f"{table} {rows:,} rows" for table, rows in rebuilt.items()))
    click.echo(f"done: {len(result.customer_ids)} customer(s), {result.rows_written:,} rows written in "
               f"{result.seconds:.1f}s")


main.add_command(sandbox_command)
main.add_command(bench_group)
main.add_command(dev_command)
main.add_command(webhook_server_command)
main.add_command(writeback_group)
main.add_command(refund_credit_memo_command)

if __name__ == "__main__":
    main()
