"""Sync state: one row per record type, advanced in the same transaction as the rows it covers."""
from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, String, Table, text

from ns_pipelines.warehouse.tables.common import metadata
from ns_pipelines.warehouse.types import UTCDateTime

sync_state = Table(
    "ns_sync_state",
    metadata,
    Column(
        "record_type", String(64), primary_key=True,
        comment="What the cursor covers: a NetSuite record type (customer, invoice, deletedrecord, ...).",
    ),
    Column(
        "cursor_last_modified", UTCDateTime,
        comment="lastmodifieddate of the last row covered, in UTC; the next run reads from here minus the overlap.",
    ),
    Column(
        "cursor_last_id", BigInteger,
        comment="Internal id of the last row covered at cursor_last_modified (keyset tie-break).",
    ),
    Column("last_run_mode", String(32), comment="Mode of the last run that wrote: incremental, full, daily, resync, ..."),
    Column("last_run_id", String(64), comment="Dagster run id (or other run label) of the last run that wrote."),
    Column(
        "last_run_rows", Integer, nullable=False, server_default=text("0"),
        comment="Rows written by the last run (summed over its transactions).",
    ),
    Column(
        "rows_total", BigInteger, nullable=False, server_default=text("0"),
        comment="Rows written by all runs since the state was created.",
    ),
    Column("updated_at", UTCDateTime, nullable=False, comment="When the state was last written, in UTC."),
    comment="Incremental sync cursors, one row per record type.",
)
