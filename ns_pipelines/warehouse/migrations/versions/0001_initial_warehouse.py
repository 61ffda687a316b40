"""Initial warehouse: NetSuite tables, derived A/R tables and sync state.

Revision ID: 0001
Revises:
Create Date: 2026-11-26

Types are plain SQL types (NUMERIC, DATE, BOOLEAN, TIMESTAMP WITH TIME ZONE); the Python-side
handling lives in ns_pipelines.warehouse.types. Booleans default to sa.false(), which renders as
0 on SQLite and false on PostgreSQL.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0001'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('ar_aging',
    sa.Column('customer_id', sa.BigInteger(), autoincrement=False, nullable=False, comment='NetSuite internal id of the customer.'),
    sa.Column('currency', sa.String(length=3), nullable=False, comment='Currency of the amounts, ISO 4217 code.'),
    sa.Column('current_amount', sa.Numeric(precision=18, scale=4), nullable=True, comment='Not yet due.'),
    sa.Column('days_1_30', sa.Numeric(precision=18, scale=4), nullable=True, comment='1 to 30 days past due.'),
    sa.Column('days_31_60', sa.Numeric(precision=18, scale=4), nullable=True, comment='31 to 60 days past due.'),
    sa.Column('days_61_90', sa.Numeric(precision=18, scale=4), nullable=True, comment='61 to 90 days past due.'),
    sa.Column('days_over_90', sa.Numeric(precision=18, scale=4), nullable=True, comment='More than 90 days past due.'),
    sa.Column('total', sa.Numeric(precision=18, scale=4), nullable=True, comment='Sum of the buckets, in currency.'),
    sa.Column('total_base', sa.Numeric(precision=18, scale=4), nullable=True, comment='Sum of the buckets, base currency.'),
    sa.Column('as_of_date', sa.Date(), nullable=False, comment='Date the receivables were computed for; ageing counts to it.'),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False, comment='When the row was computed, in UTC.'),
    sa.PrimaryKeyConstraint('customer_id', 'currency', name=op.f('pk_ar_aging')),
    comment='Ageing report per customer and currency: open amounts by days past due.'
    )
    op.create_table('ar_customer_balances',
    sa.Column('customer_id', sa.BigInteger(), autoincrement=False, nullable=False, comment='NetSuite internal id of the customer.'),
    sa.Column('entity_id', sa.Text(), nullable=True, comment='Customer id shown in NetSuite.'),
    sa.Column('company_name', sa.Text(), nullable=True, comment='Company name.'),
    sa.Column('subsidiary_id', sa.BigInteger(), autoincrement=False, nullable=True, comment='Primary subsidiary of the customer.'),
    sa.Column('open_invoices_base', sa.Numeric(precision=18, scale=4), nullable=True, comment='Open invoice amounts, base currency.'),
    sa.Column('open_journal_lines_base', sa.Numeric(precision=18, scale=4), nullable=True, comment='Signed open A/R journal line amounts, base currency.'),
    sa.Column('unapplied_payments_base', sa.Numeric(precision=18, scale=4), nullable=True, comment='Unapplied payment amounts (positive, subtracted), base currency.'),
    sa.Column('unapplied_credits_base', sa.Numeric(precision=18, scale=4), nullable=True, comment='Unapplied credit memo amounts (positive, subtracted), base currency.'),
    sa.Column('balance_base', sa.Numeric(precision=18, scale=4), nullable=False, comment='Derived balance = open invoices + open journal lines - unapplied payments - unapplied credits.'),
    sa.Column('overdue_balance_base', sa.Numeric(precision=18, scale=4), nullable=True, comment='Part of the balance past due, base currency.'),
    sa.Column('netsuite_balance', sa.Numeric(precision=18, scale=4), nullable=True, comment='Balance NetSuite reports for the customer (customer.balancesearch).'),
    sa.Column('difference', sa.Numeric(precision=18, scale=4), nullable=True, comment='balance_base - netsuite_balance; non-zero values are reported by a check.'),
    sa.Column('open_item_count', sa.Integer(), nullable=True, comment='Number of open items behind the balance.'),
    sa.Column('as_of_date', sa.Date(), nullable=False, comment='Date the receivables were computed for; ageing counts to it.'),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False, comment='When the row was computed, in UTC.'),
    sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_ar_customer_balances')),
    comment='Customer balances derived from open items, with the balance NetSuite reports beside them.'
    )
    op.create_table('ar_open_items',
    sa.Column('transaction_id', sa.BigInteger(), autoincrement=False, nullable=False, comment='NetSuite internal id of the document or journal entry.'),
    sa.Column('line_id', sa.Integer(), autoincrement=False, nullable=False, comment='Journal entry line id for journal lines; 0 for whole documents.'),
    sa.Column('item_type', sa.String(length=16), nullable=False, comment='invoice, payment (unapplied), credit_memo (unapplied) or journal_line.'),
    sa.Column('tran_id', sa.Text(), nullable=True, comment='Document number (transaction.tranid).'),
    sa.Column('customer_id', sa.BigInteger(), autoincrement=False, nullable=True, comment='Customer the item belongs to.'),
    sa.Column('subsidiary_id', sa.BigInteger(), autoincrement=False, nullable=True, comment='Subsidiary of the item.'),
    sa.Column('currency', sa.String(length=3), nullable=True, comment='Currency of the item, ISO 4217 code.'),
    sa.Column('exchange_rate', sa.Numeric(precision=20, scale=10), nullable=True, comment='Base-currency units per unit of currency.'),
    sa.Column('tran_date', sa.Date(), nullable=True, comment='Transaction date.'),
    sa.Column('due_date', sa.Date(), nullable=True, comment='Due date; the transaction date for items without one.'),
    sa.Column('status', sa.String(length=16), nullable=True, comment='Status letter of the source document.'),
    sa.Column('amount', sa.Numeric(precision=18, scale=4), nullable=True, comment='Signed original amount of the item, in its currency.'),
    sa.Column('amount_open', sa.Numeric(precision=18, scale=4), nullable=False, comment="Signed amount still open, in the item's currency."),
    sa.Column('amount_open_base', sa.Numeric(precision=18, scale=4), nullable=True, comment='Signed amount still open, in base currency.'),
    sa.Column('days_past_due', sa.Integer(), nullable=True, comment='Days between due_date and as_of_date; 0 or less when not yet due.'),
    sa.Column('aging_bucket', sa.String(length=8), nullable=True, comment='current, 1-30, 31-60, 61-90 or 90+ (days past due).'),
    sa.Column('as_of_date', sa.Date(), nullable=False, comment='Date the receivables were computed for; ageing counts to it.'),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False, comment='When the row was computed, in UTC.'),
    sa.PrimaryKeyConstraint('transaction_id', 'line_id', name=op.f('pk_ar_open_items')),
    comment='Open receivables: open invoices, unapplied payments and credit memos, open A/R journal lines.'
    )
    op.create_index(op.f('ix_ar_open_items_customer_id'), 'ar_open_items', ['customer_id'], unique=False)
    op.create_index(op.f('ix_ar_open_items_due_date'), 'ar_open_items', ['due_date'], unique=False)
    op.create_index(op.f('ix_ar_open_items_item_type'), 'ar_open_items', ['item_type'], unique=False)
    op.create_index(op.f('ix_ar_open_items_status'), 'ar_open_items', ['status'], unique=False)
    op.create_table('netsuite_credit_memos',
    sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False, comment='NetSuite internal id of the credit memo (transaction.id).'),
    sa.Column('tran_id', sa.Text(), nullable=True, comment='Document number of the credit memo (transaction.tranid).'),
    sa.Column('customer_id', sa.BigInteger(), autoincrement=False, nullable=True, comment='Customer (transaction.entity).'),
    sa.Column('subsidiary_id', sa.BigInteger(), autoincrement=False, nullable=True, comment="Subsidiary of the main line (transactionline.subsidiary, mainline = 'T')."),
    sa.Column('account_id', sa.BigInteger(), autoincrement=False, nullable=True, comment="Posting account of the main line (transactionline.expenseaccount, mainline = 'T')."),
    sa.Column('posting_period_id', sa.BigInteger(), autoincrement=False, nullable=True, comment='Accounting period (transaction.postingperiod).'),
    sa.Column('currency', sa.String(length=3), nullable=True, comment='Transaction currency, ISO 4217 code (transaction.currency).'),
    sa.Column('exchange_rate', sa.Numeric(precision=20, scale=10), nullable=True, comment='Base-currency units per unit of the transaction currency (transaction.exchangerate).'),
    sa.Column('tran_date', sa.Date(), nullable=True, comment='Transaction date (transaction.trandate).'),
    sa.Column('status', sa.String(length=16), nullable=True, comment='Status letter (transaction.status); see status_text. Type code CustCred.'),
    sa.Column('status_text', sa.Text(), nullable=True, comment='Status as NetSuite displays it, e.g. Open (BUILTIN.DF(transaction.status)).'),
    sa.Column('total', sa.Numeric(precision=18, scale=4), nullable=True, comment='Document total in its currency, positive (transaction.foreigntotal).'),
    sa.Column('amount_used', sa.Numeric(precision=18, scale=4), nullable=True, comment='Part of the credit memo applied to invoices or refunded, in its currency (transaction.foreignpaymentamountused).'),
    sa.Column('amount_unused', sa.Numeric(precision=18, scale=4), nullable=True, comment='Part of the credit memo still unapplied, in its currency (transaction.foreignpaymentamountunused).'),
    sa.Column('is_intercompany', sa.Boolean(), server_default=sa.false(), nullable=False, comment='True for an intercompany transaction (flagged intercompany, or its customer is): kept here but excluded from receivables, balances and reconciliation.'),
    sa.Column('is_voided', sa.Boolean(), server_default=sa.false(), nullable=False, comment='True once the transaction is voided (transaction.voided).'),
    sa.Column('memo', sa.Text(), nullable=True, comment='Memo (transaction.memo).'),
    sa.Column('external_id', sa.Text(), nullable=True, comment='NetSuite external id (externalid), if any.'),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True, comment='When the transaction was created (transaction.createddate), in UTC.'),
    sa.Column('last_modified', sa.DateTime(timezone=True), nullable=False, comment='NetSuite lastmodifieddate, in UTC.'),
    sa.Column('is_deleted', sa.Boolean(), server_default=sa.false(), nullable=False, comment='True once the record was deleted in NetSuite; the row is kept.'),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True, comment='When NetSuite deleted the record (deletedrecord.deleteddate), in UTC.'),
    sa.Column('synced_at', sa.DateTime(timezone=True), nullable=False, comment='When the pipeline last wrote this row, in UTC.'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_netsuite_credit_memos')),
    comment='NetSuite credit memos (CustCred). Status A Open, B Fully Applied, V Voided.'
    )
    op.create_index(op.f('ix_netsuite_credit_memos_customer_id'), 'netsuite_credit_memos', ['customer_id'], unique=False)
    op.create_index(op.f('ix_netsuite_credit_memos_last_modified'), 'netsuite_credit_memos', ['last_modified'], unique=False)
    op.create_index(op.f('ix_netsuite_credit_memos_status'), 'netsuite_credit_memos', ['status'], unique=False)
    op.create_table('netsuite_customer_payments',
    sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False, comment='NetSuite internal id of the customer payment (transaction.id).'),
    sa.Column('tran_id', sa.Text(), nullable=True, comment='Document number of the customer payment (transaction.tranid).'),
    sa.Column('customer_id', sa.BigInteger(), autoincrement=False, nullable=True, comment='Customer (transaction.entity).'),
    sa.Column('subsidiary_id', sa.BigInteger(), autoincrement=False, nullable=True, comment="Subsidiary of the main line (transactionline.subsidiary, mainline = 'T')."),
    sa.Column('account_id', sa.BigInteger(), autoincrement=False, nullable=True, comment="Posting account of the main line (transactionline.expenseaccount, mainline = 'T')."),
    sa.Column('posting_period_id', sa.BigInteger(), autoincrement=False, nullable=True, comment='Accounting period (transaction.postingperiod).'),
    sa.Column('currency', sa.String(length=3), nullable=True, comment='Transaction currency, ISO 4217 code (transaction.currency).'),
    sa.Column('exchange_rate', sa.Numeric(precision=20, scale=10), nullable=True, comment='Base-currency units per unit of the transaction currency (transaction.exchangerate).'),
    sa.Column('tran_date', sa.Date(), nullable=True, comment='Transaction date (transaction.trandate).'),
    sa.Column('status', sa.String(length=16), nullable=True, comment='Status letter (transaction.status); see status_text. Type code CustPymt.'),
    sa.Column('status_text', sa.Text(), nullable=True, comment='Status as NetSuite displays it, e.g. Open (BUILTIN.DF(transaction.status)).'),
    sa.Column('total', sa.Numeric(precision=18, scale=4), nullable=True, comment='Document total in its currency, positive (transaction.foreigntotal).'),
    sa.Column('amount_used', sa.Numeric(precision=18, scale=4), nullable=True, comment='Part of the payment applied to invoices or refunded, in its currency (transaction.foreignpaymentamountused).'),
    sa.Column('amount_unused', sa.Numeric(precision=18, scale=4), nullable=True, comment='Part of the payment still unapplied, in its currency (transaction.foreignpaymentamountunused).'),
    sa.Column('is_intercompany', sa.Boolean(), server_default=sa.false(), nullable=False, comment='True for an intercompany transaction (flagged intercompany, or its customer is): kept here but excluded from receivables, balances and reconciliation.'),
    sa.Column('is_voided', sa.Boolean(), server_default=sa.false(), nullable=False, comment='True once the transaction is voided (transaction.voided).'),
    sa.Column('memo', sa.Text(), nullable=True, comment='Memo (transaction.memo).'),
    sa.Column('external_id', sa.Text(), nullable=True, comment='NetSuite external id (externalid), if any.'),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True, comment='When the transaction was created (transaction.createddate), in UTC.'),
    sa.Column('last_modified', sa.DateTime(timezone=True), nullable=False, comment='NetSuite lastmodifieddate, in UTC.'),
    sa.Column('is_deleted', sa.Boolean(), server_default=sa.false(), nullable=False, comment='True once the record was deleted in NetSuite; the row is kept.'),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True, comment='When NetSuite deleted the record (deletedrecord.deleteddate), in UTC.'),
    sa.Column('synced_at', sa.DateTime(timezone=True), nullable=False, comment='When the pipeline last wrote this row, in UTC.'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_netsuite_customer_payments')),
    comment='NetSuite customer payments (CustPymt). Status B Not Deposited, C Deposited, V Voided.'
    )
    op.create_index(op.f('ix_netsuite_customer_payments_customer_id'), 'netsuite_customer_payments', ['customer_id'], unique=False)
    op.create_index(op.f('ix_netsuite_customer_payments_last_modified'), 'netsuite_customer_payments', ['last_modified'], unique=False)
    op.create_index(op.f('ix_netsuite_customer_payments_status'), 'netsuite_customer_payments', ['status'], unique=False)
    op.create_table('netsuite_customer_refunds',
    sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False, comment='NetSuite internal id of the customer refund (transaction.id).'),
    sa.Column('tran_id', sa.Text(), nullable=True, comment='Document number of the customer refund (transaction.tranid).'),
    sa.Column('customer_id', sa.BigInteger(), autoincrement=False, nullable=True, comment='Customer (transaction.entity).'),
    sa.Column('subsidiary_id', sa.BigInteger(), autoincrement=False, nullable=True, comment="Subsidiary of the main line (transactionline.subsidiary, mainline = 'T')."),
    sa.Column('account_id', sa.BigInteger(), autoincrement=False, nullable=True, comment="Posting account of the main line (transactionline.expenseaccount, mainline = 'T')."),
    sa.Column('posting_period_id', sa.BigInteger(), autoincrement=False, nullable=True, comment='Accounting period (transaction.postingperiod).'),
    sa.Column('currency', sa.String(length=3), nullable=True, comment='Transaction currency, ISO 4217 code (transaction.currency).'),
    sa.Column('exchange_rate', sa.Numeric(precision=20, scale=10), nullable=True, comment='Base-currency units per unit of the transaction currency (transaction.exchangerate).'),
    sa.Column('tran_date', sa.Date(), nullable=True, comment='Transaction date (transaction.trandate).'),
    sa.Column('status', sa.String(length=16), nullable=True, comment='Status letter (transaction.status); see status_text. Type code CustRfnd.'),
    sa.Column('status_text', sa.Text(), nullable=True, comment='Status as NetSuite displays it, e.g. Open (BUILTIN.DF(transaction.status)).'),
    sa.Column('total', sa.Numeric(precision=18, scale=4), nullable=True, comment='Document total in its currency, positive (transaction.foreigntotal).'),
    sa.Column('is_intercompany', sa.Boolean(), server_default=sa.false(), nullable=False, comment='True for an intercompany transaction (flagged intercompany, or its customer is): kept here but excluded from receivables, balances and reconciliation.'),
    sa.Column('is_voided', sa.Boolean(), server_default=sa.false(), nullable=False, comment='True once the transaction is voided (transaction.voided).'),
    sa.Column('memo', sa.Text(), nullable=True, comment='Memo (transaction.memo).'),
    sa.Column('external_id', sa.Text(), nullable=True, comment='NetSuite external id (externalid), if any.'),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True, comment='When the transaction was created (transaction.createddate), in UTC.'),
    sa.Column('last_modified', sa.DateTime(timezone=True), nullable=False, comment='NetSuite lastmodifieddate, in UTC.'),
    sa.Column('is_deleted', sa.Boolean(), server_default=sa.false(), nullable=False, comment='True once the record was deleted in NetSuite; the row is kept.'),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True, comment='When NetSuite deleted the record (deletedrecord.deleteddate), in UTC.'),
    sa.Column('synced_at', sa.DateTime(timezone=True), nullable=False, comment='When the pipeline last wrote this row, in UTC.'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_netsuite_customer_refunds')),
    comment='NetSuite customer refunds (CustRfnd): money paid back against a credit memo or payment.'
    )
    op.create_index(op.f('ix_netsuite_customer_refunds_customer_id'), 'netsuite_customer_refunds', ['customer_id'], unique=False)
    op.create_index(op.f('ix_netsuite_customer_refunds_last_modified'), 'netsuite_customer_refunds', ['last_modified'], unique=False)
    op.create_index(op.f('ix_netsuite_customer_refunds_status'), 'netsuite_customer_refunds', ['status'], unique=False)
    op.create_table('netsuite_customers',
    sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False, comment='NetSuite internal id of the customer (customer.id).'),
    sa.Column('entity_id', sa.Text(), nullable=True, comment='Customer id shown in NetSuite (customer.entityid).'),
    sa.Column('company_name', sa.Text(), nullable=True, comment='Company name (customer.companyname).'),
    sa.Column('is_person', sa.Boolean(), server_default=sa.false(), nullable=False, comment='True for an individual rather than a company (customer.isperson).'),
    sa.Column('email', sa.Text(), nullable=True, comment='Email address (customer.email).'),
    sa.Column('phone', sa.Text(), nullable=True, comment='Phone number (customer.phone).'),
    sa.Column('currency', sa.String(length=3), nullable=True, comment='Primary currency, ISO 4217 code (customer.currency).'),
    sa.Column('subsidiary_id', sa.BigInteger(), autoincrement=False, nullable=True, comment='Primary subsidiary (customer.subsidiary).'),
    sa.Column('parent_id', sa.BigInteger(), autoincrement=False, nullable=True, comment='Parent customer in a customer hierarchy (customer.parent).'),
    sa.Column('representing_subsidiary_id', sa.BigInteger(), autoincrement=False, nullable=True, comment='Subsidiary this customer represents; set on intercompany customers (customer.representingsubsidiary).'),
    sa.Column('is_intercompany', sa.Boolean(), server_default=sa.false(), nullable=False, comment='True for an intercompany customer (represents a subsidiary, or is on the configured list): excluded from receivables, balances and reconciliation.'),
    sa.Column('is_inactive', sa.Boolean(), server_default=sa.false(), nullable=False, comment='True when the customer is inactive in NetSuite (customer.isinactive).'),
    sa.Column('terms_days', sa.Integer(), nullable=True, comment='Default payment terms, in days (customer.terms).'),
    sa.Column('credit_limit', sa.Numeric(precision=18, scale=4), nullable=True, comment="Credit limit, in the customer's currency (customer.creditlimit)."),
    sa.Column('balance', sa.Numeric(precision=18, scale=4), nullable=True, comment="Open balance NetSuite reports, in the subsidiary's base currency (customer.balancesearch)."),
    sa.Column('overdue_balance', sa.Numeric(precision=18, scale=4), nullable=True, comment="Overdue balance NetSuite reports, in the subsidiary's base currency (customer.overduebalancesearch)."),
    sa.Column('external_id', sa.Text(), nullable=True, comment='NetSuite external id (externalid), if any.'),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True, comment='When the customer was created (customer.datecreated), in UTC.'),
    sa.Column('last_modified', sa.DateTime(timezone=True), nullable=False, comment='NetSuite lastmodifieddate, in UTC.'),
    sa.Column('is_deleted', sa.Boolean(), server_default=sa.false(), nullable=False, comment='True once the record was deleted in NetSuite; the row is kept.'),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True, comment='When NetSuite deleted the record (deletedrecord.deleteddate), in UTC.'),
    sa.Column('synced_at', sa.DateTime(timezone=True), nullable=False, comment='When the pipeline last wrote this row, in UTC.'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_netsuite_customers')),
    comment='NetSuite customers, one row per customer, deleted ones kept with is_deleted.'
    )
    op.create_index(op.f('ix_netsuite_customers_last_modified'), 'netsuite_customers', ['last_modified'], unique=False)
    op.create_index(op.f('ix_netsuite_customers_parent_id'), 'netsuite_customers', ['parent_id'], unique=False)
    op.create_index(op.f('ix_netsuite_customers_subsidiary_id'), 'netsuite_customers', ['subsidiary_id'], unique=False)
    op.create_table('netsuite_deleted_records',
    sa.Column('record_type', sa.String(length=64), nullable=False, comment='NetSuite record type, lower case (deletedrecord.scriptid): customer, invoice, customerpayment, ...'),
    sa.Column('record_id', sa.BigInteger(), autoincrement=False, nullable=False, comment='Internal id of the deleted record (deletedrecord.recordid).'),
    sa.Column('record_type_name', sa.Text(), nullable=True, comment='Record type as NetSuite displays it (deletedrecord.type).'),
    sa.Column('name', sa.Text(), nullable=True, comment='Document number or entity id of the deleted record (deletedrecord.name).'),
    sa.Column('external_id', sa.Text(), nullable=True, comment='External id of the deleted record (deletedrecord.externalid), if any.'),
    sa.Column('context', sa.String(length=64), nullable=True, comment='Where the deletion came from: UI, WebServices, ... (deletedrecord.context).'),
    sa.Column('deleted_by_id', sa.BigInteger(), autoincrement=False, nullable=True, comment='Employee who deleted the record (deletedrecord.deletedby).'),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=False, comment='When NetSuite deleted the record (deletedrecord.deleteddate), in UTC.'),
    sa.Column('last_modified', sa.DateTime(timezone=True), nullable=False, comment='Same as deleted_at: the incremental cursor column, as on every NetSuite table.'),
    sa.Column('synced_at', sa.DateTime(timezone=True), nullable=False, comment='When the pipeline last wrote this row, in UTC.'),
    sa.PrimaryKeyConstraint('record_type', 'record_id', name=op.f('pk_netsuite_deleted_records')),
    comment='NetSuite deletions (deletedrecord), read by deleteddate. The deleted rows themselves stay in their tables with is_deleted = true.'
    )
    op.create_index(op.f('ix_netsuite_deleted_records_last_modified'), 'netsuite_deleted_records', ['last_modified'], unique=False)
    op.create_table('netsuite_deposits',
    sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False, comment='NetSuite internal id of the deposit (transaction.id).'),
    sa.Column('tran_id', sa.Text(), nullable=True, comment='Document number of the deposit (transaction.tranid).'),
    sa.Column('customer_id', sa.BigInteger(), autoincrement=False, nullable=True, comment='Customer (transaction.entity).'),
    sa.Column('subsidiary_id', sa.BigInteger(), autoincrement=False, nullable=True, comment="Subsidiary of the main line (transactionline.subsidiary, mainline = 'T')."),
    sa.Column('account_id', sa.BigInteger(), autoincrement=False, nullable=True, comment="Posting account of the main line (transactionline.expenseaccount, mainline = 'T')."),
    sa.Column('posting_period_id', sa.BigInteger(), autoincrement=False, nullable=True, comment='Accounting period (transaction.postingperiod).'),
    sa.Column('currency', sa.String(length=3), nullable=True, comment='Transaction currency, ISO 4217 code (transaction.currency).'),
    sa.Column('exchange_rate', sa.Numeric(precision=20, scale=10), nullable=True, comment='Base-currency units per unit of the transaction currency (transaction.exchangerate).'),
    sa.Column('tran_date', sa.Date(), nullable=True, comment='Transaction date (transaction.trandate).'),
    sa.Column('status', sa.String(length=16), nullable=True, comment='Status letter (transaction.status); see status_text. Type code Deposit.'),
    sa.Column('status_text', sa.Text(), nullable=True, comment='Status as NetSuite displays it, e.g. Open (BUILTIN.DF(transaction.status)).'),
    sa.Column('total', sa.Numeric(precision=18, scale=4), nullable=True, comment='Document total in its currency, positive (transaction.foreigntotal).'),
    sa.Column('is_intercompany', sa.Boolean(), server_default=sa.false(), nullable=False, comment='True for an intercompany transaction (flagged intercompany, or its customer is): kept here but excluded from receivables, balances and reconciliation.'),
    sa.Column('is_voided', sa.Boolean(), server_default=sa.false(), nullable=False, comment='True once the transaction is voided (transaction.voided).'),
    sa.Column('memo', sa.Text(), nullable=True, comment='Memo (transaction.memo).'),
    sa.Column('external_id', sa.Text(), nullable=True, comment='NetSuite external id (externalid), if any.'),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True, comment='When the transaction was created (transaction.createddate), in UTC.'),
    sa.Column('last_modified', sa.DateTime(timezone=True), nullable=False, comment='NetSuite lastmodifieddate, in UTC.'),
    sa.Column('is_deleted', sa.Boolean(), server_default=sa.false(), nullable=False, comment='True once the record was deleted in NetSuite; the row is kept.'),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True, comment='When NetSuite deleted the record (deletedrecord.deleteddate), in UTC.'),
    sa.Column('synced_at', sa.DateTime(timezone=True), nullable=False, comment='When the pipeline last wrote this row, in UTC.'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_netsuite_deposits')),
    comment='NetSuite bank deposits of customer payments (Deposit); total = net amount deposited. customer_id is usually empty.'
    )
    op.create_index(op.f('ix_netsuite_deposits_customer_id'), 'netsuite_deposits', ['customer_id'], unique=False)
    op.create_index(op.f('ix_netsuite_deposits_last_modified'), 'netsuite_deposits', ['last_modified'], unique=False)
    op.create_index(op.f('ix_netsuite_deposits_status'), 'netsuite_deposits', ['status'], unique=False)
    op.create_table('netsuite_invoices',
    sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False, comment='NetSuite internal id of the invoice (transaction.id).'),
    sa.Column('tran_id', sa.Text(), nullable=True, comment='Document number of the invoice (transaction.tranid).'),
    sa.Column('customer_id', sa.BigInteger(), autoincrement=False, nullable=True, comment='Customer (transaction.entity).'),
    sa.Column('subsidiary_id', sa.BigInteger(), autoincrement=False, nullable=True, comment="Subsidiary of the main line (transactionline.subsidiary, mainline = 'T')."),
    sa.Column('account_id', sa.BigInteger(), autoincrement=False, nullable=True, comment="Posting account of the main line (transactionline.expenseaccount, mainline = 'T')."),
    sa.Column('posting_period_id', sa.BigInteger(), autoincrement=False, nullable=True, comment='Accounting period (transaction.postingperiod).'),
    sa.Column('currency', sa.String(length=3), nullable=True, comment='Transaction currency, ISO 4217 code (transaction.currency).'),
    sa.Column('exchange_rate', sa.Numeric(precision=20, scale=10), nullable=True, comment='Base-currency units per unit of the transaction currency (transaction.exchangerate).'),
    sa.Column('tran_date', sa.Date(), nullable=True, comment='Transaction date (transaction.trandate).'),
    sa.Column('status', sa.String(length=16), nullable=True, comment='Status letter (transaction.status); see status_text. Type code CustInvc.'),
    sa.Column('status_text', sa.Text(), nullable=True, comment='Status as NetSuite displays it, e.g. Open (BUILTIN.DF(transaction.status)).'),
    sa.Column('total', sa.Numeric(precision=18, scale=4), nullable=True, comment='Document total in its currency, positive (transaction.foreigntotal).'),
    sa.Column('due_date', sa.Date(), nullable=True, comment='Due date (transaction.duedate).'),
    sa.Column('amount_paid', sa.Numeric(precision=18, scale=4), nullable=True, comment='Amount paid by payments and credits, in the invoice currency (transaction.foreignamountpaid).'),
    sa.Column('amount_unpaid', sa.Numeric(precision=18, scale=4), nullable=True, comment='Amount still open, in the invoice currency (transaction.foreignamountunpaid).'),
    sa.Column('is_intercompany', sa.Boolean(), server_default=sa.false(), nullable=False, comment='True for an intercompany transaction (flagged intercompany, or its customer is): kept here but excluded from receivables, balances and reconciliation.'),
    sa.Column('is_voided', sa.Boolean(), server_default=sa.false(), nullable=False, comment='True once the transaction is voided (transaction.voided).'),
    sa.Column('memo', sa.Text(), nullable=True, comment='Memo (transaction.memo).'),
    sa.Column('external_id', sa.Text(), nullable=True, comment='NetSuite external id (externalid), if any.'),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True, comment='When the transaction was created (transaction.createddate), in UTC.'),
    sa.Column('last_modified', sa.DateTime(timezone=True), nullable=False, comment='NetSuite lastmodifieddate, in UTC.'),
    sa.Column('is_deleted', sa.Boolean(), server_default=sa.false(), nullable=False, comment='True once the record was deleted in NetSuite; the row is kept.'),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True, comment='When NetSuite deleted the record (deletedrecord.deleteddate), in UTC.'),
    sa.Column('synced_at', sa.DateTime(timezone=True), nullable=False, comment='When the pipeline last wrote this row, in UTC.'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_netsuite_invoices')),
    comment='NetSuite invoices (CustInvc). Status A Open, B Paid In Full, V Voided; CLOSED once deleted.',
    info={'ns/on_delete': {'status': 'CLOSED', 'status_text': 'Closed (deleted in NetSuite)'}}
    )
    op.create_index(op.f('ix_netsuite_invoices_customer_id'), 'netsuite_invoices', ['customer_id'], unique=False)
    op.create_index(op.f('ix_netsuite_invoices_due_date'), 'netsuite_invoices', ['due_date'], unique=False)
    op.create_index(op.f('ix_netsuite_invoices_last_modified'), 'netsuite_invoices', ['last_modified'], unique=False)
    op.create_index(op.f('ix_netsuite_invoices_status'), 'netsuite_invoices', ['status'], unique=False)
    op.create_table('netsuite_journal_lines',
    sa.Column('journal_entry_id', sa.BigInteger(), autoincrement=False, nullable=False, comment='NetSuite internal id of the journal entry (transactionline.transaction).'),
    sa.Column('line_id', sa.Integer(), autoincrement=False, nullable=False, comment='Line id, unique within the entry (transactionline.id).'),
    sa.Column('tran_id', sa.Text(), nullable=True, comment='Document number of the journal entry (transaction.tranid).'),
    sa.Column('customer_id', sa.BigInteger(), autoincrement=False, nullable=True, comment='Customer on the line (transactionline.entity).'),
    sa.Column('subsidiary_id', sa.BigInteger(), autoincrement=False, nullable=True, comment='Subsidiary of the line (transactionline.subsidiary).'),
    sa.Column('account_id', sa.BigInteger(), autoincrement=False, nullable=True, comment='Accounts-receivable account of the line (transactionline.expenseaccount).'),
    sa.Column('posting_period_id', sa.BigInteger(), autoincrement=False, nullable=True, comment='Accounting period (transaction.postingperiod).'),
    sa.Column('currency', sa.String(length=3), nullable=True, comment='Currency of the journal entry, ISO 4217 code (transaction.currency).'),
    sa.Column('exchange_rate', sa.Numeric(precision=20, scale=10), nullable=True, comment='Base-currency units per unit of the entry currency (transaction.exchangerate).'),
    sa.Column('tran_date', sa.Date(), nullable=True, comment='Journal entry date (transaction.trandate); ageing counts from it.'),
    sa.Column('status', sa.String(length=16), nullable=True, comment='Status letter of the journal entry (transaction.status).'),
    sa.Column('status_text', sa.Text(), nullable=True, comment='Status as NetSuite displays it (BUILTIN.DF(transaction.status)).'),
    sa.Column('amount', sa.Numeric(precision=18, scale=4), nullable=True, comment="Signed line amount in the entry currency, debit minus credit (transactionline.foreignamount); a debit raises the customer's balance."),
    sa.Column('debit_amount', sa.Numeric(precision=18, scale=4), nullable=True, comment='Debit, in the entry currency (transactionline.debitforeignamount).'),
    sa.Column('credit_amount', sa.Numeric(precision=18, scale=4), nullable=True, comment='Credit, in the entry currency (transactionline.creditforeignamount).'),
    sa.Column('amount_unpaid', sa.Numeric(precision=18, scale=4), nullable=True, comment='Signed amount of the line still open, in the entry currency (transactionline.foreignamountunpaid).'),
    sa.Column('is_intercompany', sa.Boolean(), server_default=sa.false(), nullable=False, comment='True for an intercompany entry or customer: excluded from receivables and balances.'),
    sa.Column('is_voided', sa.Boolean(), server_default=sa.false(), nullable=False, comment='True once the journal entry is voided (transaction.voided).'),
    sa.Column('memo', sa.Text(), nullable=True, comment='Line memo (transactionline.memo).'),
    sa.Column('external_id', sa.Text(), nullable=True, comment='NetSuite external id of the journal entry (transaction.externalid), if any.'),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True, comment='When the journal entry was created (transaction.createddate), in UTC.'),
    sa.Column('last_modified', sa.DateTime(timezone=True), nullable=False, comment="Later of the entry's lastmodifieddate and the line's linelastmodifieddate, in UTC."),
    sa.Column('is_deleted', sa.Boolean(), server_default=sa.false(), nullable=False, comment='True once the record was deleted in NetSuite; the row is kept.'),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True, comment='When NetSuite deleted the record (deletedrecord.deleteddate), in UTC.'),
    sa.Column('synced_at', sa.DateTime(timezone=True), nullable=False, comment='When the pipeline last wrote this row, in UTC.'),
    sa.PrimaryKeyConstraint('journal_entry_id', 'line_id', name=op.f('pk_netsuite_journal_lines')),
    comment='Accounts-receivable lines of NetSuite journal entries (lines on an AcctRec account with a customer); key (journal_entry_id, line_id).'
    )
    op.create_index(op.f('ix_netsuite_journal_lines_customer_id'), 'netsuite_journal_lines', ['customer_id'], unique=False)
    op.create_index(op.f('ix_netsuite_journal_lines_last_modified'), 'netsuite_journal_lines', ['last_modified'], unique=False)
    op.create_index(op.f('ix_netsuite_journal_lines_status'), 'netsuite_journal_lines', ['status'], unique=False)
    op.create_table('netsuite_payment_applications',
    sa.Column('previous_doc_id', sa.BigInteger(), autoincrement=False, nullable=False, comment='Document paid or consumed: the invoice or journal entry a payment or credit memo applies to; the credit memo or payment a refund pays out; the payment a deposit deposits (nexttransactionlinelink.previousdoc).'),
    sa.Column('previous_line', sa.Integer(), autoincrement=False, nullable=False, comment='Line of the previous document; the A/R line id for journal entries, else 0 (nexttransactionlinelink.previousline).'),
    sa.Column('next_doc_id', sa.BigInteger(), autoincrement=False, nullable=False, comment='Document that applies: payment, credit memo, refund or deposit (nexttransactionlinelink.nextdoc).'),
    sa.Column('next_line', sa.Integer(), autoincrement=False, nullable=False, comment='Line of the next document (nexttransactionlinelink.nextline).'),
    sa.Column('previous_type', sa.String(length=16), nullable=True, comment='Type of the previous document: CustInvc, Journal, CustCred, CustPymt (nexttransactionlinelink.previoustype).'),
    sa.Column('next_type', sa.String(length=16), nullable=True, comment='Type of the next document: CustPymt, CustCred, CustRfnd, Deposit (nexttransactionlinelink.nexttype).'),
    sa.Column('link_type', sa.String(length=32), nullable=True, comment='Payment (an application or a refund) or Deposit (nexttransactionlinelink.linktype).'),
    sa.Column('amount', sa.Numeric(precision=18, scale=4), nullable=True, comment="Amount applied, in the link's currency (nexttransactionlinelink.foreignamount)."),
    sa.Column('currency', sa.String(length=3), nullable=True, comment='Currency of the linked documents, ISO 4217 code.'),
    sa.Column('customer_id', sa.BigInteger(), autoincrement=False, nullable=True, comment='Customer of the documents (entity of the next document), if any.'),
    sa.Column('link_date', sa.Date(), nullable=True, comment='Date of the application (nexttransactionlinelink.linkdate).'),
    sa.Column('last_modified', sa.DateTime(timezone=True), nullable=False, comment='Link lastmodifieddate (nexttransactionlinelink.lastmodifieddate), in UTC.'),
    sa.Column('is_deleted', sa.Boolean(), server_default=sa.false(), nullable=False, comment='True once the record was deleted in NetSuite; the row is kept.'),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True, comment='When NetSuite deleted the record (deletedrecord.deleteddate), in UTC.'),
    sa.Column('synced_at', sa.DateTime(timezone=True), nullable=False, comment='When the pipeline last wrote this row, in UTC.'),
    sa.PrimaryKeyConstraint('previous_doc_id', 'previous_line', 'next_doc_id', 'next_line', name=op.f('pk_netsuite_payment_applications')),
    comment='Applications between NetSuite documents: which payment, credit memo, refund or deposit applied to which invoice, journal line or document, and for how much. Removed links are kept with is_deleted.'
    )
    op.create_index(op.f('ix_netsuite_payment_applications_customer_id'), 'netsuite_payment_applications', ['customer_id'], unique=False)
    op.create_index(op.f('ix_netsuite_payment_applications_last_modified'), 'netsuite_payment_applications', ['last_modified'], unique=False)
    op.create_index(op.f('ix_netsuite_payment_applications_link_type'), 'netsuite_payment_applications', ['link_type'], unique=False)
    op.create_index(op.f('ix_netsuite_payment_applications_next_doc_id'), 'netsuite_payment_applications', ['next_doc_id'], unique=False)
    op.create_table('ns_sync_state',
    sa.Column('record_type', sa.String(length=64), nullable=False, comment='What the cursor covers: a NetSuite record type (customer, invoice, deletedrecord, ...).'),
    sa.Column('cursor_last_modified', sa.DateTime(timezone=True), nullable=True, comment='lastmodifieddate of the last row covered, in UTC; the next run reads from here minus the overlap.'),
    sa.Column('cursor_last_id', sa.BigInteger(), nullable=True, comment='Internal id of the last row covered at cursor_last_modified (keyset tie-break).'),
    sa.Column('last_run_mode', sa.String(length=32), nullable=True, comment='Mode of the last run that wrote: incremental, full, daily, resync, ...'),
    sa.Column('last_run_id', sa.String(length=64), nullable=True, comment='Dagster run id (or other run label) of the last run that wrote.'),
    sa.Column('last_run_rows', sa.Integer(), server_default=sa.text('0'), nullable=False, comment='Rows written by the last run (summed over its transactions).'),
    sa.Column('rows_total', sa.BigInteger(), server_default=sa.text('0'), nullable=False, comment='Rows written by all runs since the state was created.'),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False, comment='When the state was last written, in UTC.'),
    sa.PrimaryKeyConstraint('record_type', name=op.f('pk_ns_sync_state')),
    comment='Incremental sync cursors, one row per record type.'
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('ns_sync_state')
    op.drop_index(op.f('ix_netsuite_payment_applications_next_doc_id'), table_name='netsuite_payment_applications')
    op.drop_index(op.f('ix_netsuite_payment_applications_link_type'), table_name='netsuite_payment_applications')
    op.drop_index(op.f('ix_netsuite_payment_applications_last_modified'), table_name='netsuite_payment_applications')
    op.drop_index(op.f('ix_netsuite_payment_applications_customer_id'), table_name='netsuite_payment_applications')
    op.drop_table('netsuite_payment_applications')
    op.drop_index(op.f('ix_netsuite_journal_lines_status'), table_name='netsuite_journal_lines')
    op.drop_index(op.f('ix_netsuite_journal_lines_last_modified'), table_name='netsuite_journal_lines')
    op.drop_index(op.f('ix_netsuite_journal_lines_customer_id'), table_name='netsuite_journal_lines')
    op.drop_table('netsuite_journal_lines')
    op.drop_index(op.f('ix_netsuite_invoices_status'), table_name='netsuite_invoices')
    op.drop_index(op.f('ix_netsuite_invoices_last_modified'), table_name='netsuite_invoices')
    op.drop_index(op.f('ix_netsuite_invoices_due_date'), table_name='netsuite_invoices')
    op.drop_index(op.f('ix_netsuite_invoices_customer_id'), table_name='netsuite_invoices')
    op.drop_table('netsuite_invoices')
    op.drop_index(op.f('ix_netsuite_deposits_status'), table_name='netsuite_deposits')
    op.drop_index(op.f('ix_netsuite_deposits_last_modified'), table_name='netsuite_deposits')
    op.drop_index(op.f('ix_netsuite_deposits_customer_id'), table_name='netsuite_deposits')
    op.drop_table('netsuite_deposits')
    op.drop_index(op.f('ix_netsuite_deleted_records_last_modified'), table_name='netsuite_deleted_records')
    op.drop_table('netsuite_deleted_records')
    op.drop_index(op.f('ix_netsuite_customers_subsidiary_id'), table_name='netsuite_customers')
    op.drop_index(op.f('ix_netsuite_customers_parent_id'), table_name='netsuite_customers')
    op.drop_index(op.f('ix_netsuite_customers_last_modified'), table_name='netsuite_customers')
    op.drop_table('netsuite_customers')
    op.drop_index(op.f('ix_netsuite_customer_refunds_status'), table_name='netsuite_customer_refunds')
    op.drop_index(op.f('ix_netsuite_customer_refunds_last_modified'), table_name='netsuite_customer_refunds')
    op.drop_index(op.f('ix_netsuite_customer_refunds_customer_id'), table_name='netsuite_customer_refunds')
    op.drop_table('netsuite_customer_refunds')
    op.drop_index(op.f('ix_netsuite_customer_payments_status'), table_name='netsuite_customer_payments')
    op.drop_index(op.f('ix_netsuite_customer_payments_last_modified'), table_name='netsuite_customer_payments')
    op.drop_index(op.f('ix_netsuite_customer_payments_customer_id'), table_name='netsuite_customer_payments')
    op.drop_table('netsuite_customer_payments')
    op.drop_index(op.f('ix_netsuite_credit_memos_status'), table_name='netsuite_credit_memos')
    op.drop_index(op.f('ix_netsuite_credit_memos_last_modified'), table_name='netsuite_credit_memos')
    op.drop_index(op.f('ix_netsuite_credit_memos_customer_id'), table_name='netsuite_credit_memos')
    op.drop_table('netsuite_credit_memos')
    op.drop_index(op.f('ix_ar_open_items_status'), table_name='ar_open_items')
    op.drop_index(op.f('ix_ar_open_items_item_type'), table_name='ar_open_items')
    op.drop_index(op.f('ix_ar_open_items_due_date'), table_name='ar_open_items')
    op.drop_index(op.f('ix_ar_open_items_customer_id'), table_name='ar_open_items')
    op.drop_table('ar_open_items')
    op.drop_table('ar_customer_balances')
    op.drop_table('ar_aging')
