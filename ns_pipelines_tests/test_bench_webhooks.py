"""`ns-pipelines bench webhooks` in a tiny mode: it runs end to end (receiver and senders in
processes of their own) and prints its figures; the outage run shows 503s and nothing lost.
No figure is asserted beyond what correctness requires (zero lost, zero duplicated)."""
from __future__ import annotations

import os
import re
import subprocess
import sys

from ns_pipelines_tests.postgres import POSTGRES_URL_ENV

TINY = ["--events", "200", "--processes", "1", "--concurrency", "8", "--receiver-threads", "8",
        "--outage-seconds", "1", "--outage-after", "0", "--store-timeout", "0.3"]


def run_bench(*args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "ns_pipelines.cli", "bench", "webhooks", *args],
                            capture_output=True, text=True, timeout=300, env=os.environ.copy())
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def check_run(output: str, label: str) -> int:
    """The run's line says 200 acknowledged, 20 duplicates, none lost or duplicated; its 503 count."""
    line = re.search(rf"^   {re.escape(label)}: 200 events acknowledged in [\d.]+ s = [\d,]+ events/s "
                     rf"\([\d,]+ requests/s\); duplicates sent 20 \(acknowledged as duplicate 20\); "
                     rf"lost 0, duplicated 0$", output, re.M)
    assert line, f"no line for {label}:\n{output}"
    details = output[line.end():].splitlines()[1]
    assert re.search(r"inbox rows 200 = distinct event ids 200; acknowledged 200; stored but not acknowledged 0", details)
    return int(re.search(r"503 answers ([\d,]+)", details).group(1).replace(",", ""))


def test_bench_webhooks_tiny() -> None:
    output = run_bench(*TINY)
    assert "Webhook receiver: 200 signed events" in output
    labels = ["SQLite"]
    if os.environ.get(POSTGRES_URL_ENV):
        labels.append("PostgreSQL")
    else:
        assert "PostgreSQL skipped" in output
    for label in labels:
        assert check_run(output, label) == 0  # no outage: no 503
        refused = check_run(output, f"{label} with an outage")
        assert refused > 0  # the lock was held before the first request, longer than the store timeout
        assert re.search(rf"{refused:,} requests answered 503 \(", output)
    assert output.count("after the outage: every acknowledged event is in the inbox exactly once") == len(labels)
    assert "FAILED" not in output
