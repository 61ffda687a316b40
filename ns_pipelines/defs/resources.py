"""The two resources every asset uses: the NetSuite connection and the warehouse.

Both are configured only through environment variables, bound as `dg.EnvVar` so Dagster reads
them when a run launches and never shows their values (the NETSUITE_* variables of
docs/sandbox-design.md, and NS_WAREHOUSE_URL). Pointing the code location at another account or
database is a matter of changing the variables.
"""

import os
import threading
from typing import Any, Optional

import dagster as dg
from pydantic import PrivateAttr
from sqlalchemy import Engine

from ns_pipelines.netsuite import NetSuiteClient, NetSuiteConfig
from ns_pipelines.netsuite.config import ENV_VARS
from ns_pipelines.warehouse import WAREHOUSE_URL_ENV, create_warehouse_engine, resolve_warehouse_url, upgrade_warehouse

# Variables a run cannot do without: bound even when unset at load time, so a run fails at launch
# naming the missing variable (the code location itself still loads).
_REQUIRED = {
    "tba": ("account_id", "consumer_key", "consumer_secret", "token_id", "token_secret"),
    "oauth2": ("account_id", "client_id", "certificate_id"),
}


class NetSuiteResource(dg.ConfigurableResource):
    """A signed, budgeted NetSuite client (ns_pipelines.netsuite), one per run and process; its
    requests draw on the budget shared by every process, and are recorded as API usage in
    `usage_warehouse` when one is bound (the code location binds its warehouse).

    Fields mirror the NETSUITE_* variables; build it with `from_env_vars()` so that each field
    is an EnvVar. The client is created in `setup_for_execution` and closed in teardown.
    """

    account_id: str
    base_url: Optional[str] = None
    auth_method: str = "tba"
    consumer_key: Optional[str] = None
    consumer_secret: Optional[str] = None
    token_id: Optional[str] = None
    token_secret: Optional[str] = None
    client_id: Optional[str] = None
    certificate_id: Optional[str] = None
    private_key_pem: Optional[str] = None
    private_key_file: Optional[str] = None
    concurrency: Optional[int] = None
    # Where the client's API usage is recorded (ns_pipelines.monitoring): the code location binds
    # its warehouse; unset (a test, a script): not recorded.
    usage_warehouse: Optional["WarehouseResource"] = None

    _client: Optional[NetSuiteClient] = PrivateAttr(default=None)

    @classmethod
    def from_env_vars(cls, environ: Optional[dict[str, str]] = None,
                      usage_warehouse: Optional["WarehouseResource"] = None) -> "NetSuiteResource":
        """Bind every NETSUITE_* variable that is set (plus the required ones) as an EnvVar, and
        `usage_warehouse` (where API usage goes) if given."""
        env = os.environ if environ is None else environ
        method = (env.get(ENV_VARS["auth_method"]) or "tba").strip().lower()
        required = set(_REQUIRED.get(method, _REQUIRED["tba"]))
        fields: dict[str, Any] = {}
        for field, var in ENV_VARS.items():
            if field in required or env.get(var):
                fields[field] = dg.EnvVar.int(var) if field == "concurrency" else dg.EnvVar(var)
        if usage_warehouse is not None:
            fields["usage_warehouse"] = usage_warehouse
        return cls(**fields)

    def environment(self) -> dict[str, str]:
        """The NETSUITE_* variables this resource was configured with (as NetSuiteConfig.from_env reads them)."""
        values = {var: getattr(self, field) for field, var in ENV_VARS.items()}
        return {var: str(value) for var, value in values.items() if value not in (None, "")}

    def netsuite_config(self) -> NetSuiteConfig:
        """The client configuration; errors name the missing variables, never their values."""
        return NetSuiteConfig.from_env(self.environment())

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        run = context.run
        self._client = self._monitored_client(f"dagster run {run.run_id[:8]}" if run is not None else None)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._client is not None:
            self._client.close()  # also writes the run's last minutes of API usage
            self._client = None

    def _monitored_client(self, label: Optional[str]) -> NetSuiteClient:
        """A client drawing on the shared budget; with `usage_warehouse`, every request is recorded
        there as API usage (ns_pipelines.monitoring; NS_API_USAGE=off turns it off)."""
        client = NetSuiteClient(self.netsuite_config())
        if self.usage_warehouse is not None:
            from ns_pipelines.monitoring import monitor_client

            url = resolve_warehouse_url(self.usage_warehouse.url or None).render_as_string(hide_password=False)
            monitor_client(client, url=url, label=label)
        return client

    @property
    def client(self) -> NetSuiteClient:
        if self._client is None:  # used outside a run (a script, a test): build it on demand
            self._client = self._monitored_client(None)
        return self._client


_upgraded: set[str] = set()
_upgrade_lock = threading.Lock()


def _upgrade_once(engine: Engine) -> None:
    """upgrade_warehouse once per process and database (a no-op at head, but not free)."""
    key = engine.url.render_as_string(hide_password=False)
    with _upgrade_lock:
        if key not in _upgraded:
            upgrade_warehouse(engine)
            _upgraded.add(key)


class WarehouseResource(dg.ConfigurableResource):
    """The warehouse database: SQLite by default (.data/warehouse.sqlite3), PostgreSQL in production.

    `url` unset means $NS_WAREHOUSE_URL, else the default SQLite file under the working
    directory. The schema is brought to the newest migration once per process before first use.
    """

    url: Optional[str] = None

    _engine: Optional[Engine] = PrivateAttr(default=None)

    @classmethod
    def from_env_vars(cls, environ: Optional[dict[str, str]] = None) -> "WarehouseResource":
        env = os.environ if environ is None else environ
        return cls(url=dg.EnvVar(WAREHOUSE_URL_ENV)) if env.get(WAREHOUSE_URL_ENV) else cls()

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._engine = self._create()

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def _create(self) -> Engine:
        engine = create_warehouse_engine(self.url or None)
        _upgrade_once(engine)
        return engine

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = self._create()
        return self._engine

    @property
    def display_url(self) -> str:
        """The URL with any password masked (for metadata and logs)."""
        return resolve_warehouse_url(self.url or None).render_as_string(hide_password=True)

    @property
    def dialect(self) -> str:
        return resolve_warehouse_url(self.url or None).get_backend_name()


NetSuiteResource.model_rebuild()  # resolve the "WarehouseResource" annotation of usage_warehouse

_warehouse = WarehouseResource.from_env_vars()
defs = dg.Definitions(
    resources={
        "netsuite": NetSuiteResource.from_env_vars(usage_warehouse=_warehouse),
        "warehouse": _warehouse,
    }
)
