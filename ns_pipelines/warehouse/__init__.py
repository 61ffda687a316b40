"""The warehouse: typed tables, Alembic migrations, upserts, soft deletes and sync cursors.

Plain SQLAlchemy 2 Core, no Dagster. One URL, $NS_WAREHOUSE_URL: SQLite by default
(`.data/warehouse.sqlite3` under the working directory), PostgreSQL (psycopg 3) in production.

    engine = create_warehouse_engine()
    upgrade_warehouse(engine)
    with begin_write(engine) as conn:       # engine.begin() that locks up front on SQLite
        upsert_rows(conn, invoices, rows)
        write_cursor(conn, "invoice", last_modified=..., last_id=..., mode="incremental", rows=len(rows))
"""
from ns_pipelines.warehouse.engine import (
    WAREHOUSE_URL_ENV,
    begin_write,
    create_warehouse_engine,
    default_warehouse_url,
    resolve_warehouse_url,
)
from ns_pipelines.warehouse.migrate import (
    VERSION_TABLE,
    current_revision,
    head_revision,
    schema_diffs,
    upgrade_warehouse,
)
from ns_pipelines.warehouse.sync_state import SyncCursor, read_cursor, write_cursor
from ns_pipelines.warehouse.tables import (
    TABLES_BY_RECORD_TYPE,
    aging,
    credit_memos,
    customer_balances,
    customer_payments,
    customer_refunds,
    customers,
    deleted_records,
    deposits,
    invoices,
    journal_lines,
    metadata,
    open_items,
    payment_applications,
    sync_state,
)
from ns_pipelines.warehouse.types import ExactDecimal, ExchangeRate, Money, UTCDateTime
from ns_pipelines.warehouse.writes import PreparedUpsert, dialect_insert, prepare_upsert, soft_delete, soft_delete_each, upsert_rows

__all__ = [
    "PreparedUpsert",
    "TABLES_BY_RECORD_TYPE",
    "VERSION_TABLE",
    "WAREHOUSE_URL_ENV",
    "ExactDecimal",
    "ExchangeRate",
    "Money",
    "SyncCursor",
    "UTCDateTime",
    "aging",
    "begin_write",
    "create_warehouse_engine",
    "credit_memos",
    "current_revision",
    "customer_balances",
    "customer_payments",
    "customer_refunds",
    "customers",
    "default_warehouse_url",
    "deleted_records",
    "deposits",
    "dialect_insert",
    "head_revision",
    "invoices",
    "journal_lines",
    "metadata",
    "open_items",
    "payment_applications",
    "prepare_upsert",
    "read_cursor",
    "resolve_warehouse_url",
    "schema_diffs",
    "soft_delete",
    "soft_delete_each",
    "sync_state",
    "upgrade_warehouse",
    "upsert_rows",
    "write_cursor",
]
