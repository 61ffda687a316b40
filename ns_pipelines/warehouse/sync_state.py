"""Reading and advancing sync cursors inside the caller's transaction.

    with begin_write(engine) as conn:          # or engine.begin()
        upsert_rows(conn, invoices, rows)
        write_cursor(conn, "invoice", last_modified=..., last_id=..., mode="incremental", rows=len(rows))

A crash before the commit loses both the rows and the cursor move, so the next run repeats the
work; it can never skip it. Read the cursor in its own short transaction before calling
NetSuite (never hold a transaction open across HTTP calls); a transaction that reads and then
writes should be `begin_write` on SQLite (see engine.begin_write).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, case, select

from ns_pipelines.warehouse.tables.state import sync_state
from ns_pipelines.warehouse.writes import dialect_insert


@dataclass(frozen=True)
class SyncCursor:
    record_type: str
    last_modified: dt.datetime | None
    last_id: int | None
    last_run_mode: str | None
    last_run_id: str | None
    last_run_rows: int
    rows_total: int
    updated_at: dt.datetime


def read_cursor(conn: Connection, record_type: str) -> SyncCursor | None:
    """The stored cursor of `record_type`, or None before its first sync."""
    t = sync_state.c
    row = conn.execute(select(sync_state).where(t.record_type == record_type)).mappings().first()
    if row is None:
        return None
    return SyncCursor(
        record_type=row["record_type"],
        last_modified=row["cursor_last_modified"],
        last_id=row["cursor_last_id"],
        last_run_mode=row["last_run_mode"],
        last_run_id=row["last_run_id"],
        last_run_rows=row["last_run_rows"],
        rows_total=row["rows_total"],
        updated_at=row["updated_at"],
    )


def write_cursor(
    conn: Connection,
    record_type: str,
    *,
    last_modified: dt.datetime | None,
    last_id: int | None = None,
    mode: str,
    rows: int = 0,
    run_id: str | None = None,
    updated_at: dt.datetime | None = None,
) -> None:
    """Set the cursor of `record_type` (an aware `last_modified`, or None to start over).

    `rows` are the rows written in this transaction: they add to rows_total, and to last_run_rows
    when `run_id` is the same as the stored one (a run that commits page by page), else they
    start it afresh. The caller decides whether the cursor may move: a targeted run (webhook,
    manual resync) must not move the incremental cursor past rows it did not read.
    """
    values = {
        "record_type": record_type,
        "cursor_last_modified": last_modified,
        "cursor_last_id": last_id,
        "last_run_mode": mode,
        "last_run_id": run_id,
        "last_run_rows": rows,
        "rows_total": rows,
        "updated_at": updated_at or dt.datetime.now(dt.timezone.utc),
    }
    stmt = dialect_insert(conn, sync_state).values(values)
    new, old = stmt.excluded, sync_state.c
    same_run = old.last_run_id.is_not_distinct_from(new.last_run_id) & new.last_run_id.is_not(None)
    stmt = stmt.on_conflict_do_update(
        index_elements=[old.record_type],
        set_={
            "cursor_last_modified": new.cursor_last_modified,
            "cursor_last_id": new.cursor_last_id,
            "last_run_mode": new.last_run_mode,
            "last_run_id": new.last_run_id,
            "last_run_rows": case((same_run, old.last_run_rows + new.last_run_rows), else_=new.last_run_rows),
            "rows_total": old.rows_total + new.rows_total,
            "updated_at": new.updated_at,
        },
    )
    conn.execute(stmt)
