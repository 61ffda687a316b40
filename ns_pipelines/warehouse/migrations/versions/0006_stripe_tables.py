"""Stripe raw tables, and Stripe events in the webhook inbox.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26

- stripe_customers, stripe_charges, stripe_refunds, stripe_disputes, stripe_payouts,
  stripe_balance_transactions (ns_pipelines.warehouse.tables.stripe), written by ns_pipelines.stripe.
- ns_webhook_inbox: `object_id` (the Stripe object an event is about) and `record_id` nullable,
  because Stripe events name objects by text id, not by a NetSuite internal id. On SQLite the
  inbox is copied (batch mode), keeping AUTOINCREMENT so inbox ids are never reused.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: Union[str, Sequence[str], None] = "0005"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "stripe_customers",
        sa.Column("id", sa.String(length=255), nullable=False,
                  comment='Stripe customer id (cus_...).'),
        sa.Column("email", sa.Text(), nullable=True,
                  comment='Email address (email).'),
        sa.Column("name", sa.Text(), nullable=True,
                  comment='Name (name).'),
        sa.Column("netsuite_customer_id", sa.BigInteger(), nullable=True,
                  comment='NetSuite internal id of the linked customer (metadata.netsuite_customer_id), if any.'),
        sa.Column("currency", sa.String(length=3), nullable=True,
                  comment='Default currency of the customer (currency), lower-case ISO 4217; null until it pays.'),
        sa.Column("balance", sa.BigInteger(), nullable=True,
                  comment="Customer credit balance (balance); negative is credit owed to the customer. Integer, in the currency's minor unit."),
        sa.Column("metadata", sa.Text(), nullable=True,
                  comment="The customer's metadata (metadata). JSON text."),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False,
                  comment='When Stripe created the object (created), in UTC.'),
        sa.Column("is_deleted", sa.Boolean(), server_default=sa.false(), nullable=False,
                  comment='True once the customer was deleted in Stripe; the row is kept.'),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True,
                  comment='When the pipeline saw the deletion (customer.deleted), in UTC.'),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False,
                  comment='When the pipeline last wrote this row, in UTC.'),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stripe_customers")),
        comment='Stripe customers, one row per customer, deleted ones kept with is_deleted.',
    )
    op.create_index(op.f("ix_stripe_customers_created"), "stripe_customers", ["created"], unique=False)
    op.create_index(op.f("ix_stripe_customers_netsuite_customer_id"), "stripe_customers", ["netsuite_customer_id"], unique=False)
    op.create_table(
        "stripe_charges",
        sa.Column("id", sa.String(length=255), nullable=False,
                  comment='Stripe charge id (ch_... for cards, py_... for many other methods).'),
        sa.Column("payment_intent", sa.String(length=255), nullable=True,
                  comment='PaymentIntent that created the charge (payment_intent), if any.'),
        sa.Column("customer", sa.String(length=255), nullable=True,
                  comment='Stripe customer charged (customer), if any.'),
        sa.Column("amount", sa.BigInteger(), nullable=False,
                  comment="Amount charged, in the presentment currency (amount). Integer, in the currency's minor unit."),
        sa.Column("amount_captured", sa.BigInteger(), nullable=True,
                  comment="Amount captured (amount_captured). Integer, in the currency's minor unit."),
        sa.Column("amount_refunded", sa.BigInteger(), nullable=True,
                  comment="Amount refunded so far (amount_refunded). Integer, in the currency's minor unit."),
        sa.Column("currency", sa.String(length=3), nullable=True,
                  comment='Presentment currency of the charge (currency), lower-case ISO 4217.'),
        sa.Column("status", sa.String(length=16), nullable=False,
                  comment='succeeded, pending or failed (status).'),
        sa.Column("paid", sa.Boolean(), server_default=sa.false(), nullable=False,
                  comment='True when the charge succeeded or was authorized for capture (paid).'),
        sa.Column("captured", sa.Boolean(), server_default=sa.false(), nullable=False,
                  comment='True when the charge was captured (captured).'),
        sa.Column("refunded", sa.Boolean(), server_default=sa.false(), nullable=False,
                  comment='True when the charge was refunded in full (refunded).'),
        sa.Column("disputed", sa.Boolean(), server_default=sa.false(), nullable=False,
                  comment='True when the charge was disputed (disputed).'),
        sa.Column("payment_method_type", sa.String(length=64), nullable=True,
                  comment='Payment method (payment_method_details.type): card, us_bank_account, sepa_debit, ...'),
        sa.Column("balance_transaction", sa.String(length=255), nullable=True,
                  comment='Balance transaction that settled the charge (balance_transaction), once it has one.'),
        sa.Column("failure_balance_transaction", sa.String(length=255), nullable=True,
                  comment='Balance transaction reversing a failed asynchronous payment (failure_balance_transaction), if any.'),
        sa.Column("failure_code", sa.String(length=64), nullable=True,
                  comment='Why the charge failed (failure_code), if it did.'),
        sa.Column("failure_message", sa.Text(), nullable=True,
                  comment="Stripe's explanation of the failure (failure_message)."),
        sa.Column("description", sa.Text(), nullable=True,
                  comment='Description (description); may carry an invoice number.'),
        sa.Column("metadata", sa.Text(), nullable=True,
                  comment="The charge's metadata (metadata). JSON text."),
        sa.Column("netsuite_invoice_ids", sa.Text(), nullable=True,
                  comment='NetSuite invoice internal ids the charge pays: metadata netsuite_invoice_id and netsuite_invoice_ids normalized to a comma list without spaces or repeats, or null.'),
        sa.Column("netsuite_invoice_number", sa.Text(), nullable=True,
                  comment='NetSuite invoice number (tranid) from metadata.netsuite_invoice_number.'),
        sa.Column("netsuite_customer_id", sa.BigInteger(), nullable=True,
                  comment="NetSuite customer internal id from the charge's metadata.netsuite_customer_id, if any."),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False,
                  comment='When Stripe created the object (created), in UTC.'),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False,
                  comment='When the pipeline last wrote this row, in UTC.'),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stripe_charges")),
        comment='Stripe charges (payments), one row per charge.',
    )
    op.create_index(op.f("ix_stripe_charges_balance_transaction"), "stripe_charges", ["balance_transaction"], unique=False)
    op.create_index(op.f("ix_stripe_charges_created"), "stripe_charges", ["created"], unique=False)
    op.create_index(op.f("ix_stripe_charges_customer"), "stripe_charges", ["customer"], unique=False)
    op.create_index(op.f("ix_stripe_charges_netsuite_customer_id"), "stripe_charges", ["netsuite_customer_id"], unique=False)
    op.create_index(op.f("ix_stripe_charges_payment_intent"), "stripe_charges", ["payment_intent"], unique=False)
    op.create_table(
        "stripe_refunds",
        sa.Column("id", sa.String(length=255), nullable=False,
                  comment='Stripe refund id (re_... or pyr_...).'),
        sa.Column("charge", sa.String(length=255), nullable=True,
                  comment='Charge refunded (charge).'),
        sa.Column("payment_intent", sa.String(length=255), nullable=True,
                  comment='PaymentIntent refunded (payment_intent), if any.'),
        sa.Column("amount", sa.BigInteger(), nullable=False,
                  comment="Amount refunded, in the charge's currency (amount). Integer, in the currency's minor unit."),
        sa.Column("currency", sa.String(length=3), nullable=True,
                  comment="Currency, Stripe's lower-case ISO 4217 code (usd, jpy, kwd)."),
        sa.Column("status", sa.String(length=32), nullable=True,
                  comment='pending, requires_action, succeeded, failed or canceled (status).'),
        sa.Column("reason", sa.String(length=64), nullable=True,
                  comment='duplicate, fraudulent, requested_by_customer or expired_uncaptured_charge (reason).'),
        sa.Column("balance_transaction", sa.String(length=255), nullable=True,
                  comment='Balance transaction of the refund (balance_transaction), once it has one.'),
        sa.Column("failure_balance_transaction", sa.String(length=255), nullable=True,
                  comment='Balance transaction returning a failed refund (failure_balance_transaction).'),
        sa.Column("failure_reason", sa.String(length=64), nullable=True,
                  comment='Why the refund failed (failure_reason), if it did.'),
        sa.Column("metadata", sa.Text(), nullable=True,
                  comment="The refund's metadata (metadata). JSON text."),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False,
                  comment='When Stripe created the object (created), in UTC.'),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False,
                  comment='When the pipeline last wrote this row, in UTC.'),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stripe_refunds")),
        comment='Stripe refunds, one row per refund.',
    )
    op.create_index(op.f("ix_stripe_refunds_charge"), "stripe_refunds", ["charge"], unique=False)
    op.create_index(op.f("ix_stripe_refunds_created"), "stripe_refunds", ["created"], unique=False)
    op.create_table(
        "stripe_disputes",
        sa.Column("id", sa.String(length=255), nullable=False,
                  comment='Stripe dispute id (dp_... or du_...).'),
        sa.Column("charge", sa.String(length=255), nullable=True,
                  comment='Charge disputed (charge).'),
        sa.Column("payment_intent", sa.String(length=255), nullable=True,
                  comment='PaymentIntent disputed (payment_intent), if any.'),
        sa.Column("amount", sa.BigInteger(), nullable=False,
                  comment="Amount disputed (amount); may differ from the charge amount. Integer, in the currency's minor unit."),
        sa.Column("currency", sa.String(length=3), nullable=True,
                  comment="Currency, Stripe's lower-case ISO 4217 code (usd, jpy, kwd)."),
        sa.Column("status", sa.String(length=32), nullable=False,
                  comment='warning_needs_response, warning_under_review, warning_closed, needs_response, under_review, won, lost or prevented (status).'),
        sa.Column("reason", sa.String(length=64), nullable=True,
                  comment="Reason given by the cardholder's bank (reason)."),
        sa.Column("is_charge_refundable", sa.Boolean(), nullable=True,
                  comment='Whether the charge can still be refunded (is_charge_refundable).'),
        sa.Column("balance_transactions", sa.Text(), nullable=True,
                  comment="Ids of the dispute's balance transactions (balance_transactions[].id): withdrawal, reinstatement. JSON text."),
        sa.Column("metadata", sa.Text(), nullable=True,
                  comment="The dispute's metadata (metadata). JSON text."),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False,
                  comment='When Stripe created the object (created), in UTC.'),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False,
                  comment='When the pipeline last wrote this row, in UTC.'),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stripe_disputes")),
        comment='Stripe disputes (chargebacks and inquiries), one row per dispute.',
    )
    op.create_index(op.f("ix_stripe_disputes_charge"), "stripe_disputes", ["charge"], unique=False)
    op.create_index(op.f("ix_stripe_disputes_created"), "stripe_disputes", ["created"], unique=False)
    op.create_table(
        "stripe_payouts",
        sa.Column("id", sa.String(length=255), nullable=False,
                  comment='Stripe payout id (po_...).'),
        sa.Column("amount", sa.BigInteger(), nullable=False,
                  comment="Amount paid out to the bank (amount). Integer, in the currency's minor unit."),
        sa.Column("currency", sa.String(length=3), nullable=True,
                  comment='Settlement currency of the payout (currency), lower-case ISO 4217.'),
        sa.Column("status", sa.String(length=16), nullable=False,
                  comment='pending, in_transit, paid, failed or canceled (status).'),
        sa.Column("automatic", sa.Boolean(), nullable=True,
                  comment='True for automatic payouts, whose balance transactions can be listed (automatic).'),
        sa.Column("reconciliation_status", sa.String(length=32), nullable=True,
                  comment='in_progress, completed or not_applicable (reconciliation_status).'),
        sa.Column("arrival_date", sa.DateTime(timezone=True), nullable=True,
                  comment='When the payout is expected to arrive in the bank (arrival_date), in UTC.'),
        sa.Column("balance_transaction", sa.String(length=255), nullable=True,
                  comment="The payout's own balance transaction (balance_transaction)."),
        sa.Column("failure_balance_transaction", sa.String(length=255), nullable=True,
                  comment='Balance transaction returning a failed payout (failure_balance_transaction).'),
        sa.Column("failure_code", sa.String(length=64), nullable=True,
                  comment='Why the payout failed (failure_code), if it did.'),
        sa.Column("method", sa.String(length=16), nullable=True,
                  comment='standard or instant (method).'),
        sa.Column("metadata", sa.Text(), nullable=True,
                  comment="The payout's metadata (metadata). JSON text."),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False,
                  comment='When Stripe created the object (created), in UTC.'),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False,
                  comment='When the pipeline last wrote this row, in UTC.'),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stripe_payouts")),
        comment='Stripe payouts to the bank, one row per payout.',
    )
    op.create_index(op.f("ix_stripe_payouts_created"), "stripe_payouts", ["created"], unique=False)
    op.create_table(
        "stripe_balance_transactions",
        sa.Column("id", sa.String(length=255), nullable=False,
                  comment='Stripe balance transaction id (txn_...).'),
        sa.Column("amount", sa.BigInteger(), nullable=False,
                  comment="Gross amount, in the settlement currency (amount); negative leaves the balance. Integer, in the currency's minor unit."),
        sa.Column("fee", sa.BigInteger(), nullable=False,
                  comment="Fees (fee); positive when assessed. Integer, in the currency's minor unit."),
        sa.Column("net", sa.BigInteger(), nullable=False,
                  comment="amount - fee (net). Integer, in the currency's minor unit."),
        sa.Column("currency", sa.String(length=3), nullable=True,
                  comment='Settlement currency (currency), lower-case ISO 4217.'),
        sa.Column("type", sa.String(length=64), nullable=False,
                  comment='charge, payment, refund, adjustment, payout, stripe_fee, ... (type).'),
        sa.Column("reporting_category", sa.String(length=64), nullable=True,
                  comment='charge, refund, dispute, fee, payout, ... (reporting_category).'),
        sa.Column("source", sa.String(length=255), nullable=True,
                  comment='Object that caused it (source): ch_..., re_..., dp_..., po_...; null for some fees.'),
        sa.Column("payout", sa.String(length=255), nullable=True,
                  comment='Payout that carried it to the bank (GET /v1/balance_transactions?payout=), once known.'),
        sa.Column("exchange_rate", sa.Numeric(precision=28, scale=14), nullable=True,
                  comment='Presentment to settlement rate (exchange_rate), exact decimal; null when no conversion.'),
        sa.Column("fee_details", sa.Text(), nullable=True,
                  comment='Fee breakdown (fee_details[]: amount, currency, type, description). JSON text.'),
        sa.Column("status", sa.String(length=16), nullable=True,
                  comment='available or pending (status).'),
        sa.Column("available_on", sa.DateTime(timezone=True), nullable=True,
                  comment='When the funds become available (available_on), in UTC.'),
        sa.Column("description", sa.Text(), nullable=True,
                  comment='Description (description).'),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False,
                  comment='When Stripe created the object (created), in UTC.'),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False,
                  comment='When the pipeline last wrote this row, in UTC.'),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stripe_balance_transactions")),
        comment='Stripe balance transactions (money moving in and out of the Stripe balance), one row each.',
    )
    op.create_index(op.f("ix_stripe_balance_transactions_created"), "stripe_balance_transactions", ["created"], unique=False)
    op.create_index(op.f("ix_stripe_balance_transactions_payout"), "stripe_balance_transactions", ["payout"], unique=False)
    op.create_index(op.f("ix_stripe_balance_transactions_source"), "stripe_balance_transactions", ["source"], unique=False)
    with op.batch_alter_table("ns_webhook_inbox", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.alter_column("record_id", existing_type=sa.BigInteger(), nullable=True,
                           comment="NetSuite internal id of the changed record (null for Stripe events).",
                           existing_comment="NetSuite internal id of the changed record.")
        batch.add_column(sa.Column(
            "object_id", sa.String(length=255), nullable=True,
            comment="Stripe id of the object the event is about (data.object.id: ch_..., po_...); null for NetSuite."))


def downgrade() -> None:
    with op.batch_alter_table("ns_webhook_inbox", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_column("object_id")
        batch.alter_column("record_id", existing_type=sa.BigInteger(), nullable=False,
                           comment="NetSuite internal id of the changed record.",
                           existing_comment="NetSuite internal id of the changed record (null for Stripe events).")
    op.drop_table("stripe_balance_transactions")
    op.drop_table("stripe_payouts")
    op.drop_table("stripe_disputes")
    op.drop_table("stripe_refunds")
    op.drop_table("stripe_charges")
    op.drop_table("stripe_customers")
