"""StripeResource: the Stripe API client (ns_pipelines.stripe.StripeAPI), from STRIPE_* variables.

Bound as dg.EnvVar, so Dagster reads them when a run launches and never shows their values.
STRIPE_API_KEY is bound even when unset at load time: the code location loads, and a Stripe run
fails at launch naming the variable.
"""

import os
from typing import Any, Optional

import dagster as dg
from pydantic import PrivateAttr

from ns_pipelines.stripe.client import StripeAPI
from ns_pipelines.stripe.config import (
    API_BASE_ENV,
    API_KEY_ENV,
    DEFAULT_API_BASE,
    DEFAULT_MAX_NETWORK_RETRIES,
    DEFAULT_OVERLAP_MINUTES,
    MAX_RETRIES_ENV,
    OVERLAP_ENV,
    StripeConfig,
)


class StripeResource(dg.ConfigurableResource):
    """A Stripe API client (official stripe SDK), one per run and process."""

    api_key: str
    api_base: Optional[str] = None
    max_network_retries: int = DEFAULT_MAX_NETWORK_RETRIES
    overlap_minutes: int = DEFAULT_OVERLAP_MINUTES

    _api: Optional[StripeAPI] = PrivateAttr(default=None)

    @classmethod
    def from_env_vars(cls, environ: Optional[dict[str, str]] = None) -> "StripeResource":
        env = os.environ if environ is None else environ
        fields: dict[str, Any] = {"api_key": dg.EnvVar(API_KEY_ENV)}
        if env.get(API_BASE_ENV):
            fields["api_base"] = dg.EnvVar(API_BASE_ENV)
        if env.get(MAX_RETRIES_ENV):
            fields["max_network_retries"] = dg.EnvVar.int(MAX_RETRIES_ENV)
        if env.get(OVERLAP_ENV):
            fields["overlap_minutes"] = dg.EnvVar.int(OVERLAP_ENV)
        return cls(**fields)

    def stripe_config(self) -> StripeConfig:
        return StripeConfig(api_key=self.api_key, api_base=(self.api_base or DEFAULT_API_BASE).rstrip("/"),
                            max_network_retries=self.max_network_retries, overlap_minutes=self.overlap_minutes)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._api = StripeAPI(self.stripe_config())

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._api is not None:
            self._api.close()
            self._api = None

    @property
    def api(self) -> StripeAPI:
        if self._api is None:
            self._api = StripeAPI(self.stripe_config())
        return self._api
