"""Raw NetSuite tables: one row per NetSuite record (or journal line, or application link).

Source columns are named in each comment (SuiteQL table.column, see sandbox/netsuite/schema.py).
Amounts are in the document's own currency unless a column says "base"; documents carry positive
totals. Ids are NetSuite internal ids. No foreign keys: a partial or targeted sync may write a
transaction before its customer, and deleted records stay.
"""
from __future__ import annotations

from sqlalchemy import Column, Date, Integer, String, Table, Text

from ns_pipelines.warehouse.tables.common import (
    currency_code,
    external_id,
    flag,
    id_column,
    metadata,
    record_state,
)
from ns_pipelines.warehouse.types import ExchangeRate, Money, UTCDateTime

# What soft_delete() writes besides is_deleted/deleted_at (behaviour.md section 2): a deleted
# invoice is closed, so it leaves open receivables.
ON_DELETE = "ns/on_delete"

customers = Table(
    "netsuite_customers",
    metadata,
    id_column("id", "NetSuite internal id of the customer (customer.id).", primary_key=True),
    Column("entity_id", Text, comment="Customer id shown in NetSuite (customer.entityid)."),
    Column("company_name", Text, comment="Company name (customer.companyname)."),
    flag("is_person", "True for an individual rather than a company (customer.isperson)."),
    Column("email", Text, comment="Email address (customer.email)."),
    Column("phone", Text, comment="Phone number (customer.phone)."),
    currency_code("Primary currency, ISO 4217 code (customer.currency)."),
    id_column("subsidiary_id", "Primary subsidiary (customer.subsidiary).", index=True),
    id_column("parent_id", "Parent customer in a customer hierarchy (customer.parent).", index=True),
    id_column(
        "representing_subsidiary_id",
        "Subsidiary this customer represents; set on intercompany customers (customer.representingsubsidiary).",
    ),
    flag(
        "is_intercompany",
        "True for an intercompany customer (represents a subsidiary, or is on the configured list): "
        "excluded from receivables, balances and reconciliation.",
    ),
    flag("is_inactive", "True when the customer is inactive in NetSuite (customer.isinactive)."),
    Column("terms_days", Integer, comment="Default payment terms, in days (customer.terms)."),
    Column("credit_limit", Money(), comment="Credit limit, in the customer's currency (customer.creditlimit)."),
    Column(
        "balance", Money(),
        comment="Open balance NetSuite reports, in the subsidiary's base currency (customer.balancesearch).",
    ),
    Column(
        "overdue_balance", Money(),
        comment="Overdue balance NetSuite reports, in the subsidiary's base currency (customer.overduebalancesearch).",
    ),
    external_id(),
    Column("created_at", UTCDateTime, comment="When the customer was created (customer.datecreated), in UTC."),
    *record_state(),
    comment="NetSuite customers, one row per customer, deleted ones kept with is_deleted.",
)


def _transaction_table(
    name: str, document: str, type_code: str, extra: list[Column], *, comment: str, **info: object
) -> Table:
    """A table of one NetSuite transaction type (rows of `transaction` with type = type_code)."""
    return Table(
        name,
        metadata,
        id_column("id", f"NetSuite internal id of the {document} (transaction.id).", primary_key=True),
        Column("tran_id", Text, comment=f"Document number of the {document} (transaction.tranid)."),
        id_column("customer_id", "Customer (transaction.entity).", index=True),
        id_column("subsidiary_id", "Subsidiary of the main line (transactionline.subsidiary, mainline = 'T')."),
        id_column("account_id", "Posting account of the main line (transactionline.expenseaccount, mainline = 'T')."),
        id_column("posting_period_id", "Accounting period (transaction.postingperiod)."),
        currency_code("Transaction currency, ISO 4217 code (transaction.currency)."),
        Column(
            "exchange_rate", ExchangeRate(),
            comment="Base-currency units per unit of the transaction currency (transaction.exchangerate).",
        ),
        Column("tran_date", Date, comment="Transaction date (transaction.trandate)."),
        Column(
            "status", String(16), index=True,
            comment=f"Status letter (transaction.status); see status_text. Type code {type_code}.",
        ),
        Column("status_text", Text, comment="Status as NetSuite displays it, e.g. Open (BUILTIN.DF(transaction.status))."),
        Column("total", Money(), comment="Document total in its currency, positive (transaction.foreigntotal)."),
        *extra,
        flag(
            "is_intercompany",
            "True for an intercompany transaction (flagged intercompany, or its customer is): kept "
            "here but excluded from receivables, balances and reconciliation.",
        ),
        flag("is_voided", "True once the transaction is voided (transaction.voided)."),
        Column("memo", Text, comment="Memo (transaction.memo)."),
        external_id(),
        Column("created_at", UTCDateTime, comment="When the transaction was created (transaction.createddate), in UTC."),
        *record_state(),
        comment=comment,
        info=info,
    )


def _used_unused(document: str) -> list[Column]:
    return [
        Column(
            "amount_used", Money(),
            comment=f"Part of the {document} applied to invoices or refunded, in its currency "
            "(transaction.foreignpaymentamountused).",
        ),
        Column(
            "amount_unused", Money(),
            comment=f"Part of the {document} still unapplied, in its currency "
            "(transaction.foreignpaymentamountunused).",
        ),
    ]


invoices = _transaction_table(
    "netsuite_invoices", "invoice", "CustInvc",
    [
        Column("due_date", Date, index=True, comment="Due date (transaction.duedate)."),
        Column(
            "amount_paid", Money(),
            comment="Amount paid by payments and credits, in the invoice currency (transaction.foreignamountpaid).",
        ),
        Column(
            "amount_unpaid", Money(),
            comment="Amount still open, in the invoice currency (transaction.foreignamountunpaid).",
        ),
    ],
    comment="NetSuite invoices (CustInvc). Status A Open, B Paid In Full, V Voided; CLOSED once deleted.",
    **{ON_DELETE: {"status": "CLOSED", "status_text": "Closed (deleted in NetSuite)"}},
)

customer_payments = _transaction_table(
    "netsuite_customer_payments", "customer payment", "CustPymt", _used_unused("payment"),
    comment="NetSuite customer payments (CustPymt). Status B Not Deposited, C Deposited, V Voided.",
)

credit_memos = _transaction_table(
    "netsuite_credit_memos", "credit memo", "CustCred", _used_unused("credit memo"),
    comment="NetSuite credit memos (CustCred). Status A Open, B Fully Applied, V Voided.",
)

customer_refunds = _transaction_table(
    "netsuite_customer_refunds", "customer refund", "CustRfnd", [],
    comment="NetSuite customer refunds (CustRfnd): money paid back against a credit memo or payment.",
)

deposits = _transaction_table(
    "netsuite_deposits", "deposit", "Deposit", [],
    comment="NetSuite bank deposits of customer payments (Deposit); total = net amount deposited. "
    "customer_id is usually empty.",
)

journal_lines = Table(
    "netsuite_journal_lines",
    metadata,
    id_column("journal_entry_id", "NetSuite internal id of the journal entry (transactionline.transaction).", primary_key=True),
    Column("line_id", Integer, primary_key=True, autoincrement=False, comment="Line id, unique within the entry (transactionline.id)."),
    Column("tran_id", Text, comment="Document number of the journal entry (transaction.tranid)."),
    id_column("customer_id", "Customer on the line (transactionline.entity).", index=True),
    id_column("subsidiary_id", "Subsidiary of the line (transactionline.subsidiary)."),
    id_column("account_id", "Accounts-receivable account of the line (transactionline.expenseaccount)."),
    id_column("posting_period_id", "Accounting period (transaction.postingperiod)."),
    currency_code("Currency of the journal entry, ISO 4217 code (transaction.currency)."),
    Column(
        "exchange_rate", ExchangeRate(),
        comment="Base-currency units per unit of the entry currency (transaction.exchangerate).",
    ),
    Column("tran_date", Date, comment="Journal entry date (transaction.trandate); ageing counts from it."),
    Column("status", String(16), index=True, comment="Status letter of the journal entry (transaction.status)."),
    Column("status_text", Text, comment="Status as NetSuite displays it (BUILTIN.DF(transaction.status))."),
    Column(
        "amount", Money(),
        comment="Signed line amount in the entry currency, debit minus credit (transactionline.foreignamount); "
        "a debit raises the customer's balance.",
    ),
    Column("debit_amount", Money(), comment="Debit, in the entry currency (transactionline.debitforeignamount)."),
    Column("credit_amount", Money(), comment="Credit, in the entry currency (transactionline.creditforeignamount)."),
    Column(
        "amount_unpaid", Money(),
        comment="Signed amount of the line still open, in the entry currency (transactionline.foreignamountunpaid).",
    ),
    flag(
        "is_intercompany",
        "True for an intercompany entry or customer: excluded from receivables and balances.",
    ),
    flag("is_voided", "True once the journal entry is voided (transaction.voided)."),
    Column("memo", Text, comment="Line memo (transactionline.memo)."),
    external_id("NetSuite external id of the journal entry (transaction.externalid), if any."),
    Column("created_at", UTCDateTime, comment="When the journal entry was created (transaction.createddate), in UTC."),
    *record_state(
        "Later of the entry's lastmodifieddate and the line's linelastmodifieddate, in UTC."
    ),
    comment="Accounts-receivable lines of NetSuite journal entries (lines on an AcctRec account with a "
    "customer); key (journal_entry_id, line_id).",
)

payment_applications = Table(
    "netsuite_payment_applications",
    metadata,
    id_column(
        "previous_doc_id",
        "Document paid or consumed: the invoice or journal entry a payment or credit memo applies to; "
        "the credit memo or payment a refund pays out; the payment a deposit deposits "
        "(nexttransactionlinelink.previousdoc).",
        primary_key=True,
    ),
    Column(
        "previous_line", Integer, primary_key=True, autoincrement=False,
        comment="Line of the previous document; the A/R line id for journal entries, else 0 "
        "(nexttransactionlinelink.previousline).",
    ),
    id_column(
        "next_doc_id",
        "Document that applies: payment, credit memo, refund or deposit (nexttransactionlinelink.nextdoc).",
        primary_key=True,
        index=True,
    ),
    Column(
        "next_line", Integer, primary_key=True, autoincrement=False,
        comment="Line of the next document (nexttransactionlinelink.nextline).",
    ),
    Column(
        "previous_type", String(16),
        comment="Type of the previous document: CustInvc, Journal, CustCred, CustPymt (nexttransactionlinelink.previoustype).",
    ),
    Column(
        "next_type", String(16),
        comment="Type of the next document: CustPymt, CustCred, CustRfnd, Deposit (nexttransactionlinelink.nexttype).",
    ),
    Column(
        "link_type", String(32), index=True,
        comment="Payment (an application or a refund) or Deposit (nexttransactionlinelink.linktype).",
    ),
    Column("amount", Money(), comment="Amount applied, in the link's currency (nexttransactionlinelink.foreignamount)."),
    currency_code("Currency of the linked documents, ISO 4217 code."),
    id_column("customer_id", "Customer of the documents (entity of the next document), if any.", index=True),
    Column("link_date", Date, comment="Date of the application (nexttransactionlinelink.linkdate)."),
    *record_state("Link lastmodifieddate (nexttransactionlinelink.lastmodifieddate), in UTC."),
    comment="Applications between NetSuite documents: which payment, credit memo, refund or deposit "
    "applied to which invoice, journal line or document, and for how much. Removed links are kept "
    "with is_deleted.",
)
deleted_records = Table(
    "netsuite_deleted_records",
    metadata,
    Column(
        "record_type", String(64), primary_key=True,
        comment="NetSuite record type, lower case (deletedrecord.scriptid): customer, invoice, customerpayment, ...",
    ),
    id_column("record_id", "Internal id of the deleted record (deletedrecord.recordid).", primary_key=True),
    Column("record_type_name", Text, comment="Record type as NetSuite displays it (deletedrecord.type)."),
    Column("name", Text, comment="Document number or entity id of the deleted record (deletedrecord.name)."),
    external_id("External id of the deleted record (deletedrecord.externalid), if any."),
    Column("context", String(64), comment="Where the deletion came from: UI, WebServices, ... (deletedrecord.context)."),
    id_column("deleted_by_id", "Employee who deleted the record (deletedrecord.deletedby)."),
    Column("deleted_at", UTCDateTime, nullable=False, comment="When NetSuite deleted the record (deletedrecord.deleteddate), in UTC."),
    Column(
        "last_modified", UTCDateTime, nullable=False, index=True,
        comment="Same as deleted_at: the incremental cursor column, as on every NetSuite table.",
    ),
    Column("synced_at", UTCDateTime, nullable=False, comment="When the pipeline last wrote this row, in UTC."),
    comment="NetSuite deletions (deletedrecord), read by deleteddate. The deleted rows themselves stay "
    "in their tables with is_deleted = true.",
)

# NetSuite record type (lower case, as in deletedrecord.scriptid and change events) -> table.
TABLES_BY_RECORD_TYPE: dict[str, Table] = {
    "customer": customers,
    "invoice": invoices,
    "customerpayment": customer_payments,
    "creditmemo": credit_memos,
    "customerrefund": customer_refunds,
    "deposit": deposits,
    "journalentry": journal_lines,
}
