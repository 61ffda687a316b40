"""Stripe's error bodies: {"error": {type, code, message, param, doc_url}} with Stripe's statuses."""
from __future__ import annotations

from typing import Any

DOC_BASE = "https://docs.stripe.com/error-codes"


class StripeApiError(Exception):
    """An error answered to the client with Stripe's error body and HTTP status."""

    def __init__(self, status: int, message: str, *, type: str = "invalid_request_error",
                 code: str | None = None, param: str | None = None, decline_code: str | None = None,
                 extra: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.decline_code = decline_code
        self.extra = extra or {}
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = f"{DOC_BASE}#{self.code.replace('_', '-')}"
        if self.param:
            error["param"] = self.param
        if self.decline_code:
            error["decline_code"] = self.decline_code
        error.update(self.extra)
        return {"error": error}


def invalid(message: str, *, param: str | None = None, code: str | None = None) -> StripeApiError:
    return StripeApiError(400, message, param=param, code=code)


def missing(object_name: str, object_id: str, *, param: str = "id") -> StripeApiError:
    return StripeApiError(404, f"No such {object_name}: '{object_id}'", code="resource_missing", param=param)


def unknown_parameter(name: str) -> StripeApiError:
    return invalid(f"Received unknown parameter: {name}", param=name, code="parameter_unknown")


def card_declined(message: str, decline_code: str, *, charge_id: str, payment_intent: dict | None = None) -> StripeApiError:
    extra: dict[str, Any] = {"charge": charge_id}
    if payment_intent is not None:
        extra["payment_intent"] = payment_intent
    return StripeApiError(402, message, type="card_error", code="card_declined", decline_code=decline_code,
                          extra=extra)
