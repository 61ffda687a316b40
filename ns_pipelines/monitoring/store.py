"""Reading and writing ns_netsuite_api_usage: minutes merge into their row by upsert."""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, and_, select

from ns_pipelines.monitoring.histogram import LatencyHistogram
from ns_pipelines.monitoring.usage import UTC, MinuteUsage
from ns_pipelines.warehouse.engine import begin_write
from ns_pipelines.warehouse.tables.monitoring import LATENCY_SCALE, api_usage
from ns_pipelines.warehouse.writes import upsert_rows

_QUANTUM = Decimal(1).scaleb(-LATENCY_SCALE)


def _ms(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(_QUANTUM)


def to_row(usage: MinuteUsage, now: dt.datetime) -> dict[str, Any]:
    return {
        "minute": usage.minute, "account": usage.account, "source": usage.source[:200],
        "requests": usage.requests, "peak_concurrency": usage.peak_concurrency, "budget": usage.budget,
        "budget_waits": usage.budget_waits, "over_limit": usage.over_limit, "errors": usage.errors,
        "latency_p50_ms": _ms(usage.latency_p50_ms), "latency_p95_ms": _ms(usage.latency_p95_ms),
        "latency_max_ms": _ms(usage.latency_max_ms), "latency_total_ms": _ms(usage.latency_total_ms),
        "latency_histogram": usage.histogram.to_json(),
        "endpoints": json.dumps(usage.endpoints, sort_keys=True, separators=(",", ":")),
        "updated_at": now,
    }


def from_row(row: Any) -> MinuteUsage:
    return MinuteUsage(
        minute=row.minute, account=row.account, source=row.source, requests=row.requests,
        peak_concurrency=row.peak_concurrency, budget=row.budget, budget_waits=row.budget_waits,
        over_limit=row.over_limit, errors=row.errors, latency_max_ms=float(row.latency_max_ms),
        latency_total_ms=float(row.latency_total_ms), histogram=LatencyHistogram.from_json(row.latency_histogram),
        endpoints={k: [int(x) for x in v] for k, v in json.loads(row.endpoints or "{}").items()},
    )


def _existing(conn: Connection, usage: MinuteUsage) -> MinuteUsage | None:
    t = api_usage.c
    query = select(api_usage).where(t.minute == usage.minute, t.account == usage.account,
                                    t.source == usage.source[:200])
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).one_or_none()
    return from_row(row) if row is not None else None


def merge_usage(engine: Engine, minutes: Sequence[MinuteUsage]) -> int:
    """Add `minutes` to their rows (created when missing), in one transaction. Returns the rows written.

    Writers of one row are the same source, i.e. one process, which flushes under one lock
    (monitor.py); the row lock (PostgreSQL) and the write lock (SQLite) cover the rest.
    """
    if not minutes:
        return 0
    now = dt.datetime.now(UTC)
    with begin_write(engine) as conn:
        merged = []
        for usage in minutes:
            before = _existing(conn, usage)
            merged.append(to_row(before.merge(usage) if before else usage, now))
        return upsert_rows(conn, api_usage, merged)


def read_usage(engine: Engine, since: dt.datetime, until: dt.datetime | None = None,
               account: str | None = None) -> list[MinuteUsage]:
    """Rows with since <= minute < until (and of `account`), by minute then source."""
    t = api_usage.c
    conditions = [t.minute >= since]
    if until is not None:
        conditions.append(t.minute < until)
    if account is not None:
        conditions.append(t.account == account)
    query = select(api_usage).where(and_(*conditions)).order_by(t.minute, t.account, t.source)
    with engine.connect() as conn:
        return [from_row(row) for row in conn.execute(query)]
