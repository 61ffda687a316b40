"""What a Stripe sync reports, and the helpers its steps share."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ns_pipelines.stripe import decode
from ns_pipelines.warehouse.tables.stripe import TABLES_BY_OBJECT

OBJECT_TYPES: tuple[str, ...] = tuple(TABLES_BY_OBJECT)

Progress = Callable[[str, int], None]


class StripeSyncError(RuntimeError):
    """A sync step failed; names the object type and, when known, the Stripe object."""


@dataclass
class StripeSyncResult:
    object_type: str
    mode: str  # backfill | events | targeted
    rows_read: int = 0
    rows_written: int = 0
    rows_soft_deleted: int = 0
    events: int = 0
    payouts_linked: int = 0
    cursor_before: dt.datetime | None = None
    cursor_after: dt.datetime | None = None
    fallback: str | None = None  # why an events pass became a backfill
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class StripeSyncReport:
    results: dict[str, StripeSyncResult]
    requests: int = 0
    rate_limited: int = 0
    events_read: int = 0
    seconds: float = 0.0


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def ordered(object_types: Iterable[str]) -> list[str]:
    wanted = set(object_types)
    unknown = wanted - set(OBJECT_TYPES)
    if unknown:
        raise ValueError(f"not Stripe object types we sync: {sorted(unknown)} (known: {', '.join(OBJECT_TYPES)})")
    return [t for t in OBJECT_TYPES if t in wanted]


def decode_row(object_type: str, obj: Mapping[str, Any], result: StripeSyncResult, **kwargs: Any) -> dict[str, Any]:
    try:
        return decode.DECODERS[object_type](obj, result.warnings.append, **kwargs)
    except decode.DecodeError as exc:
        raise StripeSyncError(f"{object_type}: {exc}") from exc
