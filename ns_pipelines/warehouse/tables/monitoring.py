"""NetSuite API usage per minute: one row per minute, account and source (a process or a run).

Written by ns_pipelines.monitoring (each NetSuite client's request hook, flushed periodically
and when the client closes), read by the monitoring/netsuite_api_usage asset. A source that
flushes the same minute twice merges into its row: counts add up, peaks and maxima take the
larger value, and latency percentiles come from the merged histogram.
"""
from __future__ import annotations

from sqlalchemy import Column, Integer, String, Table, Text

from ns_pipelines.warehouse.tables.common import metadata
from ns_pipelines.warehouse.types import ExactDecimal, UTCDateTime

LATENCY_PRECISION, LATENCY_SCALE = 12, 3  # milliseconds to the microsecond


def _count(name: str, comment: str) -> Column:
    return Column(name, Integer, nullable=False, comment=comment)


def _ms(name: str, comment: str) -> Column:
    return Column(name, ExactDecimal(LATENCY_PRECISION, LATENCY_SCALE), nullable=False, comment=comment)


api_usage = Table(
    "ns_netsuite_api_usage",
    metadata,
    Column("minute", UTCDateTime, primary_key=True, comment="Start of the minute the requests finished in, in UTC."),
    Column("account", String(64), primary_key=True, comment="NetSuite account id the requests went to."),
    Column(
        "source", String(200), primary_key=True,
        comment="Who sent them: a label (a Dagster run, a command) with the host and process id.",
    ),
    _count("requests", "HTTP requests sent (every attempt, retries included)."),
    _count("peak_concurrency", "Most requests this source had in flight at once during the minute."),
    _count("budget", "The concurrency budget (NETSUITE_CONCURRENCY) the source ran with."),
    _count("budget_waits", "Requests that waited because every slot of the shared budget was held by someone."),
    _count("over_limit", "Over-limit answers: 429 CONCURRENCY_LIMIT_EXCEEDED, and 401s that arrived at the budget."),
    _count("errors", "Other requests that did not succeed: 4xx and 5xx answers, no answer at all."),
    _ms("latency_p50_ms", "Median request duration, in milliseconds."),
    _ms("latency_p95_ms", "95th percentile of request duration, in milliseconds."),
    _ms("latency_max_ms", "Longest request, in milliseconds."),
    _ms("latency_total_ms", "Sum of request durations, in milliseconds."),
    Column(
        "latency_histogram", Text, nullable=False,
        comment="Request durations as JSON {bucket: count} (log buckets, 2% wide), so flushes merge exactly.",
    ),
    Column(
        "endpoints", Text, nullable=False,
        comment='Per endpoint as JSON {"GET /services/rest/record/v1/invoice/{id}": [requests, over_limit, errors]}.',
    ),
    Column("updated_at", UTCDateTime, nullable=False, comment="When the row was last written, in UTC."),
    comment="NetSuite API usage per minute and source: requests, peak concurrency, over-limit answers, errors, latency.",
)
