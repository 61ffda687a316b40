"""Change events, as the project's SuiteScript user-event script would post them.

RecordService calls `notify(record_type, record_id, event)` for every create/edit/xedit/delete
(a void is an edit). Each event is first written to `sandbox_outbox` (inside the caller's write
transaction when there is one, so a rolled-back change never announces itself), then a delivery
thread POSTs it to settings.notify_url with the contract's signature header (behaviour.md 3):

    X-NS-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256("<t>.<raw body>", settings.notify_secret)>

A 2xx answer marks it delivered; anything else (or no answer) is retried with exponential backoff
up to settings.notify_max_attempts, then left undelivered with its last error. Without a URL the
events just stay in the outbox (admin API: GET /sandbox/admin/v1/events).
"""
from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timezone
from typing import Any

from ..delivery import DeliveryThread, sign
from .settings import SandboxSettings
from .store import Store

__all__ = ["EVENTS", "Notifier", "sign"]

EVENTS = {"create", "edit", "xedit", "delete"}


class Notifier(DeliveryThread):
    thread_name = "sandbox-notifier"
    failure_message = "change-event delivery failed"

    def __init__(self, store: Store, settings: SandboxSettings, *, retry_base_s: float = 1.0,
                 retry_max_s: float = 60.0, timeout_s: tuple[float, float] = (5.0, 45.0)) -> None:
        super().__init__(store)
        self.store: Store = store
        self.settings = settings
        self.retry_base_s = retry_base_s
        self.retry_max_s = retry_max_s
        self.timeout_s = timeout_s
        self._next_due: dict[int, float] = {}

    # ------------------------------------------------------------------ producer side
    def notify(self, record_type: str, record_id: int | str, event: str) -> str:
        """Store the event in the outbox and wake the delivery thread; returns the event id."""
        event_id = str(uuid.uuid4())
        body = {
            "event_id": event_id,
            "account": self.settings.account_id,
            "record_type": str(record_type).lower(),
            "record_id": str(record_id),
            "event": event,
            "occurred_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        with self.store.write() as conn:
            conn.execute("INSERT INTO sandbox_outbox(event_id, body) VALUES (?, ?)",
                         (event_id, json.dumps(body, separators=(",", ":"))))
        self.kick()
        return event_id

    # ------------------------------------------------------------------ reading the outbox
    def events(self, *, delivered: bool | None = None, limit: int = 100, after_id: int = 0) -> list[dict[str, Any]]:
        sql = "SELECT id, event_id, body, attempts, delivered_at, last_error FROM sandbox_outbox WHERE id > ?"
        if delivered is True:
            sql += " AND delivered_at IS NOT NULL"
        elif delivered is False:
            sql += " AND delivered_at IS NULL"
        sql += " ORDER BY id DESC LIMIT ?"
        rows = self.store.connect().execute(sql, (after_id, limit)).fetchall()
        return [{"id": r["id"], "event_id": r["event_id"], "body": json.loads(r["body"]),
                 "attempts": r["attempts"], "delivered_at": r["delivered_at"], "last_error": r["last_error"]}
                for r in rows]

    def counts(self) -> dict[str, int]:
        row = self.store.connect().execute(
            "SELECT count(*), count(delivered_at), "
            "sum(CASE WHEN delivered_at IS NULL AND attempts >= ? THEN 1 ELSE 0 END) FROM sandbox_outbox",
            (self.settings.notify_max_attempts,)).fetchone()
        total, delivered, given_up = row[0], row[1], row[2] or 0
        return {"total": total, "delivered": delivered, "pending": total - delivered - given_up,
                "given_up": given_up, "failed_attempts": self.failed_attempts}

    def clear(self) -> None:
        with self.store.write() as conn:
            conn.execute("DELETE FROM sandbox_outbox")
        self._next_due.clear()

    def redeliver(self) -> int:
        """Give every undelivered event a fresh set of attempts."""
        with self.store.write() as conn:
            n = conn.execute("UPDATE sandbox_outbox SET attempts = 0 WHERE delivered_at IS NULL").rowcount
        self._next_due.clear()
        self.kick()
        return n

    # ------------------------------------------------------------------ delivering (DeliveryThread runs it)
    def target_url(self) -> str | None:
        return self.settings.notify_url

    def deliver_due(self, session: Any, url: str) -> tuple[bool, float]:
        max_attempts = self.settings.notify_max_attempts
        rows = self.store.connect().execute(
            "SELECT id, body, attempts FROM sandbox_outbox WHERE delivered_at IS NULL AND attempts < ? "
            "ORDER BY id LIMIT 200", (max_attempts,)).fetchall()
        delivered_any = False
        next_wait = 1.0
        for row in rows:
            if self._stopping:
                break
            now = time.monotonic()
            due = self._next_due.get(row["id"], 0.0)
            if due > now:
                next_wait = min(next_wait, due - now)
                continue
            ok, error = self._post(session, url, row["body"])
            attempts = row["attempts"] + 1
            with self.store.write() as conn:
                if ok:
                    conn.execute("UPDATE sandbox_outbox SET attempts = ?, delivered_at = ?, last_error = NULL "
                                 "WHERE id = ?", (attempts, datetime.now(timezone.utc).strftime(
                                     "%Y-%m-%dT%H:%M:%S.%fZ"), row["id"]))
                else:
                    conn.execute("UPDATE sandbox_outbox SET attempts = ?, last_error = ? WHERE id = ?",
                                 (attempts, error[:500], row["id"]))
            if ok:
                self.delivered += 1
                delivered_any = True
                self._next_due.pop(row["id"], None)
            else:
                self.failed_attempts += 1
                backoff = min(self.retry_max_s, self.retry_base_s * (2 ** (attempts - 1)))
                self._next_due[row["id"]] = time.monotonic() + backoff
                next_wait = min(next_wait, backoff)
        return delivered_any, max(0.0, next_wait)

    def _post(self, session: Any, url: str, body: str) -> tuple[bool, str]:
        raw = body.encode()
        headers = {"Content-Type": "application/json", "X-NS-Signature": sign(raw, self.settings.notify_secret),
                   "User-Agent": "SuiteScript-Call"}
        try:
            resp = session.post(url, data=raw, headers=headers, timeout=self.timeout_s)
        except Exception as exc:  # connection refused, timeout ...
            return False, f"{type(exc).__name__}: {exc}"
        if 200 <= resp.status_code < 300:
            return True, ""
        return False, f"HTTP {resp.status_code}: {resp.text[:200]}"
