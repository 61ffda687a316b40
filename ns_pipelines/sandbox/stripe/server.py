"""The Stripe sandbox account (its parts wired together) and its threaded HTTP server on loopback.

    with SandboxServer(tmp / "ns", scale="tiny") as netsuite, \\
            StripeSandboxServer(tmp / "stripe", netsuite=netsuite, seed=42) as stripe_sandbox:
        client = stripe.StripeClient(stripe_sandbox.api_key, base_addresses={"api": stripe_sandbox.base_url})
        client.v1.charges.list({"limit": 100})

An empty data directory is seeded from the NetSuite sandbox's store (read-only); a directory
that holds an account already is served as it is (a restart keeps the data, the keys and the
webhook URL).
"""
from __future__ import annotations

import json
import secrets
import threading
import time
from pathlib import Path
from typing import Any

from ..netsuite.credentials import write_json_0600
from ..http import LoopbackServer, SandboxHttpServer
from .clock import Clock
from .events import EventLog
from .ids import IdFactory
from .ledger import Ledger
from .settings import StripeSandboxSettings
from .store import StripeStore

CREDENTIALS_KEY = "credentials"
CATALOGUE_KEY = "seed_catalogue"
WEBHOOK_URL_KEY = "webhook_url"


class StripeSandbox:
    """One Stripe account: store, clock, ledger, events, keys, and the seed's scenario catalogue."""

    def __init__(self, data_dir: Path | str, netsuite: Any = None, settings: StripeSandboxSettings | None = None,
                 *, seed: int = 42, integration_start_days: int | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.settings = settings or StripeSandboxSettings()
        self.netsuite = netsuite
        self.seed = seed
        self.integration_start_days = integration_start_days
        self.store = StripeStore(self.data_dir)
        self.clock = Clock(self.store)
        self.ids = IdFactory()
        self._load_credentials()
        if self.settings.webhook_url is None:
            self.settings.webhook_url = self.store.get_meta(WEBHOOK_URL_KEY) or None
        else:
            self.store.set_meta(WEBHOOK_URL_KEY, self.settings.webhook_url)
        self.events = EventLog(self.store, self.settings, self.clock.now, lambda: self.webhook_secret)
        self.ledger = Ledger(self.store, self.clock, self.events)
        self._reset_lock = threading.Lock()

    def _load_credentials(self) -> None:
        raw = self.store.get_meta(CREDENTIALS_KEY)
        data = json.loads(raw) if raw else {
            "api_key": self.ids.secret("sk_test_51Sbx", 40), "webhook_secret": self.ids.secret("whsec_", 32),
            "admin_token": "sbx_stripe_admin_" + secrets.token_urlsafe(24)}
        if raw is None:
            self.store.set_meta(CREDENTIALS_KEY, json.dumps(data))
        self.api_key: str = data["api_key"]
        self.webhook_secret: str = data["webhook_secret"]
        self.admin_token: str = data["admin_token"]

    # ------------------------------------------------------------------ data
    def is_empty(self) -> bool:
        return self.store.connect().execute("SELECT NOT EXISTS(SELECT 1 FROM stripe_object)").fetchone()[0] == 1

    def ensure_seeded(self) -> dict[str, Any] | None:
        """Seed an empty account from the NetSuite sandbox; None when there is data already or no NetSuite."""
        if not self.is_empty() or self.netsuite is None:
            return None
        return self._seed()

    def _seed(self) -> dict[str, Any]:
        from .seed import DEFAULT_INTEGRATION_START_DAYS, seed_stripe

        days = self.integration_start_days if self.integration_start_days is not None else DEFAULT_INTEGRATION_START_DAYS
        webhook_url = self.settings.webhook_url
        self.settings.webhook_url = None  # history is not delivered: no endpoint existed back then
        try:
            catalogue = seed_stripe(self, self.netsuite, seed=self.seed, integration_start_days=days)
        finally:
            self.settings.webhook_url = webhook_url
        catalogue["seed"] = self.seed
        self.store.set_meta(CATALOGUE_KEY, json.dumps(catalogue))
        return catalogue

    def catalogue(self) -> dict[str, Any]:
        raw = self.store.get_meta(CATALOGUE_KEY)
        return json.loads(raw) if raw else {"scenarios": {}, "details": {}, "customers": {}}

    def scenarios(self) -> dict[str, list[str]]:
        """Scenario name -> ids of the seeded objects that show it (docs/stripe-sandbox.md)."""
        return self.catalogue()["scenarios"]

    def reset(self, *, seed: int | None = None) -> dict[str, Any] | None:
        """Wipe everything but the keys and reseed (the clock goes back to wall time)."""
        with self._reset_lock:
            if seed is not None:
                self.seed = int(seed)
            self.store.wipe()
            self.clock.set_offset(0)
            if self.settings.webhook_url:
                self.store.set_meta(WEBHOOK_URL_KEY, self.settings.webhook_url)
            return self.ensure_seeded()

    def set_webhook_url(self, url: str | None) -> None:
        self.settings.webhook_url = url or None
        self.store.set_meta(WEBHOOK_URL_KEY, url or "")
        self.events.kick()

    def advance_clock(self, seconds: float) -> int:
        self.clock.set_offset(self.clock.offset + float(seconds))
        return self.ledger.process_due()

    def start(self) -> None:
        self.events.start()

    def stop(self) -> None:
        self.events.stop()


class StripeSandboxServer(SandboxHttpServer):
    """The Stripe sandbox served over HTTP on loopback, in background threads."""

    thread_name = "stripe-sandbox-http"

    def __init__(self, data_dir: Path | str, netsuite: Any = None, settings: StripeSandboxSettings | None = None, *,
                 host: str = "127.0.0.1", port: int = 0, seed: int = 42, integration_start_days: int | None = None,
                 webhook_url: str | None = None) -> None:
        if webhook_url is not None:
            settings = settings or StripeSandboxSettings()
            settings.webhook_url = webhook_url
        self.sandbox = StripeSandbox(data_dir, netsuite, settings, seed=seed,
                                     integration_start_days=integration_start_days)
        self.host = host
        self.port = port
        self._server = LoopbackServer(host, port)

    @property
    def api_key(self) -> str:
        return self.sandbox.api_key

    @property
    def webhook_secret(self) -> str:
        return self.sandbox.webhook_secret

    @property
    def admin_token(self) -> str:
        return self.sandbox.admin_token

    def scenarios(self) -> dict[str, list[str]]:
        return self.sandbox.scenarios()

    def client(self, **kwargs: Any) -> Any:
        """A `stripe.StripeClient` for this sandbox (max_network_retries=0 unless given)."""
        import stripe

        kwargs.setdefault("max_network_retries", 0)
        return stripe.StripeClient(self.api_key, base_addresses={"api": self.base_url}, **kwargs)

    def _account(self) -> StripeSandbox:
        return self.sandbox

    def _create_app(self) -> Any:
        from .api import create_app

        return create_app(self.sandbox)

    def environment(self) -> dict[str, str]:
        """The STRIPE_* variables (plus the sandbox admin API's URL and token)."""
        return {"STRIPE_API_KEY": self.api_key, "STRIPE_API_BASE": self.base_url,
                "STRIPE_WEBHOOK_SECRET": self.webhook_secret,
                "STRIPE_SANDBOX_ADMIN_URL": self.admin_url, "STRIPE_SANDBOX_ADMIN_TOKEN": self.admin_token}

    def write_credentials(self, path: Path | str) -> Path:
        return write_json_0600(path, self.environment())


def wait_until(predicate: Any, timeout: float = 10.0, interval: float = 0.05) -> bool:
    """Poll `predicate()` until true or `timeout` (for tests waiting on webhook delivery)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
