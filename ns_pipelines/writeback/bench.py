"""Benchmark: writes per second the apply sustains within the NetSuite concurrency budget.

    python -m ns_pipelines.writeback.bench [--writes 200] [--latency-ms 200] [--concurrency 5]

Seeds a tiny sandbox (its account limit = the budget, every request held `latency-ms`), creates
one open invoice per write (in the sandbox, as UI users), plans one customer payment per invoice
and applies the plan into a temporary SQLite warehouse through the project's client. Each write
is one PUT, so the bound is budget / latency (5 / 0.2 s = 25 writes/s); it prints the rate and
its ratio to the bound. No test asserts a timing.
"""
from __future__ import annotations

import datetime as dt
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import click

from ns_pipelines.netsuite import NetSuiteClient, NetSuiteConfig, RecordService
from ns_pipelines.sandbox.netsuite.server import SandboxServer
from ns_pipelines.sandbox.netsuite.settings import SandboxSettings
from ns_pipelines.warehouse import create_warehouse_engine, upgrade_warehouse

from .apply import Applier
from .model import Application, PaymentAction
from .plan_store import pending_writes, save_plan
from .planner import plan_writes
from .references import load_references
from .settings import WritebackSettings

CUSTOMER = 101  # a US customer of the seeded tiny account (USD)


def _actions(server: SandboxServer, writes: int) -> list[PaymentAction]:
    actions = []
    for n in range(writes):
        amount = Decimal(100 + n % 50) + Decimal("0.25")
        invoice = server.account.records.create(
            "invoice", {"entity": {"id": str(CUSTOMER)}, "item": {"items": [{"amount": str(amount)}]}}, context="UI")
        charge = f"ch_bench{n:06d}"
        actions.append(PaymentAction(
            external_id=f"stripe:{charge}", action="create_payment", state="planned", stripe_object_id=charge,
            charge_id=charge, payment_external_id=f"stripe:{charge}", netsuite_customer_id=CUSTOMER, currency="USD",
            amount=amount, applications=(Application(invoice, amount),), memo=f"Stripe {charge}",
            tran_date=dt.date.today(), reason="benchmark"))
    return actions


def run(writes: int, latency_ms: float, concurrency: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = SandboxSettings(concurrency_limit=concurrency, latency_ms=0.0)
        with SandboxServer(Path(tmp) / "sandbox", settings, scale="tiny", seed=42) as server:
            actions = _actions(server, writes)
            engine = create_warehouse_engine(f"sqlite:///{Path(tmp) / 'warehouse.sqlite3'}")
            upgrade_warehouse(engine)
            config = NetSuiteConfig.from_env(server.environment(), concurrency=concurrency)
            with NetSuiteClient(config) as client:
                wb = WritebackSettings(enabled=True)
                save_plan(engine, plan_writes(actions, [], load_references(client, wb), wb))
                server.settings.latency_ms = latency_ms
                started = time.monotonic()
                report = Applier(RecordService(client), engine).apply(pending_writes(engine))
                seconds = time.monotonic() - started
                peak = server.account.stats()["peak_concurrency"]
            engine.dispose()
    if report.written != writes or report.refused or report.failed:
        raise SystemExit(f"benchmark writes did not all succeed: {report}")
    bound = concurrency / (latency_ms / 1000.0) if latency_ms > 0 else float("inf")
    rate = writes / seconds
    return {"writes": writes, "seconds": seconds, "rate": rate, "bound": bound,
            "ratio": rate / bound if bound != float("inf") else 0.0, "peak": peak}


@click.command()
@click.option("--writes", default=200, show_default=True, help="Customer payments to write.")
@click.option("--latency-ms", default=200.0, show_default=True, help="Sandbox latency per request.")
@click.option("--concurrency", default=5, show_default=True, help="Budget = the sandbox account's limit.")
def main(writes: int, latency_ms: float, concurrency: int) -> None:
    """Measure the writeback apply's writes per second against its bound."""
    r = run(writes, latency_ms, concurrency)
    click.echo(f"writeback apply: {r['writes']:.0f} upserts in {r['seconds']:.2f} s = {r['rate']:.1f} writes/s; "
               f"bound {concurrency} in flight / {latency_ms / 1000:.3f} s = {r['bound']:.1f} writes/s; "
               f"ratio {r['ratio']:.2f}; peak concurrency seen by the sandbox {r['peak']:.0f}")


if __name__ == "__main__":
    main()
