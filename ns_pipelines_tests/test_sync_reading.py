"""Planning a full pass (ns_pipelines/sync/reading.py, runner.py): id ranges sized by the rows
NetSuite counts, so a small table is not read in several part-filled ranges; NetSuite's newest
timestamps read once for all the record types of a sync."""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any

import pytest

from ns_pipelines.sandbox.netsuite.server import SandboxServer
from ns_pipelines.sync import SOURCES
from ns_pipelines.sync.reading import Interval, plan_intervals, read_intervals
from ns_pipelines.sync.runner import SharedClock
from ns_pipelines_tests.sync_helpers import make_client, sandbox_rows


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    with SandboxServer(tmp_path_factory.mktemp("reading") / "sandbox", scale="tiny", seed=5) as running:
        yield running


def test_key_bounds_count_the_rows_and_ranges_follow_them(server: SandboxServer) -> None:
    client = make_client(server)
    try:
        query = SOURCES["invoice"].query()
        invoices = sandbox_rows(server, "SELECT COUNT(*) AS n, MIN(id) AS lo, MAX(id) AS hi FROM \"transaction\" "
                                        "WHERE type = 'CustInvc'")[0]
        bounds = client.suiteql.key_bounds(query)
        assert bounds is not None and (bounds.lower, bounds.upper, bounds.rows) == (
            invoices["lo"], invoices["hi"], invoices["n"])
        assert invoices["n"] >= 10

        five = plan_intervals(client.suiteql, query, 5)
        assert len(five) == 5 and (five[0].lower, five[-1].upper) == (invoices["lo"], invoices["hi"])
        assert len(plan_intervals(client.suiteql, query, 5, min_rows=invoices["n"] + 1)) == 1
        assert len(plan_intervals(client.suiteql, query, 5, min_rows=invoices["n"] // 2)) == 2
        assert len(plan_intervals(client.suiteql, query, 5, min_rows=1)) == 5  # never more than asked
    finally:
        client.close()


class _CountingSuiteQL:
    def __init__(self, fail_first: bool = False) -> None:
        self.calls = 0
        self.fail_first = fail_first
        self.lock = threading.Lock()

    def query(self, q: str) -> list[dict[str, str]]:
        with self.lock:
            self.calls += 1
            failing = self.fail_first and self.calls == 1
        time.sleep(0.05)  # long enough for the other readers to arrive meanwhile
        if failing:
            raise RuntimeError("the first read failed")
        return [{"m": f"stamp of {q}"}]


def test_the_shared_clock_reads_each_query_once_for_concurrent_record_types() -> None:
    suiteql = _CountingSuiteQL()
    client: Any = SimpleNamespace(suiteql=suiteql)
    clock = SharedClock()
    with ThreadPoolExecutor(8) as pool:
        stamps = list(pool.map(lambda _: clock.read(client, "CLOCK"), range(8)))
    assert stamps == [["stamp of CLOCK"]] * 8 and suiteql.calls == 1
    assert clock.read(client, "OTHER") == ["stamp of OTHER"] and suiteql.calls == 2


def test_a_failed_clock_read_is_read_again_by_the_next_record_type() -> None:
    suiteql = _CountingSuiteQL(fail_first=True)
    client: Any = SimpleNamespace(suiteql=suiteql)
    clock = SharedClock()
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(clock.read, client, "CLOCK")
        time.sleep(0.01)
        second = pool.submit(clock.read, client, "CLOCK")
        with pytest.raises(RuntimeError, match="first read failed"):
            first.result()
        assert second.result() == ["stamp of CLOCK"]
    assert suiteql.calls == 2


class _RangesSuiteQL:
    """keyset_pages over fake id ranges: 3 pages each; notes whether the consumer was said to keep
    up (`wants_more`) when each page was handed over."""

    row_cap = 100_000

    def __init__(self) -> None:
        self.said: list[bool] = []

    def keyset_pages(self, query: Any, *, wants_more: Any, lower: int | None, **_: Any) -> Iterator[Any]:
        for n in range(3):
            self.said.append(wants_more())
            yield SimpleNamespace(items=[{"id": str(lower or 0) + str(n)}])


def test_ranges_read_ahead_only_while_the_consumer_keeps_up() -> None:
    suiteql = _RangesSuiteQL()
    intervals = [Interval(lower=i * 100, upper=i * 100 + 99) for i in range(4)]
    pages = read_intervals(suiteql, SOURCES["invoice"].query(), intervals, workers=2)  # type: ignore[arg-type]
    first = next(pages)
    time.sleep(0.3)  # the consumer dawdles: the readers hand over pages meanwhile
    assert suiteql.said[0] is True  # nothing waiting yet
    assert suiteql.said[-1] is False  # two pages waiting for the consumer: no reading ahead
    rest = list(pages)
    assert len([p for _, p in [first, *rest] if p is not None]) == 12
    assert suiteql.said.count(True) >= 2
