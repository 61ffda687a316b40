"""Derived receivables: open items, customer balances, ageing, and data checks (no Dagster).

    settings = SyncSettings.from_env()            # or any object with exclude_intercompany and
                                                  # intercompany_customer_ids
    rebuild_open_items(engine, as_of=today, settings=settings)          # raw netsuite_* -> ar_open_items
    rebuild_customer_balances(engine, as_of=today, settings=settings)   # ar_open_items -> ar_customer_balances
    rebuild_aging(engine, as_of=today, settings=settings)               # ar_open_items -> ar_aging
    checks.balances_match(engine)                 # CheckOutcome(passed, description, metadata)

Each rebuild rewrites its table in one transaction (delete all, insert), so readers see the old
or the new snapshot, never a mix. Definitions: open_items.py (selection, signs, base rounding,
ageing), balances.py (balance formula, NetSuite comparison with intercompany added back).
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import Engine

from ns_pipelines.ar import checks
from ns_pipelines.ar.aging import rebuild_aging
from ns_pipelines.ar.balances import intercompany_open_base, rebuild_customer_balances
from ns_pipelines.ar.checks import CheckOutcome
from ns_pipelines.ar.open_items import (
    BUCKETS,
    IntercompanySettings,
    aging_bucket,
    base_amount,
    iter_open_items,
    rebuild_open_items,
)

__all__ = [
    "BUCKETS",
    "CheckOutcome",
    "IntercompanySettings",
    "aging_bucket",
    "base_amount",
    "checks",
    "intercompany_open_base",
    "iter_open_items",
    "rebuild_aging",
    "rebuild_all",
    "rebuild_customer_balances",
    "rebuild_open_items",
]


def rebuild_all(engine: Engine, *, as_of: date, settings: IntercompanySettings) -> dict[str, int]:
    """The three rebuilds in order; rows written per table."""
    return {
        "ar_open_items": rebuild_open_items(engine, as_of=as_of, settings=settings),
        "ar_customer_balances": rebuild_customer_balances(engine, as_of=as_of, settings=settings),
        "ar_aging": rebuild_aging(engine, as_of=as_of, settings=settings),
    }
