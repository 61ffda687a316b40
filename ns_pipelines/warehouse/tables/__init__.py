"""Warehouse tables. Importing this package registers every table on `metadata`."""
# Modules imported only to register their tables: inbox, monitoring, stripe, reconciliation, writeback.
from ns_pipelines.warehouse.tables import inbox, monitoring, reconciliation, stripe, writeback  # noqa: F401
from ns_pipelines.warehouse.tables.ar import aging, customer_balances, open_items
from ns_pipelines.warehouse.tables.common import metadata
from ns_pipelines.warehouse.tables.netsuite import (
    TABLES_BY_RECORD_TYPE,
    credit_memos,
    customer_payments,
    customer_refunds,
    customers,
    deleted_records,
    deposits,
    invoices,
    journal_lines,
    payment_applications,
)
from ns_pipelines.warehouse.tables.state import sync_state

__all__ = [
    "TABLES_BY_RECORD_TYPE",
    "aging",
    "credit_memos",
    "customer_balances",
    "customer_payments",
    "customer_refunds",
    "customers",
    "deleted_records",
    "deposits",
    "invoices",
    "journal_lines",
    "metadata",
    "open_items",
    "payment_applications",
    "sync_state",
]
