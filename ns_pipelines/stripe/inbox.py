"""Stripe events in the webhook inbox (source "stripe") -> the objects a targeted sync re-fetches.

    events = read_stripe_events(engine, after=41, limit=500)
    targets = objects_to_refresh(events)        # {"charge": ["ch_1", ...], "dispute": [...]}
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, select

from ns_pipelines.stripe.refresh import CHARGE_OF, charge_of
from ns_pipelines.stripe.results import OBJECT_TYPES
from ns_pipelines.stripe.webhook import SOURCE
from ns_pipelines.warehouse.tables.inbox import webhook_inbox


@dataclass(frozen=True)
class StripeInboxEvent:
    id: int  # inbox id: the sensor's cursor
    event_id: str
    object_type: str
    object_id: str | None
    event: str
    charge: str | None  # the charge behind a refund, dispute or payment intent, from the payload


def _charge_of(object_type: str, body: str) -> str | None:
    if object_type not in CHARGE_OF:
        return None
    try:
        return charge_of(object_type, json.loads(body)["data"]["object"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return None  # the receiver validated the shape; a charge we cannot read is re-found on re-fetch


def read_stripe_events(engine: Engine, *, after: int, limit: int) -> list[StripeInboxEvent]:
    """Inbox rows from Stripe with id > `after`, oldest first, at most `limit`."""
    t = webhook_inbox.c
    stmt = (select(t.id, t.event_id, t.record_type, t.object_id, t.event, t.body)
            .where(t.id > after, t.source == SOURCE).order_by(t.id).limit(limit))
    with engine.connect() as conn:
        return [StripeInboxEvent(id=int(r.id), event_id=r.event_id, object_type=r.record_type, object_id=r.object_id,
                                 event=r.event, charge=_charge_of(r.record_type, r.body))
                for r in conn.execute(stmt)]


def objects_to_refresh(events: Sequence[StripeInboxEvent]) -> dict[str, list[str]]:
    """Object type -> sorted ids to re-fetch, in OBJECT_TYPES order; types we do not sync are left out."""
    ids: dict[str, set[str]] = {}
    for event in events:
        if event.object_type in OBJECT_TYPES and event.object_id:
            ids.setdefault(event.object_type, set()).add(event.object_id)
        if event.charge:
            ids.setdefault("charge", set()).add(event.charge)
    return {t: sorted(ids[t]) for t in OBJECT_TYPES if t in ids}
