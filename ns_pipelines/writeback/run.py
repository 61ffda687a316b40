"""The writeback's two steps as plain functions: plan (reads only) and apply (writes)."""
from __future__ import annotations

from sqlalchemy import Engine

from ns_pipelines.netsuite import NetSuiteClient, RecordService

from .apply import Applier, ApplyReport
from .model import PlannedWrite
from .plan_store import PlanSummary, pending_writes, save_plan
from .planner import plan_writes
from .references import load_references
from .settings import WritebackSettings
from .sources import read_actions
from .stripe_links import StripeLinker


def plan(engine: Engine, client: NetSuiteClient, settings: WritebackSettings) -> tuple[list[PlannedWrite], PlanSummary]:
    """Plan the writes the reconciliation's planned rows call for and save them as the plan."""
    payments, payouts = read_actions(engine)
    writes = plan_writes(payments, payouts, load_references(client, settings), settings)
    return writes, save_plan(engine, writes)


def apply(engine: Engine, client: NetSuiteClient, *, run_id: str | None = None,
          linker: StripeLinker | None = None) -> ApplyReport:
    """Write every pending plan row to NetSuite (and the ids back to Stripe when `linker` is given)."""
    return Applier(RecordService(client), engine, run_id=run_id, linker=linker).apply(pending_writes(engine))
