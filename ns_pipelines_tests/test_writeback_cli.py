"""`ns-pipelines writeback plan|apply` and `ns-pipelines refund-credit-memo` against both sandboxes."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from ns_pipelines.cli import main
from ns_pipelines_tests.test_writeback_dagster import _reconciliation_row, sandbox_env
from ns_pipelines_tests.test_writeback_scenarios import USD_CUSTOMER, by_external_id, make_invoice, unpaid


def test_plan_apply_and_refund_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with sandbox_env(tmp_path) as (ns, st, url):
        monkeypatch.setenv("NS_WAREHOUSE_URL", url)
        charge = st.client().v1.charges.create(params={"amount": 2500, "currency": "usd", "source": "tok_visa"}).id
        invoice = make_invoice(ns, USD_CUSTOMER, "40.00")
        _reconciliation_row(url, charge, invoice, "25.00")
        runner = CliRunner()

        planned = runner.invoke(main, ["writeback", "plan"], catch_exceptions=False)
        assert planned.exit_code == 0 and f"stripe:{charge}" in planned.output and "1 to write" in planned.output
        off = runner.invoke(main, ["writeback", "apply"], catch_exceptions=False)
        assert "writing is off" in off.output and by_external_id(ns, f"stripe:{charge}") == []

        on = runner.invoke(main, ["writeback", "apply", "--enable"], catch_exceptions=False)
        assert on.exit_code == 0 and "written 1, refused 0, failed 0" in on.output
        assert unpaid(ns, invoice) == 15

        memo = ns.account.records.create("creditmemo", {
            "entity": {"id": str(USD_CUSTOMER)}, "item": {"items": [{"amount": "20.00"}]},
            "apply": {"items": [{"doc": {"id": str(invoice)}, "apply": True, "amount": "15.00"}]}}, context="UI")
        refunded = runner.invoke(main, ["refund-credit-memo", str(memo)], catch_exceptions=False)
        assert refunded.exit_code == 0, refunded.output
        assert f"of 5.00 USD on {charge}" in refunded.output
        again = runner.invoke(main, ["refund-credit-memo", str(memo)], catch_exceptions=False)
        assert "already made, reused" in again.output
        assert len(list(st.client().v1.refunds.list(params={"charge": charge}).auto_paging_iter())) == 1
