"""Stripe objects (as plain dicts) -> warehouse rows of the stripe_* tables.

Amounts stay integers in minor units, as Stripe sends them; currencies stay lower-case ISO codes
(checked with ns_pipelines.money). A value the warehouse cannot hold (an amount that is not an
integer, a missing id, a bad currency or timestamp) raises DecodeError naming the object id and
the field. Metadata links that do not parse (a netsuite_customer_id that is not an integer) are
not errors: the raw metadata is kept in the row's JSON, the link column stays null, and the
decoder reports a warning so a run can list them.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ns_pipelines.stripe.fields import (
    DecodeError,
    Row,
    Warn,
    exchange_rate,
    ignore,
    json_text,
    metadata_of,
    read_bool,
    read_currency,
    read_id,
    read_int,
    read_text,
    read_time,
    ref,
)
from ns_pipelines.stripe.links import netsuite_id, netsuite_invoice_ids

__all__ = ["DECODERS", "DecodeError", "balance_transaction_row", "charge_row", "customer_row",
           "dispute_balance_transactions", "dispute_row", "payout_row", "ref", "refund_row"]


def customer_row(obj: Mapping[str, Any], warn: Warn = ignore) -> Row:
    object_id = read_id(obj, ("cus_",))
    if obj.get("deleted"):
        raise DecodeError(object_id, "deleted", "a deleted customer has no row to decode; soft-delete it instead")
    metadata = metadata_of(obj)
    return {
        "id": object_id,
        "email": read_text(obj, "email"),
        "name": read_text(obj, "name"),
        "netsuite_customer_id": netsuite_id(object_id, "netsuite_customer_id", metadata, warn),
        "currency": read_currency(obj, required=False),
        "balance": read_int(obj, "balance", required=False),
        "metadata": json_text(metadata),
        "created": read_time(obj, "created"),
    }


def _payment_method_type(obj: Mapping[str, Any]) -> str | None:
    details = obj.get("payment_method_details")
    if isinstance(details, Mapping) and details.get("type"):
        return str(details["type"])
    return None


def charge_row(obj: Mapping[str, Any], warn: Warn = ignore) -> Row:
    object_id = read_id(obj, ("ch_", "py_"))
    metadata = metadata_of(obj)
    status = read_text(obj, "status")
    if status not in ("succeeded", "pending", "failed"):
        raise DecodeError(object_id, "status", f"expected succeeded, pending or failed, got {status!r}")
    return {
        "id": object_id,
        "payment_intent": ref(obj.get("payment_intent")),
        "customer": ref(obj.get("customer")),
        "amount": read_int(obj, "amount"),
        "amount_captured": read_int(obj, "amount_captured", required=False),
        "amount_refunded": read_int(obj, "amount_refunded", required=False),
        "currency": read_currency(obj),
        "status": status,
        "paid": read_bool(obj, "paid"),
        "captured": read_bool(obj, "captured"),
        "refunded": read_bool(obj, "refunded"),
        "disputed": read_bool(obj, "disputed"),
        "payment_method_type": _payment_method_type(obj),
        "balance_transaction": ref(obj.get("balance_transaction")),
        "failure_balance_transaction": ref(obj.get("failure_balance_transaction")),
        "failure_code": read_text(obj, "failure_code"),
        "failure_message": read_text(obj, "failure_message"),
        "description": read_text(obj, "description"),
        "metadata": json_text(metadata),
        "netsuite_invoice_ids": netsuite_invoice_ids(object_id, metadata, warn),
        "netsuite_invoice_number": metadata.get("netsuite_invoice_number", "").strip() or None,
        "netsuite_customer_id": netsuite_id(object_id, "netsuite_customer_id", metadata, warn),
        "created": read_time(obj, "created"),
    }


def refund_row(obj: Mapping[str, Any], warn: Warn = ignore) -> Row:
    object_id = read_id(obj, ("re_", "pyr_"))
    return {
        "id": object_id,
        "charge": ref(obj.get("charge")),
        "payment_intent": ref(obj.get("payment_intent")),
        "amount": read_int(obj, "amount"),
        "currency": read_currency(obj),
        "status": read_text(obj, "status"),
        "reason": read_text(obj, "reason"),
        "balance_transaction": ref(obj.get("balance_transaction")),
        "failure_balance_transaction": ref(obj.get("failure_balance_transaction")),
        "failure_reason": read_text(obj, "failure_reason"),
        "metadata": json_text(metadata_of(obj)),
        "created": read_time(obj, "created"),
    }


def dispute_row(obj: Mapping[str, Any], warn: Warn = ignore) -> Row:
    object_id = read_id(obj, ("dp_", "du_"))
    transactions = obj.get("balance_transactions") or []
    if not isinstance(transactions, list):
        raise DecodeError(object_id, "balance_transactions", "expected a list")
    refundable = obj.get("is_charge_refundable")
    return {
        "id": object_id,
        "charge": ref(obj.get("charge")),
        "payment_intent": ref(obj.get("payment_intent")),
        "amount": read_int(obj, "amount"),
        "currency": read_currency(obj),
        "status": read_text(obj, "status") or "",
        "reason": read_text(obj, "reason"),
        "is_charge_refundable": None if refundable is None else read_bool(obj, "is_charge_refundable"),
        "balance_transactions": json_text([ref(t) for t in transactions]),
        "metadata": json_text(metadata_of(obj)),
        "created": read_time(obj, "created"),
    }


def dispute_balance_transactions(obj: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The dispute's embedded balance transactions (Stripe always expands them)."""
    return [t for t in obj.get("balance_transactions") or [] if isinstance(t, Mapping)]


def payout_row(obj: Mapping[str, Any], warn: Warn = ignore) -> Row:
    object_id = read_id(obj, ("po_",))
    automatic = obj.get("automatic")
    return {
        "id": object_id,
        "amount": read_int(obj, "amount"),
        "currency": read_currency(obj),
        "status": read_text(obj, "status") or "",
        "automatic": None if automatic is None else read_bool(obj, "automatic"),
        "reconciliation_status": read_text(obj, "reconciliation_status"),
        "arrival_date": read_time(obj, "arrival_date", required=False),
        "balance_transaction": ref(obj.get("balance_transaction")),
        "failure_balance_transaction": ref(obj.get("failure_balance_transaction")),
        "failure_code": read_text(obj, "failure_code"),
        "method": read_text(obj, "method"),
        "metadata": json_text(metadata_of(obj)),
        "created": read_time(obj, "created"),
    }


def _fee_details(obj: Mapping[str, Any]) -> str:
    details = obj.get("fee_details") or []
    if not isinstance(details, list):
        raise DecodeError(obj.get("id"), "fee_details", "expected a list")
    out = []
    for detail in details:
        if not isinstance(detail, Mapping):
            raise DecodeError(obj.get("id"), "fee_details", f"expected objects, got {detail!r}")
        amount = detail.get("amount")
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise DecodeError(obj.get("id"), "fee_details.amount", f"expected an integer, got {amount!r}")
        out.append({k: detail.get(k) for k in ("amount", "currency", "type", "description", "application")})
    return json_text(out)


def balance_transaction_row(obj: Mapping[str, Any], warn: Warn = ignore, *, payout: str | None = None) -> Row:
    """A balance transaction; `payout` (from a ?payout= listing) is set only when given, so a
    later plain re-read never clears it."""
    object_id = read_id(obj, ("txn_",))
    amount, fee, net = read_int(obj, "amount"), read_int(obj, "fee"), read_int(obj, "net")
    if amount - fee != net:  # type: ignore[operator]
        raise DecodeError(object_id, "net", f"net {net} is not amount {amount} - fee {fee}")
    row: Row = {
        "id": object_id,
        "amount": amount,
        "fee": fee,
        "net": net,
        "currency": read_currency(obj),
        "type": read_text(obj, "type") or "",
        "reporting_category": read_text(obj, "reporting_category"),
        "source": ref(obj.get("source")),
        "exchange_rate": exchange_rate(obj),
        "fee_details": _fee_details(obj),
        "status": read_text(obj, "status"),
        "available_on": read_time(obj, "available_on", required=False),
        "description": read_text(obj, "description"),
        "created": read_time(obj, "created"),
    }
    if payout is not None:
        row["payout"] = payout
    return row


DECODERS: dict[str, Callable[..., Row]] = {
    "customer": customer_row,
    "charge": charge_row,
    "refund": refund_row,
    "dispute": dispute_row,
    "payout": payout_row,
    "balance_transaction": balance_transaction_row,
}
