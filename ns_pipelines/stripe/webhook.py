"""Stripe webhook events: the signature check and what the inbox keeps of an event.

    verify(raw_body, request.headers["Stripe-Signature"], secrets)   # StripeWebhookError if not authentic
    event = parse_event(raw_body)                                      # StripeEvent, or StripeWebhookError

The signature is checked by the stripe SDK (stripe.WebhookSignature.verify_header: any v1 value
matching "<t>.<raw body>" HMAC-SHA256 under the whsec_ secret, constant-time), with Stripe's
five-minute tolerance passed explicitly (the SDK's default is no tolerance at all). Several
secrets are accepted while one is being rotated (STRIPE_WEBHOOK_SECRET, comma list).

The inbox (ns_webhook_inbox, source "stripe") keeps each event once by its evt_ id: record_type is
the object type (charge, refund, dispute, payout, customer, payment_intent, ...), object_id its id,
event is create, edit or delete (from the type's last part), account the connected account
(acct_...) or "self", and body the raw event. The sensor re-fetches the object; the payload is
only a snapshot.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import stripe

SIGNATURE_HEADER = "Stripe-Signature"
TOLERANCE_SECONDS = 300
SOURCE = "stripe"
OWN_ACCOUNT = "self"
MAX_ID_LENGTH = 128  # ns_webhook_inbox.event_id


class StripeWebhookError(ValueError):
    """Not an authentic or usable Stripe event; `field` names the culprit (None: the whole body)."""

    def __init__(self, field: str | None, message: str) -> None:
        self.field = field
        super().__init__(message)


@dataclass(frozen=True)
class StripeEvent:
    event_id: str
    type: str
    object_type: str
    object_id: str
    account: str
    created: dt.datetime
    livemode: bool

    @property
    def action(self) -> str:
        """create, edit or delete: the inbox's `event` vocabulary."""
        if self.type.endswith(".deleted"):
            return "delete"
        if self.type.endswith(".created"):
            return "create"
        return "edit"


def verify(raw: bytes, header: str | None, secrets: Sequence[str], *, tolerance: int = TOLERANCE_SECONDS) -> None:
    """Raise StripeWebhookError unless `header` signs `raw` under one of `secrets`, recently."""
    if not secrets:
        raise StripeWebhookError(None, "no Stripe webhook secret configured (STRIPE_WEBHOOK_SECRET)")
    if not header:
        raise StripeWebhookError(None, f"missing {SIGNATURE_HEADER} header")
    last: Exception | None = None
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(raw, header, secret, tolerance=tolerance)
            return
        except stripe.SignatureVerificationError as exc:
            last = exc
    # The SDK's message says what failed (no match, timestamp outside tolerance), never the secret.
    raise StripeWebhookError(None, f"{SIGNATURE_HEADER} does not verify: {str(last).splitlines()[0][:200]}")


def _text(body: Mapping[str, Any], field: str, prefix: str | None = None) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not value:
        raise StripeWebhookError(field, f"{field} is missing or not a string")
    if prefix and not value.startswith(prefix):
        raise StripeWebhookError(field, f"{field} must start with {prefix}")
    if len(value) > MAX_ID_LENGTH:
        raise StripeWebhookError(field, f"{field} is longer than {MAX_ID_LENGTH} characters")
    return value


def parse_event(raw: bytes) -> StripeEvent:
    try:
        body = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise StripeWebhookError(None, "body is not UTF-8") from None
    except (ValueError, RecursionError) as exc:
        raise StripeWebhookError(None, f"body is not valid JSON: {exc}") from None
    if not isinstance(body, dict) or body.get("object") != "event":
        raise StripeWebhookError("object", "body is not a Stripe event (object must be \"event\")")
    event_id = _text(body, "id", "evt_")
    event_type = _text(body, "type")
    created = body.get("created")
    if isinstance(created, bool) or not isinstance(created, int) or created < 0:
        raise StripeWebhookError("created", "created must be unix seconds")
    data = body.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict):
        raise StripeWebhookError("data.object", "data.object is missing")
    try:
        object_type, object_id = _text(obj, "object"), _text(obj, "id")
    except StripeWebhookError as exc:
        raise StripeWebhookError(f"data.object.{exc.field}", str(exc)) from None
    account = body.get("account")
    return StripeEvent(
        event_id=event_id, type=event_type, object_type=object_type[:64], object_id=object_id,
        account=account if isinstance(account, str) and account else OWN_ACCOUNT,
        created=dt.datetime.fromtimestamp(created, dt.timezone.utc), livemode=bool(body.get("livemode")),
    )
