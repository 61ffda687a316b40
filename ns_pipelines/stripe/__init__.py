"""Stripe ingestion (no Dagster): the API client, decoding objects to rows, and the sync into the
raw stripe_* warehouse tables (docs/stripe-ingestion.md).

- config.py  StripeConfig.from_env(): STRIPE_API_KEY, STRIPE_API_BASE, retries, overlap
- client.py  StripeAPI: stripe.StripeClient paging (starting_after, 100), retrieve, events, Stripe's clock
- decode.py  Stripe objects -> rows (minor units, lower-case currencies, NetSuite links from metadata)
- state.py   cursors and backfill positions in ns_sync_state ("stripe:<object>")
- sync.py    sync_stripe() (backfill, then events), sync_objects() (targeted), payout links
- webhook.py Stripe webhook events: verification (Stripe-Signature) and what the inbox stores
"""
from ns_pipelines.stripe.client import StripeAPI
from ns_pipelines.stripe.config import StripeConfig, StripeConfigError, webhook_secrets_from_env
from ns_pipelines.stripe.decode import DecodeError
from ns_pipelines.stripe.sync import (
    OBJECT_TYPES,
    StripeSyncError,
    StripeSyncReport,
    StripeSyncResult,
    sync_objects,
    sync_stripe,
)

__all__ = [
    "OBJECT_TYPES", "DecodeError", "StripeAPI", "StripeConfig", "StripeConfigError", "StripeSyncError",
    "StripeSyncReport", "StripeSyncResult", "sync_objects", "sync_stripe", "webhook_secrets_from_env",
]
