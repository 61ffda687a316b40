"""`ns-pipelines bench ...`: benchmark commands."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

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


def _postgres_url_option(used_for: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--postgres-url: default $NS_BENCH_POSTGRES_URL, else $NS_TEST_POSTGRES_URL; unset: SQLite only."""
    return click.option("--postgres-url", envvar=["NS_BENCH_POSTGRES_URL", "NS_TEST_POSTGRES_URL"], default=None,
                        help=f"{used_for} (a new schema per run, dropped afterwards); default $NS_BENCH_POSTGRES_URL, "
                             "else $NS_TEST_POSTGRES_URL; unset: SQLite only.")


def _sizes(ctx: click.Context, param: click.Parameter, value: str) -> tuple[int, ...]:
    try:
        return tuple(int(part.replace("_", "")) for part in value.split(",") if part.strip())
    except ValueError:
        raise click.BadParameter(f"expected a comma list of numbers of transactions, got {value!r}") from None


@bench_group.command("sync")
@click.option("--transactions", type=int, default=200_000, show_default=True,
              help="Account size of figures 1 and 2 (full sync at the latency; overhead at zero latency).")
@click.option("--latency-ms", type=float, default=200.0, show_default=True,
              help="Sandbox latency per request (figure 1).")
@click.option("--latency-mode", type=click.Choice(["response", "added"]), default="response", show_default=True,
              help="response: the sandbox's own work counts toward the latency, as a real server's does; added: "
                   "the latency is slept after the sandbox's work (a stricter figure 1).")
@click.option("--concurrency", type=int, default=5, show_default=True,
              help="Account concurrency limit and the client's budget (NETSUITE_CONCURRENCY).")
@click.option("--runs", type=click.IntRange(min=1), default=3, show_default=True,
              help="Full syncs of figure 1, one after the other on the same sandbox; each is printed, and the "
                   "median is the figure (on a shared machine one run varies by a few percent).")
@click.option("--incremental-sizes", default="10000,1000000", show_default=True, callback=_sizes,
              help="Account sizes of figure 3 (incremental sync after the changes).")
@click.option("--memory-sizes", default="100000,1000000", show_default=True, callback=_sizes,
              help="Account sizes of figure 4 (peak RSS of a full sync).")
@click.option("--changes", type=int, default=100, show_default=True, help="Changes before each incremental sync.")
@click.option("--incremental-latency-ms", type=float, default=200.0, show_default=True,
              help="Latency of a second incremental run after another batch of changes (0: skip it).")
@click.option("--cache-dir", type=click.Path(path_type=Path), default=Path(".data/bench"), show_default=True,
              help="Seeded accounts are kept here and reused (seeding 1M transactions takes minutes).")
@_postgres_url_option("PostgreSQL server for figure 2")
@click.option("--quick", is_flag=True,
              help="Small sizes unless given: --transactions 5000 --incremental-sizes 1000,20000 "
                   "--memory-sizes 2000,20000.")
@click.pass_context
def bench_sync(ctx: click.Context, quick: bool, cache_dir: Path, **values: object) -> None:
    """Rows/s of a full sync against the API bound, the pipeline's overhead at zero latency
    (SQLite, PostgreSQL), incremental cost on small and large accounts, and peak memory."""
    from ..sandbox.cli import print_progress
    from .sync import QUICK, SyncBenchOptions, run

    if quick:
        for name, small in QUICK.items():
            if ctx.get_parameter_source(name) is click.core.ParameterSource.DEFAULT:
                values[name] = small
    options = SyncBenchOptions(cache_dir=cache_dir, **values)  # type: ignore[arg-type]
    run(options, click.echo, seed_progress=print_progress)


@bench_group.command("webhooks")
@click.option("--events", type=int, default=20_000, show_default=True, help="Distinct events per run.")
@click.option("--processes", type=int, default=2, show_default=True, help="Sender processes.")
@click.option("--concurrency", type=int, default=32, show_default=True,
              help="Requests in flight at once over all senders (keep-alive connections).")
@click.option("--duplicate-every", type=int, default=10, show_default=True,
              help="Every n-th event is also sent a second time, concurrently (0: none).")
@click.option("--receiver-threads", type=int, default=32, show_default=True, help="The receiver's worker threads.")
@click.option("--store-timeout", type=float, default=1.0, show_default=True,
              help="The receiver's NS_WEBHOOK_STORE_TIMEOUT_SECONDS (how long a write waits on a locked warehouse).")
@click.option("--outage-seconds", type=float, default=3.0, show_default=True,
              help="Warehouse unavailable this long during the outage runs (0: no outage runs).")
@click.option("--outage-after", type=float, default=1.0, show_default=True,
              help="Seconds into the load when the outage starts (0: before the first request).")
@_postgres_url_option("PostgreSQL server")
@click.option("--sqlite/--no-sqlite", default=True, show_default=True, help="Run against a SQLite warehouse too.")
def bench_webhooks(**values: object) -> None:
    """Events/s the webhook receiver accepts with none lost or duplicated (SQLite, PostgreSQL), and
    its answers while the warehouse is briefly unavailable."""
    from .webhooks import WebhookBenchOptions, run

    try:
        run(WebhookBenchOptions(**values), click.echo)  # type: ignore[arg-type]
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


@bench_group.command("latency")
@click.option("--changes", type=int, default=50, show_default=True, help="Changes made through the sandbox admin API.")
@click.option("--spacing", type=float, default=1.0, show_default=True, help="Seconds between two changes.")
@click.option("--sensor-interval", type=int, default=5, show_default=True,
              help="NS_WEBHOOK_SENSOR_INTERVAL_SECONDS (the daemon evaluates sensors every 5 s at best).")
@click.option("--dequeue-interval", type=int, default=1, show_default=True,
              help="The run queue's dequeue_interval_seconds in the bench's Dagster instance.")
@click.option("--timeout", type=float, default=180.0, show_default=True,
              help="A change not in the warehouse this long after the last one counts as missing.")
@click.option("--keep", is_flag=True, help="Keep the bench's folder (logs, DAGSTER_HOME, warehouse) afterwards.")
def bench_latency(**values: object) -> None:
    """Seconds from a record saved in the sandbox to its row in the warehouse, through the receiver,
    the inbox and the Dagster daemon's sensor and runs (median, 95th percentile)."""
    from .latency import LatencyBenchOptions, run

    try:
        run(LatencyBenchOptions(**values), click.echo)  # type: ignore[arg-type]
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
