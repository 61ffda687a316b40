"""Reading and advancing sync cursors inside the caller's transaction.

    with begin_write(engine) as conn:          # or engine.begin()
        upsert_rows(conn, invoices, rows)
        write_cursor(conn, "invoice", last_modified=..., last_id=..., mode="incremental", rows=len(rows))

A crash before the commit loses both the rows and the cursor move, so the next run repeats the
work; it can never skip it. Read the cursor in its own short transaction before calling
NetSuite (never hold a transaction open across HTTP calls); a transaction that reads and then
writes should be `begin_write` on SQLite (see engine.begin_write).

A sync that commits a long pass page by page (rows arrive in id order, not in modification
order) also keeps the pass in progress, so that a killed pass resumes where it stopped and the
cursor moves only when it completes:

    state = read_pass_state(conn, "stripe:charge")          # PassState(cursor, window or None)
    write_pass_state(conn, "stripe:charge", cursor=state.cursor, window=PassWindow(...), mode=..., rows=...)
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, case, select, update

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


@dataclass(frozen=True)
class PassWindow:
    """A pass in progress (ns_sync_state.window_*): what it reads and where to resume it."""

    mode: str  # the caller's name for the pass: incremental, full, backfill, ...
    since: dt.datetime | None  # lower bound of what the pass reads; None reads everything
    through: dt.datetime | None  # the cursor to set once the pass completes
    opened_at: dt.datetime  # warehouse clock when it began: rows not rewritten since were deleted
    position: str | None  # the caller's resume point as text (the last id written, or JSON)


@dataclass(frozen=True)
class PassState:
    cursor: dt.datetime | None  # cursor_last_modified
    window: PassWindow | None  # None: no pass in progress


# PassWindow field -> its ns_sync_state column
_WINDOW_COLUMNS = {"mode": "window_mode", "since": "window_since", "through": "window_through",
                   "opened_at": "window_opened_at", "position": "window_position"}


def read_pass_state(conn: Connection, record_type: str) -> PassState:
    """The cursor of `record_type` and its pass in progress (both None before its first sync)."""
    row = conn.execute(select(sync_state).where(sync_state.c.record_type == record_type)).mappings().first()
    if row is None:
        return PassState(None, None)
    window = None
    if row["window_mode"] and row["window_opened_at"] is not None:
        window = PassWindow(**{field: row[column] for field, column in _WINDOW_COLUMNS.items()})
    return PassState(row["cursor_last_modified"], window)


def write_pass_state(conn: Connection, record_type: str, *, cursor: dt.datetime | None, window: PassWindow | None,
                     mode: str, rows: int, run_id: str | None, last_id: int | None = None) -> None:
    """Set the cursor (as write_cursor) and the pass in progress (None: it is over), in the
    caller's transaction: commit it with the page of rows it covers."""
    write_cursor(conn, record_type, last_modified=cursor, last_id=last_id, mode=mode, rows=rows, run_id=run_id)
    values = {column: getattr(window, field) if window else None for field, column in _WINDOW_COLUMNS.items()}
    conn.execute(update(sync_state).where(sync_state.c.record_type == record_type).values(**values))


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
