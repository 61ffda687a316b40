"""netsuite_redundancy_job through Dagster against the sandbox: the drift per table in the
materialization metadata, the redundancy_drift checks (WARN on drift, pass at zero), the
warehouse equal to the ground truth afterwards; no drift result outside a redundancy run."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from ns_pipelines.defs import ar, netsuite, schedules
from ns_pipelines.defs.resources import NetSuiteResource, WarehouseResource
from ns_pipelines.sandbox.netsuite.server import SandboxServer
from ns_pipelines.warehouse import create_warehouse_engine
from ns_pipelines_tests.test_redundancy import make_drift
from ns_pipelines_tests.sync_helpers import assert_warehouse_matches

QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
DRIFTING = {"netsuite/customers": (1, 0, 0), "netsuite/invoices": (1, 1, 1), "netsuite/credit_memos": (1, 0, 0),
            "netsuite/journal_lines": (1, 0, 0), "netsuite/payment_applications": (1, 1, 1),
            "netsuite/deleted_records": (1, 0, 0)}


@pytest.fixture(scope="module")
def account(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    with SandboxServer(tmp_path_factory.mktemp("sandbox"), scale="tiny", seed=21) as server:
        with pytest.MonkeyPatch.context() as mp:
            for name, value in server.environment().items():
                mp.setenv(name, value)
            mp.setenv("NS_SYNC_PAGE_SIZE", "7")  # drift on page boundaries too
            yield server


def run(url: str, job: str) -> dg.ExecuteInProcessResult:
    resources = {"netsuite": NetSuiteResource.from_env_vars(), "warehouse": WarehouseResource(url=url)}
    defs = dg.Definitions.merge(netsuite.defs, ar.defs, schedules.defs, dg.Definitions(resources=resources))
    return defs.resolve_job_def(job).execute_in_process(run_config=QUIET, raise_on_error=False)


def metadata(result: dg.ExecuteInProcessResult) -> dict[str, dict[str, Any]]:
    return {e.asset_key.to_user_string(): {k: getattr(v, "value", v) for k, v in e.materialization.metadata.items()}
            for e in result.get_asset_materialization_events()}


def drift_checks(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.asset_key.to_user_string(): e for e in result.get_asset_check_evaluations()
            if e.check_name == "redundancy_drift"}


def test_redundancy_job_reports_and_repairs_drift(account: SandboxServer, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'warehouse.sqlite3'}"
    synced = run(url, "netsuite_sync_job")
    assert synced.success
    assert not drift_checks(synced)  # only a redundancy run evaluates the drift checks

    engine = create_warehouse_engine(url)
    try:
        drift = make_drift(account, engine)
        result = run(url, "netsuite_redundancy_job")
        assert result.success, [e.event_specific_data.error.message for e in result.get_step_failure_events()]
        meta = metadata(result)
        raw = {key for key in meta if key.startswith("netsuite/")}
        assert len(raw) == 9 and {"ar/open_items", "ar/customer_balances", "ar/aging"} <= set(meta)
        for key in raw:
            m = meta[key]
            assert m["ns/mode"] == "redundancy"
            expected = DRIFTING.get(key, (0, 0, 0))
            assert (m["ns/drift_missing"], m["ns/drift_stale"], m["ns/drift_vanished"]) == expected, key
            assert m["ns/drift_total"] == sum(expected)
        assert meta["netsuite/invoices"]["ns/drift_samples"] == {
            "missing": [drift["missing_invoice"]], "stale": [drift["stale_invoice"]],
            "vanished": [drift["vanished_invoice"]]}
        assert meta["netsuite/invoices"]["ns/rows_soft_deleted"] >= 1

        checks = drift_checks(result)
        assert set(checks) == raw
        for key, evaluation in checks.items():
            assert evaluation.severity == dg.AssetCheckSeverity.WARN
            assert evaluation.passed == (key not in DRIFTING), key
        assert "1 missing, 1 stale, 1 vanished" in checks["netsuite/invoices"].description
        others = [e for e in result.get_asset_check_evaluations() if e.check_name != "redundancy_drift"]
        assert others and all(e.passed for e in others), [e.description for e in others if not e.passed]

        assert_warehouse_matches(account, engine)
        again = run(url, "netsuite_redundancy_job")
        assert again.success and all(e.passed for e in drift_checks(again).values())
        assert {m["ns/drift_total"] for k, m in metadata(again).items() if k.startswith("netsuite/")} == {0}
    finally:
        engine.dispose()


def test_drift_checks_have_no_result_outside_a_redundancy_run(account: SandboxServer, tmp_path: Path) -> None:
    """Selected in an incremental run (here: every check of the step), the drift checks are not
    evaluated: only a comparison can say there is no drift."""
    url = f"sqlite:///{tmp_path / 'warehouse.sqlite3'}"
    resources = {"netsuite": NetSuiteResource.from_env_vars(), "warehouse": WarehouseResource(url=url)}
    result = dg.materialize([netsuite.netsuite_raw_tables], resources=resources, run_config=QUIET,
                            raise_on_error=False)
    assert result.success and len(metadata(result)) == 9
    assert not drift_checks(result)
