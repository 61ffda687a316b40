"""netsuite_connection_sensor against the sandbox: a good token skips the tick with the OK report;
a revoked token (sandbox admin API) fails the tick with the reconnect steps and no secret."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import requests

from ns_pipelines.defs.health import NetSuiteConnectionLost, netsuite_connection_sensor
from ns_pipelines.defs.health.sensors import INTERVAL_ENV, check_interval_seconds, resource_environment
from ns_pipelines.defs.resources import NetSuiteResource
from ns_pipelines.sandbox.netsuite.server import SandboxServer


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SandboxServer]:
    with SandboxServer(tmp_path, scale="tiny") as running:
        yield running


def tick(environ: dict[str, str]) -> dg.SkipReason:
    with pytest.MonkeyPatch.context() as mp:
        for name, value in environ.items():
            mp.setenv(name, value)
        with dg.build_sensor_context(resources={"netsuite": NetSuiteResource.from_env_vars(environ)}) as context:
            return netsuite_connection_sensor(context)


def test_good_connection_skips_with_the_report(server: SandboxServer) -> None:
    result = tick(server.environment())
    assert isinstance(result, dg.SkipReason)
    assert "1234567_SB1" in result.skip_message and ": OK" in result.skip_message
    assert "accountConcurrencyLimit=5" in result.skip_message


def test_revoked_token_fails_the_tick_with_the_reconnect_steps(server: SandboxServer) -> None:
    env = server.environment()
    requests.post(f"{server.admin_url}/tokens/revoke", json={"token_id": env["NETSUITE_TOKEN_ID"]},
                  headers={"Authorization": f"Bearer {env['NETSUITE_SANDBOX_ADMIN_TOKEN']}"},
                  timeout=10).raise_for_status()
    with pytest.raises(Exception) as raised:
        tick(env)
    error = raised.value
    while not isinstance(error, NetSuiteConnectionLost) and error.__cause__ is not None:
        error = error.__cause__
    assert isinstance(error, NetSuiteConnectionLost), raised.value
    text = str(error)
    assert "NOT OK" in text and "401 INVALID_LOGIN" in text and "Access Tokens" in text
    assert "NETSUITE_TOKEN_ID" in text and "Login Audit Trail" in text
    for secret in (env["NETSUITE_TOKEN_SECRET"], env["NETSUITE_CONSUMER_SECRET"]):
        assert secret not in text

    # a new token (as the README says) brings it back
    issued = requests.post(f"{server.admin_url}/tokens", json={"make_default": False},
                           headers={"Authorization": f"Bearer {env['NETSUITE_SANDBOX_ADMIN_TOKEN']}"}, timeout=10)
    issued.raise_for_status()
    token = issued.json()
    fresh = {**env, "NETSUITE_TOKEN_ID": token["token_id"], "NETSUITE_TOKEN_SECRET": token["token_secret"]}
    assert ": OK" in tick(fresh).skip_message


def test_unreachable_account_fails_the_tick(server: SandboxServer) -> None:
    with pytest.raises(Exception, match="could not be reached at http://127.0.0.1:9"):
        tick({**server.environment(), "NETSUITE_BASE_URL": "http://127.0.0.1:9"})


def test_resource_environment_and_interval() -> None:
    resource = NetSuiteResource(account_id="123_SB1", token_id="t", token_secret="s", concurrency=2)
    env = resource_environment(resource)
    assert env == {"NETSUITE_ACCOUNT_ID": "123_SB1", "NETSUITE_AUTH_METHOD": "tba", "NETSUITE_TOKEN_ID": "t",
                   "NETSUITE_TOKEN_SECRET": "s", "NETSUITE_CONCURRENCY": "2"}
    assert check_interval_seconds({}) == 300 and check_interval_seconds({INTERVAL_ENV: "60"}) == 60
    with pytest.raises(ValueError, match=INTERVAL_ENV):
        check_interval_seconds({INTERVAL_ENV: "soon"})
    assert netsuite_connection_sensor.minimum_interval_seconds == check_interval_seconds()
    assert netsuite_connection_sensor.default_status == dg.DefaultSensorStatus.RUNNING


def test_missing_variables_fail_the_tick_naming_them(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NETSUITE_ACCOUNT_ID", "NETSUITE_CONSUMER_KEY", "NETSUITE_CONSUMER_SECRET", "NETSUITE_TOKEN_ID",
                 "NETSUITE_TOKEN_SECRET", "NETSUITE_AUTH_METHOD"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(Exception, match="NETSUITE_ACCOUNT_ID"):
        with dg.build_sensor_context(resources={"netsuite": NetSuiteResource.from_env_vars({})}) as context:
            netsuite_connection_sensor(context)
