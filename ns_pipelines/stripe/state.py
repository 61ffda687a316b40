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

from sqlalchemy import Connection, Engine

from ns_pipelines.warehouse.sync_state import PassWindow, read_pass_state, write_pass_state

PREFIX = "stripe:"
BACKFILL = "backfill"  # window_mode of a list backfill in progress


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
    with engine.connect() as conn:
        state = read_pass_state(conn, state_key(object_type))
    window = state.window
    if window is None or window.mode != BACKFILL or window.through is None:
        return StripeState(state.cursor, None)
    return StripeState(state.cursor, Backfill(since=window.since, through=window.through,
                                              opened_at=window.opened_at, after=window.position))


def save_state(conn: Connection, object_type: str, *, cursor: dt.datetime | None, backfill: Backfill | None,
               mode: str, rows: int, run_id: str | None) -> None:
    """Cursor and backfill position (None: none in progress), in the caller's transaction."""
    window = None if backfill is None else PassWindow(
        mode=BACKFILL, since=backfill.since, through=backfill.through, opened_at=backfill.opened_at,
        position=backfill.after)
    write_pass_state(conn, state_key(object_type), cursor=cursor, window=window, mode=mode, rows=rows, run_id=run_id)
