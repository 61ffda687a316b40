"""Benchmark: reconcile N synthetic charges against open invoices in a temporary SQLite warehouse.

    python -m ns_pipelines.reconciliation.bench                # 10,000 and 100,000 charges
    python -m ns_pipelines.reconciliation.bench --sizes 1000 --sizes 5000

Per size: one customer per five charges, six open invoices per customer (one in another currency);
charges name their invoice by id (1 in 5), by number in the description (1 in 5), or leave it to
oldest-first allocation; every 50th charge's payment already exists in NetSuite; one payout per
100 charges carries their balance transactions. Only `reconcile()` is timed (loading the inputs,
matching, writing the three tables); generating the inputs is not.
"""
from __future__ import annotations

import datetime as dt
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
from sqlalchemy import Engine, insert

from ns_pipelines.reconciliation.run import ReconResult, load, reconcile_inputs, write_results
from ns_pipelines.reconciliation.settings import ReconSettings
from ns_pipelines.warehouse import begin_write, create_warehouse_engine, upgrade_warehouse
from ns_pipelines.warehouse.tables import netsuite as ns
from ns_pipelines.warehouse.tables import stripe as st

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 1, 1, tzinfo=UTC)
CHARGES_PER_CUSTOMER = 5
INVOICES_PER_CUSTOMER = 6
CHARGES_PER_PAYOUT = 100
BATCH = 10_000


def _write(engine: Engine, table: Any, rows: list[dict[str, Any]]) -> None:
    with begin_write(engine) as conn:
        for start in range(0, len(rows), BATCH):
            conn.execute(insert(table), rows[start:start + BATCH])


def generate(engine: Engine, charges: int) -> None:
    """Synthetic Stripe and NetSuite rows for `charges` charges (all rows of a table share keys)."""
    customers = max(1, charges // CHARGES_PER_CUSTOMER)
    stamp = {"last_modified": T0, "synced_at": T0}
    _write(engine, ns.customers, [{"id": c, "entity_id": f"C{c}", "currency": "USD", "external_id": None,
                                   "is_intercompany": False, **stamp} for c in range(1, customers + 1)])
    invoices = []
    for c in range(1, customers + 1):
        for k in range(INVOICES_PER_CUSTOMER):
            invoice_id = c * 10 + k
            invoices.append({
                "id": invoice_id, "tran_id": f"INV{invoice_id:07d}", "customer_id": c,
                "currency": "EUR" if k == 5 else "USD", "status": "A", "tran_date": dt.date(2026, 1, 1),
                "due_date": dt.date(2026, 1, 1) + dt.timedelta(days=(k * 7 + c) % 60),
                "total": Decimal("120.00"), "amount_unpaid": Decimal("120.00"), "is_intercompany": False,
                "is_voided": False, "is_deleted": False, **stamp})
    _write(engine, ns.invoices, invoices)
    rows, bts, payments, payouts = [], [], [], []
    for n in range(charges):
        customer_id = n // CHARGES_PER_CUSTOMER + 1 if n // CHARGES_PER_CUSTOMER < customers else customers
        charge_id, payout_id = f"ch_{n:08d}", f"po_{n // CHARGES_PER_PAYOUT:06d}"
        amount = 5_000 + (n * 37) % 10_000
        named = customer_id * 10 + n % 5
        rows.append({
            "id": charge_id, "payment_intent": f"pi_{n:08d}", "customer": None, "amount": amount, "currency": "usd",
            "status": "succeeded", "paid": True, "captured": True, "balance_transaction": f"txn_{n:08d}",
            "netsuite_customer_id": customer_id,
            "netsuite_invoice_ids": str(named) if n % 5 == 1 else None,
            "description": f"Payment for INV{named:07d}" if n % 5 == 2 else None,
            "created": T0 + dt.timedelta(seconds=n), "synced_at": T0})
        bts.append({"id": f"txn_{n:08d}", "amount": amount, "fee": 30, "net": amount - 30, "currency": "usd",
                    "type": "charge", "reporting_category": "charge", "source": charge_id, "payout": payout_id,
                    "created": T0, "synced_at": T0})
        if n % 50 == 0:
            payments.append({"id": 10_000_000 + n, "external_id": f"stripe:{charge_id}", "customer_id": customer_id,
                             "currency": "USD", "total": Decimal(amount) / 100, "amount_unused": Decimal(0),
                             "status": "B", "is_deleted": False, **stamp})
    for start in range(0, charges, CHARGES_PER_PAYOUT):
        chunk = bts[start:start + CHARGES_PER_PAYOUT]
        payouts.append({"id": chunk[0]["payout"], "amount": sum(b["net"] for b in chunk), "currency": "usd",
                        "status": "paid", "automatic": True, "reconciliation_status": "completed",
                        "arrival_date": T0, "created": T0, "synced_at": T0})
    _write(engine, st.charges, rows)
    _write(engine, st.balance_transactions, bts)
    _write(engine, st.payouts, payouts)
    _write(engine, ns.customer_payments, payments)


def run_size(charges: int, directory: Path) -> tuple[dict[str, float], ReconResult]:
    """Wall seconds of each phase of reconcile() (load, match, write) and in all, plus CPU seconds."""
    engine = create_warehouse_engine(f"sqlite:///{directory / f'bench_{charges}.sqlite3'}")
    try:
        upgrade_warehouse(engine)
        generate(engine, charges)
        settings = ReconSettings(timezone="UTC", fee_account_id=601, adjustment_account_id=602)
        cpu, started = time.process_time(), time.perf_counter()
        inputs = load(engine, settings)
        loaded = time.perf_counter()
        result = reconcile_inputs(inputs, settings)
        matched = time.perf_counter()
        write_results(engine, result)
        done = time.perf_counter()
        return {"load": loaded - started, "match": matched - loaded, "write": done - matched,
                "total": done - started, "cpu": time.process_time() - cpu}, result
    finally:
        engine.dispose()


@click.command()
@click.option("--sizes", multiple=True, type=int, default=(10_000, 100_000), show_default=True,
              help="Numbers of charges to reconcile (repeat the option).")
def main(sizes: tuple[int, ...]) -> None:
    """Seconds to reconcile each number of synthetic charges, and the ratio between the sizes."""
    timings: list[tuple[int, float]] = []
    cpu: list[float] = []
    with tempfile.TemporaryDirectory(prefix="ns-recon-bench-") as tmp:
        for size in sizes:
            phases, result = run_size(size, Path(tmp))
            seconds = phases["total"]
            timings.append((size, seconds))
            cpu.append(phases["cpu"])
            click.echo(f"{size:>9,} charges: {seconds:8.2f} s  ({size / seconds:,.0f} charges/s; load "
                       f"{phases['load']:.2f} s, match {phases['match']:.2f} s, write {phases['write']:.2f} s; "
                       f"CPU {phases['cpu']:.2f} s; {len(result.payment_matches):,} payment rows, "
                       f"{len(result.payout_matches):,} payouts, {len(result.exceptions):,} exceptions)")
    if len(timings) >= 2:
        (small, t_small), (large, t_large) = timings[0], timings[-1]
        click.echo(f"ratio: {t_large / t_small:.2f}x the time for {large / small:.0f}x the charges "
                   f"(linear would be {large / small:.0f}x); CPU time ratio {cpu[-1] / cpu[0]:.2f}x "
                   "(wall time includes waiting for other processes on a shared machine)")


if __name__ == "__main__":
    main()
