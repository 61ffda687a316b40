"""Reconciliation tables: payment matches, payout matches, exceptions (issue 5).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26

Written by ns_pipelines.reconciliation (full refresh each run) and read by the writeback; the
columns are documented in docs/reconciliation.md.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: Union[str, Sequence[str], None] = "0006"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

TABLES = ("reconciliation_payment_matches", "reconciliation_payout_matches", "reconciliation_exceptions")


def upgrade() -> None:
    op.create_table('reconciliation_payment_matches',
    sa.Column('external_id', sa.Text(), nullable=False, comment='External id of the NetSuite record the action creates or changes (stripe:<charge id>, stripe:<charge id>:<customer id>, stripe:<refund id>, ...).'),
    sa.Column('action', sa.String(length=24), nullable=False, comment='create_payment, unapply, reapply, customer_refund or credit_memo_refund.'),
    sa.Column('state', sa.String(length=16), nullable=False, comment='planned (the writeback should do it) or done (NetSuite already has it).'),
    sa.Column('stripe_object_id', sa.Text(), nullable=False, comment='Stripe object behind the action: charge, refund or dispute id.'),
    sa.Column('charge_id', sa.Text(), nullable=False, comment='Stripe charge concerned.'),
    sa.Column('payment_intent_id', sa.Text(), nullable=True, comment='Payment intent of the charge, if any.'),
    sa.Column('stripe_customer_id', sa.Text(), nullable=True, comment='Stripe customer of the charge (cus_...), if any.'),
    sa.Column('payment_external_id', sa.Text(), nullable=False, comment='External id of the customer payment the action is about.'),
    sa.Column('netsuite_customer_id', sa.BigInteger(), autoincrement=False, nullable=True, comment='NetSuite customer of the payment.'),
    sa.Column('netsuite_payment_id', sa.BigInteger(), autoincrement=False, nullable=True, comment='Internal id of the customer payment, once it exists in NetSuite.'),
    sa.Column('netsuite_record_id', sa.BigInteger(), autoincrement=False, nullable=True, comment='Internal id of the record the action created, when done.'),
    sa.Column('currency', sa.String(length=3), nullable=False, comment="Currency of the amounts (the charge's), ISO 4217 code."),
    sa.Column('amount', sa.Numeric(precision=18, scale=4), nullable=False, comment='Payment amount (create_payment), amount unapplied or re-applied (unapply, reapply), or amount refunded (customer_refund, credit_memo_refund).'),
    sa.Column('applications', sa.Text(), nullable=False, comment='JSON [{"invoice_id": 123, "amount": "40.00"}]: amounts to apply (create_payment, reapply) or to take off each invoice (unapply, refunds).'),
    sa.Column('applied_amount', sa.Numeric(precision=18, scale=4), nullable=False, comment='Sum of the applications.'),
    sa.Column('unapplied_amount', sa.Numeric(precision=18, scale=4), nullable=False, comment="create_payment: left unapplied on the payment; customer_refund: taken from the payment's unapplied amount; else 0."),
    sa.Column('is_overpayment', sa.Boolean(), server_default=sa.false(), nullable=False, comment='True when the payment leaves an amount unapplied.'),
    sa.Column('is_split', sa.Boolean(), server_default=sa.false(), nullable=False, comment='True when the charge pays invoices of several customers (one payment per customer).'),
    sa.Column('invoice_rule', sa.String(length=24), nullable=False, comment='How the invoices were found: explicit_ids, invoice_number, oldest_first or netsuite.'),
    sa.Column('memo', sa.Text(), nullable=True, comment='Memo of the NetSuite record.'),
    sa.Column('tran_date', sa.Date(), nullable=True, comment='Transaction date of the NetSuite record (account time zone).'),
    sa.Column('payout_id', sa.Text(), nullable=True, comment='Stripe payout carrying the charge or refund, if known.'),
    sa.Column('reason', sa.Text(), nullable=False, comment='Why this action, in one sentence.'),
    sa.PrimaryKeyConstraint('external_id', 'action', name=op.f('pk_reconciliation_payment_matches')),
    comment='NetSuite writes about Stripe charges: payments to create, unapply, re-apply, customer refunds.'
    )
    op.create_table('reconciliation_payout_matches',
    sa.Column('payout_id', sa.Text(), nullable=False, comment='Stripe payout id (po_...).'),
    sa.Column('external_id', sa.Text(), nullable=False, comment='External id of the deposit: stripe:<payout id>.'),
    sa.Column('state', sa.String(length=16), nullable=False, comment='planned, or done (NetSuite has the deposit).'),
    sa.Column('status', sa.String(length=16), nullable=False, comment='ready (validated: create the deposit) or exception (no deposit; see reconciliation_exceptions).'),
    sa.Column('currency', sa.String(length=3), nullable=False, comment='Payout (settlement) currency, ISO 4217 code.'),
    sa.Column('amount', sa.Numeric(precision=18, scale=4), nullable=False, comment='Net amount of the payout = deposit total.'),
    sa.Column('fee_total', sa.Numeric(precision=18, scale=4), nullable=False, comment='Stripe fees in the payout (positive); the fee line is its negative.'),
    sa.Column('tran_date', sa.Date(), nullable=True, comment='Arrival date of the payout (account time zone).'),
    sa.Column('memo', sa.Text(), nullable=False, comment='Deposit memo: Stripe payout <payout id>.'),
    sa.Column('lines', sa.Text(), nullable=False, comment='JSON deposit lines [{"kind", "balance_transaction_id", "stripe_object_id", "external_id", "netsuite_id", "account_id", "amount"}]; kinds payment, customer_refund, fee, adjustment.'),
    sa.Column('item_count', sa.Integer(), nullable=False, comment='Balance transactions in the payout, its own excluded.'),
    sa.Column('payment_count', sa.Integer(), nullable=False, comment='Payment lines.'),
    sa.Column('refund_count', sa.Integer(), nullable=False, comment='Customer refund lines.'),
    sa.Column('netsuite_deposit_id', sa.BigInteger(), nullable=True, comment='Internal id of the deposit, when done.'),
    sa.Column('exception_codes', sa.Text(), nullable=True, comment='Comma list of exception codes when status is exception.'),
    sa.Column('reason', sa.Text(), nullable=False, comment='Why ready, or what is wrong, in one sentence.'),
    sa.PrimaryKeyConstraint('payout_id', name=op.f('pk_reconciliation_payout_matches')),
    comment='NetSuite deposits for paid automatic Stripe payouts, validated item by item.'
    )
    op.create_table('reconciliation_exceptions',
    sa.Column('exception_id', sa.Text(), nullable=False, comment='Stable id: <code>:<object id>[:<more>].'),
    sa.Column('code', sa.String(length=48), nullable=False, comment='Kind of exception (docs/reconciliation.md).'),
    sa.Column('severity', sa.String(length=8), nullable=False, comment='error (nothing written), warning or info.'),
    sa.Column('stripe_object_type', sa.String(length=24), nullable=True, comment='charge, refund, dispute, payout or credit_memo.'),
    sa.Column('stripe_object_id', sa.Text(), nullable=True, comment='Stripe object concerned, if any.'),
    sa.Column('charge_id', sa.Text(), nullable=True, comment='Stripe charge concerned, if any.'),
    sa.Column('payout_id', sa.Text(), nullable=True, comment='Stripe payout concerned, if any.'),
    sa.Column('netsuite_customer_id', sa.BigInteger(), autoincrement=False, nullable=True, comment='NetSuite customer concerned, if known.'),
    sa.Column('netsuite_record_ids', sa.Text(), nullable=False, comment='JSON list of NetSuite internal ids concerned.'),
    sa.Column('currency', sa.String(length=3), nullable=True, comment='Currency of amount, ISO 4217 code.'),
    sa.Column('amount', sa.Numeric(precision=18, scale=4), nullable=True, comment='Amount concerned, if any.'),
    sa.Column('reason', sa.Text(), nullable=False, comment='What is wrong, naming the records.'),
    sa.Column('resolution', sa.Text(), nullable=False, comment='What a person should do about it.'),
    sa.Column('details', sa.Text(), nullable=False, comment='JSON with the specifics (e.g. failing payout items).'),
    sa.PrimaryKeyConstraint('exception_id', name=op.f('pk_reconciliation_exceptions')),
    comment='Reconciliation exceptions: what could not be matched or validated, and what to do.'
    )
    op.create_index(op.f('ix_reconciliation_payment_matches_charge_id'), 'reconciliation_payment_matches', ['charge_id'], unique=False)
    op.create_index(op.f('ix_reconciliation_payment_matches_netsuite_customer_id'), 'reconciliation_payment_matches', ['netsuite_customer_id'], unique=False)
    op.create_index(op.f('ix_reconciliation_payment_matches_payout_id'), 'reconciliation_payment_matches', ['payout_id'], unique=False)
    op.create_index(op.f('ix_reconciliation_payment_matches_state'), 'reconciliation_payment_matches', ['state'], unique=False)
    op.create_index(op.f('ix_reconciliation_payout_matches_status'), 'reconciliation_payout_matches', ['status'], unique=False)
    op.create_index(op.f('ix_reconciliation_exceptions_charge_id'), 'reconciliation_exceptions', ['charge_id'], unique=False)
    op.create_index(op.f('ix_reconciliation_exceptions_code'), 'reconciliation_exceptions', ['code'], unique=False)
    op.create_index(op.f('ix_reconciliation_exceptions_payout_id'), 'reconciliation_exceptions', ['payout_id'], unique=False)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
