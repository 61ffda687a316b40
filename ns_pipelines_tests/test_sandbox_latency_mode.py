"""The sandbox's latency modes: "response" (the latency is the response time, the sandbox's own
work included) and "added" (the latency is slept after the work); and their admin setting."""
from __future__ import annotations

import time

import pytest
import requests

from ns_pipelines.sandbox.netsuite.governance import Governor
from ns_pipelines.sandbox.netsuite.server import SandboxServer
from ns_pipelines.sandbox.netsuite.settings import SandboxSettings

LATENCY_S = 0.2
WORK_S = 0.12


def _slot_time(mode: str, work_s: float, rows: int = 0, per_row_ms: float = 0.0) -> float:
    """Seconds one request holds its slot: admitted, `work_s` of handler work, then the latency."""
    governor = Governor(SandboxSettings(latency_ms=LATENCY_S * 1000, latency_per_row_ms=per_row_ms, latency_mode=mode))
    started = time.perf_counter()
    governor.admit()
    time.sleep(work_s)
    governor.delay(rows)
    governor.release()
    return time.perf_counter() - started


def test_response_mode_counts_the_work_toward_the_latency() -> None:
    elapsed = _slot_time("response", WORK_S)
    assert LATENCY_S <= elapsed < LATENCY_S + 0.06


def test_added_mode_sleeps_the_latency_after_the_work() -> None:
    assert _slot_time("added", WORK_S) >= LATENCY_S + WORK_S


def test_response_mode_never_answers_before_the_work_is_done() -> None:
    assert _slot_time("response", LATENCY_S + 0.1) >= LATENCY_S + 0.1


def test_response_mode_includes_the_per_row_latency() -> None:
    assert _slot_time("response", 0.0, rows=10, per_row_ms=10.0) >= LATENCY_S + 0.1


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> SandboxServer:
    with SandboxServer(tmp_path_factory.mktemp("latency") / "sandbox", SandboxSettings(), scale="tiny") as running:
        yield running


def _admin(server: SandboxServer, body: dict[str, object]) -> requests.Response:
    return requests.patch(f"{server.admin_url}/settings", json=body, timeout=10,
                          headers={"Authorization": f"Bearer {server.credentials.admin_token}"})


def test_the_admin_api_sets_the_mode_and_refuses_unknown_ones(server: SandboxServer) -> None:
    assert _admin(server, {"latency_mode": "added"}).status_code == 200
    assert server.settings.latency_mode == "added"
    refused = _admin(server, {"latency_mode": "sometimes"})
    assert refused.status_code == 400
    assert "latency_mode must be one of response, added" in refused.text
    assert server.settings.latency_mode == "added"
    assert _admin(server, {"latency_mode": "response"}).status_code == 200


def test_the_command_line_offers_the_modes() -> None:
    from click.testing import CliRunner

    from ns_pipelines.sandbox.cli import sandbox_command

    help_text = CliRunner().invoke(sandbox_command, ["--help"]).output
    assert "--latency-mode [response|added]" in help_text
