"""`ns-pipelines bench ...`: benchmark commands."""
from __future__ import annotations

import click


@click.group("bench")
def bench_group() -> None:
    """Benchmarks that print measured figures."""


@bench_group.command("sandbox")
@click.option("--transactions", type=int, default=1_000_000, show_default=True,
              help="Size of the seeded account (the seeding time is measured).")
@click.option("--clients", type=int, default=5, show_default=True, help="Concurrent SuiteQL clients.")
@click.option("--max-rows", type=int, default=500_000, show_default=True, help="Rows to read through the API.")
def bench_sandbox(transactions: int, clients: int, max_rows: int) -> None:
    """Seconds to seed an account, and SuiteQL rows/s served at zero latency to concurrent clients."""
    from ..sandbox.cli import print_progress
    from .sandbox import run

    run(transactions, clients, max_rows, click.echo, progress=print_progress)
