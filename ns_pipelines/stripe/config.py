"""Stripe settings from the environment. Secrets are never part of repr() or error messages.

| variable | meaning |
|---|---|
| STRIPE_API_KEY | secret (sk_...) or restricted (rk_...) key; read access to the synced objects |
| STRIPE_API_BASE | optional; default https://api.stripe.com; the Stripe sandbox's URL to use it |
| STRIPE_WEBHOOK_SECRET | the webhook endpoint's signing secret(s) (whsec_...), comma-separated while rotating |
| STRIPE_MAX_NETWORK_RETRIES | the SDK's retries of connection errors, 409 and 5xx (default 3) |
| STRIPE_SYNC_OVERLAP_MINUTES | each events pass re-reads this far before its cursor (default 10) |
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

API_KEY_ENV = "STRIPE_API_KEY"
API_BASE_ENV = "STRIPE_API_BASE"
WEBHOOK_SECRET_ENV = "STRIPE_WEBHOOK_SECRET"
MAX_RETRIES_ENV = "STRIPE_MAX_NETWORK_RETRIES"
OVERLAP_ENV = "STRIPE_SYNC_OVERLAP_MINUTES"

DEFAULT_API_BASE = "https://api.stripe.com"
DEFAULT_MAX_NETWORK_RETRIES = 3
DEFAULT_OVERLAP_MINUTES = 10


class StripeConfigError(ValueError):
    """A Stripe variable is missing or malformed; the message names the variable, never its value."""


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise StripeConfigError(f"{name} must be an integer") from None
    if value < minimum:
        raise StripeConfigError(f"{name} must be at least {minimum}")
    return value


@dataclass(frozen=True)
class StripeConfig:
    api_key: str = field(repr=False)
    api_base: str = DEFAULT_API_BASE
    max_network_retries: int = DEFAULT_MAX_NETWORK_RETRIES
    overlap_minutes: int = DEFAULT_OVERLAP_MINUTES

    def __post_init__(self) -> None:
        if not self.api_key or not self.api_key.strip():
            raise StripeConfigError(f"{API_KEY_ENV} is not set: set it to the Stripe secret or restricted key")
        if not self.api_base.startswith(("http://", "https://")):
            raise StripeConfigError(f"{API_BASE_ENV} must be an http(s) URL")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "StripeConfig":
        env = os.environ if environ is None else environ
        return cls(
            api_key=(env.get(API_KEY_ENV) or "").strip(),
            api_base=((env.get(API_BASE_ENV) or "").strip() or DEFAULT_API_BASE).rstrip("/"),
            max_network_retries=_int(env, MAX_RETRIES_ENV, DEFAULT_MAX_NETWORK_RETRIES),
            overlap_minutes=_int(env, OVERLAP_ENV, DEFAULT_OVERLAP_MINUTES),
        )


def webhook_secrets_from_env(environ: Mapping[str, str] | None = None) -> list[str]:
    """STRIPE_WEBHOOK_SECRET as a list (current first while rotating); empty when unset."""
    env = os.environ if environ is None else environ
    return [s.strip() for s in (env.get(WEBHOOK_SECRET_ENV) or "").split(",") if s.strip()]
