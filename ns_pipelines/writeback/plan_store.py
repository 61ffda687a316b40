"""The plan and the log in the warehouse: saving a plan, reading what is left to write, and
recording an attempt (log row and plan status in one transaction)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, insert, select, update

from ns_pipelines.warehouse.tables.writeback import writeback_log, writeback_plan

from .exact_json import dumps, loads
from .model import PlannedWrite, applications

PLANNED, DONE, REFUSED, SUPERSEDED = "planned", "done", "refused", "superseded"
WRITTEN, FAILED = "written", "failed"  # log statuses besides "refused"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass(frozen=True)
class PlanSummary:
    planned: int
    unchanged_done: int
    refused: int
    superseded: int


def _row(w: PlannedWrite, now: dt.datetime) -> dict[str, object]:
    return {
        "external_id": w.external_id, "action": w.action, "record_type": w.record_type, "reason": w.reason,
        "payload": dumps(w.payload), "wave": w.wave, "depends_on": dumps(list(w.depends_on)),
        "unapply_first": dumps([{"invoice_id": a.invoice_id, "amount": a.amount} for a in w.reduce_applications]),
        "stripe_object_id": w.stripe_object_id, "stripe_metadata_key": w.stripe_metadata_key,
        "status": REFUSED if w.blocked else PLANNED, "error": w.blocked, "planned_at": now, "updated_at": now,
    }


def save_plan(engine: Engine, writes: Sequence[PlannedWrite], now: dt.datetime | None = None) -> PlanSummary:
    """Make the plan table say what `writes` says, in one transaction.

    A write already done with the same payload stays done; anything else is (re)planned. Rows
    the reconciliation no longer asks for are kept, marked superseded unless done."""
    now = now or utcnow()
    wanted = {w.key: w for w in writes}
    counts = {"planned": 0, "done": 0, "refused": 0, "superseded": 0}
    with engine.begin() as conn:
        existing = {(r.external_id, r.action): r for r in conn.execute(
            select(writeback_plan.c.external_id, writeback_plan.c.action, writeback_plan.c.status,
                   writeback_plan.c.payload))}
        for key, w in wanted.items():
            row = _row(w, now)
            old = existing.get(key)
            if old is None:
                conn.execute(insert(writeback_plan).values(**row))
            elif old.status == DONE and old.payload == row["payload"]:
                counts["done"] += 1
                continue
            else:
                conn.execute(update(writeback_plan).where(*_key(key)).values(**row, netsuite_id=None))
            counts["refused" if w.blocked else "planned"] += 1
        for key, old in existing.items():
            if key not in wanted and old.status not in (DONE, SUPERSEDED):
                conn.execute(update(writeback_plan).where(*_key(key)).values(
                    status=SUPERSEDED, updated_at=now, error="no longer planned by the reconciliation"))
                counts["superseded"] += 1
    return PlanSummary(counts["planned"], counts["done"], counts["refused"], counts["superseded"])


def _key(key: tuple[str, str]) -> tuple[object, object]:
    return (writeback_plan.c.external_id == key[0], writeback_plan.c.action == key[1])


def pending_writes(engine: Engine) -> list[PlannedWrite]:
    """Rows still to write: planned, and refused ones (NetSuite may accept them now), in wave order."""
    with engine.connect() as conn:
        rows = conn.execute(select(writeback_plan).where(writeback_plan.c.status.in_((PLANNED, REFUSED)))
                            .order_by(writeback_plan.c.wave, writeback_plan.c.external_id,
                                      writeback_plan.c.action)).all()
    return [_write(r) for r in rows]


def _write(r: object) -> PlannedWrite:
    payload = loads(r.payload)  # type: ignore[attr-defined]
    blocked = r.error if not payload else None  # type: ignore[attr-defined]
    return PlannedWrite(
        external_id=r.external_id, action=r.action, record_type=r.record_type, reason=r.reason,  # type: ignore[attr-defined]
        payload=payload, wave=r.wave, depends_on=tuple(loads(r.depends_on)),  # type: ignore[attr-defined]
        stripe_object_id=r.stripe_object_id, stripe_metadata_key=r.stripe_metadata_key,  # type: ignore[attr-defined]
        reduce_applications=applications(loads(r.unapply_first)),  # type: ignore[attr-defined]
        blocked=blocked,
    )


def known_netsuite_ids(engine: Engine) -> dict[str, int]:
    """External id -> internal id of every record the writeback has written."""
    with engine.connect() as conn:
        rows = conn.execute(select(writeback_log.c.external_id, writeback_log.c.netsuite_id)
                            .where(writeback_log.c.status == WRITTEN, writeback_log.c.netsuite_id.is_not(None))
                            .order_by(writeback_log.c.id)).all()
    return {eid: int(nid) for eid, nid in rows}


@dataclass(frozen=True)
class Attempt:
    external_id: str
    action: str
    record_type: str
    reason: str
    request: str  # JSON text sent
    status: str  # written | refused | failed
    response: str | None
    netsuite_id: int | None
    stripe_object_id: str | None


def record_attempt(engine: Engine, attempt: Attempt, *, run_id: str | None, plan_status: str | None,
                   now: dt.datetime | None = None) -> None:
    """Append the log row and, when `plan_status` is given, set the plan row's status, atomically."""
    now = now or utcnow()
    with engine.begin() as conn:
        _log(conn, attempt, run_id, now)
        if plan_status is not None:
            conn.execute(update(writeback_plan).where(*_key((attempt.external_id, attempt.action))).values(
                status=plan_status, netsuite_id=attempt.netsuite_id, updated_at=now,
                error=None if plan_status == DONE else attempt.response))


def _log(conn: Connection, a: Attempt, run_id: str | None, now: dt.datetime) -> None:
    conn.execute(insert(writeback_log).values(
        external_id=a.external_id, record_type=a.record_type, action=a.action, reason=a.reason,
        request=a.request, status=a.status, response=a.response, netsuite_id=a.netsuite_id,
        stripe_object_id=a.stripe_object_id, attempted_at=now, run_id=run_id))


def note_not_attempted(engine: Engine, key: tuple[str, str], why: str) -> None:
    """A planned write skipped this run (its dependency was refused): say why on the plan row."""
    with engine.begin() as conn:
        conn.execute(update(writeback_plan).where(*_key(key)).values(error=why, updated_at=utcnow()))
