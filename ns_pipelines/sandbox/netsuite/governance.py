"""NetSuite's concurrency governance, latency, fault injection and request statistics.

- The account has one concurrency limit (settings.concurrency_limit) shared by every API request
  (the admin API does not count). A request over the limit is refused at once with 429
  CONCURRENCY_LIMIT_EXCEEDED, or, in over_limit_mode "401", with a slow INVALID_LOGIN after
  over_limit_401_delay_s (netsuite-api.md 1.2 and 6). Refused requests never hold a slot.
- Latency (latency_ms + latency_per_row_ms per row/record returned) is spent while the request
  holds its slot, so slow answers really occupy the account's concurrency. latency_mode
  "response" (the default) makes it the answer's response time: the sandbox's own work counts
  toward it and only the rest is slept, as a real server's work is part of its response time
  (so the sandbox's Python CPU cost is not charged to the client on top of the latency, unless
  the work takes longer than the latency). "added" sleeps the whole latency after the work.
- Faults (settings.faults) are drawn from a seeded RNG: 429 storms (even under the limit),
  500 UNEXPECTED_ERROR answers and dropped connections.
- Statistics: requests by endpoint (method + route template) and status, current and peak
  concurrency, 429/401/5xx/dropped counts, rows and latency totals. Like the APM concurrency
  monitor, plus a per-minute series.
"""
from __future__ import annotations

import random
import threading
import time
from datetime import datetime, timezone
from typing import Any

from .errors import ApiError, concurrency_exceeded, invalid_login
from .settings import SandboxSettings


def server_error() -> ApiError:
    return ApiError(500, "UNEXPECTED_ERROR",
                    "An unexpected error occurred. Error ID: " + format(random.getrandbits(40), "x"))


class _EndpointStats:
    __slots__ = ("count", "by_status", "latency_ms_total", "latency_ms_max", "rows")

    def __init__(self) -> None:
        self.count = 0
        self.by_status: dict[str, int] = {}
        self.latency_ms_total = 0.0
        self.latency_ms_max = 0.0
        self.rows = 0

    def as_dict(self) -> dict[str, Any]:
        return {"count": self.count, "by_status": dict(self.by_status),
                "latency_ms_total": round(self.latency_ms_total, 3),
                "latency_ms_avg": round(self.latency_ms_total / self.count, 3) if self.count else 0.0,
                "latency_ms_max": round(self.latency_ms_max, 3), "rows": self.rows}


class Governor:
    """Concurrency gate + latency + faults + statistics for the API routes."""

    MINUTES_KEPT = 180

    def __init__(self, settings: SandboxSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._rng_lock = threading.Lock()
        self._rng_seed = settings.faults.seed
        self._rng = random.Random(self._rng_seed)
        self._admitted = threading.local()  # .at: when this thread's request was admitted
        self.in_flight = 0
        self._reset_counters()

    # ------------------------------------------------------------------ statistics
    def _reset_counters(self) -> None:
        self.peak = self.in_flight
        self.since = datetime.now(timezone.utc)
        self.requests = 0
        self.rejected_429 = 0  # over the limit
        self.storm_429 = 0  # injected
        self.over_limit_401 = 0
        self.status_401 = 0
        self.status_429 = 0
        self.status_5xx = 0
        self.injected_5xx = 0
        self.dropped = 0
        self.rows = 0
        self.latency_ms_total = 0.0
        self.endpoints: dict[str, _EndpointStats] = {}
        self.minutes: dict[str, dict[str, float]] = {}

    def reset_stats(self) -> None:
        with self._lock:
            self._reset_counters()

    def record(self, endpoint: str, status: int | str, duration_s: float, rows: int = 0) -> None:
        """One finished API request (status "dropped" for a connection closed without answer)."""
        ms = duration_s * 1000.0
        key = str(status)
        minute = time.strftime("%Y-%m-%dT%H:%M", time.gmtime())
        with self._lock:
            self.requests += 1
            self.rows += rows
            self.latency_ms_total += ms
            ep = self.endpoints.get(endpoint)
            if ep is None:
                ep = self.endpoints[endpoint] = _EndpointStats()
            ep.count += 1
            ep.by_status[key] = ep.by_status.get(key, 0) + 1
            ep.latency_ms_total += ms
            ep.rows += rows
            if ms > ep.latency_ms_max:
                ep.latency_ms_max = ms
            if key == "401":
                self.status_401 += 1
            elif key == "429":
                self.status_429 += 1
            elif key.startswith("5"):
                self.status_5xx += 1
            m = self.minutes.get(minute)
            if m is None:
                m = self.minutes[minute] = {"requests": 0, "peak_concurrency": self.in_flight, "status_429": 0,
                                            "status_401": 0, "errors": 0, "latency_ms_total": 0.0}
                if len(self.minutes) > self.MINUTES_KEPT:
                    del self.minutes[min(self.minutes)]
            m["requests"] += 1
            m["latency_ms_total"] += ms
            if key == "429":
                m["status_429"] += 1
            elif key == "401":
                m["status_401"] += 1
            elif key.startswith("5") or key == "dropped":
                m["errors"] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "since": self.since.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "concurrency": {"limit": self.settings.concurrency_limit, "current": self.in_flight,
                                "peak": self.peak, "over_limit_mode": self.settings.over_limit_mode},
                "requests": self.requests,
                "rows": self.rows,
                "latency_ms_total": round(self.latency_ms_total, 3),
                "latency_ms_avg": round(self.latency_ms_total / self.requests, 3) if self.requests else 0.0,
                "status_401": self.status_401,
                "status_429": self.status_429,
                "status_5xx": self.status_5xx,
                "rejected_over_limit_429": self.rejected_429,
                "rejected_over_limit_401": self.over_limit_401,
                "injected_429": self.storm_429,
                "injected_5xx": self.injected_5xx,
                "dropped": self.dropped,
                "endpoints": {k: v.as_dict() for k, v in sorted(self.endpoints.items())},
                "minutes": [{"minute": k, **{n: (round(v, 3) if isinstance(v, float) else v) for n, v in m.items()}}
                            for k, m in sorted(self.minutes.items())],
            }

    # ------------------------------------------------------------------ faults
    def _draw(self) -> float:
        with self._rng_lock:
            seed = self.settings.faults.seed
            if seed != self._rng_seed:
                self._rng_seed = seed
                self._rng = random.Random(seed)
            return self._rng.random()

    def reseed(self) -> None:
        """Restart the fault sequence from settings.faults.seed (same seed, same sequence)."""
        with self._rng_lock:
            self._rng_seed = self.settings.faults.seed
            self._rng = random.Random(self._rng_seed)

    def draw_fault(self) -> str | None:
        """'drop', 'error' or None for an admitted request (one draw per request)."""
        faults = self.settings.faults
        if faults.drop_connection_rate <= 0 and faults.server_error_rate <= 0:
            return None
        x = self._draw()
        if x < faults.drop_connection_rate:
            with self._lock:
                self.dropped += 1
            return "drop"
        if x < faults.drop_connection_rate + faults.server_error_rate:
            with self._lock:
                self.injected_5xx += 1
            return "error"
        return None

    # ------------------------------------------------------------------ the gate
    def admit(self, *, bearer: bool = False) -> None:
        """Take a concurrency slot, or raise the over-limit answer. Pair with `release()`."""
        self._admitted.at = time.perf_counter()
        storm_rate = self.settings.faults.rate_limit_storm_rate
        if storm_rate > 0 and self._draw() < storm_rate:
            with self._lock:
                self.storm_429 += 1
            raise concurrency_exceeded()
        with self._lock:
            if self.in_flight < self.settings.concurrency_limit:
                self.in_flight += 1
                if self.in_flight > self.peak:
                    self.peak = self.in_flight
                minute = self.minutes.get(time.strftime("%Y-%m-%dT%H:%M", time.gmtime()))
                if minute is not None and self.in_flight > minute["peak_concurrency"]:
                    minute["peak_concurrency"] = self.in_flight
                return
            mode = self.settings.over_limit_mode
            if mode == "401":
                self.over_limit_401 += 1
            else:
                self.rejected_429 += 1
        if mode == "401":
            time.sleep(max(0.0, self.settings.over_limit_401_delay_s))
            raise invalid_login(self.settings.realm, bearer=bearer)
        raise concurrency_exceeded()

    def release(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def delay(self, rows: int = 0) -> None:
        """The configured latency, spent while the caller holds its slot: the rest of it since
        the request was admitted ("response"), or all of it after the work ("added")."""
        seconds = (self.settings.latency_ms + self.settings.latency_per_row_ms * rows) / 1000.0
        if seconds <= 0:
            return
        if self.settings.latency_mode == "response":
            seconds -= time.perf_counter() - getattr(self._admitted, "at", time.perf_counter())
        if seconds > 0:
            time.sleep(seconds)

    def limits(self) -> dict[str, Any]:
        """GET /services/rest/system/v1/governanceLimits: nothing is reserved for an integration."""
        limit = self.settings.concurrency_limit
        return {"accountConcurrencyLimit": limit, "accountUnallocatedConcurrencyLimit": limit,
                "integrationConcurrencyLimit": limit, "integrationLimitType": "accountLimit"}
