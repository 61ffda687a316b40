"""The Stripe sandbox's admin API (prefix /sandbox/admin/v1, `Authorization: Bearer <admin token>`).

It makes things happen that a Stripe account would see from customers, banks and card networks.
JSON bodies in, JSON out; errors use Stripe's error body. Endpoints:

  GET    /health
  GET    /scenarios                        {"scenarios": {name: [ids]}, "details": {id: {...}}, "customers": {ns id: cus id}, ...}
  GET    /settings   PATCH /settings       webhook_url, webhook_max_attempts, webhook_retry_base_s, event_retention_days,
                                           fault_500_rate, fault_429_rate, fault_lost_answer_rate (injected faults)
  PUT    /webhook                          {"url": "http://..."} (null/"" stops delivery)
  GET    /clock      POST /clock           {"advance_seconds": n} | {"offset_seconds": n}; due transitions run
  POST   /payments                         {"invoice_ids"?: [ns ids], "netsuite_customer_id"?, "customer"?: cus id,
                                            "amount"?: minor units, "currency"?, "method"?: card|ach|ach_fail|declined,
                                            "payment_method"?: pm_..., "description"?, "metadata"?: {}}
                                           -> {"payment_intent", "charge"}; amount/currency default to the invoices' open total
  POST   /refunds                          {"charge", "amount"?, "reason"?, "metadata"?}
  POST   /disputes                         {"charge", "amount"?, "reason"?, "inquiry"?: bool}
  POST   /disputes/{id}/close              {"outcome": "won" | "lost"}
  POST   /ach/{charge}/succeed             a pending ACH debit succeeds
  POST   /ach/{charge}/fail                {"failure_code"?}: it fails late (payment_failure_refund)
  POST   /payouts                          {"currency"?: "usd", "paid"?: true}: an automatic payout of the available balance
  POST   /payouts/{id}/pay                 an in-transit payout arrives (paid, reconciliation completed)
  POST   /payouts/{id}/fail                {"failure_code"?}: the bank returns it (payout_failure balance transaction)
  GET    /events                           webhook deliveries (attempts, errors) and counts
  POST   /events/redeliver                 {"event_ids"?: [...]}: queue again (default: every undelivered one)
  POST   /reset                            {"seed"?}: wipe and reseed from the NetSuite sandbox
"""
from __future__ import annotations

import hmac
import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, request

from .errors import StripeApiError, invalid
from .ledger import NewPayment
from .netsuite_view import NetSuiteView

if TYPE_CHECKING:
    from .server import StripeSandbox

METHODS = {"card": "pm_card_visa", "ach": "pm_usBankAccount", "ach_fail": "pm_usBankAccount_accountClosed",
           "declined": "pm_card_chargeDeclined"}
CHANGEABLE_SETTINGS = {"webhook_url", "webhook_max_attempts", "webhook_retry_base_s", "webhook_retry_max_s",
                       "event_retention_days", "fault_500_rate", "fault_429_rate", "fault_lost_answer_rate"}


def _json(obj: Any, status: int = 200) -> Response:
    return Response(json.dumps(obj, indent=2), status=status, content_type="application/json")


def metadata_of(data: dict[str, Any]) -> dict[str, str]:
    """An admin body's `metadata` with keys and values as strings (as Stripe stores them)."""
    return {str(k): str(v) for k, v in (data.get("metadata") or {}).items()}


def create_admin_blueprint(sandbox: "StripeSandbox") -> Blueprint:
    bp = Blueprint("stripe_sandbox_admin", __name__)
    ledger = sandbox.ledger

    @bp.before_request
    def require_admin_token() -> Response | None:
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header[:7].lower() == "bearer " else ""
        if not token or not hmac.compare_digest(token.encode(), sandbox.admin_token.encode()):
            return _json(StripeApiError(401, "The Stripe sandbox admin API needs 'Authorization: Bearer "
                                        "<admin token>'.").body(), 401)
        return None

    @bp.errorhandler(StripeApiError)
    def on_error(err: StripeApiError) -> Response:
        return _json(err.body(), err.status)

    def body() -> dict[str, Any]:
        data = request.get_json(silent=True, force=True) if request.get_data(cache=True) else {}
        if not isinstance(data, dict):
            raise invalid("The request body must be a JSON object.")
        return data

    @bp.get("/health")
    def health() -> Response:
        return _json({"status": "ok", "seeded": not sandbox.is_empty(), "now": sandbox.clock.now(),
                      "webhook_url": sandbox.settings.webhook_url, "deliveries": sandbox.events.counts()})

    @bp.get("/scenarios")
    def scenarios() -> Response:
        return _json(sandbox.catalogue())

    @bp.get("/settings")
    def settings_get() -> Response:
        return _json(asdict(sandbox.settings))

    @bp.patch("/settings")
    def settings_patch() -> Response:
        patch = body()
        for name, value in patch.items():
            if name not in CHANGEABLE_SETTINGS:
                raise invalid(f"Unknown or read-only setting {name}.", param=name)
            if name == "webhook_url":
                sandbox.set_webhook_url(value)
                continue
            try:
                new = type(getattr(sandbox.settings, name))(value)
            except (TypeError, ValueError):
                raise invalid(f"Invalid value for {name}: {value!r}", param=name) from None
            if name.endswith("_rate") and not 0 <= new <= 1:
                raise invalid(f"{name} must be between 0 and 1.", param=name)
            setattr(sandbox.settings, name, new)
        return settings_get()

    @bp.put("/webhook")
    def webhook_set() -> Response:
        sandbox.set_webhook_url(body().get("url"))
        return _json({"webhook_url": sandbox.settings.webhook_url})

    @bp.get("/clock")
    def clock_get() -> Response:
        return _json({"now": sandbox.clock.now(), "offset_seconds": sandbox.clock.offset})

    @bp.post("/clock")
    def clock_set() -> Response:
        data = body()
        try:
            if "advance_seconds" in data:
                changed = sandbox.advance_clock(float(data["advance_seconds"]))
            elif "offset_seconds" in data:
                changed = sandbox.advance_clock(float(data["offset_seconds"]) - sandbox.clock.offset)
            else:
                raise invalid("Give advance_seconds or offset_seconds.")
        except (TypeError, ValueError):
            raise invalid("advance_seconds/offset_seconds must be numbers.") from None
        return _json({"now": sandbox.clock.now(), "offset_seconds": sandbox.clock.offset, "changed": changed})

    @bp.post("/payments")
    def payments_create() -> Response:
        data = body()
        method = data.get("payment_method") or METHODS.get(data.get("method", "card"))
        if method is None:
            raise invalid(f"method must be one of {', '.join(METHODS)}", param="method")
        metadata = metadata_of(data)
        invoice_ids = [str(i) for i in data.get("invoice_ids") or []]
        amount, currency = data.get("amount"), data.get("currency")
        ns_customer = data.get("netsuite_customer_id")
        if invoice_ids:
            if sandbox.netsuite is None:
                raise invalid("This Stripe sandbox has no NetSuite sandbox to read invoices from.")
            view = NetSuiteView(sandbox.netsuite)
            invoices = []
            for invoice_id in invoice_ids:
                invoice = view.invoice(int(invoice_id))
                if invoice is None:
                    raise invalid(f"No such NetSuite invoice: {invoice_id}", param="invoice_ids")
                invoices.append(invoice)
            currency = currency or invoices[0].currency
            amount = amount if amount is not None else sum(i.unpaid for i in invoices)
            ns_customer = ns_customer or invoices[0].customer
            key = "netsuite_invoice_id" if len(invoices) == 1 else "netsuite_invoice_ids"
            metadata.setdefault(key, ",".join(invoice_ids))
        customer = data.get("customer")
        if customer is None and ns_customer is not None:
            customer = sandbox.catalogue().get("customers", {}).get(str(ns_customer))
        if amount is None or not currency:
            raise invalid("Give amount and currency, or invoice_ids.", param="amount")
        pi = ledger.create_payment_intent(NewPayment(
            amount=int(amount), currency=str(currency).lower(), customer=customer,
            description=data.get("description"), metadata=metadata, payment_method=method), confirm=False)
        try:
            pi = ledger.confirm_payment_intent(pi["id"])
        except StripeApiError as err:
            if err.status != 402:
                raise
            pi = ledger.require(pi["id"], "payment_intent")
        charge = sandbox.store.get(pi["latest_charge"], "charge") if pi["latest_charge"] else None
        return _json({"payment_intent": pi, "charge": charge}, 201)

    @bp.post("/refunds")
    def refunds_create() -> Response:
        data = body()
        refund = ledger.create_refund(charge_id=data.get("charge"), payment_intent_id=data.get("payment_intent"),
                                      amount=data.get("amount"), reason=data.get("reason"),
                                      metadata=metadata_of(data))
        return _json(refund, 201)

    @bp.post("/disputes")
    def disputes_create() -> Response:
        data = body()
        if not data.get("charge"):
            raise invalid("Give the charge to dispute.", param="charge")
        dispute = ledger.open_dispute(str(data["charge"]), amount=data.get("amount"),
                                      reason=data.get("reason", "fraudulent"), inquiry=bool(data.get("inquiry")))
        return _json(dispute, 201)

    @bp.post("/disputes/<dispute_id>/close")
    def disputes_close(dispute_id: str) -> Response:
        return _json(ledger.close_dispute(dispute_id, str(body().get("outcome", ""))))

    @bp.post("/ach/<charge_id>/succeed")
    def ach_succeed(charge_id: str) -> Response:
        return _json(ledger.settle_ach(charge_id, "succeeded"))

    @bp.post("/ach/<charge_id>/fail")
    def ach_fail(charge_id: str) -> Response:
        return _json(ledger.settle_ach(charge_id, "failed", str(body().get("failure_code", "insufficient_funds"))))

    @bp.post("/payouts")
    def payouts_create() -> Response:
        data = body()
        payout = ledger.create_payout(currency=str(data.get("currency", "usd")).lower(),
                                      paid=bool(data.get("paid", True)))
        return _json(payout, 201)

    @bp.post("/payouts/<payout_id>/pay")
    def payouts_pay(payout_id: str) -> Response:
        return _json(ledger.pay_payout(payout_id))

    @bp.post("/payouts/<payout_id>/fail")
    def payouts_fail(payout_id: str) -> Response:
        return _json(ledger.fail_payout(payout_id, str(body().get("failure_code", "account_closed"))))

    @bp.get("/events")
    def events() -> Response:
        limit = request.args.get("limit", default=100, type=int)
        return _json({"deliveries": sandbox.events.deliveries(limit), "counts": sandbox.events.counts()})

    @bp.post("/events/redeliver")
    def events_redeliver() -> Response:
        ids = body().get("event_ids")
        return _json({"queued": sandbox.events.redeliver([str(i) for i in ids] if ids else None)})

    @bp.post("/reset")
    def reset() -> Response:
        catalogue = sandbox.reset(seed=body().get("seed"))
        return _json({"reset": True, "scenarios": (catalogue or {}).get("scenarios", {})})

    return bp
