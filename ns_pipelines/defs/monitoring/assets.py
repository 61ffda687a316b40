"""monitoring/netsuite_api_usage: the NetSuite API usage of the last window, from ns_netsuite_api_usage.

Every NetSuite client of the code location records its requests per minute (ns_pipelines.monitoring,
attached by NetSuiteResource); this asset sums the sources and reports the window as numeric
materialization metadata (plotted by the UI, one point per materialization), with the busiest
minutes and endpoints as tables. netsuite_api_usage_sensor adds one observation per minute, so
the same plots also have a point per minute (sensors.py).
"""
import datetime as dt
from typing import Any, Optional

import dagster as dg

from ns_pipelines.defs.metadata import OWNERS, markdown_table, table_metadata, when
from ns_pipelines.defs.resources import WarehouseResource
from ns_pipelines.monitoring import MinuteUsage, UsageSummary, read_usage, summarize, window
from ns_pipelines.warehouse.tables.monitoring import api_usage

MONITORING_GROUP = "monitoring"
KINDS = {"python", "sql"}
ASSET_KEY = dg.AssetKey(["monitoring", "netsuite_api_usage"])
MINUTES_SHOWN = 30


class ApiUsageConfig(dg.Config):
    """`window_minutes`: how far back the summary (and the budget check) looks, current minute included."""

    window_minutes: int = 60


def load_summary(warehouse: WarehouseResource, window_minutes: int, now: Optional[dt.datetime] = None) -> UsageSummary:
    if window_minutes < 1:
        raise dg.Failure(description=f"window_minutes must be at least 1, got {window_minutes}")
    since, until = window(now or dt.datetime.now(dt.timezone.utc), window_minutes)
    return summarize(read_usage(warehouse.engine, since, until), since, until)


def minute_metadata(usage: MinuteUsage, prefix: str) -> dict[str, dg.MetadataValue]:
    """The numbers of one minute (or a window summed as one), as int/float metadata the UI plots."""
    return {
        f"{prefix}requests": dg.MetadataValue.int(usage.requests),
        f"{prefix}peak_concurrency": dg.MetadataValue.int(usage.peak_concurrency),
        f"{prefix}budget": dg.MetadataValue.int(usage.budget),
        f"{prefix}budget_waits": dg.MetadataValue.int(usage.budget_waits),
        f"{prefix}over_limit": dg.MetadataValue.int(usage.over_limit),
        f"{prefix}errors": dg.MetadataValue.int(usage.errors),
        f"{prefix}latency_p50_ms": dg.MetadataValue.float(round(usage.latency_p50_ms, 3)),
        f"{prefix}latency_p95_ms": dg.MetadataValue.float(round(usage.latency_p95_ms, 3)),
        f"{prefix}latency_max_ms": dg.MetadataValue.float(round(usage.latency_max_ms, 3)),
    }


def window_total(summary: UsageSummary) -> MinuteUsage:
    """The window summed as one minute; zeros when it had no requests."""
    return summary.total or MinuteUsage(summary.since, "", "*")


def summary_metadata(summary: UsageSummary) -> dict[str, Any]:
    total = window_total(summary)
    recent = summary.minutes[-MINUTES_SHOWN:]
    return {
        **minute_metadata(total, "ns/window_"),
        "ns/window_minutes_at_budget": dg.MetadataValue.int(len(summary.minutes_at_budget)),
        "ns/window_active_minutes": dg.MetadataValue.int(len(summary.minutes)),
        "ns/window_sources": dg.MetadataValue.int(len(summary.sources)),
        "ns/window_since": when(summary.since),
        "ns/window_until": when(summary.until),
        "ns/warnings": dg.MetadataValue.text("; ".join(summary.warnings) or "none"),
        "ns/minutes": markdown_table(
            ["minute (UTC)", "requests", "peak", "budget", "waits", "over limit", "errors", "p50 ms", "p95 ms", "max ms"],
            [[m.minute.strftime("%Y-%m-%d %H:%M"), m.requests, m.peak_concurrency, m.budget, m.budget_waits,
              m.over_limit, m.errors, f"{m.latency_p50_ms:.1f}", f"{m.latency_p95_ms:.1f}", f"{m.latency_max_ms:.1f}"]
             for m in reversed(recent)]),
        "ns/endpoints": markdown_table(
            ["endpoint", "requests", "over limit", "errors"],
            [[f"`{name}`", *counts] for name, counts in summary.top_endpoints()]),
    }


@dg.asset(
    key=ASSET_KEY,
    group_name=MONITORING_GROUP,
    kinds=KINDS,
    owners=OWNERS,
    metadata=table_metadata(api_usage),
    tags={"ns/layer": "monitoring"},
)
def netsuite_api_usage(context: dg.AssetExecutionContext, config: ApiUsageConfig,
                       warehouse: WarehouseResource) -> dg.MaterializeResult:
    """NetSuite API usage of the last hour (`window_minutes`), every process and run together, like
    NetSuite's APM concurrency monitor: requests, peak concurrency against the budget, requests
    that waited for the shared budget, over-limit answers (429, and 401s at the budget), errors and
    latency (p50, p95, max), with the busiest endpoints and a table per minute. Read from
    ns_netsuite_api_usage, which every NetSuite client writes per minute; makes no NetSuite call."""
    summary = load_summary(warehouse, config.window_minutes)
    context.log.info(f"{summary.requests:,} NetSuite requests from {len(summary.sources)} source(s) since "
                     f"{summary.since:%H:%M} UTC" + ("; " + "; ".join(summary.warnings) if summary.warnings else ""))
    return dg.MaterializeResult(metadata=summary_metadata(summary))


ASSETS = [netsuite_api_usage]
