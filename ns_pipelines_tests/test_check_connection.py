"""`ns-pipelines check-connection` against the sandbox: OK, or exactly what is wrong."""
from __future__ import annotations

from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from ns_pipelines.cli import main
from ns_pipelines.netsuite.health import check_connection
from ns_pipelines.sandbox.netsuite.server import SandboxServer


@pytest.fixture()
def server(tmp_path: Path):
    with SandboxServer(tmp_path, scale="tiny") as running:
        yield running


def test_ok_with_the_governance_limits(server: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in server.environment().items():
        monkeypatch.setenv(key, value)
    result = CliRunner().invoke(main, ["check-connection"])
    assert result.exit_code == 0, result.output
    assert "1234567_SB1" in result.output and ": OK" in result.output
    assert "accountConcurrencyLimit=5" in result.output
    assert server.environment()["NETSUITE_TOKEN_SECRET"] not in result.output


def test_the_command_records_its_api_usage_and_only_while_it_runs(
        server: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import datetime as dt

    from ns_pipelines.monitoring import read_usage
    from ns_pipelines.netsuite import NetSuiteClient
    from ns_pipelines.netsuite.transport import _new_client_callbacks
    from ns_pipelines.warehouse import create_warehouse_engine, upgrade_warehouse

    url = f"sqlite:///{tmp_path / 'usage.sqlite3'}"
    engine = create_warehouse_engine(url)
    upgrade_warehouse(engine)
    for key, value in server.environment().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("NS_WAREHOUSE_URL", url)
    callbacks = list(_new_client_callbacks)

    result = CliRunner().invoke(main, ["check-connection"])

    assert result.exit_code == 0, result.output
    usage = read_usage(engine, dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=10))
    assert usage and all(row.source.startswith("ns-pipelines check-connection") for row in usage)
    assert sum(row.requests for row in usage) >= 2  # the SuiteQL query and the governance limits
    assert _new_client_callbacks == callbacks  # later clients in this process are not monitored
    with NetSuiteClient.from_env(server.environment()) as client:
        assert not client._hooks  # noqa: SLF001
    engine.dispose()


def test_revoked_token_says_how_to_reconnect(server: SandboxServer) -> None:
    env = server.environment()
    requests.post(f"{server.admin_url}/tokens/revoke", json={"token_id": env["NETSUITE_TOKEN_ID"]},
                  headers={"Authorization": f"Bearer {env['NETSUITE_SANDBOX_ADMIN_TOKEN']}"}, timeout=10).raise_for_status()
    report = check_connection(env)
    assert not report.ok
    text = "\n".join(report.lines())
    assert "401 INVALID_LOGIN" in text and "Access Tokens" in text and "NETSUITE_TOKEN_ID" in text
    assert "Login Audit Trail" in text


def test_wrong_account_is_named(server: SandboxServer) -> None:
    report = check_connection({**server.environment(), "NETSUITE_ACCOUNT_ID": "7654321"})
    assert not report.ok
    assert "realm sent: 7654321" in "\n".join(report.lines())


def test_unreachable_and_missing_settings(server: SandboxServer) -> None:
    env = {**server.environment(), "NETSUITE_BASE_URL": "http://127.0.0.1:9"}
    unreachable = check_connection(env, attempts=1)
    assert not unreachable.ok and "could not be reached at http://127.0.0.1:9" in unreachable.lines()[1]
    missing = check_connection({"NETSUITE_ACCOUNT_ID": "1234567"})
    assert not missing.ok and "NETSUITE_TOKEN_SECRET" in missing.lines()[1]
