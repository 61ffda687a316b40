"""Writing reconciliation results back to NetSuite (and NetSuite ids back to Stripe), safely.

    writes, summary = run.plan(engine, client, WritebackSettings.from_env())   # writeback_plan
    report = run.apply(engine, client, run_id="...")                          # writeback_log

Plain Python, no Dagster (ns_pipelines.defs.writeback calls it). Policy: behaviour.md sections 5
and 6; docs/writeback.md.
"""
from .apply import Applier, ApplyReport
from .model import Application, DepositLine, PayoutAction, PaymentAction, PlannedWrite, References
from .planner import plan_writes
from .settings import WritebackSettings

__all__ = ["Application", "Applier", "ApplyReport", "DepositLine", "PaymentAction", "PayoutAction",
           "PlannedWrite", "References", "WritebackSettings", "plan_writes"]
