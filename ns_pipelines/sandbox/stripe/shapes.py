"""The API shapes of the sandbox's objects, trimmed from stripe/openapi fixtures3.json.

Each function returns a new object's body with every field a client reads; the ledger changes
them afterwards (status, amounts, links) and stores them unexpanded.
"""
from __future__ import annotations

from typing import Any

from .pricing import json_rate

CARD_BRANDS = {"visa": "4242", "mastercard": "4444", "amex": "8431"}
EMPTY_ADDRESS = {"city": None, "country": None, "line1": None, "line2": None, "postal_code": None, "state": None}


def list_object(url: str, data: list[dict[str, Any]], has_more: bool = False) -> dict[str, Any]:
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


def customer(cid: str, created: int, *, name: str | None, email: str | None, description: str | None,
             metadata: dict[str, str], currency: str | None = None) -> dict[str, Any]:
    return {"id": cid, "object": "customer", "address": None, "balance": 0, "created": created,
            "currency": currency, "default_source": None, "delinquent": False, "description": description,
            "discount": None, "email": email, "invoice_prefix": cid[4:12].upper(),
            "invoice_settings": {"custom_fields": None, "default_payment_method": None, "footer": None,
                                 "rendering_options": None},
            "livemode": False, "metadata": metadata, "name": name, "next_invoice_sequence": 1, "phone": None,
            "preferred_locales": [], "shipping": None, "tax_exempt": "none", "test_clock": None}


def payment_method_details(method: str, brand: str = "visa") -> dict[str, Any]:
    if method == "us_bank_account":
        return {"type": "us_bank_account",
                "us_bank_account": {"account_holder_type": "company", "account_type": "checking",
                                    "bank_name": "STRIPE TEST BANK", "fingerprint": "FFDMA0xfhBjWSZLu",
                                    "last4": "6789", "routing_number": "110000000", "mandate": None,
                                    "payment_reference": None}}
    return {"type": "card",
            "card": {"amount_authorized": None, "brand": brand,
                     "checks": {"address_line1_check": None, "address_postal_code_check": None, "cvc_check": "pass"},
                     "country": "US", "exp_month": 8, "exp_year": 2030, "fingerprint": "AOB934RVNwzk6xtn",
                     "funding": "credit", "installments": None, "last4": CARD_BRANDS.get(brand, "4242"),
                     "mandate": None, "network": brand, "network_token": {"used": False},
                     "three_d_secure": None, "wallet": None}}


def charge(chid: str, created: int, *, amount: int, currency: str, customer: str | None,
           description: str | None, metadata: dict[str, str], payment_intent: str | None,
           payment_method: str, method: str, brand: str, billing_name: str | None,
           receipt_email: str | None) -> dict[str, Any]:
    return {"id": chid, "object": "charge", "amount": amount, "amount_captured": 0, "amount_refunded": 0,
            "application": None, "application_fee": None, "application_fee_amount": None,
            "balance_transaction": None,
            "billing_details": {"address": dict(EMPTY_ADDRESS), "email": receipt_email, "name": billing_name,
                                "phone": None, "tax_id": None},
            "calculated_statement_descriptor": "NS-PIPELINES SANDBOX", "captured": False, "created": created,
            "currency": currency, "customer": customer, "description": description, "disputed": False,
            "failure_balance_transaction": None, "failure_code": None, "failure_message": None,
            "fraud_details": {}, "livemode": False, "metadata": metadata, "on_behalf_of": None,
            "outcome": None, "paid": False, "payment_intent": payment_intent, "payment_method": payment_method,
            "payment_method_details": payment_method_details(method, brand), "receipt_email": receipt_email,
            "receipt_number": None, "receipt_url": f"https://pay.stripe.sandbox/receipts/{chid}",
            "refunded": False, "refunds": list_object(f"/v1/charges/{chid}/refunds", []), "review": None,
            "shipping": None, "source": None, "source_transfer": None, "statement_descriptor": None,
            "statement_descriptor_suffix": None, "status": "pending", "transfer_data": None, "transfer_group": None}


def outcome(kind: str, *, reason: str | None = None, message: str = "Payment complete.") -> dict[str, Any]:
    network_status = {"authorized": "approved_by_network", "issuer_declined": "declined_by_network"}[kind]
    return {"advice_code": None, "network_advice_code": None, "network_decline_code": None,
            "network_status": network_status, "reason": reason, "risk_level": "normal", "risk_score": 32,
            "seller_message": message, "type": kind}


def payment_intent(piid: str, created: int, *, amount: int, currency: str, customer: str | None,
                   description: str | None, metadata: dict[str, str], payment_method: str | None,
                   payment_method_types: list[str], receipt_email: str | None) -> dict[str, Any]:
    return {"id": piid, "object": "payment_intent", "amount": amount, "amount_capturable": 0,
            "amount_details": {"tip": {}}, "amount_received": 0, "application": None,
            "application_fee_amount": None, "automatic_payment_methods": None, "canceled_at": None,
            "cancellation_reason": None, "capture_method": "automatic",
            "client_secret": f"{piid}_secret_{piid[3:15]}", "confirmation_method": "automatic",
            "created": created, "currency": currency, "customer": customer, "customer_account": None,
            "description": description, "excluded_payment_method_types": None, "last_payment_error": None, "latest_charge": None, "livemode": False, "metadata": metadata,
            "managed_payments": None, "next_action": None, "on_behalf_of": None, "payment_method": payment_method,
            "payment_method_configuration_details": None, "payment_method_options": {}, "payment_method_types": payment_method_types, "processing": None,
            "receipt_email": receipt_email, "review": None, "setup_future_usage": None, "shipping": None,
            "source": None, "statement_descriptor": None, "statement_descriptor_suffix": None,
            "status": "requires_payment_method" if payment_method is None else "requires_confirmation",
            "transfer_data": None, "transfer_group": None}


def balance_transaction(txid: str, created: int, *, amount: int, fee_details: list[dict[str, Any]],
                        currency: str, exchange_rate: Any, type: str, reporting_category: str, source: str,
                        available_on: int, description: str | None, status: str = "pending") -> dict[str, Any]:
    fee = sum(int(d["amount"]) for d in fee_details)
    return {"id": txid, "object": "balance_transaction", "amount": amount, "available_on": available_on,
            "balance_type": "payments", "created": created, "currency": currency, "description": description,
            "exchange_rate": json_rate(exchange_rate), "fee": fee, "fee_details": fee_details,
            "net": amount - fee, "reporting_category": reporting_category, "source": source, "status": status,
            "type": type}


def refund(reid: str, created: int, *, amount: int, currency: str, charge: str, payment_intent: str | None,
           reason: str | None, metadata: dict[str, str], balance_transaction: str,
           method: str, customer: str | None = None, payment_method: str | None = None) -> dict[str, Any]:
    destination = ({"type": "card", "card": {"reference": None, "reference_status": "pending",
                                              "reference_type": "acquirer_reference_number", "type": "refund"}}
                   if method == "card" else {"type": method, method: {}})
    return {"id": reid, "object": "refund", "amount": amount, "balance_transaction": balance_transaction,
            "charge": charge, "created": created, "currency": currency, "customer": customer,
            "customer_account": None, "destination_details": destination,
            "failure_balance_transaction": None, "failure_reason": None, "metadata": metadata,
            "payment_intent": payment_intent, "payment_method": payment_method, "reason": reason,
            "receipt_number": None,
            "source_transfer_reversal": None, "status": "succeeded", "transfer_reversal": None}


def dispute(dpid: str, created: int, *, amount: int, currency: str, charge: str, payment_intent: str | None,
            reason: str, status: str, method: str, brand: str, due_by: int) -> dict[str, Any]:
    evidence_fields = ["access_activity_log", "billing_address", "cancellation_policy",
                       "cancellation_policy_disclosure", "cancellation_rebuttal", "customer_communication",
                       "customer_email_address", "customer_name", "customer_purchase_ip", "customer_signature",
                       "duplicate_charge_documentation", "duplicate_charge_explanation", "duplicate_charge_id",
                       "product_description", "receipt", "refund_policy", "refund_policy_disclosure",
                       "refund_refusal_explanation", "service_date", "service_documentation", "shipping_address",
                       "shipping_carrier", "shipping_date", "shipping_documentation", "shipping_tracking_number",
                       "uncategorized_file", "uncategorized_text"]
    details: dict[str, Any] = ({"type": "card", "card": {"brand": brand, "case_type": "chargeback",
                                                          "network_reason_code": "10.4"}}
                               if method == "card" else {"type": method})
    return {"id": dpid, "object": "dispute", "amount": amount, "balance_transactions": [], "charge": charge,
            "created": created, "currency": currency, "enhanced_eligibility_types": [],
            "evidence": {f: None for f in evidence_fields},
            "evidence_details": {"due_by": due_by, "has_evidence": False, "past_due": False,
                                 "submission_count": 0},
            "is_charge_refundable": False, "livemode": False, "metadata": {}, "payment_intent": payment_intent,
            "payment_method_details": details, "reason": reason, "status": status}


def payout(poid: str, created: int, *, amount: int, currency: str, arrival_date: int, automatic: bool,
           balance_transaction: str) -> dict[str, Any]:
    return {"id": poid, "object": "payout", "amount": amount, "application_fee": None,
            "application_fee_amount": None, "arrival_date": arrival_date, "automatic": automatic,
            "balance_transaction": balance_transaction, "created": created, "currency": currency,
            "description": "STRIPE PAYOUT", "destination": "ba_1SandboxBankAccount000000",
            "failure_balance_transaction": None, "failure_code": None, "failure_message": None,
            "livemode": False, "metadata": {}, "method": "standard", "original_payout": None, "payout_method": None,
            "reconciliation_status": "in_progress" if automatic else "not_applicable", "reversed_by": None,
            "source_type": "card", "statement_descriptor": None, "status": "pending",
            "trace_id": {"status": "pending", "value": None}, "type": "bank_account"}
