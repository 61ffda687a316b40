"""`make demo` end to end: the main job through Dagster, twice (full, then incremental)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from ns_pipelines.cli import main


@pytest.mark.slow
def test_demo_runs_the_main_job_then_an_incremental_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    for name in ("NETSUITE_BASE_URL", "NETSUITE_TOKEN_ID", "NETSUITE_TOKEN_SECRET", "NETSUITE_CONSUMER_KEY",
                 "NETSUITE_CONSUMER_SECRET", "NETSUITE_ACCOUNT_ID"):
        monkeypatch.delenv(name, raising=False)  # the demo sets them from its own sandbox
    args = ["demo", "--data-dir", str(tmp_path / "sandbox"), "--scale", "tiny", "--seed", "5"]

    first = CliRunner().invoke(main, args, catch_exceptions=False)
    assert first.exit_code == 0, first.output
    assert "First run: every record type is read in full." in first.output
    assert re.search(r"checks: [1-9]\d* passed, 0 failed", first.output), first.output
    assert "netsuite/invoices" in first.output and "ar/aging" in first.output
    assert (tmp_path / ".data" / "warehouse.sqlite3").exists()

    second = CliRunner().invoke(main, args, catch_exceptions=False)
    assert second.exit_code == 0, second.output
    assert "this run is incremental" in second.output
    assert "incremental run:" in second.output
    assert "0 failed" in second.output
