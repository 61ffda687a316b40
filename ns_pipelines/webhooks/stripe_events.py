"""POST /stripe/events: Stripe webhook events into the inbox (source "stripe").

Order, as for NetSuite events: signature on the raw bytes (401), payload (400 naming the field),
inbox insert once by evt_ id (503 when the warehouse is unavailable: not acknowledged, Stripe
retries), 200 {"event_id", "duplicate"}. Stripe counts any 2xx as delivered. Nothing here calls
Stripe: stripe_events_sensor (ns_pipelines.defs.stripe) re-fetches the objects.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from ns_pipelines.stripe.webhook import StripeWebhookError, parse_event, verify
from ns_pipelines.webhooks.inbox import Inbox, WarehouseUnavailable

log = logging.getLogger("ns_pipelines.webhooks")


def receive_stripe_event(raw: bytes, signature: str | None, secrets: Sequence[str], inbox: Inbox,
                         remote: str = "-") -> tuple[int, dict[str, Any]]:
    """(HTTP status, JSON body) for one delivery."""
    try:
        verify(raw, signature, secrets)
    except StripeWebhookError as exc:
        log.warning("stripe event rejected 401 from %s: %s", remote, exc)
        return 401, {"error": "invalid_signature", "message": str(exc)}
    try:
        event = parse_event(raw)
    except StripeWebhookError as exc:
        log.warning("stripe event rejected 400 from %s: %s", remote, exc)
        return 400, {"error": "invalid_payload", "message": str(exc), "field": exc.field}
    try:
        stored = inbox.store(event, raw)
    except WarehouseUnavailable as exc:
        log.error("stripe event %s NOT stored (503, Stripe retries): warehouse unavailable: %s", event.event_id, exc)
        return 503, {"error": "warehouse_unavailable", "message": "the event could not be stored; retry later"}
    log.info("stripe event %s: %s %s, %s", event.event_id, event.type, event.object_id,
             "duplicate, already stored" if stored.duplicate else f"stored as inbox id {stored.inbox_id}")
    return 200, {"event_id": event.event_id, "duplicate": stored.duplicate}
