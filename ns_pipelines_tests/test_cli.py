"""The `ns-pipelines` command line, run as a user runs it (a real process)."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from ns_pipelines.cli import main
from ns_pipelines.netsuite import NetSuiteClient, NetSuiteConfig

CLI = [sys.executable, "-m", "ns_pipelines.cli"]


def test_help_explains_every_subcommand() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0, result.output
    for command in ("sandbox", "demo", "env", "bench"):
        assert command in result.output
    sandbox_help = CliRunner().invoke(main, ["sandbox", "--help"])
    for option in ("--port", "--scale", "--seed", "--concurrency-limit", "--latency-ms", "--data-dir",
                   "--credentials-out"):
        assert option in sandbox_help.output


def test_bad_scale_is_refused_with_the_choices() -> None:
    result = CliRunner().invoke(main, ["sandbox", "--scale", "huge", "--data-dir", "/nonexistent/x"])
    assert result.exit_code == 2
    assert "tiny, small, medium, large" in result.output


def test_sandbox_command_serves_until_stopped_and_writes_usable_credentials(tmp_path: Path) -> None:
    credentials = tmp_path / "credentials.json"
    process = subprocess.Popen(
        [*CLI, "sandbox", "--port", "0", "--scale", "tiny", "--seed", "7", "--data-dir", str(tmp_path / "data"),
         "--credentials-out", str(credentials), "--concurrency-limit", "4"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while not credentials.exists() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.1)
        assert credentials.exists(), "the sandbox never wrote its credentials file"
        time.sleep(0.2)  # the file is written in one go; give the writer a moment to close it
        environment = json.loads(credentials.read_text())
        assert oct(credentials.stat().st_mode & 0o777) == "0o600"
        assert environment["NETSUITE_BASE_URL"].startswith("http://127.0.0.1:")
        for key in ("NETSUITE_ACCOUNT_ID", "NETSUITE_CONSUMER_KEY", "NETSUITE_CONSUMER_SECRET",
                    "NETSUITE_TOKEN_ID", "NETSUITE_TOKEN_SECRET", "NETSUITE_SANDBOX_ADMIN_URL",
                    "NETSUITE_SANDBOX_ADMIN_TOKEN"):
            assert environment[key]
        with NetSuiteClient(NetSuiteConfig.from_env(environment)) as client:
            rows = client.suiteql.query_all("SELECT COUNT(*) AS n FROM transaction")
            limits = client.records.governance_limits()
        assert int(rows[0]["n"]) > 0
        assert limits["accountConcurrencyLimit"] == 4
        assert (tmp_path / "data" / "netsuite.sqlite3").exists()

        exports = CliRunner().invoke(main, ["env", str(credentials)])
        assert exports.exit_code == 0
        assert f"export NETSUITE_ACCOUNT_ID={environment['NETSUITE_ACCOUNT_ID']}" in exports.output
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "sandbox stopped" in output
    assert environment["NETSUITE_TOKEN_SECRET"] not in output, "a secret was printed"


def test_sandbox_keeps_its_account_and_credentials_across_restarts(tmp_path: Path) -> None:
    from ns_pipelines.sandbox.netsuite.server import SandboxServer

    with SandboxServer(tmp_path, scale="tiny", seed=3) as first:
        env_first = first.environment()
        first.account.records.void("invoice", str(_first_open_invoice(first)), context="UI")
        voided = _count(first, "SELECT COUNT(*) AS n FROM transaction WHERE voided = 'T'")
    with SandboxServer(tmp_path, scale="tiny", seed=3) as second:
        env_second = second.environment()
        assert _count(second, "SELECT COUNT(*) AS n FROM transaction WHERE voided = 'T'") == voided
    for key in ("NETSUITE_CONSUMER_KEY", "NETSUITE_TOKEN_ID", "NETSUITE_TOKEN_SECRET"):
        assert env_first[key] == env_second[key]


def _first_open_invoice(server: "SandboxServer") -> int:  # noqa: F821
    row = server.account.store.connect().execute(
        "SELECT id FROM \"transaction\" WHERE type = 'CustInvc' AND status = 'A' AND voided = 'F' "
        "AND COALESCE(foreignamountpaid, 0) = 0 ORDER BY id LIMIT 1").fetchone()
    return int(row[0])


def _count(server: "SandboxServer", q: str) -> int:  # noqa: F821
    with NetSuiteClient(NetSuiteConfig.from_env(server.environment())) as client:
        return int(client.suiteql.query_all(q)[0]["n"])
