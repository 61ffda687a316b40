"""The Stripe API through the official SDK (stripe.StripeClient), as plain dicts.

    api = StripeAPI(StripeConfig.from_env())
    for page in api.list_pages("charge", {"created": {"gte": 1767225600}}):   # 100 per page
        ...
    charge = api.retrieve("charge", "ch_123")          # None when Stripe says it does not exist

Paging is by `starting_after` (the last id of the page), limit 100, newest first as Stripe
lists. Retries: the SDK retries connection errors, 409 and 5xx (max_network_retries, set
explicitly: the SDK treats None as no retries); a 429 is retried here with exponential backoff
and jitter (tenacity), since the SDK retries it only when Stripe sends Stripe-Should-Retry.
`stripe_time()` is Stripe's clock (the Date header of the latest answer) and `clock()` asks for
it; they decide whether an events cursor is still inside Stripe's 30-day events retention.
"""
from __future__ import annotations

import datetime as dt
import email.utils
from collections.abc import Iterator, Mapping
from typing import Any

import stripe
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from ns_pipelines.stripe.config import StripeConfig

PAGE_LIMIT = 100
RATE_LIMIT_ATTEMPTS = 6

# Stripe's `object` value -> the v1 service that lists and retrieves it.
SERVICES = {
    "customer": "customers",
    "charge": "charges",
    "refund": "refunds",
    "dispute": "disputes",
    "payout": "payouts",
    "balance_transaction": "balance_transactions",
    "event": "events",
}


class StripeAPI:
    def __init__(self, config: StripeConfig, *, http_client: stripe.HTTPClient | None = None,
                 rate_limit_backoff_s: float = 0.5) -> None:
        self.config = config
        self.rate_limit_backoff_s = rate_limit_backoff_s
        self._own_http = http_client is None
        self._http = http_client or stripe.RequestsClient()
        self.client = stripe.StripeClient(
            config.api_key,
            base_addresses={"api": config.api_base},
            max_network_retries=config.max_network_retries,
            http_client=self._http,
        )
        self.requests = 0
        self.rate_limited = 0
        self._stripe_time: dt.datetime | None = None

    def _service(self, object_type: str) -> Any:
        try:
            return getattr(self.client.v1, SERVICES[object_type])
        except KeyError:
            raise ValueError(f"no Stripe service for object type {object_type!r}") from None

    def _call(self, fn: Any, *args: Any) -> Any:
        def attempt() -> Any:
            self.requests += 1
            try:
                return fn(*args)
            except stripe.RateLimitError:
                self.rate_limited += 1
                raise

        result = Retrying(
            retry=retry_if_exception_type(stripe.RateLimitError),
            wait=wait_random_exponential(multiplier=self.rate_limit_backoff_s, max=20),
            stop=stop_after_attempt(RATE_LIMIT_ATTEMPTS),
            reraise=True,
        )(attempt)
        self._note_time(result)
        return result

    def _note_time(self, result: Any) -> None:
        response = getattr(result, "last_response", None)
        date = response.headers.get("Date") if response is not None and response.headers else None
        if date:
            try:
                self._stripe_time = email.utils.parsedate_to_datetime(date).astimezone(dt.timezone.utc)
            except (TypeError, ValueError):
                pass

    def stripe_time(self) -> dt.datetime:
        """Stripe's clock as of the latest answer (our clock before the first one)."""
        return self._stripe_time or dt.datetime.now(dt.timezone.utc)

    def clock(self) -> dt.datetime:
        """Stripe's time now (one request): the Date header, or the newest event's time when that
        is later (a Date that lags Stripe's own clock, as on a sandbox whose clock was moved)."""
        page = self._call(self._service("event").list, {"limit": 1})
        now = self.stripe_time()
        if page.data:
            now = max(now, dt.datetime.fromtimestamp(int(page.data[0].created), dt.timezone.utc))
        return now

    def list_pages(self, object_type: str, params: Mapping[str, Any] | None = None) -> Iterator[list[dict[str, Any]]]:
        """Every page of a list endpoint, newest first, as lists of plain dicts."""
        service = self._service(object_type)
        query: dict[str, Any] = {**(params or {}), "limit": PAGE_LIMIT}
        while True:
            page = self._call(service.list, query)
            items = [item.to_dict(recursive=True) for item in page.data]
            if items:
                yield items
            if not page.has_more or not items:
                return
            query = {**query, "starting_after": items[-1]["id"]}

    def retrieve(self, object_type: str, object_id: str) -> dict[str, Any] | None:
        """The object as Stripe has it now; None when Stripe answers 404 (resource_missing)."""
        try:
            return self._call(self._service(object_type).retrieve, object_id).to_dict(recursive=True)
        except stripe.InvalidRequestError as exc:
            if exc.http_status == 404:
                return None
            raise

    def payout_balance_transactions(self, payout_id: str) -> Iterator[list[dict[str, Any]]]:
        """The balance transactions a payout carried (GET /v1/balance_transactions?payout=)."""
        return self.list_pages("balance_transaction", {"payout": payout_id})

    def events_since(self, since: dt.datetime) -> Iterator[list[dict[str, Any]]]:
        """Events created at or after `since`, newest first (Stripe keeps 30 days)."""
        return self.list_pages("event", {"created": {"gte": int(since.timestamp())}})

    def close(self) -> None:
        """Release the HTTP connections (of the client this object created)."""
        if self._own_http:
            self._http.close()
