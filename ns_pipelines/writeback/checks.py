"""What the writeback's asset checks verify (plain Python; ns_pipelines.defs.writeback wraps them)."""
from __future__ import annotations

from sqlalchemy import Engine, select

from ns_pipelines.ar.checks import CheckOutcome
from ns_pipelines.netsuite import NetSuiteClient
from ns_pipelines.warehouse.tables.writeback import writeback_plan

from .plan_store import REFUSED

DUPLICATES_QUERY = ("SELECT t.externalid, COUNT(*) AS n FROM transaction t WHERE t.externalid LIKE 'stripe:%' "
                    "GROUP BY t.externalid HAVING COUNT(*) > 1")


def no_duplicate_external_ids(client: NetSuiteClient) -> CheckOutcome:
    """No external id of ours (stripe:...) is held by more than one NetSuite transaction."""
    rows = client.suiteql.query_all(DUPLICATES_QUERY)
    duplicates = {str(r["externalid"]): int(r["n"]) for r in rows}
    if not duplicates:
        return CheckOutcome(True, "Every stripe:* external id is held by exactly one NetSuite transaction.",
                            {"duplicates": 0})
    listed = ", ".join(f"{eid} x{n}" for eid, n in sorted(duplicates.items())[:20])
    return CheckOutcome(False, f"{len(duplicates)} external ids are duplicated in NetSuite: {listed}",
                        {"duplicates": len(duplicates), "external_ids": sorted(duplicates)[:100]})


def refused_writes(engine: Engine) -> CheckOutcome:
    """Every write NetSuite refused (or that could not be planned), with NetSuite's error text."""
    with engine.connect() as conn:
        rows = conn.execute(select(writeback_plan.c.external_id, writeback_plan.c.action, writeback_plan.c.error)
                            .where(writeback_plan.c.status == REFUSED)
                            .order_by(writeback_plan.c.external_id, writeback_plan.c.action)).all()
    if not rows:
        return CheckOutcome(True, "No refused writes.", {"refused": 0})
    lines = [f"{r.external_id} ({r.action}): {r.error}" for r in rows]
    return CheckOutcome(False, f"{len(rows)} writes refused; each needs a person:\n" + "\n".join(lines[:50]),
                        {"refused": len(rows), "writes": [{"external_id": r.external_id, "action": r.action,
                                                           "error": r.error} for r in rows[:200]]})
