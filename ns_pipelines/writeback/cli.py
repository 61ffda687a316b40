"""`ns-pipelines writeback plan|apply` and `ns-pipelines refund-credit-memo ID`."""
from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from ns_pipelines.netsuite import NetSuiteClient


def _engine_and_client() -> "tuple[Engine, NetSuiteClient]":
    from ns_pipelines.netsuite import NetSuiteClient, NetSuiteConfig
    from ns_pipelines.warehouse import create_warehouse_engine, upgrade_warehouse

    engine = create_warehouse_engine(None)
    upgrade_warehouse(engine)
    return engine, NetSuiteClient(NetSuiteConfig.from_env())


@click.group("writeback")
def writeback_group() -> None:
    """Plan (and, when switched on, make) the NetSuite writes the reconciliation calls for."""


@writeback_group.command("plan")
def plan_command() -> None:
    """Rebuild writeback_plan from the reconciliation tables and print it; nothing is written to NetSuite."""
    from .run import plan
    from .settings import WritebackSettings

    engine, client = _engine_and_client()
    with client:
        writes, summary = plan(engine, client, WritebackSettings.from_env())
    for w in writes:
        state = f"blocked: {w.blocked}" if w.blocked else "planned"
        click.echo(f"{w.external_id:<40} {w.action:<16} {w.record_type:<16} {state}  ({w.reason})")
    click.echo(f"{len(writes)} writes: {summary.planned} to write, {summary.unchanged_done} already done, "
               f"{summary.refused} blocked, {summary.superseded} superseded")


@writeback_group.command("apply")
@click.option("--enable", is_flag=True, help="Write even when NS_WRITEBACK_ENABLED is not true.")
def apply_command(enable: bool) -> None:
    """Plan, then write the pending plan rows to NetSuite (only when writing is switched on)."""
    from .run import apply, plan
    from .settings import WritebackSettings
    from .stripe_links import linker_from_env

    settings = WritebackSettings.from_env()
    engine, client = _engine_and_client()
    with client:
        writes, summary = plan(engine, client, settings)
        click.echo(f"planned {len(writes)} writes ({summary.planned} to write)")
        if not (enable or settings.enabled):
            click.echo("writing is off (set NS_WRITEBACK_ENABLED=true or pass --enable): plan only")
            return
        report = apply(engine, client, run_id=f"cli-{uuid.uuid4().hex[:12]}", linker=linker_from_env())
    for external_id, action, text in report.problems:
        click.echo(f"  {external_id} ({action}): {text}", err=True)
    click.echo(f"written {report.written}, refused {report.refused}, failed {report.failed}, skipped "
               f"{report.skipped}, blocked {report.blocked}; Stripe links {report.stripe_linked} "
               f"({report.stripe_failed} failed) in {report.seconds:.2f}s")
    if report.failed:
        raise SystemExit(1)


@click.command("refund-credit-memo")
@click.argument("credit_memo_id", type=int)
@click.option("--invoice-id", type=int, default=None,
              help="The invoice the credit memo is for, when it is not applied to exactly one invoice.")
def refund_credit_memo_command(credit_memo_id: int, invoice_id: int | None) -> None:
    """Refund a NetSuite credit memo through Stripe: the Stripe refund on the charge that paid its invoice
    and a NetSuite Customer Refund applied to the credit memo, each side's id on the other."""
    from ns_pipelines.stripe.config import StripeConfig

    from .credit_memo_refund import CreditMemoRefundError, refund_credit_memo
    from .stripe_links import stripe_client

    engine, client = _engine_and_client()
    try:
        with client:
            result = refund_credit_memo(client, engine, stripe_client(StripeConfig.from_env()), credit_memo_id,
                                        invoice_id=invoice_id, run_id=f"cli-{uuid.uuid4().hex[:12]}")
    except CreditMemoRefundError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"credit memo {result.credit_memo_id} (invoice {result.invoice_id}): Stripe refund "
               f"{result.stripe_refund_id} of {result.amount} {result.currency} on {result.charge_id}"
               f"{' (already made, reused)' if result.reused_stripe_refund else ''}; NetSuite customer refund "
               f"{result.netsuite_refund_id}")
