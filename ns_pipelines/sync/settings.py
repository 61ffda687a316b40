"""Settings of the sync engine, read from the environment (docs/sync-design.md, "Settings").

    settings = SyncSettings.from_env()          # os.environ
    settings = SyncSettings.from_env({"NETSUITE_TIMEZONE": "Europe/Amsterdam"})

| variable | default | meaning |
|---|---|---|
| NETSUITE_TIMEZONE | America/Los_Angeles | account time zone: SuiteQL datetimes are account-local |
| NETSUITE_DATE_FORMAT | M/D/YYYY | the integration user's date preference (dates are selected with TO_CHAR anyway) |
| NS_SYNC_OVERLAP_MINUTES | 10 | each incremental pass rereads this much before the cursor (late commits, skew) |
| NS_SYNC_PARALLEL_RANGES | the client's budget | id ranges read in parallel by a full (or first) pass |
| NS_SYNC_PAGE_SIZE | 1000 | SuiteQL page size = rows per write batch (1..1000) |
| NS_SYNC_PROCESSES | auto: the CPUs, at most 4 | worker processes of a full (or first) sync of several record types; 1: threads only |
| NS_INTERCOMPANY_CUSTOMER_IDS | (empty) | comma list of customer ids that are intercompany |
| NS_EXCLUDE_INTERCOMPANY | true | derived tables leave intercompany rows out (raw tables keep them, flagged) |
| NS_WAREHOUSE_URL | sqlite .data/warehouse.sqlite3 | the warehouse (see ns_pipelines.warehouse) |
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ns_pipelines.netsuite import DateFormat
from ns_pipelines.sync.reading import RANGE_MIN_ROWS

DEFAULT_TIMEZONE = "America/Los_Angeles"
DEFAULT_DATE_FORMAT = "M/D/YYYY"
DEFAULT_OVERLAP_MINUTES = 10
DEFAULT_PAGE_SIZE = 1000
MAX_AUTO_PROCESSES = 4  # beyond this a full sync is bound by the API budget, not by decoding

ENV = {
    "timezone": "NETSUITE_TIMEZONE",
    "date_format": "NETSUITE_DATE_FORMAT",
    "overlap": "NS_SYNC_OVERLAP_MINUTES",
    "parallel_ranges": "NS_SYNC_PARALLEL_RANGES",
    "page_size": "NS_SYNC_PAGE_SIZE",
    "processes": "NS_SYNC_PROCESSES",
    "intercompany_customer_ids": "NS_INTERCOMPANY_CUSTOMER_IDS",
    "exclude_intercompany": "NS_EXCLUDE_INTERCOMPANY",
    "warehouse_url": "NS_WAREHOUSE_URL",
}

_TRUE = {"1", "true", "t", "yes", "y", "on"}
_FALSE = {"0", "false", "f", "no", "n", "off"}


class SyncConfigError(ValueError):
    """A sync setting is missing or invalid; the message names the variable."""


def account_zone(name: str) -> tzinfo:
    if name.strip().upper() == "UTC":
        return timezone.utc
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise SyncConfigError(
            f"{ENV['timezone']}={name!r} is not a known time zone (use an IANA name such as "
            f"America/Los_Angeles: the account's time zone under Setup > Company > General Preferences)"
        ) from None


@dataclass(frozen=True)
class SyncSettings:
    timezone: str = DEFAULT_TIMEZONE
    date_format: str = DEFAULT_DATE_FORMAT
    overlap: timedelta = timedelta(minutes=DEFAULT_OVERLAP_MINUTES)
    parallel_ranges: int | None = None  # None: the client's concurrency budget
    page_size: int = DEFAULT_PAGE_SIZE
    processes: int | None = None  # None: auto (the CPUs, at most MAX_AUTO_PROCESSES)
    intercompany_customer_ids: frozenset[int] = field(default_factory=frozenset)
    exclude_intercompany: bool = True
    warehouse_url: str | None = None  # None: $NS_WAREHOUSE_URL resolution of the warehouse package

    def __post_init__(self) -> None:
        account_zone(self.timezone)
        try:
            DateFormat(self.date_format).validate()
        except ValueError:
            raise SyncConfigError(f"{ENV['date_format']}={self.date_format!r} is not a NetSuite date format") from None
        if self.overlap < timedelta(0):
            raise SyncConfigError(f"{ENV['overlap']} must not be negative")
        if self.parallel_ranges is not None and self.parallel_ranges < 1:
            raise SyncConfigError(f"{ENV['parallel_ranges']} must be a positive integer")
        if self.processes is not None and self.processes < 1:
            raise SyncConfigError(f"{ENV['processes']} must be a positive integer or auto")
        if not 1 <= self.page_size <= 1000:
            raise SyncConfigError(f"{ENV['page_size']} must be between 1 and 1000")
        object.__setattr__(self, "intercompany_customer_ids", frozenset(int(i) for i in self.intercompany_customer_ids))

    @property
    def zone(self) -> tzinfo:
        """The account's time zone."""
        return account_zone(self.timezone)

    @property
    def worker_processes(self) -> int:
        """Processes a full sync of several record types may use (sync/processes.py)."""
        if self.processes is not None:
            return self.processes
        return max(1, min(os.cpu_count() or 1, MAX_AUTO_PROCESSES))

    def ranges_for(self, budget: int) -> int:
        """Id ranges a full pass reads in parallel: the setting, else the client's budget."""
        return max(1, self.parallel_ranges or budget)

    @property
    def min_rows_per_range(self) -> int:
        """`plan_intervals(min_rows=)`: RANGE_MIN_ROWS (sync/reading.py) unless the number of
        ranges is set explicitly, which is then kept exactly."""
        return RANGE_MIN_ROWS if self.parallel_ranges is None else 0

    def is_intercompany_customer(self, customer_id: int | None, representing_subsidiary: int | None) -> bool:
        """A customer that represents a subsidiary, or is on the configured list."""
        if customer_id is None:
            return False
        return representing_subsidiary is not None or customer_id in self.intercompany_customer_ids

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "SyncSettings":
        env = os.environ if environ is None else environ

        def get(key: str) -> str | None:
            value = env.get(ENV[key])
            if value is None or not value.strip():
                return None
            return value.strip()

        def integer(key: str) -> int | None:
            text = get(key)
            if text is None:
                return None
            try:
                return int(text)
            except ValueError:
                raise SyncConfigError(f"{ENV[key]} must be an integer, got {text!r}") from None

        ids: set[int] = set()
        for part in (get("intercompany_customer_ids") or "").replace(";", ",").split(","):
            part = part.strip()
            if not part:
                continue
            try:
                ids.add(int(part))
            except ValueError:
                raise SyncConfigError(
                    f"{ENV['intercompany_customer_ids']} must be a comma list of customer internal ids, "
                    f"got {part!r}") from None

        exclude_text = get("exclude_intercompany")
        if exclude_text is None:
            exclude = True
        elif exclude_text.lower() in _TRUE:
            exclude = True
        elif exclude_text.lower() in _FALSE:
            exclude = False
        else:
            raise SyncConfigError(f"{ENV['exclude_intercompany']} must be true or false, got {exclude_text!r}")

        overlap = integer("overlap")
        page_size = integer("page_size")
        processes_text = get("processes")
        processes = None if processes_text is None or processes_text.lower() == "auto" else integer("processes")
        return cls(
            timezone=get("timezone") or DEFAULT_TIMEZONE,
            date_format=get("date_format") or DEFAULT_DATE_FORMAT,
            overlap=timedelta(minutes=DEFAULT_OVERLAP_MINUTES if overlap is None else overlap),
            parallel_ranges=integer("parallel_ranges"),
            page_size=DEFAULT_PAGE_SIZE if page_size is None else page_size,
            processes=processes,
            intercompany_customer_ids=frozenset(ids),
            exclude_intercompany=exclude,
            warehouse_url=get("warehouse_url"),
        )
