"""How often things run, from the environment, read when the code location loads.

| variable | default | meaning |
|---|---|---|
| NS_SYNC_CRON | */15 * * * * | cron of netsuite_incremental_schedule (netsuite_sync_job) |
| NS_SYNC_SCHEDULE_TIMEZONE | NETSUITE_TIMEZONE, else UTC | time zone the cron is read in |
| NS_REDUNDANCY_SYNC_TIME | 02:30 | HH:MM of the daily netsuite_redundancy_schedule |
| NS_REDUNDANCY_SYNC_TIMEZONE | NETSUITE_TIMEZONE, else UTC | time zone of that time |

An invalid value raises ScheduleConfigError naming the variable, which fails the load of the
code location (a schedule silently running at the wrong time is worse than no code location).
"""
from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


SYNC_CRON_ENV = "NS_SYNC_CRON"
SYNC_TIMEZONE_ENV = "NS_SYNC_SCHEDULE_TIMEZONE"
REDUNDANCY_TIME_ENV = "NS_REDUNDANCY_SYNC_TIME"
REDUNDANCY_TIMEZONE_ENV = "NS_REDUNDANCY_SYNC_TIMEZONE"
ACCOUNT_TIMEZONE_ENV = "NETSUITE_TIMEZONE"
DEFAULT_SYNC_CRON = "*/15 * * * *"
DEFAULT_REDUNDANCY_TIME = "02:30"
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class ScheduleConfigError(ValueError):
    """A schedule variable is invalid; the message names it and says what is expected."""


def _zone(name: str, value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleConfigError(f"{name}={value!r} is not a known time zone (an IANA name such as "
                                  "America/Los_Angeles or UTC)") from None
    return value


def _cron(value: str) -> str:
    from dagster._utils.schedules import is_valid_cron_string  # Dagster's own parser, as the daemon's

    if not is_valid_cron_string(value):
        raise ScheduleConfigError(f"{SYNC_CRON_ENV}={value!r} is not a valid cron expression (five fields, "
                                  "e.g. '*/15 * * * *' every 15 minutes, '0 * * * *' hourly, '0 6 * * *' daily)")
    return value


@dataclass(frozen=True)
class ScheduleSettings:
    sync_cron: str = DEFAULT_SYNC_CRON
    sync_timezone: str = "UTC"
    redundancy_hour: int = 2
    redundancy_minute: int = 30
    redundancy_timezone: str = "UTC"

    @property
    def redundancy_cron(self) -> str:
        return f"{self.redundancy_minute} {self.redundancy_hour} * * *"

    @property
    def redundancy_time(self) -> str:
        return f"{self.redundancy_hour:02d}:{self.redundancy_minute:02d}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "ScheduleSettings":
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = (env.get(name) or "").strip()
            return value or None

        account = get(ACCOUNT_TIMEZONE_ENV)
        default_zone = _zone(ACCOUNT_TIMEZONE_ENV, account) if account else "UTC"
        time_text = get(REDUNDANCY_TIME_ENV) or DEFAULT_REDUNDANCY_TIME
        match = _TIME.match(time_text)
        if match is None:
            raise ScheduleConfigError(f"{REDUNDANCY_TIME_ENV}={time_text!r} is not a time of day as HH:MM "
                                      "(24-hour clock, e.g. 02:30)")
        sync_zone, redundancy_zone = get(SYNC_TIMEZONE_ENV), get(REDUNDANCY_TIMEZONE_ENV)
        return cls(
            sync_cron=_cron(get(SYNC_CRON_ENV) or DEFAULT_SYNC_CRON),
            sync_timezone=_zone(SYNC_TIMEZONE_ENV, sync_zone) if sync_zone else default_zone,
            redundancy_hour=int(match.group(1)),
            redundancy_minute=int(match.group(2)),
            redundancy_timezone=_zone(REDUNDANCY_TIMEZONE_ENV, redundancy_zone) if redundancy_zone else default_zone,
        )

