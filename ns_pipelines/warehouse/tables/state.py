"""Sync state: one row per record type, advanced in the same transaction as the rows it covers."""
from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, String, Table, Text, text

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
    # A pass in progress (revision 0002; ns_pipelines.sync.runner). Rows arrive in id order, not in
    # lastmodifieddate order, so an interrupted pass resumes where it stopped with the same filter,
    # and the cursor moves only when the pass completes.
    Column(
        "window_mode", String(32),
        comment="Mode of the pass in progress (incremental or full); NULL when no pass is in progress.",
    ),
    Column(
        "window_since", UTCDateTime,
        comment="lastmodifieddate lower bound of the pass in progress (cursor minus overlap), in UTC; NULL reads everything.",
    ),
    Column(
        "window_through", UTCDateTime,
        comment="Cursor the pass in progress sets when it completes: the newest NetSuite timestamp before it started, in UTC.",
    ),
    Column(
        "window_opened_at", UTCDateTime,
        comment="When the pass in progress started (warehouse clock), in UTC; a full pass marks deleted the rows it did not rewrite since.",
    ),
    Column(
        "window_position", Text,
        comment="Keyset position of the pass in progress (JSON: stream and id ranges); the next run resumes from it.",
    ),
    comment="Incremental sync cursors, one row per record type.",
)
