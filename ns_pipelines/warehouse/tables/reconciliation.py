"""Reconciliation results (ns_pipelines.reconciliation; docs/reconciliation.md): what the writeback
creates or changes in NetSuite, and what a person must look at. Full refresh on every run.

Amounts are in major units of `currency` (upper-case ISO code); amounts inside JSON columns are
decimal strings.
"""
from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, Integer, String, Table, Text

from ns_pipelines.warehouse.tables.common import flag, id_column, metadata
from ns_pipelines.warehouse.types import Money

payment_matches = Table(
    "reconciliation_payment_matches",
    metadata,
    Column(
        "external_id", Text, primary_key=True,
        comment="External id of the NetSuite record the action creates or changes (stripe:<charge id>, "
        "stripe:<charge id>:<customer id>, stripe:<refund id>, ...).",
    ),
    Column(
        "action", String(24), primary_key=True,
        comment="create_payment, unapply, reapply, customer_refund or credit_memo_refund.",
    ),
    Column(
        "state", String(16), nullable=False, index=True,
        comment="planned (the writeback should do it) or done (NetSuite already has it).",
    ),
    Column("stripe_object_id", Text, nullable=False, comment="Stripe object behind the action: charge, refund or dispute id."),
    Column("charge_id", Text, nullable=False, index=True, comment="Stripe charge concerned."),
    Column("payment_intent_id", Text, comment="Payment intent of the charge, if any."),
    Column("stripe_customer_id", Text, comment="Stripe customer of the charge (cus_...), if any."),
    Column(
        "payment_external_id", Text, nullable=False,
        comment="External id of the customer payment the action is about.",
    ),
    id_column("netsuite_customer_id", "NetSuite customer of the payment.", index=True),
    id_column("netsuite_payment_id", "Internal id of the customer payment, once it exists in NetSuite."),
    id_column("netsuite_record_id", "Internal id of the record the action created, when done."),
    Column("currency", String(3), nullable=False, comment="Currency of the amounts (the charge's), ISO 4217 code."),
    Column(
        "amount", Money(), nullable=False,
        comment="Payment amount (create_payment), amount unapplied or re-applied (unapply, reapply), "
        "or amount refunded (customer_refund, credit_memo_refund).",
    ),
    Column(
        "applications", Text, nullable=False,
        comment='JSON [{"invoice_id": 123, "amount": "40.00"}]: amounts to apply (create_payment, reapply) '
        "or to take off each invoice (unapply, refunds).",
    ),
    Column("applied_amount", Money(), nullable=False, comment="Sum of the applications."),
    Column(
        "unapplied_amount", Money(), nullable=False,
        comment="create_payment: left unapplied on the payment; customer_refund: taken from the "
        "payment's unapplied amount; else 0.",
    ),
    flag("is_overpayment", "True when the payment leaves an amount unapplied."),
    flag("is_split", "True when the charge pays invoices of several customers (one payment per customer)."),
    Column(
        "invoice_rule", String(24), nullable=False,
        comment="How the invoices were found: explicit_ids, invoice_number, oldest_first or netsuite.",
    ),
    Column("memo", Text, comment="Memo of the NetSuite record."),
    Column("tran_date", Date, comment="Transaction date of the NetSuite record (account time zone)."),
    Column("payout_id", Text, index=True, comment="Stripe payout carrying the charge or refund, if known."),
    Column("reason", Text, nullable=False, comment="Why this action, in one sentence."),
    comment="NetSuite writes about Stripe charges: payments to create, unapply, re-apply, customer refunds.",
)

payout_matches = Table(
    "reconciliation_payout_matches",
    metadata,
    Column("payout_id", Text, primary_key=True, comment="Stripe payout id (po_...)."),
    Column("external_id", Text, nullable=False, comment="External id of the deposit: stripe:<payout id>."),
    Column("state", String(16), nullable=False, comment="planned, or done (NetSuite has the deposit)."),
    Column(
        "status", String(16), nullable=False, index=True,
        comment="ready (validated: create the deposit) or exception (no deposit; see reconciliation_exceptions).",
    ),
    Column("currency", String(3), nullable=False, comment="Payout (settlement) currency, ISO 4217 code."),
    Column("amount", Money(), nullable=False, comment="Net amount of the payout = deposit total."),
    Column("fee_total", Money(), nullable=False, comment="Stripe fees in the payout (positive); the fee line is its negative."),
    Column("tran_date", Date, comment="Arrival date of the payout (account time zone)."),
    Column("memo", Text, nullable=False, comment="Deposit memo: Stripe payout <payout id>."),
    Column(
        "lines", Text, nullable=False,
        comment='JSON deposit lines [{"kind", "balance_transaction_id", "stripe_object_id", "external_id", '
        '"netsuite_id", "account_id", "amount"}]; kinds payment, customer_refund, fee, adjustment.',
    ),
    Column("item_count", Integer, nullable=False, comment="Balance transactions in the payout, its own excluded."),
    Column("payment_count", Integer, nullable=False, comment="Payment lines."),
    Column("refund_count", Integer, nullable=False, comment="Customer refund lines."),
    Column("netsuite_deposit_id", BigInteger, comment="Internal id of the deposit, when done."),
    Column("exception_codes", Text, comment="Comma list of exception codes when status is exception."),
    Column("reason", Text, nullable=False, comment="Why ready, or what is wrong, in one sentence."),
    comment="NetSuite deposits for paid automatic Stripe payouts, validated item by item.",
)

exceptions = Table(
    "reconciliation_exceptions",
    metadata,
    Column("exception_id", Text, primary_key=True, comment="Stable id: <code>:<object id>[:<more>]."),
    Column("code", String(48), nullable=False, index=True, comment="Kind of exception (docs/reconciliation.md)."),
    Column("severity", String(8), nullable=False, comment="error (nothing written), warning or info."),
    Column("stripe_object_type", String(24), comment="charge, refund, dispute, payout or credit_memo."),
    Column("stripe_object_id", Text, comment="Stripe object concerned, if any."),
    Column("charge_id", Text, index=True, comment="Stripe charge concerned, if any."),
    Column("payout_id", Text, index=True, comment="Stripe payout concerned, if any."),
    id_column("netsuite_customer_id", "NetSuite customer concerned, if known."),
    Column("netsuite_record_ids", Text, nullable=False, comment="JSON list of NetSuite internal ids concerned."),
    Column("currency", String(3), comment="Currency of amount, ISO 4217 code."),
    Column("amount", Money(), comment="Amount concerned, if any."),
    Column("reason", Text, nullable=False, comment="What is wrong, naming the records."),
    Column("resolution", Text, nullable=False, comment="What a person should do about it."),
    Column("details", Text, nullable=False, comment="JSON with the specifics (e.g. failing payout items)."),
    comment="Reconciliation exceptions: what could not be matched or validated, and what to do.",
)
