"""How fast the sandbox seeds an account and serves SuiteQL rows.

The sandbox must never be the bottleneck of the pipeline's own benchmarks, whose API bound is
5 requests in flight x 1,000 rows per page / 0.2 s latency = 25,000 rows/s.
"""
from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..netsuite import NetSuiteClient, NetSuiteConfig
from ..netsuite.suiteql import IdRange, KeysetQuery, split_range
from ..sandbox.netsuite.seed import seed
from ..sandbox.netsuite.server import SandboxServer
from ..sandbox.netsuite.store import Store

PIPELINE_API_BOUND_ROWS_PER_S = 25_000
TRANSACTION_PAGE_QUERY = KeysetQuery(
    select=("t.id, t.tranid, t.type, t.status, t.entity, t.currency, t.exchangerate, t.foreigntotal, "
            "t.foreignamountunpaid, t.trandate, t.duedate, "
            "TO_CHAR(t.lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') AS lastmodifieddate"),
    from_="transaction t",
    key="t.id",
)


@dataclass
class SeedFigures:
    transactions: int
    seconds: float
    counts: dict[str, int]


@dataclass
class ServeFigures:
    clients: int
    rows: int
    pages: int
    seconds: float

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def measure_seeding(data_dir: Path, transactions: int, progress: Callable[[str, int, int], None] | None) -> SeedFigures:
    store = Store(data_dir)
    started = time.perf_counter()
    counts = seed(store, scale=transactions, seed=42, progress=progress)
    seconds = time.perf_counter() - started
    store.close()
    return SeedFigures(transactions, seconds, counts)


def measure_serving(server: SandboxServer, clients: int, max_rows: int) -> ServeFigures:
    """`clients` independent clients (one request in flight each) read disjoint id ranges."""
    config = NetSuiteConfig.from_env({**server.environment(), "NETSUITE_CONCURRENCY": "1"})
    with NetSuiteClient(config) as probe:
        bounds = probe.suiteql.key_bounds(TRANSACTION_PAGE_QUERY)
    assert bounds is not None, "the benchmark account has no transactions"
    upper = min(bounds.upper, bounds.lower + max_rows - 1)
    ranges = split_range(bounds.lower, upper, clients)
    totals = {"rows": 0, "pages": 0}
    lock = threading.Lock()
    errors: list[BaseException] = []

    def read(id_range: IdRange) -> None:
        try:
            with NetSuiteClient(config) as client:
                for page in client.suiteql.keyset_pages(TRANSACTION_PAGE_QUERY, lower=id_range.lower,
                                                        upper=id_range.upper):
                    with lock:
                        totals["rows"] += len(page.items)
                        totals["pages"] += 1
        except BaseException as exc:  # noqa: BLE001 - reported after the run
            errors.append(exc)

    threads = [threading.Thread(target=read, args=(r,)) for r in ranges]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    if errors:
        raise errors[0]
    return ServeFigures(len(ranges), totals["rows"], totals["pages"], seconds)


def run(transactions: int, clients: int, max_rows: int, echo: Callable[[str], None],
        progress: Callable[[str, int, int], None] | None = None, data_dir: Path | None = None) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="ns-bench-sandbox-") as tmp:
        directory = data_dir or Path(tmp)
        echo(f"Seeding an account of {transactions:,} transactions ...")
        seeded = measure_seeding(directory, transactions, progress)
        echo(f"  seeded {seeded.transactions:,} transactions in {seeded.seconds:.1f} s "
             f"({seeded.transactions / seeded.seconds:,.0f} transactions/s); tables: "
             + ", ".join(f"{k}={v:,}" for k, v in sorted(seeded.counts.items())))
        echo(f"Serving SuiteQL at zero latency to {clients} concurrent clients (1,000-row pages, keyset by id) ...")
        with SandboxServer(directory) as server:
            served = measure_serving(server, clients, max_rows)
            peak = server.account.stats().get("peak_concurrency")
        echo(f"  {served.rows:,} rows in {served.pages:,} pages in {served.seconds:.2f} s: "
             f"{served.rows_per_s:,.0f} rows/s; peak concurrency seen by the sandbox {peak}")
        echo(f"  ratio to the pipeline benchmark's API bound ({PIPELINE_API_BOUND_ROWS_PER_S:,} rows/s): "
             f"{served.rows_per_s / PIPELINE_API_BOUND_ROWS_PER_S:.2f}x")
        return {"seed_seconds": seeded.seconds, "rows_per_s": served.rows_per_s}
