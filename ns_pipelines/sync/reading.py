"""Reading keyset queries by id intervals, one after the other or in parallel, resumably.

A pass reads its query over a list of `Interval`s of the first key column: one unbounded interval
for a sequential read, or the [MIN, MAX] of the key split into N ranges for a parallel one (the
same split as `SuiteQL.query_keyset_ranges`). Each interval remembers the key of the last row
written (`after`), so a rerun resumes every interval exactly where it stopped. That is why this
module reads explicit intervals instead of calling `query_keyset_ranges`, which always starts its
ranges from their lower bound.

Pages come out in key order within an interval; intervals interleave. Requests go through the
client (its concurrency budget, retries and signing); at most `workers` intervals are read at once.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ns_pipelines.netsuite import KeysetQuery, Page, SuiteQL, split_range
from ns_pipelines.netsuite.fanin import Source, fan_in

__all__ = ["RANGE_MIN_ROWS", "WINDOW_PAGES", "Interval", "plan_intervals", "read_intervals"]

# With NS_SYNC_PARALLEL_RANGES unset, a full pass reads at most one id range per this many rows.
# Each range ends with a part-filled page and costs a bounds share; since a window's pages are
# read ahead when slots are spare (suiteql.keyset_pages), a few ranges keep the budget busy. On
# the 200,000-transaction benchmark (figure 1, with the 20-page windows below), one range per
# 40,000 rows gave 0.828 to 0.852 of the API bound in 7 runs, one per 10,000 (and 10-page windows)
# 0.801 to 0.834 in 4; 403 requests against 408.
RANGE_MIN_ROWS = 40_000

# Pages read by offset from one keyset query before a new query starts after the last key. Each
# new text costs the server a count (totalResults) and stops reading ahead until its first page
# is back; a longer window costs a server that skips `offset` rows more per page (the sandbox
# seeks past the previous page's last key instead). Measured with the ranges above; 30 pages
# gave 0.836 to 0.859 in 4 runs, within the noise of 20.
WINDOW_PAGES = 20


@dataclass
class Interval:
    """An inclusive range of the first key column (None: unbounded) and the last key read."""

    lower: int | None = None
    upper: int | None = None
    after: tuple[int, ...] | None = None
    done: bool = False

    def to_json(self) -> list[Any]:
        return [self.lower, self.upper, list(self.after) if self.after is not None else None, self.done]

    @classmethod
    def from_json(cls, data: Sequence[Any]) -> "Interval":
        lower, upper, after, done = (list(data) + [None, None, None, False])[:4]
        return cls(lower=lower, upper=upper, after=tuple(int(v) for v in after) if after is not None else None,
                   done=bool(done))


def plan_intervals(suiteql: SuiteQL, query: KeysetQuery, ranges: int, *, min_rows: int = 0) -> list[Interval]:
    """One unbounded interval, or [MIN, MAX] of the key split into `ranges` (none when empty).
    `min_rows`: at most one range per that many rows, so that a small table is read in fewer
    ranges (each range ends with a part-filled page, and each costs a request to start)."""
    if ranges <= 1:
        return [Interval()]
    bounds = suiteql.key_bounds(query)
    if bounds is None:
        return []
    if min_rows > 0 and bounds.rows is not None:
        ranges = max(1, min(ranges, bounds.rows // min_rows))
    return [Interval(r.lower, r.upper) for r in split_range(bounds.lower, bounds.upper, ranges)]


def read_intervals(
    suiteql: SuiteQL,
    query: KeysetQuery,
    intervals: Sequence[Interval],
    *,
    workers: int = 1,
    page_size: int = 1000,
    window_pages: int | None = None,
) -> Iterator[tuple[int, Page | None]]:
    """Yield `(interval index, page)` for every page, and `(index, None)` when an interval is
    finished. Intervals marked done are skipped. Closing the iterator stops the workers after
    their current request; an error in a worker is raised here.

    `window_pages` (default WINDOW_PAGES): pages read by offset from one keyset query text before
    the next text starts after the last key read (see `keyset_pages`)."""
    pending = [i for i, interval in enumerate(intervals) if not interval.done]
    if not pending:
        return
    workers = max(1, min(workers, len(pending)))
    window_rows = page_size * (window_pages if window_pages is not None else WINDOW_PAGES)
    # Pages handed over by the range readers and not yet taken by the consumer: while `workers`
    # of them wait, the consumer is the bottleneck and reading ahead would only hold more pages
    # in memory (a 1,000,000-transaction sync at zero latency peaked at +372 MiB without this
    # check, +294 MiB with it).
    backlog = [0]
    backlog_lock = threading.Lock()

    def count(change: int) -> None:
        with backlog_lock:
            backlog[0] += change

    def consumer_keeps_up() -> bool:
        return backlog[0] < workers

    def pages_of(index: int, cancel: threading.Event | None = None) -> Iterator[Page]:
        interval = intervals[index]
        return suiteql.keyset_pages(query, page_size=page_size, after=interval.after, lower=interval.lower,
                                    upper=interval.upper, window_rows=min(window_rows, suiteql.row_cap),
                                    cancel=cancel, wants_more=consumer_keeps_up)

    if workers == 1:
        for index in pending:
            for page in pages_of(index):
                yield index, page
            yield index, None
        return

    def source(index: int) -> Source[tuple[int, Page | None]]:
        def read(cancel: threading.Event) -> Iterator[tuple[int, Page | None]]:
            for page in pages_of(index, cancel):
                count(+1)
                yield index, page
            yield index, None
        return read

    for index, page in fan_in([source(i) for i in pending], workers=workers, thread_name="ns-sync-range"):
        if page is not None:
            count(-1)
        yield index, page
