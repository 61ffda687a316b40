"""`ns-pipelines webhook-server`: the change-event receiver (ns_pipelines.webhooks.server)."""
from __future__ import annotations

import logging

import click

from ns_pipelines.webhooks.server import ENV, ReceiverSettings


@click.command("webhook-server")
@click.option("--host", envvar=ENV["host"], default="127.0.0.1", show_default=True,
              help=f"Interface to listen on (0.0.0.0 in a container or behind a proxy). [env {ENV['host']}]")
@click.option("--port", envvar=ENV["port"], type=int, default=8787, show_default=True, help=f"[env {ENV['port']}]")
@click.option("--threads", envvar=ENV["threads"], type=int, default=32, show_default=True,
              help="Worker threads: requests handled at once (each waits for its batch's commit; "
                   f"more threads, larger batches). [env {ENV['threads']}]")
@click.option("--max-body-bytes", envvar=ENV["max_body_bytes"], type=int, default=65536, show_default=True,
              help=f"Larger request bodies get 413. [env {ENV['max_body_bytes']}]")
@click.option("--channel-timeout", envvar=ENV["channel_timeout"], type=int, default=30, show_default=True,
              help=f"Seconds before an idle or stalled connection is closed. [env {ENV['channel_timeout']}]")
@click.option("--connection-limit", envvar=ENV["connection_limit"], type=int, default=200, show_default=True,
              help=f"Open connections at once. [env {ENV['connection_limit']}]")
@click.option("--store-timeout", envvar=ENV["store_timeout"], type=float, default=5.0, show_default=True,
              help="Seconds a write waits for a locked warehouse before the events in it get 503. "
                   f"[env {ENV['store_timeout']}]")
@click.option("--trusted-proxy", default=None,
              help="Address of a reverse proxy whose X-Forwarded-* headers to trust (e.g. 127.0.0.1).")
@click.option("--warehouse-url", envvar="NS_WAREHOUSE_URL", default=None,
              help="Warehouse holding the inbox. [env NS_WAREHOUSE_URL; default .data/warehouse.sqlite3]")
def webhook_server_command(host: str, port: int, threads: int, max_body_bytes: int, channel_timeout: int,
                           connection_limit: int, store_timeout: float, trusted_proxy: str | None,
                           warehouse_url: str | None) -> None:
    """Receive NetSuite change events (POST /netsuite/events) into the warehouse inbox.

    The SuiteScript user-event script posts a signed event for every create, edit, inline edit
    and delete; the receiver checks the signature (NETSUITE_WEBHOOK_SECRET, comma-separated
    while rotating) and the timestamp, stores the event once by event id, and answers 202. The
    Dagster sensor netsuite_change_events_sensor turns inbox events into targeted syncs.
    GET /health answers 503 while the warehouse is unreachable. NETSUITE_ACCOUNT_ID, when set,
    refuses events from other accounts.
    """
    from ns_pipelines.webhooks.server import build_app, serve
    from ns_pipelines.webhooks.signature import SecretConfigError

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = ReceiverSettings(host=host, port=port, threads=threads, max_body_bytes=max_body_bytes,
                                    channel_timeout=channel_timeout, connection_limit=connection_limit,
                                    store_timeout=store_timeout, trusted_proxy=trusted_proxy)
        app = build_app(settings, warehouse_url=warehouse_url)
    except (SecretConfigError, ValueError) as exc:
        raise click.UsageError(str(exc)) from None
    serve(app, settings)
