"""Raw Stripe tables: one row per Stripe object, keyed by its Stripe id (ch_..., re_..., txn_...).

Amounts are integers in the currency's minor unit, exactly as Stripe sends them (1000 is 10.00 USD
but 1,000 JPY); `currency` is Stripe's lower-case ISO code, and ns_pipelines.money converts. Times
are Stripe's unix seconds as UTC timestamps. `metadata` columns hold the object's metadata as JSON
text. No foreign keys: a targeted sync may write a refund before its charge. Stripe objects are
never deleted except customers, which keep their row with is_deleted.
"""
from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, String, Table, Text

from ns_pipelines.warehouse.tables.common import flag, metadata
from ns_pipelines.warehouse.types import ExactDecimal, UTCDateTime

# Stripe's exchange rates carry more decimals than NetSuite's (ExchangeRate keeps 10): 14 after
# the point keep them exact (ExactDecimal refuses what SQLite cannot hold exactly).
STRIPE_RATE_PRECISION, STRIPE_RATE_SCALE = 28, 14


def stripe_id(name: str, comment: str, *, primary_key: bool = False, index: bool = False) -> Column:
    """A Stripe object id (text, up to 255 characters as Stripe allows)."""
    return Column(name, String(255), primary_key=primary_key, index=index, nullable=not primary_key,
                  comment=comment)


def minor_units(name: str, comment: str, *, nullable: bool = True) -> Column:
    return Column(name, BigInteger, nullable=nullable, comment=f"{comment} Integer, in the currency's minor unit.")


def stripe_currency(comment: str = "Currency, Stripe's lower-case ISO 4217 code (usd, jpy, kwd).") -> Column:
    return Column("currency", String(3), comment=comment)


def json_text(name: str, comment: str) -> Column:
    return Column(name, Text, comment=f"{comment} JSON text.")


def created() -> Column:
    return Column("created", UTCDateTime, nullable=False, index=True, comment="When Stripe created the object (created), in UTC.")


def synced_at() -> Column:
    return Column("synced_at", UTCDateTime, nullable=False, comment="When the pipeline last wrote this row, in UTC.")


def netsuite_customer_id(comment: str) -> Column:
    return Column("netsuite_customer_id", BigInteger, index=True, comment=comment)


customers = Table(
    "stripe_customers",
    metadata,
    stripe_id("id", "Stripe customer id (cus_...).", primary_key=True),
    Column("email", Text, comment="Email address (email)."),
    Column("name", Text, comment="Name (name)."),
    netsuite_customer_id("NetSuite internal id of the linked customer (metadata.netsuite_customer_id), if any."),
    stripe_currency("Default currency of the customer (currency), lower-case ISO 4217; null until it pays."),
    minor_units("balance", "Customer credit balance (balance); negative is credit owed to the customer."),
    json_text("metadata", "The customer's metadata (metadata)."),
    created(),
    flag("is_deleted", "True once the customer was deleted in Stripe; the row is kept."),
    Column("deleted_at", UTCDateTime, comment="When the pipeline saw the deletion (customer.deleted), in UTC."),
    synced_at(),
    comment="Stripe customers, one row per customer, deleted ones kept with is_deleted.",
)

charges = Table(
    "stripe_charges",
    metadata,
    stripe_id("id", "Stripe charge id (ch_... for cards, py_... for many other methods).", primary_key=True),
    stripe_id("payment_intent", "PaymentIntent that created the charge (payment_intent), if any.", index=True),
    stripe_id("customer", "Stripe customer charged (customer), if any.", index=True),
    minor_units("amount", "Amount charged, in the presentment currency (amount).", nullable=False),
    minor_units("amount_captured", "Amount captured (amount_captured)."),
    minor_units("amount_refunded", "Amount refunded so far (amount_refunded)."),
    stripe_currency("Presentment currency of the charge (currency), lower-case ISO 4217."),
    Column("status", String(16), nullable=False, comment="succeeded, pending or failed (status)."),
    flag("paid", "True when the charge succeeded or was authorized for capture (paid)."),
    flag("captured", "True when the charge was captured (captured)."),
    flag("refunded", "True when the charge was refunded in full (refunded)."),
    flag("disputed", "True when the charge was disputed (disputed)."),
    Column("payment_method_type", String(64),
           comment="Payment method (payment_method_details.type): card, us_bank_account, sepa_debit, ..."),
    stripe_id("balance_transaction", "Balance transaction that settled the charge (balance_transaction), once it has one.",
              index=True),
    stripe_id("failure_balance_transaction",
              "Balance transaction reversing a failed asynchronous payment (failure_balance_transaction), if any."),
    Column("failure_code", String(64), comment="Why the charge failed (failure_code), if it did."),
    Column("failure_message", Text, comment="Stripe's explanation of the failure (failure_message)."),
    Column("description", Text, comment="Description (description); may carry an invoice number."),
    json_text("metadata", "The charge's metadata (metadata)."),
    Column("netsuite_invoice_ids", Text,
           comment="NetSuite invoice internal ids the charge pays: metadata netsuite_invoice_id and "
           "netsuite_invoice_ids normalized to a comma list without spaces or repeats, or null."),
    Column("netsuite_invoice_number", Text, comment="NetSuite invoice number (tranid) from metadata.netsuite_invoice_number."),
    netsuite_customer_id("NetSuite customer internal id from the charge's metadata.netsuite_customer_id, if any."),
    created(),
    synced_at(),
    comment="Stripe charges (payments), one row per charge.",
)

refunds = Table(
    "stripe_refunds",
    metadata,
    stripe_id("id", "Stripe refund id (re_... or pyr_...).", primary_key=True),
    stripe_id("charge", "Charge refunded (charge).", index=True),
    stripe_id("payment_intent", "PaymentIntent refunded (payment_intent), if any."),
    minor_units("amount", "Amount refunded, in the charge's currency (amount).", nullable=False),
    stripe_currency(),
    Column("status", String(32), comment="pending, requires_action, succeeded, failed or canceled (status)."),
    Column("reason", String(64), comment="duplicate, fraudulent, requested_by_customer or expired_uncaptured_charge (reason)."),
    stripe_id("balance_transaction", "Balance transaction of the refund (balance_transaction), once it has one."),
    stripe_id("failure_balance_transaction", "Balance transaction returning a failed refund (failure_balance_transaction)."),
    Column("failure_reason", String(64), comment="Why the refund failed (failure_reason), if it did."),
    json_text("metadata", "The refund's metadata (metadata)."),
    created(),
    synced_at(),
    comment="Stripe refunds, one row per refund.",
)

disputes = Table(
    "stripe_disputes",
    metadata,
    stripe_id("id", "Stripe dispute id (dp_... or du_...).", primary_key=True),
    stripe_id("charge", "Charge disputed (charge).", index=True),
    stripe_id("payment_intent", "PaymentIntent disputed (payment_intent), if any."),
    minor_units("amount", "Amount disputed (amount); may differ from the charge amount.", nullable=False),
    stripe_currency(),
    Column("status", String(32), nullable=False,
           comment="warning_needs_response, warning_under_review, warning_closed, needs_response, under_review, "
           "won, lost or prevented (status)."),
    Column("reason", String(64), comment="Reason given by the cardholder's bank (reason)."),
    Column("is_charge_refundable", Boolean, comment="Whether the charge can still be refunded (is_charge_refundable)."),
    json_text("balance_transactions",
              "Ids of the dispute's balance transactions (balance_transactions[].id): withdrawal, reinstatement."),
    json_text("metadata", "The dispute's metadata (metadata)."),
    created(),
    synced_at(),
    comment="Stripe disputes (chargebacks and inquiries), one row per dispute.",
)

payouts = Table(
    "stripe_payouts",
    metadata,
    stripe_id("id", "Stripe payout id (po_...).", primary_key=True),
    minor_units("amount", "Amount paid out to the bank (amount).", nullable=False),
    stripe_currency("Settlement currency of the payout (currency), lower-case ISO 4217."),
    Column("status", String(16), nullable=False, comment="pending, in_transit, paid, failed or canceled (status)."),
    Column("automatic", Boolean, comment="True for automatic payouts, whose balance transactions can be listed (automatic)."),
    Column("reconciliation_status", String(32),
           comment="in_progress, completed or not_applicable (reconciliation_status)."),
    Column("arrival_date", UTCDateTime, comment="When the payout is expected to arrive in the bank (arrival_date), in UTC."),
    stripe_id("balance_transaction", "The payout's own balance transaction (balance_transaction)."),
    stripe_id("failure_balance_transaction", "Balance transaction returning a failed payout (failure_balance_transaction)."),
    Column("failure_code", String(64), comment="Why the payout failed (failure_code), if it did."),
    Column("method", String(16), comment="standard or instant (method)."),
    json_text("metadata", "The payout's metadata (metadata)."),
    created(),
    synced_at(),
    comment="Stripe payouts to the bank, one row per payout.",
)

balance_transactions = Table(
    "stripe_balance_transactions",
    metadata,
    stripe_id("id", "Stripe balance transaction id (txn_...).", primary_key=True),
    minor_units("amount", "Gross amount, in the settlement currency (amount); negative leaves the balance.",
                nullable=False),
    minor_units("fee", "Fees (fee); positive when assessed.", nullable=False),
    minor_units("net", "amount - fee (net).", nullable=False),
    stripe_currency("Settlement currency (currency), lower-case ISO 4217."),
    Column("type", String(64), nullable=False, comment="charge, payment, refund, adjustment, payout, stripe_fee, ... (type)."),
    Column("reporting_category", String(64), comment="charge, refund, dispute, fee, payout, ... (reporting_category)."),
    stripe_id("source", "Object that caused it (source): ch_..., re_..., dp_..., po_...; null for some fees.",
              index=True),
    stripe_id("payout", "Payout that carried it to the bank (GET /v1/balance_transactions?payout=), once known.",
              index=True),
    Column("exchange_rate", ExactDecimal(STRIPE_RATE_PRECISION, STRIPE_RATE_SCALE),
           comment="Presentment to settlement rate (exchange_rate), exact decimal; null when no conversion."),
    json_text("fee_details", "Fee breakdown (fee_details[]: amount, currency, type, description)."),
    Column("status", String(16), comment="available or pending (status)."),
    Column("available_on", UTCDateTime, comment="When the funds become available (available_on), in UTC."),
    Column("description", Text, comment="Description (description)."),
    created(),
    synced_at(),
    comment="Stripe balance transactions (money moving in and out of the Stripe balance), one row each.",
)

# Object type (Stripe's `object` value) -> table. Also the order a sync writes them in.
TABLES_BY_OBJECT: dict[str, Table] = {
    "customer": customers,
    "charge": charges,
    "refund": refunds,
    "dispute": disputes,
    "payout": payouts,
    "balance_transaction": balance_transactions,
}
