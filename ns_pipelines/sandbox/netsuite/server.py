"""The sandbox account (the parts wired together) and its threaded HTTP server on loopback.

    with SandboxServer(tmp_path, scale="tiny") as server:
        env = server.environment()          # NETSUITE_* variables for any NetSuite client
        requests.post(server.base_url + "/services/rest/query/v1/suiteql", ...)

The server is ns_pipelines.sandbox.http.LoopbackServer (werkzeug, keep-alive, no request log).
"""
from __future__ import annotations

import collections
import logging
import threading
import time
from pathlib import Path
from typing import Any, Callable

from ..http import LoopbackServer, SandboxHttpServer
from .auth import Authenticator
from .credentials import SandboxCredentials, TokenRegistry, write_json_0600
from .governance import Governor
from .notifications import Notifier
from .records import RecordService
from .seed import seed as seed_account
from .settings import SandboxSettings
from .store import Store
from .suiteql import SuiteQLEngine

log = logging.getLogger(__name__)

PACKAGE = __name__.rsplit(".", 1)[0]
SEEDED_KEY = "sandbox_seeded"


class SandboxAccount:
    """One NetSuite account: store, credentials, auth, governance, notifications, engines."""

    def __init__(self, data_dir: Path | str, settings: SandboxSettings | None = None, *,
                 scale: str | int = "tiny", seed: int = 42,
                 progress: Callable[[str, int, int], None] | None = None) -> None:
        self.settings = settings or SandboxSettings()
        self.data_dir = Path(data_dir)
        self.scale = scale
        self.seed = seed
        self.progress = progress
        self.store = Store(self.data_dir, self.settings.timezone)
        self.credentials = SandboxCredentials.load_or_create(self.store)
        self.tokens = TokenRegistry(self.store, self.credentials)
        self.auth = Authenticator(self.settings, self.credentials, self.tokens)
        self.governor = Governor(self.settings)
        self.notifier = Notifier(self.store, self.settings)
        self.counters: collections.Counter[str] = collections.Counter()
        self.require_prefer_transient = False
        self.started_at = time.time()
        self._reset_lock = threading.Lock()
        self._build_engines()

    def _build_engines(self) -> None:
        self.records = RecordService(self.store, self.settings, notify=self.notifier.notify)
        self.suiteql = SuiteQLEngine(self.store, self.settings)

    # ------------------------------------------------------------------ data
    def is_empty(self) -> bool:
        conn = self.store.connect()
        for table in ("currency", "subsidiary", "customer", "transaction"):
            if conn.execute(f'SELECT EXISTS(SELECT 1 FROM "{table}")').fetchone()[0]:
                return False
        return True

    def ensure_seeded(self) -> dict[str, int] | None:
        """Seed an empty store; None when it holds an account already."""
        if not self.is_empty():
            return None
        return self._seed(self.scale, self.seed)

    def _seed(self, scale: str | int, seed: int) -> dict[str, int]:
        counts = seed_account(self.store, scale=scale, seed=seed, progress=self.progress)
        import json

        self.store.set_meta(SEEDED_KEY, json.dumps({"scale": scale, "seed": seed, "counts": counts,
                                                    "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}))
        return counts

    def reset(self, *, scale: str | int | None = None, seed: int | None = None) -> dict[str, int] | None:
        """Wipe every table but the credentials (sandbox_meta) and reseed; change events too."""
        with self._reset_lock:
            if scale is not None:
                self.scale = scale
            if seed is not None:
                self.seed = int(seed)
            with self.store.write() as conn:
                tables = [r[0] for r in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                    "AND name <> 'sandbox_meta'").fetchall()]
                for table in tables:
                    conn.execute(f'DELETE FROM "{table}"')
                conn.execute("DELETE FROM sandbox_meta WHERE key = ?", (SEEDED_KEY,))
            self.notifier.clear()
            self.store.clock_offset = type(self.store.clock_offset)(0)
            counts = self._seed(self.scale, self.seed)
            self._build_engines()  # engines may cache ids, catalogs ...
            return counts

    # ------------------------------------------------------------------ reporting
    def health(self) -> dict[str, Any]:
        import json

        seeded = self.store.get_meta(SEEDED_KEY)
        return {"status": "ok", "account": self.settings.account_id,
                "uptime_s": round(time.time() - self.started_at, 3),
                "suiteql": self.suiteql is not None, "records": self.records is not None,
                "seeded": json.loads(seeded) if seeded else None,
                "data_dir": str(self.data_dir)}

    def stats(self) -> dict[str, Any]:
        data = self.governor.snapshot()
        data["peak_concurrency"] = data["concurrency"]["peak"]  # flat alias for quick reads
        data["notifications"] = self.notifier.counts()
        data["counters"] = dict(self.counters)
        data["logins"] = {"successes": self.auth.audit.successes,
                          "failures": len(self.auth.audit.entries()),
                          "oauth2_tokens_issued": self.auth.oauth2.issued}
        return data

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        self.notifier.start()

    def stop(self) -> None:
        self.notifier.stop()


class SandboxServer(SandboxHttpServer):
    """The sandbox account served over HTTP on loopback, in background threads."""

    thread_name = "sandbox-http"

    def __init__(self, data_dir: Path | str, settings: SandboxSettings | None = None, *, host: str = "127.0.0.1",
                 port: int = 0, scale: str | int = "tiny", seed: int = 42,
                 progress: Callable[[str, int, int], None] | None = None) -> None:
        self.account = SandboxAccount(data_dir, settings, scale=scale, seed=seed, progress=progress)
        self.credentials: SandboxCredentials = self.account.credentials
        self.settings = self.account.settings
        self.host = host
        self.port = port
        self._server = LoopbackServer(host, port)

    # ------------------------------------------------------------------ lifecycle (SandboxHttpServer)
    def _account(self) -> SandboxAccount:
        return self.account

    def _create_app(self) -> Callable[..., Any]:
        from .app import create_app

        return create_app(self.account)

    # ------------------------------------------------------------------ credentials
    def environment(self) -> dict[str, str]:
        """The NETSUITE_* variables a client needs (the credentials file's content)."""
        c = self.credentials
        return {
            "NETSUITE_ACCOUNT_ID": self.settings.account_id,
            "NETSUITE_BASE_URL": self.base_url,
            # Account preferences a reader needs: SuiteQL datetimes are account-local.
            "NETSUITE_TIMEZONE": self.settings.timezone,
            "NETSUITE_DATE_FORMAT": self.settings.date_format,
            "NETSUITE_CONSUMER_KEY": c.consumer_key,
            "NETSUITE_CONSUMER_SECRET": c.consumer_secret,
            "NETSUITE_TOKEN_ID": c.token_id,
            "NETSUITE_TOKEN_SECRET": c.token_secret,
            "NETSUITE_CLIENT_ID": c.client_id,
            "NETSUITE_CERTIFICATE_ID": c.certificate_id,
            "NETSUITE_PRIVATE_KEY": c.private_key,
            "NETSUITE_SANDBOX_ADMIN_URL": self.admin_url,
            "NETSUITE_SANDBOX_ADMIN_TOKEN": c.admin_token,
            "NETSUITE_WEBHOOK_SECRET": self.settings.notify_secret,
        }

    def write_credentials(self, path: Path | str) -> Path:
        """Write `environment()` as JSON, readable by the owner only (mode 0600)."""
        return write_json_0600(path, self.environment())
