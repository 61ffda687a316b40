"""Derived accounts-receivable tables for analysts (full refresh from the NetSuite tables).

Intercompany, voided and deleted records are excluded. Signs: positive = the customer owes,
negative = a credit in the customer's favour. "base" amounts are in the subsidiary's base
currency (document amount times its exchange rate, rounded to the cent).
"""
from __future__ import annotations

from sqlalchemy import Column, Date, Integer, String, Table, Text

from ns_pipelines.warehouse.tables.common import currency_code, id_column, metadata
from ns_pipelines.warehouse.types import ExchangeRate, Money, UTCDateTime


def _snapshot() -> list[Column]:
    return [
        Column("as_of_date", Date, nullable=False, comment="Date the receivables were computed for; ageing counts to it."),
        Column("computed_at", UTCDateTime, nullable=False, comment="When the row was computed, in UTC."),
    ]


open_items = Table(
    "ar_open_items",
    metadata,
    id_column("transaction_id", "NetSuite internal id of the document or journal entry.", primary_key=True),
    Column(
        "line_id", Integer, primary_key=True, autoincrement=False,
        comment="Journal entry line id for journal lines; 0 for whole documents.",
    ),
    Column(
        "item_type", String(16), nullable=False, index=True,
        comment="invoice, payment (unapplied), credit_memo (unapplied) or journal_line.",
    ),
    Column("tran_id", Text, comment="Document number (transaction.tranid)."),
    id_column("customer_id", "Customer the item belongs to.", index=True),
    id_column("subsidiary_id", "Subsidiary of the item."),
    currency_code("Currency of the item, ISO 4217 code."),
    Column("exchange_rate", ExchangeRate(), comment="Base-currency units per unit of currency."),
    Column("tran_date", Date, comment="Transaction date."),
    Column("due_date", Date, index=True, comment="Due date; the transaction date for items without one."),
    Column("status", String(16), index=True, comment="Status letter of the source document."),
    Column("amount", Money(), comment="Signed original amount of the item, in its currency."),
    Column("amount_open", Money(), nullable=False, comment="Signed amount still open, in the item's currency."),
    Column("amount_open_base", Money(), comment="Signed amount still open, in base currency."),
    Column("days_past_due", Integer, comment="Days between due_date and as_of_date; 0 or less when not yet due."),
    Column("aging_bucket", String(8), comment="current, 1-30, 31-60, 61-90 or 90+ (days past due)."),
    *_snapshot(),
    comment="Open receivables: open invoices, unapplied payments and credit memos, open A/R journal lines.",
)

customer_balances = Table(
    "ar_customer_balances",
    metadata,
    id_column("customer_id", "NetSuite internal id of the customer.", primary_key=True),
    Column("entity_id", Text, comment="Customer id shown in NetSuite."),
    Column("company_name", Text, comment="Company name."),
    id_column("subsidiary_id", "Primary subsidiary of the customer."),
    Column("open_invoices_base", Money(), comment="Open invoice amounts, base currency."),
    Column("open_journal_lines_base", Money(), comment="Signed open A/R journal line amounts, base currency."),
    Column("unapplied_payments_base", Money(), comment="Unapplied payment amounts (positive, subtracted), base currency."),
    Column("unapplied_credits_base", Money(), comment="Unapplied credit memo amounts (positive, subtracted), base currency."),
    Column(
        "balance_base", Money(), nullable=False,
        comment="Derived balance = open invoices + open journal lines - unapplied payments - unapplied credits.",
    ),
    Column("overdue_balance_base", Money(), comment="Part of the balance past due, base currency."),
    Column("netsuite_balance", Money(), comment="Balance NetSuite reports for the customer (customer.balancesearch)."),
    Column(
        "intercompany_open_base", Money(),
        comment="Base amount of the customer's open intercompany items left out of balance_base "
                "(added back when comparing with NetSuite's balance).",
    ),
    Column(
        "difference", Money(),
        comment="balance_base + intercompany_open_base - netsuite_balance: NetSuite's balance includes intercompany "
                "transactions, which the derived balance leaves out when NS_EXCLUDE_INTERCOMPANY is on; non-zero "
                "values are reported by a check.",
    ),
    Column("open_item_count", Integer, comment="Number of open items behind the balance."),
    *_snapshot(),
    comment="Customer balances derived from open items, with the balance NetSuite reports beside them.",
)

aging = Table(
    "ar_aging",
    metadata,
    id_column("customer_id", "NetSuite internal id of the customer.", primary_key=True),
    Column("currency", String(3), primary_key=True, comment="Currency of the amounts, ISO 4217 code."),
    Column("current_amount", Money(), comment="Not yet due."),
    Column("days_1_30", Money(), comment="1 to 30 days past due."),
    Column("days_31_60", Money(), comment="31 to 60 days past due."),
    Column("days_61_90", Money(), comment="61 to 90 days past due."),
    Column("days_over_90", Money(), comment="More than 90 days past due."),
    Column("total", Money(), comment="Sum of the buckets, in currency."),
    Column("total_base", Money(), comment="Sum of the buckets, base currency."),
    *_snapshot(),
    comment="Ageing report per customer and currency: open amounts by days past due.",
)
