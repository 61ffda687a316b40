"""Request durations as a log-bucket histogram: small, mergeable, percentiles within 1%.

Bucket i holds durations in (GAMMA**(i-1), GAMMA**i] milliseconds (the DDSketch idea): two
histograms merge by adding counts, so a minute flushed twice, or the minutes of several
processes, give the same percentiles as one histogram of every request.
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping

GAMMA = 1.02
_LOG_GAMMA = math.log(GAMMA)
MIN_MS = 0.001  # shorter durations count as this


class LatencyHistogram:
    __slots__ = ("counts",)

    def __init__(self, counts: Mapping[int, int] | None = None) -> None:
        self.counts: dict[int, int] = dict(counts or {})

    def add(self, ms: float) -> None:
        index = math.ceil(math.log(max(ms, MIN_MS)) / _LOG_GAMMA)
        self.counts[index] = self.counts.get(index, 0) + 1

    def merge(self, other: "LatencyHistogram") -> "LatencyHistogram":
        merged = dict(self.counts)
        for index, count in other.counts.items():
            merged[index] = merged.get(index, 0) + count
        return LatencyHistogram(merged)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def quantile(self, q: float) -> float:
        """The q-quantile in milliseconds (0.0 when empty): the middle of the bucket it falls in."""
        total = self.total
        if total == 0:
            return 0.0
        rank = q * (total - 1)
        seen = 0
        for index in sorted(self.counts):
            seen += self.counts[index]
            if seen > rank:
                return 2 * GAMMA ** index / (GAMMA + 1)
        return 2 * GAMMA ** max(self.counts) / (GAMMA + 1)  # pragma: no cover - rank < total always

    def to_json(self) -> str:
        return json.dumps({str(k): v for k, v in sorted(self.counts.items())}, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | None) -> "LatencyHistogram":
        return cls({int(k): int(v) for k, v in json.loads(text or "{}").items()})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LatencyHistogram) and self.counts == other.counts

    def __repr__(self) -> str:
        return f"LatencyHistogram({self.total} durations)"
