"""Serving the receiver with waitress (a production WSGI server: a fixed pool of worker threads
behind one asyncore loop that buffers each request before a worker sees it).

    settings = ReceiverSettings.from_env()
    serve(build_app(settings), settings)             # blocks; SIGTERM / Ctrl-C stop it gracefully

    with WebhookServer(build_app(settings), ReceiverSettings(port=0)) as server:   # tests, embedding
        requests.post(server.url + "/netsuite/events", ...)

| variable | default | meaning |
|---|---|---|
| NETSUITE_WEBHOOK_SECRET | (required) | shared secret(s), comma-separated while rotating |
| NETSUITE_ACCOUNT_ID | (any) | events from another account are refused (400) |
| NS_WAREHOUSE_URL | sqlite .data/warehouse.sqlite3 | where the inbox table lives |
| NS_WEBHOOK_HOST / NS_WEBHOOK_PORT | 127.0.0.1 / 8787 | where to listen (0.0.0.0 behind a proxy or in a container) |
| NS_WEBHOOK_THREADS | 32 | worker threads: requests handled at once; a waiting request holds one, and all share one writer thread (group commit), so more threads mean larger batches |
| NS_WEBHOOK_MAX_BODY_BYTES | 65536 | larger bodies get 413 |
| NS_WEBHOOK_CHANNEL_TIMEOUT_SECONDS | 30 | idle or stalled connections are closed after this long |
| NS_WEBHOOK_CONNECTION_LIMIT | 200 | open connections at once; more wait in the listen backlog |
| NS_WEBHOOK_STORE_TIMEOUT_SECONDS | 5 | how long a write waits for a locked warehouse before the events get 503 |

Limits: a body up to max_body_bytes gets the app's JSON 413; waitress itself cuts off anything
past 4x that without buffering it (its own 413). Headers are capped at 16 KiB. TLS is a reverse
proxy's job (`trusted_proxy` makes waitress honour its X-Forwarded-* headers).
"""
from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from ns_pipelines.webhooks.app import DEFAULT_MAX_BODY_BYTES, WebhookApp
from ns_pipelines.webhooks.inbox import DEFAULT_STORE_TIMEOUT_S, Inbox
from ns_pipelines.webhooks.payload import expected_account
from ns_pipelines.webhooks.signature import secrets_from_env

log = logging.getLogger("ns_pipelines.webhooks")

MAX_HEADER_BYTES = 16 * 1024
WAITRESS_BODY_FACTOR = 4

ENV = {
    "host": "NS_WEBHOOK_HOST",
    "port": "NS_WEBHOOK_PORT",
    "threads": "NS_WEBHOOK_THREADS",
    "max_body_bytes": "NS_WEBHOOK_MAX_BODY_BYTES",
    "channel_timeout": "NS_WEBHOOK_CHANNEL_TIMEOUT_SECONDS",
    "connection_limit": "NS_WEBHOOK_CONNECTION_LIMIT",
    "store_timeout": "NS_WEBHOOK_STORE_TIMEOUT_SECONDS",
}


@dataclass
class ReceiverSettings:
    host: str = "127.0.0.1"
    port: int = 8787
    threads: int = 32
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    channel_timeout: int = 30
    connection_limit: int = 200
    trusted_proxy: str | None = None  # e.g. "127.0.0.1" or "*" behind a TLS-terminating proxy
    store_timeout: float = DEFAULT_STORE_TIMEOUT_S  # SQLite busy timeout / PostgreSQL lock_timeout of a write

    def __post_init__(self) -> None:
        for name in ("threads", "max_body_bytes", "channel_timeout", "connection_limit"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{ENV[name]} must be a positive integer")
        if not float(self.store_timeout) > 0:
            raise ValueError(f"{ENV['store_timeout']} must be a positive number of seconds")
        if not 0 <= int(self.port) <= 65535:
            raise ValueError(f"{ENV['port']} must be a TCP port (0-65535)")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> "ReceiverSettings":
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            var = ENV.get(f.name)
            raw = (env.get(var) or "").strip() if var else ""
            if raw:
                if f.name == "host":
                    values[f.name] = raw
                elif f.name == "store_timeout":
                    try:
                        values[f.name] = float(raw)
                    except ValueError:
                        raise ValueError(f"{var} must be a number of seconds, got {raw!r}") from None
                else:
                    try:
                        values[f.name] = int(raw)
                    except ValueError:
                        raise ValueError(f"{var} must be an integer, got {raw!r}") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def waitress_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {
            "threads": self.threads,
            "connection_limit": self.connection_limit,
            "channel_timeout": self.channel_timeout,
            "cleanup_interval": max(1, min(30, self.channel_timeout // 2)),
            "max_request_body_size": self.max_body_bytes * WAITRESS_BODY_FACTOR,
            "max_request_header_size": MAX_HEADER_BYTES,
            "asyncore_use_poll": True,  # select() stops at 1024 descriptors
            "ident": "ns-pipelines-webhooks",
            "expose_tracebacks": False,
        }
        if self.trusted_proxy:
            options.update(trusted_proxy=self.trusted_proxy,
                           trusted_proxy_headers={"x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"})
        return options


def build_app(settings: ReceiverSettings, *, warehouse_url: str | None = None,
              environ: Mapping[str, str] | None = None) -> WebhookApp:
    """The app from the environment: secrets (required), account, warehouse (connected lazily:
    the receiver starts, and answers 503, while the database is down)."""
    secrets = secrets_from_env(environ)
    # Only the group-commit writer and /health use connections: a small pool is enough.
    inbox = Inbox(warehouse_url, pool_size=2, store_timeout=settings.store_timeout)
    return WebhookApp(inbox, secrets, account_id=expected_account(environ), max_body_bytes=settings.max_body_bytes)


def _create_server(app: WebhookApp, settings: ReceiverSettings) -> Any:
    from waitress.server import create_server

    return create_server(app, host=settings.host, port=settings.port, **settings.waitress_options())


class WebhookServer:
    """The receiver on a background thread (tests and embedding); port 0 picks a free port."""

    def __init__(self, app: WebhookApp, settings: ReceiverSettings | None = None) -> None:
        self.app = app
        self.settings = settings or ReceiverSettings(port=0)
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            return self.settings.port
        return int(getattr(self._server, "effective_port", self.settings.port))

    @property
    def url(self) -> str:
        host = self.settings.host
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}"

    def start(self) -> "WebhookServer":
        if self._server is None:
            self._server = _create_server(self.app, self.settings)
            self._thread = threading.Thread(target=self._server.run, name=f"webhooks-{self.port}", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        from waitress import wasyncore

        # Close every socket from inside the loop's own thread; the loop ends when its map is empty.
        try:
            server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map, ignore_all=True))  # noqa: SLF001
        except OSError as exc:  # the trigger's pipe is already closed: close the map from here
            log.warning("webhook receiver: its wake-up pipe was already closed (%s); closing its sockets "
                           "from the stopping thread", exc)
            wasyncore.close_all(server._map, ignore_all=True)  # noqa: SLF001
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        server.task_dispatcher.shutdown(cancel_pending=True, timeout=timeout)
        self.app.inbox.close()

    def __enter__(self) -> "WebhookServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(app: WebhookApp, settings: ReceiverSettings) -> None:
    """Serve until SIGTERM or Ctrl-C; in-flight requests get a few seconds to finish."""
    server = _create_server(app, settings)

    def _stop(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt  # waitress's run() turns it into a graceful shutdown

    previous = signal.signal(signal.SIGTERM, _stop)
    port = getattr(server, "effective_port", settings.port)
    log.info("webhook receiver listening on http://%s:%s (POST /netsuite/events, GET /health); "
             "%d threads, max body %d bytes; inbox at %s", settings.host, port, settings.threads,
             settings.max_body_bytes, app.inbox.display_url)
    try:
        server.run()
    finally:
        signal.signal(signal.SIGTERM, previous)
        app.inbox.close()
        log.info("webhook receiver stopped")
