"""Writeback tables: the current plan of NetSuite writes, and the log of every write attempt.

`writeback_plan` holds one row per planned NetSuite write (keyed by the record's deterministic
external id and the action); plan-only mode stops there. `writeback_log` gets one
row per attempt, written in the same transaction that marks the plan row done or refused; rows
are never updated or deleted.
"""
from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, String, Table, Text

from ns_pipelines.warehouse.tables.common import metadata
from ns_pipelines.warehouse.types import UTCDateTime

# SQLite only auto-assigns an INTEGER PRIMARY KEY; PostgreSQL gets BIGSERIAL.
LogId = BigInteger().with_variant(Integer(), "sqlite")

writeback_plan = Table(
    "writeback_plan",
    metadata,
    Column("external_id", String(255), primary_key=True,
           comment="Deterministic NetSuite external id of the record (stripe:<charge>[:<customer>], "
           "stripe:<payout>, stripe:<refund>)."),
    Column("record_type", String(32), nullable=False,
           comment="NetSuite REST record type written (customerPayment, creditMemo, customerRefund, deposit)."),
    Column("action", String(32), primary_key=True,
           comment="What the write does: create_payment, unapply, reapply, customer_refund, credit_memo, credit_memo_refund, deposit."),
    Column("reason", Text, nullable=False, comment="Why the write is planned, in words (the Stripe facts behind it)."),
    Column("payload", Text, nullable=False,
           comment="JSON text of the request body (amounts as exact JSON numbers), exactly as PUT to /record/v1/<record_type>/eid:<external_id>."),
    Column("wave", Integer, nullable=False,
           comment="Order of application: 0 payments, 1 unapply/re-apply, 2 credit memos, 3 refunds, 4 deposits; a wave starts "
           "when the one before it has been attempted."),
    Column("depends_on", Text, nullable=False,
           comment="JSON list of external ids that must be written first (a refund's payment or credit memo)."),
    Column("unapply_first", Text, nullable=False,
           comment="JSON [{invoice_id, amount}], customer_refund only: the payment's applications to reduce (last "
           "first) until it has the refund's amount unapplied, read from NetSuite at write time."),
    Column("stripe_object_id", String(255),
           comment="Stripe object that receives the NetSuite id in its metadata (charge or refund id)."),
    Column("stripe_metadata_key", String(64),
           comment="Metadata key written on that Stripe object, e.g. netsuite_customer_payment_id."),
    Column("status", String(16), nullable=False, index=True,
           comment="planned (not yet written), done (written as planned) or refused (NetSuite refused it)."),
    Column("netsuite_id", BigInteger, comment="Internal id NetSuite gave the record, once written."),
    Column("error", Text, comment="NetSuite's error text when refused (or why the write was not made)."),
    Column("planned_at", UTCDateTime, nullable=False, comment="When the plan row was last (re)planned, in UTC."),
    Column("updated_at", UTCDateTime, nullable=False, comment="When the row last changed, in UTC."),
    comment="The NetSuite writes the reconciliation calls for, one row per external id, with their status.",
)

writeback_log = Table(
    "writeback_log",
    metadata,
    Column("id", LogId, primary_key=True, autoincrement=True, comment="Log position (insertion order)."),
    Column("external_id", String(255), nullable=False, index=True, comment="External id of the record written."),
    Column("record_type", String(32), nullable=False, comment="NetSuite REST record type."),
    Column("action", String(32), nullable=False, comment="What the write did (see writeback_plan.action)."),
    Column("reason", Text, nullable=False, comment="Why it was written."),
    Column("request", Text, nullable=False, comment="JSON text of the request body sent (PUT .../eid:<external_id>)."),
    Column("status", String(16), nullable=False, index=True,
           comment="written (NetSuite accepted it), refused (a 4xx: locked record, closed period, invoice "
           "already paid ...) or failed (no answer, 5xx after retries, a Stripe metadata write that failed)."),
    Column("response", Text, comment="NetSuite's answer: the record URL id, or its error text."),
    Column("netsuite_id", BigInteger, comment="Internal id of the record in NetSuite, when written."),
    Column("stripe_object_id", String(255), comment="Stripe object linked to the record (charge, refund, payout)."),
    Column("attempted_at", UTCDateTime, nullable=False, comment="When the write was attempted, in UTC."),
    Column("run_id", String(64), comment="Dagster run id (or CLI run id) that made the attempt."),
    comment="Every NetSuite write attempt made by the writeback: what, why, the request, NetSuite's answer, "
    "the internal id and when. Append-only.",
    sqlite_autoincrement=True,
)
