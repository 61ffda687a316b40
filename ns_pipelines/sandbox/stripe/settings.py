"""What can differ between two Stripe sandboxes; changeable at run time through the admin API."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class StripeSandboxSettings:
    webhook_url: str | None = None  # events are POSTed here, signed like Stripe
    webhook_max_attempts: int = 6
    webhook_retry_base_s: float = 0.5  # backoff: base * 2^(attempt-1), capped
    webhook_retry_max_s: float = 30.0
    event_retention_days: int = 30  # GET /v1/events only shows this many days back (Stripe: 30)
    api_version: str = "2026-10-28.endive"  # answered when a request sends no Stripe-Version
    # Fault injection, probabilities per /v1 request (admin API excluded); the request is not executed.
    fault_500_rate: float = 0.0  # 500 api_error: the SDK retries it (with the same idempotency key)
    fault_429_rate: float = 0.0  # 429 rate_limit: the SDK raises RateLimitError unless told it may retry
    fault_lost_answer_rate: float = 0.0  # a POST is executed, but its answer is lost (a 500 instead): retries
    # with the same idempotency key replay the stored real answer, as when a connection drops on Stripe
    fault_seed: int = 0
