"""The webhook inbox: every change event the receiver accepted, stored once by event id.

The receiver (ns_pipelines.webhooks) inserts; the Dagster sensor reads the rows after its cursor,
an `id`. Ids are only useful as a cursor if a row with a smaller id can never become visible after
one with a larger id: SQLite serialises writers (BEGIN IMMEDIATE), and on PostgreSQL the insert
takes a transaction-scoped advisory lock before drawing its id (ns_pipelines.webhooks.inbox), so
ids commit in order. AUTOINCREMENT on SQLite keeps ids from being reused even if rows are pruned.
"""
from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, String, Table, Text, text

from ns_pipelines.warehouse.tables.common import metadata
from ns_pipelines.warehouse.types import UTCDateTime

# SQLite only auto-assigns (and AUTOINCREMENTs) an INTEGER PRIMARY KEY; PostgreSQL gets BIGSERIAL.
InboxId = BigInteger().with_variant(Integer(), "sqlite")

webhook_inbox = Table(
    "ns_webhook_inbox",
    metadata,
    Column(
        "id", InboxId, primary_key=True, autoincrement=True,
        comment="Inbox position, assigned at insert and increasing in commit order: the sensor's cursor.",
    ),
    Column(
        "event_id", String(128), nullable=False, unique=True,
        comment="Sender's event id; an event delivered again (at-least-once delivery) is stored once.",
    ),
    Column(
        "source", String(32), nullable=False, server_default=text("'netsuite'"),
        comment="Who sent the event: netsuite (the SuiteScript user-event script).",
    ),
    Column("account", String(64), nullable=False, comment="NetSuite account id the event came from (e.g. 1234567_SB1)."),
    Column(
        "record_type", String(64), nullable=False,
        comment="NetSuite record type of the changed record (customer, invoice, customerpayment, ...).",
    ),
    Column("record_id", BigInteger, comment="NetSuite internal id of the changed record (null for Stripe events)."),
    Column(
        "object_id", String(255),
        comment="Stripe id of the object the event is about (data.object.id: ch_..., po_...); null for NetSuite.",
    ),
    Column("event", String(16), nullable=False, comment="What happened: create, edit, xedit (inline edit) or delete."),
    Column(
        "occurred_at", UTCDateTime, nullable=False,
        comment="When the change happened in NetSuite, in UTC (sender's clock).",
    ),
    Column("received_at", UTCDateTime, nullable=False, comment="When the receiver stored the event, in UTC."),
    Column("body", Text, nullable=False, comment="The raw request body, exactly as signed."),
    comment="Change events received by the webhook receiver, once per event id; the sensor reads them by id.",
    sqlite_autoincrement=True,
)
