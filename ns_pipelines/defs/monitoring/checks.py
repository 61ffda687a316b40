"""The warning on the API usage: the budget was hit, or NetSuite answered over the limit."""
import dagster as dg

from ns_pipelines.defs.monitoring.assets import ApiUsageConfig, load_summary, netsuite_api_usage, window_total
from ns_pipelines.defs.resources import WarehouseResource


@dg.asset_check(
    asset=netsuite_api_usage,
    name="within_budget",
    description="Warns when, in the window, the NetSuite concurrency budget was fully used (one process "
    "at NETSUITE_CONCURRENCY requests in flight, or requests waiting for the shared budget) or NetSuite "
    "answered over its limit (429, or a 401 at the budget). Reads ns_netsuite_api_usage; never blocks.",
)
def within_budget(config: ApiUsageConfig, warehouse: WarehouseResource) -> dg.AssetCheckResult:
    summary = load_summary(warehouse, config.window_minutes)
    total = window_total(summary)
    warnings = summary.warnings
    return dg.AssetCheckResult(
        passed=not warnings,
        severity=dg.AssetCheckSeverity.WARN,
        description="; ".join(warnings) if warnings else
        f"{summary.requests:,} requests in the last {config.window_minutes} minute(s), within the budget, "
        "no over-limit answers",
        metadata={
            "ns/requests": dg.MetadataValue.int(summary.requests),
            "ns/peak_concurrency": dg.MetadataValue.int(total.peak_concurrency),
            "ns/budget": dg.MetadataValue.int(total.budget),
            "ns/budget_waits": dg.MetadataValue.int(total.budget_waits),
            "ns/over_limit": dg.MetadataValue.int(total.over_limit),
            "ns/minutes_at_budget": dg.MetadataValue.int(len(summary.minutes_at_budget)),
            "ns/minutes_over_limit": dg.MetadataValue.int(len(summary.minutes_over_limit)),
        },
    )


CHECKS = [within_budget]
