"""Summing per-source minutes into per-minute totals and a window summary (what the asset reports)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from ns_pipelines.monitoring.usage import MinuteUsage

ALL_SOURCES = "*"
MINUTE = dt.timedelta(minutes=1)


def window(now: dt.datetime, minutes: int) -> tuple[dt.datetime, dt.datetime]:
    """(since, until) of the last `minutes` minutes, the current one included: since <= minute < until."""
    until = now.astimezone(dt.timezone.utc).replace(second=0, microsecond=0) + MINUTE
    return until - minutes * MINUTE, until


def by_minute(rows: Sequence[MinuteUsage]) -> list[MinuteUsage]:
    """One MinuteUsage per minute (and account) over every source, oldest first.

    Counts add up; peak_concurrency is the largest of one source's peaks (concurrency of
    different processes is not additive within a minute: they may not overlap); budget_waits
    tells when all of them together filled the shared budget.
    """
    merged: dict[tuple[dt.datetime, str], MinuteUsage] = {}
    for row in rows:
        key = (row.minute, row.account)
        current = merged.get(key)
        base = current or MinuteUsage(row.minute, row.account, ALL_SOURCES)
        merged[key] = base.merge(row)
    return [merged[k] for k in sorted(merged)]


@dataclass
class UsageSummary:
    """A window of minutes, all sources together."""

    since: dt.datetime
    until: dt.datetime
    minutes: list[MinuteUsage] = field(default_factory=list)  # per minute, all sources
    sources: list[str] = field(default_factory=list)
    total: MinuteUsage | None = None  # everything in the window as one "minute"

    @property
    def requests(self) -> int:
        return self.total.requests if self.total else 0

    @property
    def minutes_at_budget(self) -> list[MinuteUsage]:
        return [m for m in self.minutes if m.budget_hit]

    @property
    def minutes_over_limit(self) -> list[MinuteUsage]:
        return [m for m in self.minutes if m.over_limit]

    @property
    def warnings(self) -> list[str]:
        """Why the window deserves a look: the budget was hit, or NetSuite said over the limit."""
        out = []
        if self.minutes_at_budget:
            t = self.total
            out.append(f"the concurrency budget ({t.budget if t else '?'}) was fully used in "
                       f"{len(self.minutes_at_budget)} minute(s); {t.budget_waits if t else 0} request(s) "
                       "waited for a slot")
        if self.minutes_over_limit:
            out.append(f"{self.total.over_limit if self.total else 0} over-limit answer(s) from NetSuite in "
                       f"{len(self.minutes_over_limit)} minute(s): something else uses the account's concurrency, "
                       "or the budget is set higher than the account's limit")
        return out

    def top_endpoints(self, count: int = 10) -> list[tuple[str, list[int]]]:
        if not self.total:
            return []
        return sorted(self.total.endpoints.items(), key=lambda kv: (-kv[1][0], kv[0]))[:count]


def summarize(rows: Sequence[MinuteUsage], since: dt.datetime, until: dt.datetime) -> UsageSummary:
    minutes = by_minute(rows)
    total = None
    for minute in minutes:
        total = minute if total is None else total.merge(minute)
    return UsageSummary(since=since, until=until, minutes=minutes, sources=sorted({r.source for r in rows}),
                        total=total)
