"""Events: stored as API objects (GET /v1/events) and delivered to the webhook URL, signed like Stripe.

An event is written in the same transaction as the change it announces. When a webhook URL is
configured at that moment, a `stripe_delivery` row queues it; a thread POSTs the raw JSON with

    Stripe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" keyed by the whole whsec_ secret>

(what stripe.WebhookSignature.verify_header checks). A 2xx marks it delivered; anything else is
retried with exponential backoff until settings.webhook_max_attempts, then given up (the admin
API's redeliver queues it again). As on Stripe, delivery is at least once and unordered.
"""
from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timezone
from typing import Any, Callable

from ..delivery import DeliveryThread, sign
from .ids import IdFactory
from .settings import StripeSandboxSettings
from .store import StripeStore


class EventLog(DeliveryThread):
    """Creates events and delivers them."""

    thread_name = "stripe-sandbox-webhooks"
    failure_message = "Stripe sandbox webhook delivery failed"

    def __init__(self, store: StripeStore, settings: StripeSandboxSettings, now: Callable[[], int],
                 secret: Callable[[], str]) -> None:
        super().__init__(store)
        self.store: StripeStore = store
        self.settings = settings
        self.now = now
        self.secret = secret
        self.ids = IdFactory()
        self.request_context = threading.local()

    # ------------------------------------------------------------------ producing
    def emit(self, event_type: str, obj: dict[str, Any], previous: dict[str, Any] | None = None) -> dict[str, Any]:
        request = getattr(self.request_context, "value", None) or {"id": None, "idempotency_key": None}
        deliver = bool(self.settings.webhook_url)
        event = {
            "id": self.ids.new("evt"), "object": "event", "api_version": self.settings.api_version,
            "created": self.now(),
            "data": {"object": json.loads(json.dumps(obj))} | ({"previous_attributes": previous} if previous else {}),
            "livemode": False, "pending_webhooks": 1 if deliver else 0, "request": dict(request), "type": event_type,
        }
        with self.store.write() as conn:
            self.store.insert(event)
            if deliver:
                conn.execute("INSERT INTO stripe_delivery(event_id) VALUES (?)", (event["id"],))
        if deliver:
            self.kick()
        return event

    def redeliver(self, event_ids: list[str] | None = None) -> int:
        """Queue events (given ones, else every undelivered one) for a fresh set of attempts."""
        with self.store.write() as conn:
            if event_ids:
                n = 0
                for event_id in event_ids:
                    if self.store.get(event_id, "event") is None:
                        continue
                    conn.execute("INSERT INTO stripe_delivery(event_id) VALUES (?) ON CONFLICT(event_id) DO UPDATE "
                                 "SET attempts = 0, next_attempt_at = 0, given_up = 0, delivered_at = NULL",
                                 (event_id,))
                    n += 1
            else:
                n = conn.execute("UPDATE stripe_delivery SET attempts = 0, next_attempt_at = 0, given_up = 0 "
                                 "WHERE delivered_at IS NULL").rowcount
        self.kick()
        return n

    def deliveries(self, limit: int = 100) -> list[dict[str, Any]]:
        rows = self.store.connect().execute(
            "SELECT d.event_id, d.attempts, d.delivered_at, d.last_error, d.given_up, o.body FROM stripe_delivery d "
            "JOIN stripe_object o ON o.id = d.event_id ORDER BY o.seq DESC LIMIT ?", (limit,)).fetchall()
        return [{"event_id": r["event_id"], "type": json.loads(r["body"])["type"], "attempts": r["attempts"],
                 "delivered_at": r["delivered_at"], "last_error": r["last_error"], "given_up": bool(r["given_up"])}
                for r in rows]

    def counts(self) -> dict[str, int]:
        row = self.store.connect().execute(
            "SELECT count(*), count(delivered_at), sum(given_up) FROM stripe_delivery").fetchone()
        total, delivered, given_up = row[0], row[1], row[2] or 0
        return {"queued": total, "delivered": delivered, "given_up": given_up,
                "pending": total - delivered - given_up, "failed_attempts": self.failed_attempts}

    # ------------------------------------------------------------------ delivering (DeliveryThread runs it)
    def target_url(self) -> str | None:
        return self.settings.webhook_url

    def deliver_due(self, session: Any, url: str) -> tuple[bool, float]:
        now = time.time()
        rows = self.store.connect().execute(
            "SELECT d.event_id, d.attempts, d.next_attempt_at, o.body FROM stripe_delivery d "
            "JOIN stripe_object o ON o.id = d.event_id WHERE d.delivered_at IS NULL AND d.given_up = 0 "
            "ORDER BY o.seq LIMIT 200").fetchall()
        delivered_any = False
        next_wait = 1.0
        for row in rows:
            if self._stopping:
                break
            if row["next_attempt_at"] > now:
                next_wait = min(next_wait, row["next_attempt_at"] - now)
                continue
            ok, error = self._post(session, url, row["body"].encode())
            attempts = row["attempts"] + 1
            with self.store.write() as conn:
                if ok:
                    conn.execute("UPDATE stripe_delivery SET attempts = ?, delivered_at = ?, last_error = NULL "
                                 "WHERE event_id = ?", (attempts, datetime.now(timezone.utc).isoformat(),
                                                        row["event_id"]))
                    body = json.loads(row["body"])
                    body["pending_webhooks"] = 0
                    self.store.update(body)
                else:
                    backoff = min(self.settings.webhook_retry_max_s,
                                  self.settings.webhook_retry_base_s * (2 ** (attempts - 1)))
                    given_up = int(attempts >= self.settings.webhook_max_attempts)
                    conn.execute("UPDATE stripe_delivery SET attempts = ?, last_error = ?, next_attempt_at = ?, "
                                 "given_up = ? WHERE event_id = ?",
                                 (attempts, error[:500], time.time() + backoff, given_up, row["event_id"]))
                    next_wait = min(next_wait, backoff)
            if ok:
                self.delivered += 1
                delivered_any = True
            else:
                self.failed_attempts += 1
        return delivered_any, max(0.01, next_wait)

    def _post(self, session: Any, url: str, body: bytes) -> tuple[bool, str]:
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                   "Stripe-Signature": sign(body, self.secret())}
        try:
            resp = session.post(url, data=body, headers=headers, timeout=(5.0, 30.0))
        except Exception as exc:
            return False, f"{type(exc).__name__}: {exc}"
        if 200 <= resp.status_code < 300:
            return True, ""
        return False, f"HTTP {resp.status_code}: {resp.text[:200]}"
