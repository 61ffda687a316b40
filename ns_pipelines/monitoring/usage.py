"""Per-minute API usage of one source, built from the client's RequestEvents (no I/O here)."""
from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ns_pipelines.monitoring.histogram import LatencyHistogram
from ns_pipelines.netsuite.transport import RequestEvent

UTC = dt.timezone.utc


@dataclass
class MinuteUsage:
    """One minute of one source's requests (a row of ns_netsuite_api_usage)."""

    minute: dt.datetime
    account: str
    source: str
    requests: int = 0
    peak_concurrency: int = 0
    budget: int = 0
    budget_waits: int = 0
    over_limit: int = 0
    errors: int = 0
    latency_max_ms: float = 0.0
    latency_total_ms: float = 0.0
    histogram: LatencyHistogram = field(default_factory=LatencyHistogram)
    endpoints: dict[str, list[int]] = field(default_factory=dict)  # "METHOD template" -> [requests, over, errors]

    @property
    def key(self) -> tuple[dt.datetime, str, str]:
        return (self.minute, self.account, self.source)

    @property
    def latency_p50_ms(self) -> float:
        return min(self.histogram.quantile(0.5), self.latency_max_ms)

    @property
    def latency_p95_ms(self) -> float:
        return min(self.histogram.quantile(0.95), self.latency_max_ms)

    @property
    def budget_hit(self) -> bool:
        """The whole budget was in use at some moment: by this source alone, or by all together."""
        return (self.budget > 0 and self.peak_concurrency >= self.budget) or self.budget_waits > 0

    def add(self, event: RequestEvent) -> None:
        ms = event.duration_s * 1000.0
        self.requests += 1
        self.peak_concurrency = max(self.peak_concurrency, event.in_flight)
        self.budget = max(self.budget, event.budget)
        waited = event.budget_wait_s > 0
        failed = not event.over_limit and (event.status is None or event.status >= 300)
        self.budget_waits += waited
        self.over_limit += event.over_limit
        self.errors += failed
        self.latency_max_ms = max(self.latency_max_ms, ms)
        self.latency_total_ms += ms
        self.histogram.add(ms)
        counts = self.endpoints.setdefault(f"{event.method} {event.path_template}", [0, 0, 0])
        counts[0] += 1
        counts[1] += event.over_limit
        counts[2] += failed

    def merge(self, other: "MinuteUsage") -> "MinuteUsage":
        """Both minutes together (same minute; the key is this one's)."""
        endpoints = {name: list(counts) for name, counts in self.endpoints.items()}
        for name, counts in other.endpoints.items():
            mine = endpoints.setdefault(name, [0, 0, 0])
            for i, value in enumerate(counts):
                mine[i] += value
        return MinuteUsage(
            minute=self.minute, account=self.account, source=self.source,
            requests=self.requests + other.requests,
            peak_concurrency=max(self.peak_concurrency, other.peak_concurrency),
            budget=max(self.budget, other.budget),
            budget_waits=self.budget_waits + other.budget_waits,
            over_limit=self.over_limit + other.over_limit,
            errors=self.errors + other.errors,
            latency_max_ms=max(self.latency_max_ms, other.latency_max_ms),
            latency_total_ms=self.latency_total_ms + other.latency_total_ms,
            histogram=self.histogram.merge(other.histogram),
            endpoints=endpoints,
        )


def minute_of(timestamp: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(timestamp // 60) * 60, UTC)


class UsageRecorder:
    """A request hook: aggregates RequestEvents per minute in memory until `drain()`.

    Cheap on the hot path (a lock, a dict lookup, a log for the histogram bucket).
    """

    def __init__(self, account: str, source: str, clock: Callable[[], float] = time.time) -> None:
        self.account = account
        self.source = source
        self._clock = clock
        self._lock = threading.Lock()
        self._minutes: dict[int, MinuteUsage] = {}

    def __call__(self, event: RequestEvent) -> None:
        bucket = int(self._clock() // 60)
        with self._lock:
            usage = self._minutes.get(bucket)
            if usage is None:
                usage = self._minutes[bucket] = MinuteUsage(minute_of(bucket * 60), self.account, self.source)
            usage.add(event)

    def drain(self) -> list[MinuteUsage]:
        """Every minute recorded since the last drain, oldest first; the recorder starts empty."""
        with self._lock:
            minutes, self._minutes = self._minutes, {}
        return [minutes[k] for k in sorted(minutes)]

    def restore(self, rows: Iterable[MinuteUsage]) -> None:
        """Put drained minutes back (a flush that failed), merged with what came in since."""
        with self._lock:
            for row in rows:
                bucket = int(row.minute.timestamp() // 60)
                current = self._minutes.get(bucket)
                self._minutes[bucket] = row if current is None else row.merge(current)

    @property
    def pending(self) -> int:
        with self._lock:
            return sum(m.requests for m in self._minutes.values())

