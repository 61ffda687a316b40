"""Stripe sync state in ns_sync_state: one row per object type, record_type "stripe:<object>".

- cursor_last_modified: Stripe time up to which the table is complete; the next events pass reads
  events created from here minus the overlap.
- window_*: a list backfill in progress (window_mode "backfill"; window_position the last id
  written, the `starting_after` to resume from; window_since the created[gte] filter;
  window_through the cursor to set once the backfill completes; window_opened_at our clock when
  it began).
Written only inside the caller's transaction, with the rows they cover.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, select, update

from ns_pipelines.warehouse.sync_state import write_cursor
from ns_pipelines.warehouse.tables.state import sync_state

PREFIX = "stripe:"


def state_key(object_type: str) -> str:
    return f"{PREFIX}{object_type}"


@dataclass(frozen=True)
class Backfill:
    since: dt.datetime | None  # created[gte]; None lists everything
    through: dt.datetime  # the cursor once complete: Stripe time when the backfill began
    opened_at: dt.datetime  # our clock when it began: customers not rewritten since were deleted
    after: str | None  # starting_after to resume from


@dataclass(frozen=True)
class StripeState:
    cursor: dt.datetime | None
    backfill: Backfill | None


def load_state(engine: Engine, object_type: str) -> StripeState:
    c = sync_state.c
    with engine.connect() as conn:
        row = conn.execute(select(sync_state).where(c.record_type == state_key(object_type))).mappings().first()
    if row is None:
        return StripeState(None, None)
    backfill = None
    if row["window_mode"] == "backfill" and row["window_through"] is not None:
        backfill = Backfill(since=row["window_since"], through=row["window_through"],
                            opened_at=row["window_opened_at"], after=row["window_position"])
    return StripeState(row["cursor_last_modified"], backfill)


def save_state(conn: Connection, object_type: str, *, cursor: dt.datetime | None, backfill: Backfill | None,
               mode: str, rows: int, run_id: str | None) -> None:
    """Cursor and backfill position (None: none in progress), in the caller's transaction."""
    key = state_key(object_type)
    write_cursor(conn, key, last_modified=cursor, mode=mode, rows=rows, run_id=run_id)
    conn.execute(update(sync_state).where(sync_state.c.record_type == key).values(
        window_mode="backfill" if backfill else None,
        window_since=backfill.since if backfill else None,
        window_through=backfill.through if backfill else None,
        window_opened_at=backfill.opened_at if backfill else None,
        window_position=backfill.after if backfill else None,
    ))
