"""NetSuite API usage per minute and source (ns_netsuite_api_usage).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26

ns_pipelines.warehouse.tables.monitoring; written by ns_pipelines.monitoring, read by the
monitoring/netsuite_api_usage asset. The cross-process concurrency budget itself needs no table
(slot files, or PostgreSQL advisory locks: ns_pipelines/netsuite/budget.py).
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: Union[str, Sequence[str], None] = "0004"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _count(name: str, comment: str) -> sa.Column:
    return sa.Column(name, sa.Integer(), nullable=False, comment=comment)


def upgrade() -> None:
    op.create_table(
        "ns_netsuite_api_usage",
        sa.Column("minute", sa.DateTime(timezone=True), nullable=False,
                  comment="Start of the minute the requests finished in, in UTC."),
        sa.Column("account", sa.String(length=64), nullable=False, comment="NetSuite account id the requests went to."),
        sa.Column("source", sa.String(length=200), nullable=False,
                  comment="Who sent them: a label (a Dagster run, a command) with the host and process id."),
        _count("requests", "HTTP requests sent (every attempt, retries included)."),
        _count("peak_concurrency", "Most requests this source had in flight at once during the minute."),
        _count("budget", "The concurrency budget (NETSUITE_CONCURRENCY) the source ran with."),
        _count("budget_waits", "Requests that waited because every slot of the shared budget was held by someone."),
        _count("over_limit", "Over-limit answers: 429 CONCURRENCY_LIMIT_EXCEEDED, and 401s that arrived at the budget."),
        _count("errors", "Other requests that did not succeed: 4xx and 5xx answers, no answer at all."),
        sa.Column("latency_p50_ms", sa.Numeric(precision=12, scale=3), nullable=False, comment="Median request duration, in milliseconds."),
        sa.Column("latency_p95_ms", sa.Numeric(precision=12, scale=3), nullable=False,
                  comment="95th percentile of request duration, in milliseconds."),
        sa.Column("latency_max_ms", sa.Numeric(precision=12, scale=3), nullable=False, comment="Longest request, in milliseconds."),
        sa.Column("latency_total_ms", sa.Numeric(precision=12, scale=3), nullable=False, comment="Sum of request durations, in milliseconds."),
        sa.Column("latency_histogram", sa.Text(), nullable=False,
                  comment="Request durations as JSON {bucket: count} (log buckets, 2% wide), so flushes merge exactly."),
        sa.Column("endpoints", sa.Text(), nullable=False,
                  comment='Per endpoint as JSON {"GET /services/rest/record/v1/invoice/{id}": [requests, over_limit, errors]}.'),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, comment="When the row was last written, in UTC."),
        sa.PrimaryKeyConstraint("minute", "account", "source", name=op.f("pk_ns_netsuite_api_usage")),
        comment="NetSuite API usage per minute and source: requests, peak concurrency, over-limit answers, errors, latency.",
    )


def downgrade() -> None:
    op.drop_table("ns_netsuite_api_usage")
