"""The change-event receiver (behaviour.md 3): NetSuite's SuiteScript posts signed events here,
they are stored once in the warehouse inbox, and a Dagster sensor (ns_pipelines.defs.webhooks)
turns them into targeted syncs. No Dagster in this package.

- signature.py  X-NS-Signature: HMAC-SHA256 v1 values, several secrets, five-minute tolerance
- payload.py    the event body, validated field by field (ChangeEvent, PayloadError)
- inbox.py      ns_webhook_inbox: store once by event_id (NetSuite and Stripe events), read past a
                 cursor (ids commit in order), prune what the sensors consumed (retention)
- group_commit.py  one writer thread: the events of concurrent requests in one transaction, each
                 request answered only after its batch committed
- app.py        the WSGI app: POST /netsuite/events, POST /stripe/events (stripe_events.py), GET /health
- server.py     waitress: threads, timeouts, body and header limits; settings from NS_WEBHOOK_*
- cli.py        `ns-pipelines webhook-server`
"""
from ns_pipelines.webhooks.app import WebhookApp
from ns_pipelines.webhooks.inbox import Inbox, InboxEvent, StoreResult, WarehouseUnavailable, latest_id, read_events
from ns_pipelines.webhooks.payload import EVENTS, RECORD_TYPES, ChangeEvent, PayloadError, parse_event
from ns_pipelines.webhooks.signature import SIGNATURE_HEADER, SignatureError, secrets_from_env, sign, verify

__all__ = [
    "EVENTS", "RECORD_TYPES", "SIGNATURE_HEADER", "ChangeEvent", "Inbox", "InboxEvent", "PayloadError",
    "SignatureError", "StoreResult", "WarehouseUnavailable", "WebhookApp", "latest_id", "parse_event",
    "read_events", "secrets_from_env", "sign", "verify",
]
