"""Stripe -> the raw stripe_* tables: list backfills, then incremental passes through events.

    report = sync_stripe(api, engine, OBJECT_TYPES)                    # incremental (backfills first)
    report = sync_stripe(api, engine, ["charge"], mode="full")         # re-list charges
    report = sync_objects(api, engine, {"charge": ["ch_1"]}, OBJECT_TYPES)   # targeted (webhooks)

- Backfill (first sync of an object type, `mode="full"`, or an events cursor past Stripe's 30-day
  retention): the list endpoint (created[gte] = `since` when given), 100 per page with
  starting_after. Each page commits with its position, so a killed backfill resumes where it
  stopped; the type's cursor is set when it completes, to Stripe's time when it began. A complete
  customer backfill soft-deletes customers it no longer listed (Stripe lists no deleted ones).
- Incremental: GET /v1/events from the oldest selected cursor minus the overlap, deduplicated by
  event id. The objects the events name are re-fetched (the event payload is a snapshot in the
  event's API version, and events arrive unordered), plus the charge of a changed refund, dispute
  or payment intent, and balance transactions they reference that the warehouse lacks (and
  pending ones that are due to become available). Rows and the cursors (Stripe's time when the
  events listing began) commit in one transaction.
- Payout links: each paid automatic payout whose balance transactions are not linked yet (or that
  changed in this run) is listed with ?payout=, setting stripe_balance_transactions.payout.
"""
from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Engine

from ns_pipelines.stripe.backfill import backfill_type
from ns_pipelines.stripe.client import StripeAPI
from ns_pipelines.stripe.events import EVENTS_RETENTION, events_pass, expired, list_events
from ns_pipelines.stripe.payouts import link_payouts
from ns_pipelines.stripe.refresh import CHARGE_OF, fetch_objects, write_fetched
from ns_pipelines.stripe.results import (
    OBJECT_TYPES,
    Progress,
    StripeSyncError,
    StripeSyncReport,
    StripeSyncResult,
    ordered,
)
from ns_pipelines.stripe.state import load_state
from ns_pipelines.warehouse import begin_write

__all__ = ["CHARGE_OF", "DEFAULT_OVERLAP", "OBJECT_TYPES", "StripeSyncError", "StripeSyncReport", "StripeSyncResult",
           "sync_objects", "sync_stripe"]

DEFAULT_OVERLAP = dt.timedelta(minutes=10)


def sync_stripe(api: StripeAPI, engine: Engine, object_types: Iterable[str], *, mode: str = "incremental",
                since: dt.datetime | None = None, overlap: dt.timedelta = DEFAULT_OVERLAP, run_id: str | None = None,
                progress: Progress | None = None) -> StripeSyncReport:
    """Sync the given object types (module docstring). `since`: created[gte] of new backfills."""
    if mode not in ("incremental", "full"):
        raise ValueError(f"mode must be incremental or full, got {mode!r}")
    started = time.monotonic()
    requests_before, limited_before = api.requests, api.rate_limited
    selected = ordered(object_types)
    states = {t: load_state(engine, t) for t in selected}
    results = {t: StripeSyncResult(t, "events", cursor_before=states[t].cursor) for t in selected}
    backfill = {t for t in selected if mode == "full" or states[t].cursor is None or states[t].backfill}
    incremental = [t for t in selected if t not in backfill]

    events: list[dict[str, Any]] = []
    listed_at: dt.datetime | None = None
    if incremental:
        oldest = min(states[t].cursor for t in incremental)  # type: ignore[type-var]
        events, listed_at = list_events(api, oldest - overlap)
        for t in list(incremental):
            if expired(states[t].cursor, overlap, listed_at):  # type: ignore[arg-type]
                results[t].fallback = (
                    f"cursor {states[t].cursor.isoformat()} is older than Stripe's {EVENTS_RETENTION.days}-day "  # type: ignore[union-attr]
                    "events retention: re-listed in full instead")
                backfill.add(t)
                incremental.remove(t)

    for t in selected:
        if t in backfill:
            results[t].mode = "backfill"
            t0 = time.monotonic()
            backfill_type(api, engine, t, states[t], results[t], since=since,
                          restart=mode == "full" or results[t].fallback is not None, run_id=run_id,
                          progress=progress)
            results[t].seconds = time.monotonic() - t0

    changed_payouts: set[str] = set()
    if incremental:
        t0 = time.monotonic()
        changed_payouts = events_pass(api, engine, incremental, events, listed_at,  # type: ignore[arg-type]
                                      states, results, run_id)
        for t in incremental:
            results[t].seconds = time.monotonic() - t0
    if "balance_transaction" in selected:
        t0 = time.monotonic()
        link_payouts(api, engine, changed_payouts, results["balance_transaction"], progress)
        results["balance_transaction"].seconds += time.monotonic() - t0
    return StripeSyncReport(results=results, requests=api.requests - requests_before,
                            rate_limited=api.rate_limited - limited_before, events_read=len(events),
                            seconds=time.monotonic() - started)


def sync_objects(api: StripeAPI, engine: Engine, object_ids: Mapping[str, Iterable[str]],
                 object_types: Iterable[str], *, progress: Progress | None = None) -> StripeSyncReport:
    """Re-fetch exactly these objects (plus the charges of refunds and disputes, and the balance
    transactions they reference) into the selected tables; no cursor moves."""
    started = time.monotonic()
    requests_before, limited_before = api.requests, api.rate_limited
    selected = ordered(object_types)
    results = {t: StripeSyncResult(t, "targeted") for t in selected}
    unknown = set(object_ids) - set(OBJECT_TYPES)
    if unknown:
        raise ValueError(f"not Stripe object types we sync: {sorted(unknown)}")
    fetched = fetch_objects(api, engine, {t: set(ids) for t, ids in object_ids.items()}, selected, results)
    with begin_write(engine) as conn:
        write_fetched(conn, fetched, results)
    if "balance_transaction" in selected and fetched.changed_payouts:
        link_payouts(api, engine, fetched.changed_payouts, results["balance_transaction"], progress)
    return StripeSyncReport(results=results, requests=api.requests - requests_before,
                            rate_limited=api.rate_limited - limited_before, seconds=time.monotonic() - started)
