"""The /v1 routes of customers, payment intents, charges, refunds and disputes."""
from __future__ import annotations

from typing import Any

from . import params as p
from .dispatch import LIST_PARAMS, ApiContext, RouteTable
from .errors import invalid
from .ledger import NewPayment


def register(table: RouteTable, ctx: ApiContext) -> None:
    ledger, paged, equals_filter = ctx.ledger, ctx.paged, ctx.equals_filter
    for object_type, path in (("customer", "/v1/customers"), ("charge", "/v1/charges"), ("refund", "/v1/refunds"),
                              ("dispute", "/v1/disputes")):
        ctx.retrieve_route(table, object_type, path)
    ctx.update_route(table, "customer", "/v1/customers", ("name", "email", "description", "phone"))
    ctx.update_route(table, "payment_intent", "/v1/payment_intents", ("description", "receipt_email"))
    ctx.update_route(table, "charge", "/v1/charges", ("description", "receipt_email"))
    ctx.update_route(table, "refund", "/v1/refunds")
    ctx.update_route(table, "dispute", "/v1/disputes")

    # ------------------------------------------------------------------ customers
    @table.route("GET", "/v1/customers")
    def customers_list(params: dict[str, Any]) -> dict[str, Any]:
        p.reject_unknown(params, LIST_PARAMS | {"email"})
        where: list[str] = ["json_extract(body, '$.deleted') IS NULL"]
        args: list[Any] = []
        equals_filter(params, "email", where, args)
        return paged("customer", "/v1/customers", params, where, args)

    @table.route("POST", "/v1/customers")
    def customers_create(params: dict[str, Any]) -> dict[str, Any]:
        p.reject_unknown(params, {"name", "email", "description", "metadata", "phone"})
        return ledger.create_customer(name=params.get("name"), email=params.get("email"),
                                      description=params.get("description"), metadata=p.as_metadata(params))

    @table.route("DELETE", "/v1/customers/<object_id>")
    def customers_delete(params: dict[str, Any], object_id: str) -> dict[str, Any]:
        p.reject_unknown(params, set())
        return ledger.delete_customer(object_id)

    # ------------------------------------------------------------------ payment intents
    def new_payment(params: dict[str, Any], *, method_param: str) -> NewPayment:
        amount = p.as_int(params, "amount")
        if amount is None:
            raise invalid("Missing required param: amount.", param="amount", code="parameter_missing")
        currency = params.get("currency")
        if not currency:
            raise invalid("Missing required param: currency.", param="currency", code="parameter_missing")
        return NewPayment(amount=amount, currency=str(currency).lower(), customer=params.get("customer") or None,
                          description=params.get("description"), metadata=p.as_metadata(params),
                          payment_method=params.get(method_param) or "", receipt_email=params.get("receipt_email"))

    @table.route("GET", "/v1/payment_intents")
    def payment_intents_list(params: dict[str, Any]) -> dict[str, Any]:
        p.reject_unknown(params, LIST_PARAMS | {"customer"})
        where: list[str] = []
        args: list[Any] = []
        equals_filter(params, "customer", where, args)
        return paged("payment_intent", "/v1/payment_intents", params, where, args)

    @table.route("POST", "/v1/payment_intents")
    def payment_intents_create(params: dict[str, Any]) -> dict[str, Any]:
        p.reject_unknown(params, {"amount", "currency", "customer", "description", "metadata", "payment_method",
                                  "payment_method_types", "confirm", "receipt_email", "capture_method",
                                  "automatic_payment_methods", "off_session", "return_url",
                                  "statement_descriptor", "statement_descriptor_suffix"})
        if params.get("capture_method", "automatic") != "automatic":
            raise invalid("The Stripe sandbox supports capture_method=automatic only.", param="capture_method")
        payment = new_payment(params, method_param="payment_method")
        return ledger.create_payment_intent(payment, confirm=p.as_bool(params, "confirm"),
                                            payment_method_types=p.as_str_list(params, "payment_method_types"),
                                            with_payment_method=bool(payment.payment_method))

    @table.route("GET", "/v1/payment_intents/<object_id>")
    def payment_intents_get(params: dict[str, Any], object_id: str) -> dict[str, Any]:
        p.reject_unknown(params, {"client_secret"})
        return ledger.require(object_id, "payment_intent")

    @table.route("POST", "/v1/payment_intents/<object_id>/confirm")
    def payment_intents_confirm(params: dict[str, Any], object_id: str) -> dict[str, Any]:
        p.reject_unknown(params, {"payment_method", "return_url", "off_session", "receipt_email"})
        return ledger.confirm_payment_intent(object_id, params.get("payment_method"))

    # ------------------------------------------------------------------ charges
    @table.route("GET", "/v1/charges")
    def charges_list(params: dict[str, Any]) -> dict[str, Any]:
        p.reject_unknown(params, LIST_PARAMS | {"customer", "payment_intent", "transfer_group"})
        where: list[str] = []
        args: list[Any] = []
        for name in ("customer", "payment_intent", "transfer_group"):
            equals_filter(params, name, where, args)
        return paged("charge", "/v1/charges", params, where, args)

    @table.route("POST", "/v1/charges")
    def charges_create(params: dict[str, Any]) -> dict[str, Any]:
        p.reject_unknown(params, {"amount", "currency", "customer", "description", "metadata", "source",
                                  "receipt_email", "capture", "statement_descriptor"})
        if not params.get("source"):
            raise invalid("Must provide source or customer.", param="source", code="parameter_missing")
        if not p.as_bool(params, "capture", True):
            raise invalid("The Stripe sandbox supports capture=true only.", param="capture")
        return ledger.create_charge(new_payment(params, method_param="source"))

    @table.route("GET", "/v1/charges/<object_id>/refunds")
    def charge_refunds_list(params: dict[str, Any], object_id: str) -> dict[str, Any]:
        p.reject_unknown(params, LIST_PARAMS - {"created"})
        ledger.require(object_id, "charge")
        return paged("refund", f"/v1/charges/{object_id}/refunds", params,
                     ["json_extract(body, '$.charge') = ?"], [object_id])

    # ------------------------------------------------------------------ refunds
    @table.route("GET", "/v1/refunds")
    def refunds_list(params: dict[str, Any]) -> dict[str, Any]:
        p.reject_unknown(params, LIST_PARAMS | {"charge", "payment_intent"})
        where: list[str] = []
        args: list[Any] = []
        equals_filter(params, "charge", where, args)
        equals_filter(params, "payment_intent", where, args)
        return paged("refund", "/v1/refunds", params, where, args)

    @table.route("POST", "/v1/refunds")
    def refunds_create(params: dict[str, Any]) -> dict[str, Any]:
        p.reject_unknown(params, {"charge", "payment_intent", "amount", "reason", "metadata"})
        return ledger.create_refund(charge_id=params.get("charge") or None,
                                    payment_intent_id=params.get("payment_intent") or None,
                                    amount=p.as_int(params, "amount"), reason=params.get("reason"),
                                    metadata=p.as_metadata(params))

    # ------------------------------------------------------------------ disputes
    @table.route("GET", "/v1/disputes")
    def disputes_list(params: dict[str, Any]) -> dict[str, Any]:
        p.reject_unknown(params, LIST_PARAMS | {"charge", "payment_intent"})
        where: list[str] = []
        args: list[Any] = []
        equals_filter(params, "charge", where, args)
        equals_filter(params, "payment_intent", where, args)
        return paged("dispute", "/v1/disputes", params, where, args)

    @table.route("POST", "/v1/disputes/<object_id>/close")
    def disputes_close(params: dict[str, Any], object_id: str) -> dict[str, Any]:
        p.reject_unknown(params, set())
        return ledger.close_dispute(object_id, "lost")
