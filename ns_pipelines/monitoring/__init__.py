"""NetSuite API usage monitoring (no Dagster): every request measured, aggregated per minute.

    from ns_pipelines.monitoring import monitor_client, monitoring_new_clients, read_usage, summarize

    monitor = monitor_client(client)        # the Dagster resource does this for every run
    with monitoring_new_clients("my-command"):  # or: every client created in the block (commands)
        run_the_command()
    rows = read_usage(engine, since)        # per minute and source, from ns_netsuite_api_usage
    summary = summarize(rows, since, until) # per minute over all sources, window totals, warnings

- histogram.py  mergeable latency histogram (percentiles within 1%)
- usage.py      MinuteUsage and UsageRecorder (the client's request hook)
- store.py      merge_usage (upsert merging minutes), read_usage
- summary.py    by_minute, summarize, UsageSummary.warnings
- monitor.py    monitor_client, monitoring_new_clients: recorder + periodic flush, on close and at exit
"""
from ns_pipelines.monitoring.histogram import LatencyHistogram
from ns_pipelines.monitoring.monitor import (
    UsageMonitor,
    UsageSettings,
    monitor_client,
    monitoring_new_clients,
    source_name,
)
from ns_pipelines.monitoring.store import merge_usage, read_usage
from ns_pipelines.monitoring.summary import UsageSummary, by_minute, summarize, window
from ns_pipelines.monitoring.usage import MinuteUsage, UsageRecorder, minute_of

__all__ = [
    "LatencyHistogram", "MinuteUsage", "UsageMonitor", "UsageRecorder", "UsageSettings", "UsageSummary",
    "by_minute", "merge_usage", "minute_of", "monitor_client", "monitoring_new_clients", "read_usage", "source_name",
    "summarize", "window",
]
