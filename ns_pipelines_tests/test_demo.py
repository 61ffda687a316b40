"""`make demo` end to end: the whole mission through Dagster, twice (full, then incremental): NetSuite
and Stripe synced, reconciled, written back into the sandbox, synced again and summarised."""
from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from ns_pipelines.cli import main


@pytest.fixture
def restored_environment() -> Iterator[None]:
    """The demo sets its sandboxes' variables (NETSUITE_*, STRIPE_*, NS_WRITEBACK_*, NS_RECON_*) in this
    process; later tests must not see them."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.mark.slow
@pytest.mark.usefixtures("restored_environment")
def test_demo_runs_the_whole_mission_then_an_incremental_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    for name in list(os.environ):  # the demo sets them from its own sandboxes
        if name.startswith(("NETSUITE_", "STRIPE_", "NS_WRITEBACK_", "NS_RECON_")):
            monkeypatch.delenv(name)
    args = ["demo", "--data-dir", str(tmp_path / "sandbox"), "--scale", "tiny", "--seed", "5"]

    first = CliRunner().invoke(main, args, catch_exceptions=False)
    assert first.exit_code == 0, first.output
    assert "First run: every NetSuite record type and Stripe object is read in full." in first.output
    assert re.search(r"checks: [1-9]\d* passed, 0 failed", first.output), first.output
    for key in ("netsuite/invoices", "ar/aging", "stripe/charges", "reconciliation/exceptions", "writeback/log"):
        assert key in first.output, key
    assert (tmp_path / ".data" / "warehouse.sqlite3").exists()
    # round 1 writes the payments, round 2 the deposit of the payout whose payments are now in NetSuite,
    # round 3 finds nothing left to write
    assert re.search(r"round 1 \([\d.]+s\): \d+ create_payment written", first.output), first.output
    assert re.search(r"round 2 \([\d.]+s\): 1 deposit written", first.output), first.output
    assert re.search(r"round 3 \([\d.]+s\): nothing to write", first.output), first.output
    assert re.search(r"create_payment +matched and in NetSuite: +\d+ +still planned: +0", first.output)
    assert "in NetSuite: 1" in first.output and "1 deposit written" in first.output
    assert "Exceptions by reason" in first.output and "customer_unresolved" in first.output

    second = CliRunner().invoke(main, args, catch_exceptions=False)
    assert second.exit_code == 0, second.output
    assert "this run is incremental" in second.output
    assert "incremental run (round 1):" in second.output
    assert "0 failed" in second.output
    assert "the customer paid it by card in Stripe" in second.output
    assert re.search(r"round 1 \([\d.]+s\): 1 create_payment written", second.output), second.output
    assert "in NetSuite: 2" in second.output  # this run's payout became the second deposit
