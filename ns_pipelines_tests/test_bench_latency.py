"""`ns-pipelines bench latency` in a tiny mode (3 changes): the sandbox, the receiver and the
Dagster daemon (sensor, run queue, runs) carry every change to the warehouse, and the command
prints its figures. The seconds themselves are printed, never asserted."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest


@pytest.mark.slow
def test_bench_latency_tiny() -> None:
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    result = subprocess.run([sys.executable, "-m", "ns_pipelines.cli", "bench", "latency", "--changes", "3",
                             "--spacing", "0.5", "--timeout", "240"],
                            capture_output=True, text=True, timeout=900, env=env)
    output = result.stdout
    assert result.returncode == 0, output + result.stderr[-3000:]
    assert "Latency, sandbox save -> warehouse row: 3 changes 0.5 s apart; sensor interval 5 s" in output
    assert re.search(r"warm-up change in the warehouse after [\d.]+ s", output)
    assert re.search(r"saved in the sandbox -> row in the warehouse: median [\d.]+ s, p95 [\d.]+ s, "
                     r"max [\d.]+ s \(n=3\); target p95 < 15 s", output), output
    assert "NOT in the warehouse" not in output
    assert re.search(r"saved -> event in the inbox \(sandbox notifier, receiver\): median [\d.]+ s", output)
    runs = re.search(r"sensor runs: (\d+) \((\d+) failed\) for 3 changes; run created -> started", output)
    assert runs and int(runs.group(1)) >= 1, output
