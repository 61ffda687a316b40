"""NetSuite ids written onto Stripe objects' metadata, with idempotency keys derived from them."""
from __future__ import annotations

from typing import Any

import stripe

from ns_pipelines.stripe.config import StripeConfig

_SERVICES = {"ch_": "charges", "py_": "charges", "re_": "refunds", "pyr_": "refunds", "po_": "payouts",
             "dp_": "disputes", "du_": "disputes"}


def stripe_client(config: StripeConfig) -> stripe.StripeClient:
    return stripe.StripeClient(config.api_key, base_addresses={"api": config.api_base},
                               max_network_retries=config.max_network_retries)


def metadata_idempotency_key(object_id: str, key: str, netsuite_id: int) -> str:
    return f"ns-pipelines:metadata:{object_id}:{key}:{netsuite_id}"


class StripeLinker:
    """Writes `metadata[key] = <NetSuite internal id>` on charges, refunds and payouts."""

    def __init__(self, client: stripe.StripeClient) -> None:
        self.client = client

    def _service(self, object_id: str) -> Any:
        for prefix, name in _SERVICES.items():
            if object_id.startswith(prefix):
                return getattr(self.client.v1, name)
        raise ValueError(f"no Stripe service for {object_id!r}")

    def link(self, object_id: str, key: str, netsuite_id: int) -> None:
        self._service(object_id).update(
            object_id, params={"metadata": {key: str(netsuite_id)}},
            options={"idempotency_key": metadata_idempotency_key(object_id, key, netsuite_id)})


def linker_from_env() -> StripeLinker | None:
    """A linker when STRIPE_API_KEY is set, else None (NetSuite writes go on without Stripe links)."""
    import os

    from ns_pipelines.stripe.config import API_KEY_ENV

    if not (os.environ.get(API_KEY_ENV) or "").strip():
        return None
    return StripeLinker(stripe_client(StripeConfig.from_env()))
