"""Webhook inbox: change events stored once by event id, read by the sensor by id.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27

ns_webhook_inbox (ns_pipelines.warehouse.tables.inbox) is written by the webhook receiver
(ns_pipelines.webhooks) and read by netsuite_change_events_sensor. `id` is INTEGER PRIMARY KEY
AUTOINCREMENT on SQLite (never reused) and BIGSERIAL on PostgreSQL.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: Union[str, Sequence[str], None] = "0003"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "ns_webhook_inbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False,
                  comment="Inbox position, assigned at insert and increasing in commit order: the sensor's cursor."),
        sa.Column("event_id", sa.String(length=128), nullable=False,
                  comment="Sender's event id; an event delivered again (at-least-once delivery) is stored once."),
        sa.Column("source", sa.String(length=32), server_default=sa.text("'netsuite'"), nullable=False,
                  comment="Who sent the event: netsuite (the SuiteScript user-event script)."),
        sa.Column("account", sa.String(length=64), nullable=False,
                  comment="NetSuite account id the event came from (e.g. 1234567_SB1)."),
        sa.Column("record_type", sa.String(length=64), nullable=False,
                  comment="NetSuite record type of the changed record (customer, invoice, customerpayment, ...)."),
        sa.Column("record_id", sa.BigInteger(), nullable=False, comment="NetSuite internal id of the changed record."),
        sa.Column("event", sa.String(length=16), nullable=False,
                  comment="What happened: create, edit, xedit (inline edit) or delete."),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False,
                  comment="When the change happened in NetSuite, in UTC (sender's clock)."),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False,
                  comment="When the receiver stored the event, in UTC."),
        sa.Column("body", sa.Text(), nullable=False, comment="The raw request body, exactly as signed."),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ns_webhook_inbox")),
        sa.UniqueConstraint("event_id", name=op.f("uq_ns_webhook_inbox_event_id")),
        comment="Change events received by the webhook receiver, once per event id; the sensor reads them by id.",
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("ns_webhook_inbox")
