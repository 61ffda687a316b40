"""Writeback plan and log tables.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26

writeback_plan and writeback_log (ns_pipelines.warehouse.tables.writeback): the NetSuite writes
planned from the reconciliation, and every write attempt (append-only).
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: Union[str, Sequence[str], None] = "0007"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "writeback_plan",
        sa.Column("external_id", sa.String(length=255), nullable=False,
                  comment="Deterministic NetSuite external id of the record (stripe:<charge>[:<customer>], "
                  "stripe:<payout>, stripe:<refund>)."),
        sa.Column("record_type", sa.String(length=32), nullable=False,
                  comment="NetSuite REST record type written (customerPayment, creditMemo, customerRefund, deposit)."),
        sa.Column("action", sa.String(length=32), nullable=False,
                  comment="What the write does: create_payment, unapply, reapply, customer_refund, credit_memo, credit_memo_refund, deposit."),
        sa.Column("reason", sa.Text(), nullable=False,
                  comment="Why the write is planned, in words (the Stripe facts behind it)."),
        sa.Column("payload", sa.Text(), nullable=False,
                  comment="JSON text of the request body (amounts as exact JSON numbers), exactly as PUT to /record/v1/<record_type>/eid:<external_id>."),
        sa.Column("wave", sa.Integer(), nullable=False,
                  comment="Order of application: 0 payments, 1 unapply/re-apply, 2 credit memos, 3 refunds, 4 deposits; a wave starts "
                  "when the one before it has been attempted."),
        sa.Column("depends_on", sa.Text(), nullable=False,
                  comment="JSON list of external ids that must be written first (a refund's payment or credit memo)."),
        sa.Column("unapply_first", sa.Text(), nullable=False,
                  comment="JSON [{invoice_id, amount}], customer_refund only: the payment's applications to reduce "
                  "(last first) until it has the refund's amount unapplied, read from NetSuite at write time."),
        sa.Column("stripe_object_id", sa.String(length=255),
                  comment="Stripe object that receives the NetSuite id in its metadata (charge or refund id)."),
        sa.Column("stripe_metadata_key", sa.String(length=64),
                  comment="Metadata key written on that Stripe object, e.g. netsuite_customer_payment_id."),
        sa.Column("status", sa.String(length=16), nullable=False,
                  comment="planned (not yet written), done (written as planned) or refused (NetSuite refused it)."),
        sa.Column("netsuite_id", sa.BigInteger(), comment="Internal id NetSuite gave the record, once written."),
        sa.Column("error", sa.Text(), comment="NetSuite's error text when refused (or why the write was not made)."),
        sa.Column("planned_at", sa.DateTime(timezone=True), nullable=False,
                  comment="When the plan row was last (re)planned, in UTC."),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False,
                  comment="When the row last changed, in UTC."),
        sa.PrimaryKeyConstraint("external_id", "action", name=op.f("pk_writeback_plan")),
        comment="The NetSuite writes the reconciliation calls for, one row per external id, with their status.",
    )
    op.create_index(op.f("ix_writeback_plan_status"), "writeback_plan", ["status"], unique=False)
    op.create_table(
        "writeback_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False,
                  comment="Log position (insertion order)."),
        sa.Column("external_id", sa.String(length=255), nullable=False, comment="External id of the record written."),
        sa.Column("record_type", sa.String(length=32), nullable=False, comment="NetSuite REST record type."),
        sa.Column("action", sa.String(length=32), nullable=False,
                  comment="What the write did (see writeback_plan.action)."),
        sa.Column("reason", sa.Text(), nullable=False, comment="Why it was written."),
        sa.Column("request", sa.Text(), nullable=False,
                  comment="JSON text of the request body sent (PUT .../eid:<external_id>)."),
        sa.Column("status", sa.String(length=16), nullable=False,
                  comment="written (NetSuite accepted it), refused (a 4xx: locked record, closed period, invoice "
                  "already paid ...) or failed (no answer, 5xx after retries, a Stripe metadata write that failed)."),
        sa.Column("response", sa.Text(), comment="NetSuite's answer: the record URL id, or its error text."),
        sa.Column("netsuite_id", sa.BigInteger(), comment="Internal id of the record in NetSuite, when written."),
        sa.Column("stripe_object_id", sa.String(length=255),
                  comment="Stripe object linked to the record (charge, refund, payout)."),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False,
                  comment="When the write was attempted, in UTC."),
        sa.Column("run_id", sa.String(length=64), comment="Dagster run id (or CLI run id) that made the attempt."),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_writeback_log")),
        comment="Every NetSuite write attempt made by the writeback: what, why, the request, NetSuite's answer, "
        "the internal id and when. Append-only.",
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_writeback_log_external_id"), "writeback_log", ["external_id"], unique=False)
    op.create_index(op.f("ix_writeback_log_status"), "writeback_log", ["status"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_writeback_log_status"), table_name="writeback_log")
    op.drop_index(op.f("ix_writeback_log_external_id"), table_name="writeback_log")
    op.drop_table("writeback_log")
    op.drop_index(op.f("ix_writeback_plan_status"), table_name="writeback_plan")
    op.drop_table("writeback_plan")
