"""`ns-pipelines sandbox`: serve the local NetSuite account until stopped."""
from __future__ import annotations

import signal
import sys
import threading
import time
from pathlib import Path

import click

from .netsuite.settings import LATENCY_MODES, FaultSettings, SandboxSettings


def parse_scale(value: str) -> str | int:
    """`tiny`, `small`, `medium`, `large`, or a number of transactions (underscores allowed)."""
    from .netsuite.seed import SCALES

    if value in SCALES:
        return value
    try:
        count = int(value.replace("_", ""))
    except ValueError:
        raise click.BadParameter(f"expected one of {', '.join(SCALES)} or a number of transactions, got {value!r}")
    if count < 1:
        raise click.BadParameter("the number of transactions must be positive")
    return count


class SeedProgress:
    """Seeding progress on stderr: a live bar on a terminal, one line per stage elsewhere (CI logs)."""

    def __init__(self, interval_s: float = 0.25) -> None:
        self.interval_s = interval_s
        self._last = 0.0
        self._stage: str | None = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        finished = total > 0 and done >= total
        if not sys.stderr.isatty():
            if finished and stage != self._stage:
                click.echo(f"  seeded {stage}: {done:,}", err=True)
                self._stage = stage
            return
        now = time.monotonic()
        if not finished and now - self._last < self.interval_s:
            return
        self._last = now
        width = 30
        filled = min(width, int(width * done / total)) if total else width
        click.echo(f"\r  seeding {stage:<14} [{'#' * filled}{'.' * (width - filled)}] {done:>9,}", nl=False, err=True)
        if finished:
            click.echo("", err=True)


def print_progress(stage: str, done: int, total: int) -> None:
    _PROGRESS(stage, done, total)


_PROGRESS = SeedProgress()


@click.command("sandbox")
@click.option("--port", type=int, default=8600, show_default=True, help="Loopback port to listen on (0 picks a free one).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind; keep it on loopback.")
@click.option("--scale", default="small", show_default=True,
              help="Seeded data: tiny, small, medium, large, or a number of transactions.")
@click.option("--seed", type=int, default=42, show_default=True, help="Random seed; the same seed gives the same account.")
@click.option("--data-dir", type=click.Path(path_type=Path), default=Path(".data/sandbox"), show_default=True,
              help="Where the account's SQLite ground truth lives (netsuite.sqlite3). Reused when it exists.")
@click.option("--credentials-out", type=click.Path(path_type=Path), default=None,
              help="Write the connection as JSON: the NETSUITE_* environment variables and the admin API's URL and token.")
@click.option("--account-id", default="1234567_SB1", show_default=True, help="Account id (realm form).")
@click.option("--concurrency-limit", type=int, default=5, show_default=True, help="Account concurrency limit.")
@click.option("--over-limit", type=click.Choice(["429", "401"]), default="429", show_default=True,
              help="How an over-limit request is answered: 429 CONCURRENCY_LIMIT_EXCEEDED or a slow 401.")
@click.option("--latency-ms", type=float, default=0.0, show_default=True,
              help="Every API request's response time (see --latency-mode).")
@click.option("--latency-mode", type=click.Choice(LATENCY_MODES), default="response", show_default=True,
              help="response: the sandbox's own work counts toward the latency, as a real server's does; "
                   "added: the latency is slept after the work.")
@click.option("--latency-per-row-ms", type=float, default=0.0, show_default=True, help="Added per row or record returned.")
@click.option("--timezone", default="America/Los_Angeles", show_default=True, help="Account time zone.")
@click.option("--date-format", default="M/D/YYYY", show_default=True,
              help="The user's date preference for raw SuiteQL dates (M/D/YYYY, D/M/YYYY, YYYY-MM-DD, DD.MM.YYYY ...).")
@click.option("--notify-url", default=None, help="POST signed change events (the SuiteScript's contract) to this URL.")
@click.option("--notify-secret", default="sandbox-webhook-secret", show_default=True, help="Secret that signs change events.")
@click.option("--fault-5xx-rate", type=float, default=0.0, help="Share of API requests answered with a 5xx.")
@click.option("--fault-drop-rate", type=float, default=0.0, help="Share of API requests whose connection is dropped.")
@click.option("--fault-429-rate", type=float, default=0.0, help="Share of API requests answered 429 under the limit.")
@click.option("--stripe-port", type=int, default=None,
              help="Loopback port of the Stripe sandbox served alongside; default --port + 1 (a free one when --port is 0).")
@click.option("--stripe/--no-stripe", "with_stripe", default=True, show_default=True,
              help="Also serve the Stripe sandbox, seeded from this NetSuite account (DATA_DIR/stripe.sqlite3).")
@click.option("--stripe-webhook-url", default=None, help="POST the Stripe sandbox's signed events to this URL.")
@click.option("--integration-start-days", type=int, default=21, show_default=True,
              help="Stripe seed: the integration started this many days before the NetSuite seed's today.")
def sandbox_command(port: int, host: str, scale: str, seed: int, data_dir: Path, credentials_out: Path | None,
                    account_id: str, concurrency_limit: int, over_limit: str, latency_ms: float, latency_mode: str,
                    latency_per_row_ms: float, timezone: str, date_format: str, notify_url: str | None,
                    notify_secret: str, fault_5xx_rate: float, fault_drop_rate: float, fault_429_rate: float,
                    stripe_port: int | None, with_stripe: bool, stripe_webhook_url: str | None,
                    integration_start_days: int) -> None:
    """Serve a local NetSuite account (REST, SuiteQL, token auth, limits) with seeded data until stopped.

    Point the project, or any other NetSuite client, at it by exporting the variables of the
    credentials file. Its data stays in DATA_DIR/netsuite.sqlite3, tables named as in SuiteQL.
    """
    from .netsuite.server import SandboxServer

    settings = SandboxSettings(
        account_id=account_id, date_format=date_format, timezone=timezone,
        concurrency_limit=concurrency_limit, over_limit_mode=over_limit, latency_ms=latency_ms,
        latency_mode=latency_mode, latency_per_row_ms=latency_per_row_ms, notify_url=notify_url, notify_secret=notify_secret,
        faults=FaultSettings(server_error_rate=fault_5xx_rate, drop_connection_rate=fault_drop_rate,
                             rate_limit_storm_rate=fault_429_rate),
    )
    server = SandboxServer(data_dir, settings, host=host, port=port, scale=parse_scale(scale), seed=seed,
                           progress=print_progress)
    server.start()
    stripe_server = None
    if with_stripe:
        from .stripe.server import StripeSandboxServer

        if stripe_port is None:
            stripe_port = port + 1 if port else 0
        try:
            stripe_server = StripeSandboxServer(data_dir, netsuite=server, host=host, port=stripe_port, seed=seed,
                                                integration_start_days=integration_start_days,
                                                webhook_url=stripe_webhook_url).start()
        except BaseException:
            server.stop()
            raise
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        if credentials_out:
            from .netsuite.credentials import write_json_0600

            write_json_0600(credentials_out, {**server.environment(),
                                              **(stripe_server.environment() if stripe_server else {})})
            click.echo(f"credentials written to {credentials_out} (export them: "
                       f"eval \"$(ns-pipelines env {credentials_out})\")")
        click.echo(f"NetSuite sandbox for account {account_id} at {server.base_url}/services/rest "
                   f"(admin API {server.admin_url}); data in {data_dir}. Ctrl-C stops it.")
        if stripe_server is not None:
            click.echo(f"Stripe sandbox at {stripe_server.base_url}/v1 (admin API {stripe_server.admin_url}).")
        stop.wait()
    finally:
        if stripe_server is not None:
            stripe_server.stop()
        server.stop()
        click.echo("sandbox stopped")
