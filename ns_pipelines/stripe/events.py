"""Incremental passes through GET /v1/events, and Stripe's 30-day events retention."""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine

from ns_pipelines.stripe.client import StripeAPI
from ns_pipelines.stripe.refresh import fetch_objects, targets_of_event, write_fetched
from ns_pipelines.stripe.results import StripeSyncResult
from ns_pipelines.stripe.state import StripeState, save_state
from ns_pipelines.warehouse import begin_write

EVENTS_RETENTION = dt.timedelta(days=30)
# An events pass must start this far inside the retention, or events may expire while it pages.
RETENTION_MARGIN = dt.timedelta(hours=1)


def expired(cursor: dt.datetime, overlap: dt.timedelta, stripe_now: dt.datetime) -> bool:
    """Would a pass from `cursor` minus `overlap` start outside the events Stripe still keeps?"""
    return cursor - overlap < stripe_now - EVENTS_RETENTION + RETENTION_MARGIN


def list_events(api: StripeAPI, since: dt.datetime) -> tuple[list[dict[str, Any]], dt.datetime]:
    """Events created at or after `since`, oldest first, each once; and Stripe's time when the
    listing began (the cursor a complete pass may set)."""
    seen: dict[str, dict[str, Any]] = {}
    started: dt.datetime | None = None
    for page in api.events_since(since):
        started = started or api.stripe_time()
        for event in page:
            seen.setdefault(event["id"], event)
    started = started or api.stripe_time()
    events = sorted(seen.values(), key=lambda e: (e.get("created") or 0, e["id"]))
    if events:  # Stripe's clock is at least its newest event (a lower bound when Date lags, e.g. a sandbox clock)
        started = max(started, dt.datetime.fromtimestamp(int(events[-1].get("created") or 0), dt.timezone.utc))
    return events, started


def events_pass(api: StripeAPI, engine: Engine, types: list[str], events: list[dict[str, Any]],
                listed_at: dt.datetime, states: Mapping[str, StripeState],
                results: Mapping[str, StripeSyncResult], run_id: str | None) -> set[str]:
    """Re-fetch what the events name, write it and move the types' cursors, in one transaction;
    returns the payouts that changed (their balance transactions are listed next)."""
    wanted: dict[str, set[str]] = {t: set() for t in types}
    for event in events:
        for object_type, object_id in targets_of_event(event):
            if object_type in wanted:
                wanted[object_type].add(object_id)
                results[object_type].events += 1
    fetched = fetch_objects(api, engine, wanted, types, results)
    with begin_write(engine) as conn:
        write_fetched(conn, fetched, results)
        for object_type in types:
            cursor = max(filter(None, [states[object_type].cursor, listed_at]))
            save_state(conn, object_type, cursor=cursor, backfill=None, mode="events",
                       rows=results[object_type].rows_written, run_id=run_id)
            results[object_type].cursor_after = cursor
    return fetched.changed_payouts
