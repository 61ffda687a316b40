"""The receiver's WSGI app.

    POST /netsuite/events   a signed change event -> 202 {"event_id", "duplicate"}
    POST /stripe/events     a Stripe webhook event (Stripe-Signature) -> 200 (stripe_events.py);
                            404 while STRIPE_WEBHOOK_SECRET is unset
    GET  /health            200 when the warehouse answers (and the inbox table is there), else 503

A POST /netsuite/events goes, in this order: size (413 over max_body_bytes, before reading),
signature on the raw bytes (401: missing, malformed, not matching, or a timestamp more than five
minutes away, which refuses replays), payload (400 naming the field), inbox insert (503 when the
warehouse is unavailable: the event is not acknowledged and the sender retries), 202. A duplicate
event_id is acknowledged 202 with "duplicate": true and not stored again. Every answer is JSON;
bad input never gets a 500. One log line per request on this path, without the signature, the
secret or the body.
"""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from ns_pipelines.stripe.webhook import SIGNATURE_HEADER as STRIPE_SIGNATURE_HEADER
from ns_pipelines.webhooks.inbox import Inbox, WarehouseUnavailable
from ns_pipelines.webhooks.payload import PayloadError, parse_event
from ns_pipelines.webhooks.signature import SIGNATURE_HEADER, TOLERANCE_SECONDS, SignatureError, verify
from ns_pipelines.webhooks.stripe_events import receive_stripe_event

log = logging.getLogger("ns_pipelines.webhooks")

NETSUITE_PATH = "/netsuite/events"
STRIPE_PATH = "/stripe/events"
HEALTH_PATH = "/health"
DEFAULT_MAX_BODY_BYTES = 64 * 1024  # an event is ~250 bytes
RETRY_AFTER_SECONDS = 5


def _json(body: dict[str, Any], status: int, headers: dict[str, str] | None = None) -> Response:
    """A JSON answer; every 503 tells the sender when to retry (Retry-After)."""
    if status == 503:
        headers = {**(headers or {}), "Retry-After": str(RETRY_AFTER_SECONDS)}
    return Response(json.dumps(body, separators=(",", ":")), status=status, headers=headers,
                    content_type="application/json")


def _error(status: int, error: str, message: str, **extra: Any) -> Response:
    return _json({"error": error, "message": message, **extra}, status)


class BodyTooLarge(Exception):
    pass


class WebhookApp:
    """WSGI callable. `secrets`: the shared secrets (several while rotating); `account_id`: the
    account events must come from (None: any); `clock`: seconds since the epoch (tests)."""

    def __init__(self, inbox: Inbox, secrets: Sequence[str], *, account_id: str | None = None,
                 max_body_bytes: int = DEFAULT_MAX_BODY_BYTES, tolerance: int = TOLERANCE_SECONDS,
                 clock: Callable[[], float] = time.time, stripe_secrets: Sequence[str] | None = None) -> None:
        if not secrets:
            raise ValueError("the webhook receiver needs at least one secret")
        self.inbox = inbox
        self.secrets = list(secrets)
        self.account_id = account_id
        self.max_body_bytes = int(max_body_bytes)
        self.tolerance = int(tolerance)
        self.clock = clock
        if stripe_secrets is None:
            from ns_pipelines.stripe.config import webhook_secrets_from_env

            stripe_secrets = webhook_secrets_from_env()
        self.stripe_secrets = list(stripe_secrets)  # empty: /stripe/events answers 404

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        try:
            response = self.dispatch(request)
        except HTTPException as exc:  # werkzeug's own (a client that disconnected mid-body, ...)
            response = _error(exc.code or 400, "bad_request", exc.description or exc.name)
        except Exception:  # a bug, not bad input: log it, answer without details
            log.exception("unexpected error on %s %s", request.method, request.path)
            response = _error(500, "internal_error", "internal error; the event was not stored")
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        path = request.path.rstrip("/") or "/"
        if path == NETSUITE_PATH:
            if request.method != "POST":
                return _json({"error": "method_not_allowed", "message": "use POST"}, 405, {"Allow": "POST"})
            return self.netsuite_event(request)
        if path == STRIPE_PATH:
            if request.method != "POST":
                return _json({"error": "method_not_allowed", "message": "use POST"}, 405, {"Allow": "POST"})
            return self.stripe_event(request)
        if path == HEALTH_PATH:
            if request.method not in ("GET", "HEAD"):
                return _json({"error": "method_not_allowed", "message": "use GET"}, 405, {"Allow": "GET, HEAD"})
            return self.health()
        return _error(404, "not_found", f"no such endpoint: {request.path[:100]}")

    def health(self) -> Response:
        try:
            self.inbox.ping()
        except WarehouseUnavailable as exc:
            log.warning("health: warehouse unavailable: %s", exc)
            return _json({"status": "unavailable", "warehouse": "unavailable", "error": str(exc)}, 503)
        return _json({"status": "ok", "warehouse": "ok"}, 200)

    def _body(self, request: Request) -> bytes:
        length = request.content_length
        if length is not None and length > self.max_body_bytes:
            raise BodyTooLarge()
        chunks: list[bytes] = []
        size = 0
        while True:  # Content-Length or chunked: read at most one byte past the limit
            chunk = request.stream.read(min(65536, self.max_body_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > self.max_body_bytes:
                raise BodyTooLarge()
        return b"".join(chunks)

    def netsuite_event(self, request: Request) -> Response:
        started = time.perf_counter()
        remote = request.remote_addr or "-"

        def reject(status: int, error: str, message: str, **extra: Any) -> Response:
            log.warning("netsuite event rejected %d %s from %s: %s", status, error, remote, message)
            return _error(status, error, message, **extra)

        try:
            raw = self._body(request)
        except BodyTooLarge:
            return reject(413, "body_too_large", f"body is larger than {self.max_body_bytes} bytes")
        try:
            verify(raw, request.headers.get(SIGNATURE_HEADER), self.secrets, tolerance=self.tolerance,
                   now=self.clock())
        except SignatureError as exc:
            return reject(401, "invalid_signature", str(exc))
        try:
            event = parse_event(raw, account_id=self.account_id)
        except PayloadError as exc:
            return reject(400, "invalid_payload", str(exc), field=exc.field)
        try:
            stored = self.inbox.store(event, raw)
        except WarehouseUnavailable as exc:
            log.error("netsuite event %s NOT stored (503, the sender retries): warehouse unavailable: %s",
                      event.event_id, exc)
            return _error(503, "warehouse_unavailable", "the event could not be stored; retry later")
        log.info("netsuite event %s: %s %d %s, %s (%.1f ms)", event.event_id, event.record_type, event.record_id,
                 event.event, "duplicate, already stored" if stored.duplicate else f"stored as inbox id {stored.inbox_id}",
                 (time.perf_counter() - started) * 1000)
        return _json({"event_id": event.event_id, "duplicate": stored.duplicate}, 202)

    def stripe_event(self, request: Request) -> Response:
        if not self.stripe_secrets:
            return _error(404, "not_found", "Stripe events are not received here: STRIPE_WEBHOOK_SECRET is not set")
        try:
            raw = self._body(request)
        except BodyTooLarge:
            return _error(413, "body_too_large", f"body is larger than {self.max_body_bytes} bytes")
        status, body = receive_stripe_event(raw, request.headers.get(STRIPE_SIGNATURE_HEADER), self.stripe_secrets,
                                            self.inbox, request.remote_addr or "-")
        return _json(body, status)
