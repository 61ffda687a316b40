"""The change event's body (behaviour.md 3), validated field by field.

    {"event_id": "...", "account": "1234567_SB1", "record_type": "invoice", "record_id": "1234",
     "event": "create" | "edit" | "xedit" | "delete", "occurred_at": "2026-11-27T10:15:00Z"}

`parse_event(raw, account_id=...)` returns a ChangeEvent or raises PayloadError naming the field
and what is wrong with it. Lenient where the sender can differ harmlessly: record types and events
are case-insensitive, record_id may be a JSON integer as well as a string of digits, an
occurred_at without an offset is taken as UTC (the contract says UTC), account ids compare in
realm form (1234567-sb1 == 1234567_SB1). Fields beyond the contract are ignored.
"""
from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ACCOUNT_ENV = "NETSUITE_ACCOUNT_ID"
# The record types the SuiteScript is deployed on (ns_pipelines.sync RECORD_TYPES without the two
# that are not records of their own: paymentapplication, deletedrecord).
RECORD_TYPES: tuple[str, ...] = (
    "customer", "invoice", "customerpayment", "creditmemo", "customerrefund", "deposit", "journalentry",
)
EVENTS: tuple[str, ...] = ("create", "edit", "xedit", "delete")
MAX_EVENT_ID_LENGTH = 128
MAX_ACCOUNT_LENGTH = 64
MAX_RECORD_ID = 2**63 - 1


class PayloadError(ValueError):
    """The body is not a valid change event; `field` names the culprit (None: the body itself)."""

    def __init__(self, field: str | None, message: str) -> None:
        self.field = field
        super().__init__(message)


@dataclass(frozen=True)
class ChangeEvent:
    event_id: str
    account: str
    record_type: str
    record_id: int
    event: str
    occurred_at: dt.datetime  # aware, UTC


def realm(account_id: str) -> str:
    """Account id in realm form: 1234567-sb1 -> 1234567_SB1."""
    return account_id.strip().upper().replace("-", "_")


def expected_account(environ: Mapping[str, str] | None = None) -> str | None:
    env = os.environ if environ is None else environ
    value = (env.get(ACCOUNT_ENV) or "").strip()
    return value or None


def _text(body: Mapping[str, Any], name: str) -> str:
    if name not in body or body[name] is None:
        raise PayloadError(name, f"{name} is missing")
    value = body[name]
    if not isinstance(value, str):
        raise PayloadError(name, f"{name} must be a string, got {type(value).__name__}")
    value = value.strip()
    if not value:
        raise PayloadError(name, f"{name} is empty")
    if not value.isprintable():
        raise PayloadError(name, f"{name} contains control characters")
    return value


def _record_id(body: Mapping[str, Any]) -> int:
    if "record_id" not in body or body["record_id"] is None:
        raise PayloadError("record_id", "record_id is missing")
    value = body["record_id"]
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise PayloadError("record_id", f"record_id must be an integer string, got {type(value).__name__}")
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()):
        raise PayloadError("record_id", f"record_id must be an integer string (NetSuite internal id), got {text[:40]!r}")
    number = int(text)
    if not 0 < number <= MAX_RECORD_ID:
        raise PayloadError("record_id", f"record_id must be a positive internal id, got {text[:40]!r}")
    return number


def _occurred_at(body: Mapping[str, Any]) -> dt.datetime:
    text = _text(body, "occurred_at")
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise PayloadError(
            "occurred_at", f"occurred_at must be an ISO 8601 timestamp such as 2026-11-27T10:15:00Z, got {text[:40]!r}"
        ) from None
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc)


def parse_event(raw: bytes, *, account_id: str | None = None) -> ChangeEvent:
    """Decode and validate a change event. `account_id`: the account events must come from
    (NETSUITE_ACCOUNT_ID), None to accept any."""
    try:
        body = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise PayloadError(None, "body is not UTF-8") from None
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly nested arrays
        raise PayloadError(None, f"body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise PayloadError(None, f"body must be a JSON object, got {type(body).__name__}")

    event_id = _text(body, "event_id")
    if len(event_id) > MAX_EVENT_ID_LENGTH:
        raise PayloadError("event_id", f"event_id must be at most {MAX_EVENT_ID_LENGTH} characters")
    account = _text(body, "account")
    if len(account) > MAX_ACCOUNT_LENGTH:
        raise PayloadError("account", f"account must be at most {MAX_ACCOUNT_LENGTH} characters")
    if account_id is not None and realm(account) != realm(account_id):
        raise PayloadError("account", f"account {account[:64]!r} is not this integration's account (NETSUITE_ACCOUNT_ID)")
    record_type = _text(body, "record_type").lower()
    if record_type not in RECORD_TYPES:
        raise PayloadError("record_type", f"record_type {record_type[:64]!r} is not one of {', '.join(RECORD_TYPES)}")
    record_id = _record_id(body)
    event = _text(body, "event").lower()
    if event not in EVENTS:
        raise PayloadError("event", f"event {event[:32]!r} is not one of {', '.join(EVENTS)}")
    return ChangeEvent(event_id=event_id, account=realm(account), record_type=record_type, record_id=record_id,
                       event=event, occurred_at=_occurred_at(body))
