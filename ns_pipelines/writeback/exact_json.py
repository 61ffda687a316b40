"""The writeback's JSON text (plan payloads, logged requests): exact decimals, never a float,
keys sorted so the same write always reads the same (ns_pipelines.netsuite.exact_json)."""
from __future__ import annotations

from typing import Any

from ns_pipelines.netsuite.exact_json import loads

__all__ = ["dumps", "loads"]


def dumps(value: Any) -> str:
    """Compact JSON text, keys sorted (deterministic), Decimal as a plain JSON number; floats refused."""
    from ns_pipelines.netsuite.exact_json import dumps as exact_dumps

    return exact_dumps(value, floats=False, sort_keys=True)
