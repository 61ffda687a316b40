"""The sandboxes' outbound delivery thread: POST queued rows to a URL, retry on a timer, wake on kick().

NetSuite's change events (netsuite/notifications.py) and Stripe's webhooks (stripe/events.py)
share it (and `sign`, the signature both send); a subclass says where to post (`target_url`) and delivers what is due
(`deliver_due`), returning whether it delivered anything and how long until the next retry.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from typing import Any, Protocol

log = logging.getLogger(__name__)


def sign(body: bytes | str, secret: str, timestamp: int | None = None) -> str:
    """`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`: NetSuite's X-NS-Signature and
    Stripe's Stripe-Signature alike."""
    t = int(time.time()) if timestamp is None else int(timestamp)
    raw = body.encode() if isinstance(body, str) else body
    digest = hmac.new(secret.encode(), f"{t}.".encode() + raw, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


class _ThreadStore(Protocol):
    def close(self) -> None: ...


class DeliveryThread:
    """start()/stop() a daemon thread; kick() wakes it when something was queued."""

    thread_name = "sandbox-delivery"
    failure_message = "sandbox delivery failed"

    def __init__(self, store: _ThreadStore) -> None:
        self.store = store
        self._cond = threading.Condition()
        self._kicked = False
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.delivered = 0
        self.failed_attempts = 0

    def target_url(self) -> str | None:
        raise NotImplementedError

    def deliver_due(self, session: Any, url: str) -> tuple[bool, float]:
        raise NotImplementedError

    def kick(self) -> None:
        with self._cond:
            self._kicked = True
            self._cond.notify_all()

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        import requests

        session = requests.Session()
        fast_polls = 0
        try:
            while not self._stopping:
                wait = 1.0
                delivered_any = False
                url = self.target_url()
                if url:
                    try:
                        delivered_any, next_wait = self.deliver_due(session, url)
                        wait = min(wait, next_wait)
                    except Exception:  # never let the thread die (e.g. a reset wiping the tables)
                        log.exception(self.failure_message)
                if fast_polls > 0 and not delivered_any:
                    # A kick may come from inside a write transaction that has not committed yet.
                    wait = min(wait, 0.05)
                    fast_polls -= 1
                with self._cond:
                    if self._stopping:
                        break
                    if not self._kicked and wait > 0:
                        self._cond.wait(wait)
                    if self._kicked:
                        self._kicked = False
                        fast_polls = 20
        finally:
            session.close()
            self.store.close()  # this thread's SQLite connection
