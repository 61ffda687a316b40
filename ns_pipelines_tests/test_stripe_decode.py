"""Decoding Stripe objects into stripe_* rows, and the Stripe settings.

Object shapes are those of stripe/openapi `openapi/fixtures3.json` (trimmed to the fields that
matter, ids and values kept) and of docs/stripe-recon.md section 2; then variations: zero- and
three-decimal currencies, metadata links, bad input.
"""
from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal

import pytest

from ns_pipelines.money import to_major
from ns_pipelines.stripe import StripeConfig, StripeConfigError, webhook_secrets_from_env
from ns_pipelines.stripe.decode import (
    DecodeError,
    balance_transaction_row,
    charge_row,
    customer_row,
    dispute_balance_transactions,
    dispute_row,
    payout_row,
    refund_row,
)
from ns_pipelines.warehouse.tables.stripe import TABLES_BY_OBJECT

CREATED = dt.datetime(2009, 2, 13, 23, 31, 30, tzinfo=dt.timezone.utc)  # 1234567890

# fixtures3.json "charge" (payment_method_details, outcome, billing details trimmed)
CHARGE = {
    "amount": 100, "amount_captured": 0, "amount_refunded": 0, "application": None,
    "balance_transaction": "txn_1PgaxNB7WZ01zgkWEV3TLf40", "captured": False, "created": 1234567890,
    "currency": "usd", "customer": None, "description": "My First Test Charge (created for API docs)",
    "disputed": False, "failure_balance_transaction": None, "failure_code": None, "failure_message": None,
    "id": "ch_1PgafuB7WZ01zgkWXYmPNZs8", "livemode": False, "metadata": {}, "object": "charge", "paid": True,
    "payment_intent": None, "payment_method": "card_1PgaftB7WZ01zgkWm3waTcFp",
    "payment_method_details": {"card": {"brand": "visa", "last4": "4242", "network": "visa"}, "type": "card"},
    "refunded": False, "refunds": {"data": [], "has_more": False, "object": "list",
                                   "url": "/v1/charges/ch_1PgafuB7WZ01zgkWXYmPNZs8/refunds"},
    "status": "succeeded", "transfer_group": None,
}
CUSTOMER = {
    "balance": 0, "created": 1234567890, "currency": "usd", "default_source": None, "delinquent": False,
    "description": None, "email": None, "id": "cus_QXg1o8vcGmoR32", "invoice_prefix": "7FE1103",
    "livemode": False, "metadata": {}, "name": None, "object": "customer", "preferred_locales": [],
}
REFUND = {
    "amount": 100, "balance_transaction": None, "charge": "ch_1PgafuB7WZ01zgkWXYmPNZs8", "created": 1234567890,
    "currency": "usd", "destination_details": {"card": {"type": "reversal"}, "type": "card"},
    "id": "re_1Pgc72B7WZ01zgkWqPvrRrPE", "metadata": {}, "object": "refund", "payment_intent": None,
    "reason": None, "status": "succeeded",
}
DISPUTE = {
    "amount": 1000, "balance_transactions": [], "charge": "ch_1PgafuB7WZ01zgkWXYmPNZs8", "created": 1234567890,
    "currency": "usd", "id": "dp_1Pgc71B7WZ01zgkWMevJiAUx", "is_charge_refundable": True, "livemode": False,
    "metadata": {}, "object": "dispute", "payment_intent": None, "reason": "general",
    "status": "warning_needs_response",
}
PAYOUT = {
    "amount": 1100, "arrival_date": 1234567890, "automatic": True,
    "balance_transaction": "txn_1PgaxNB7WZ01zgkWEV3TLf40", "created": 1234567890, "currency": "usd",
    "description": "STRIPE PAYOUT", "destination": "ba_1Pgc79B7WZ01zgkWoU5vBiXt", "failure_balance_transaction": None,
    "failure_code": None, "failure_message": None, "id": "po_1Pgc79B7WZ01zgkWu1KToYf4", "livemode": False,
    "metadata": {}, "method": "standard", "object": "payout", "reconciliation_status": "completed",
    "status": "in_transit", "type": "bank_account",
}
BALANCE_TRANSACTION = {
    "amount": 100, "available_on": 1234567890, "created": 1234567890, "currency": "usd",
    "description": "My First Test Charge (created for API docs)", "exchange_rate": None, "fee": 0,
    "fee_details": [], "id": "txn_1PgaxNB7WZ01zgkWEV3TLf40", "net": 100, "object": "balance_transaction",
    "reporting_category": "charge", "source": "ch_1PgafuB7WZ01zgkWXYmPNZs8", "status": "available",
    "type": "charge", "balance_type": "payments",
}


def with_(obj: dict, **changes: object) -> dict:
    out = copy.deepcopy(obj)
    out.update(changes)
    return out


def columns_exist(object_type: str, row: dict) -> None:
    assert set(row) <= set(TABLES_BY_OBJECT[object_type].c.keys()) - {"synced_at"}


# --- fixture shapes ----------------------------------------------------------------------------


def test_charge_fixture() -> None:
    row = charge_row(CHARGE)
    columns_exist("charge", row)
    assert row == {
        "id": "ch_1PgafuB7WZ01zgkWXYmPNZs8", "payment_intent": None, "customer": None, "amount": 100,
        "amount_captured": 0, "amount_refunded": 0, "currency": "usd", "status": "succeeded", "paid": True,
        "captured": False, "refunded": False, "disputed": False, "payment_method_type": "card",
        "balance_transaction": "txn_1PgaxNB7WZ01zgkWEV3TLf40", "failure_balance_transaction": None,
        "failure_code": None, "failure_message": None, "description": "My First Test Charge (created for API docs)",
        "metadata": "{}", "netsuite_invoice_ids": None, "netsuite_invoice_number": None,
        "netsuite_customer_id": None, "created": CREATED,
    }


def test_customer_refund_dispute_payout_fixtures() -> None:
    customer = customer_row(CUSTOMER)
    assert customer == {"id": "cus_QXg1o8vcGmoR32", "email": None, "name": None, "netsuite_customer_id": None,
                        "currency": "usd", "balance": 0, "metadata": "{}", "created": CREATED}
    refund = refund_row(REFUND)
    assert (refund["charge"], refund["amount"], refund["status"], refund["balance_transaction"]) == \
        ("ch_1PgafuB7WZ01zgkWXYmPNZs8", 100, "succeeded", None)
    dispute = dispute_row(DISPUTE)
    assert (dispute["status"], dispute["is_charge_refundable"], dispute["balance_transactions"]) == \
        ("warning_needs_response", True, "[]")
    payout = payout_row(PAYOUT)
    assert (payout["status"], payout["automatic"], payout["reconciliation_status"], payout["arrival_date"]) == \
        ("in_transit", True, "completed", CREATED)
    for object_type, row in [("customer", customer), ("refund", refund), ("dispute", dispute), ("payout", payout)]:
        columns_exist(object_type, row)


def test_balance_transaction_fixture_and_recon_shapes() -> None:
    row = balance_transaction_row(BALANCE_TRANSACTION)
    columns_exist("balance_transaction", row)
    assert (row["amount"], row["fee"], row["net"], row["source"], row["exchange_rate"]) == \
        (100, 0, 100, "ch_1PgafuB7WZ01zgkWXYmPNZs8", None)
    assert "payout" not in row  # a plain read never clears a payout link
    assert balance_transaction_row(BALANCE_TRANSACTION, payout="po_1")["payout"] == "po_1"
    # stripe-recon.md: a charge's BT with a Stripe fee, and a dispute's withdrawal
    charge_bt = with_(BALANCE_TRANSACTION, id="txn_1", amount=10000, fee=320, net=9680, fee_details=[
        {"amount": 320, "currency": "usd", "type": "stripe_fee", "description": "Stripe processing fees",
         "application": None}])
    row = balance_transaction_row(charge_bt)
    assert json.loads(row["fee_details"]) == [{"amount": 320, "currency": "usd", "type": "stripe_fee",
                                               "description": "Stripe processing fees", "application": None}]
    dispute = with_(DISPUTE, id="dp_1", status="needs_response", balance_transactions=[
        with_(BALANCE_TRANSACTION, id="txn_d1", type="adjustment", reporting_category="dispute", amount=-10000,
              fee=1500, net=-11500, source="dp_1")])
    assert dispute_row(dispute)["balance_transactions"] == '["txn_d1"]'
    assert [balance_transaction_row(bt)["net"] for bt in dispute_balance_transactions(dispute)] == [-11500]


# --- currencies and exact amounts --------------------------------------------------------------


@pytest.mark.parametrize(("currency", "amount", "major"), [
    ("jpy", 5000, Decimal("5000")),         # zero-decimal: 5000 is 5,000 yen
    ("KWD", 12340, Decimal("12.340")),      # three-decimal: thousandths, last digit 0
    ("usd", 1234, Decimal("12.34")),
])
def test_amounts_stay_minor_units_in_any_currency(currency: str, amount: int, major: Decimal) -> None:
    row = charge_row(with_(CHARGE, currency=currency, amount=amount, amount_captured=amount))
    assert row["amount"] == amount and row["currency"] == currency.lower()
    assert to_major(row["amount"], row["currency"]) == major


def test_exchange_rate_is_exact() -> None:
    # stripe-recon.md: 10.00 EUR settled as 12.34 USD at 1.234
    row = balance_transaction_row(with_(BALANCE_TRANSACTION, amount=1234, net=1234, exchange_rate=1.234))
    assert row["exchange_rate"] == Decimal("1.234")
    row = balance_transaction_row(with_(BALANCE_TRANSACTION, exchange_rate=0.00673412))
    assert row["exchange_rate"] == Decimal("0.00673412")


# --- NetSuite links from metadata ----------------------------------------------------------------


def test_metadata_links() -> None:
    warnings: list[str] = []
    row = charge_row(with_(CHARGE, metadata={
        "netsuite_invoice_id": "12345", "netsuite_invoice_ids": "12345, 678;901 678",
        "netsuite_invoice_number": " INV0042 ", "netsuite_customer_id": "87"}), warnings.append)
    assert row["netsuite_invoice_ids"] == "12345,678,901"
    assert row["netsuite_invoice_number"] == "INV0042"
    assert row["netsuite_customer_id"] == 87
    assert json.loads(row["metadata"])["netsuite_invoice_ids"] == "12345, 678;901 678"  # raw kept
    assert warnings == []


def test_unparseable_links_warn_and_stay_null() -> None:
    warnings: list[str] = []
    row = charge_row(with_(CHARGE, metadata={"netsuite_invoice_ids": "12,INV-7", "netsuite_customer_id": "abc"}),
                     warnings.append)
    assert row["netsuite_invoice_ids"] == "12" and row["netsuite_customer_id"] is None
    assert any("ch_1PgafuB7WZ01zgkWXYmPNZs8" in w and "INV-7" in w for w in warnings)
    assert any("netsuite_customer_id" in w and "'abc'" in w for w in warnings)
    customer = customer_row(with_(CUSTOMER, metadata={"netsuite_customer_id": "1042"}))
    assert customer["netsuite_customer_id"] == 1042


# --- bad input names the object and field -------------------------------------------------------


@pytest.mark.parametrize(("changes", "field"), [
    ({"amount": 10.5}, "amount"),
    ({"amount": "100"}, "amount"),
    ({"currency": "dollars"}, "currency"),
    ({"created": None}, "created"),
    ({"status": "refunded"}, "status"),
    ({"metadata": ["x"]}, "metadata"),
])
def test_bad_charge_names_record_and_field(changes: dict, field: str) -> None:
    with pytest.raises(DecodeError) as caught:
        charge_row(with_(CHARGE, **changes))
    assert caught.value.object_id == "ch_1PgafuB7WZ01zgkWXYmPNZs8" and caught.value.field == field
    assert "ch_1PgafuB7WZ01zgkWXYmPNZs8" in str(caught.value) and field in str(caught.value)


def test_bad_ids_and_inconsistent_net() -> None:
    with pytest.raises(DecodeError, match="id"):
        charge_row(with_(CHARGE, id="re_123"))
    with pytest.raises(DecodeError, match="txn_1PgaxNB7WZ01zgkWEV3TLf40 field net"):
        balance_transaction_row(with_(BALANCE_TRANSACTION, fee=5))
    with pytest.raises(DecodeError, match="deleted"):
        customer_row({"id": "cus_1", "object": "customer", "deleted": True})


# --- settings ------------------------------------------------------------------------------------


def test_config_from_env_and_secrets_never_shown() -> None:
    config = StripeConfig.from_env({"STRIPE_API_KEY": "sk_test_secret123", "STRIPE_API_BASE": "http://127.0.0.1:1/"})
    assert config.api_base == "http://127.0.0.1:1" and config.max_network_retries == 3
    assert "sk_test_secret123" not in repr(config)
    assert StripeConfig.from_env({"STRIPE_API_KEY": "sk_x"}).api_base == "https://api.stripe.com"
    with pytest.raises(StripeConfigError, match="STRIPE_API_KEY is not set"):
        StripeConfig.from_env({})
    with pytest.raises(StripeConfigError, match="STRIPE_MAX_NETWORK_RETRIES") as caught:
        StripeConfig.from_env({"STRIPE_API_KEY": "sk_x", "STRIPE_MAX_NETWORK_RETRIES": "many"})
    assert "sk_x" not in str(caught.value)
    assert webhook_secrets_from_env({"STRIPE_WEBHOOK_SECRET": "whsec_new, whsec_old"}) == ["whsec_new", "whsec_old"]
    assert webhook_secrets_from_env({}) == []
