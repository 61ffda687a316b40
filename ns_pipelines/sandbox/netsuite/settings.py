"""Everything that makes one sandbox account differ from another.

Real NetSuite accounts vary (date preference, time zone, concurrency tier, how they answer when
over the limit); the sandbox exposes each of those as a setting so tests can pin them down.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass
class FaultSettings:
    """Fault injection; rates are probabilities per API request (admin API excluded)."""

    server_error_rate: float = 0.0  # answer 500/502/503 with NetSuite's error body
    drop_connection_rate: float = 0.0  # close the socket without answering
    rate_limit_storm_rate: float = 0.0  # answer 429 CONCURRENCY_LIMIT_EXCEEDED even under the limit
    locked_record_ids: set[int] = field(default_factory=set)  # writes refused with USER_ERROR "locked"
    seed: int = 0  # so a fault sequence can be reproduced


LATENCY_MODES = ("response", "added")


@dataclass
class SandboxSettings:
    account_id: str = "1234567_SB1"  # realm form: upper case, underscore
    date_format: str = "M/D/YYYY"  # the user's date preference; also "D/M/YYYY", "YYYY-MM-DD", "DD.MM.YYYY"
    timezone: str = "America/Los_Angeles"  # SuiteQL datetimes are account-local
    concurrency_limit: int = 5
    over_limit_mode: str = "429"  # or "401": a slow INVALID_LOGIN, as some accounts answer
    over_limit_401_delay_s: float = 2.0
    latency_ms: float = 0.0  # every API request's time in a concurrency slot (see latency_mode)
    latency_per_row_ms: float = 0.0  # added per SuiteQL row / record returned
    # "response": the latency is the response time, the sandbox's own work included (a real
    # server's work is part of its latency); "added": the latency is slept after the work.
    latency_mode: str = "response"
    suiteql_row_cap: int = 100_000
    numbers_as_strings: bool = False  # real accounts are reported both ways; the client copes with both
    omit_null_columns: bool = True
    notify_url: str | None = None  # change notifications (the SuiteScript's contract) go here
    notify_secret: str = "sandbox-webhook-secret"
    notify_max_attempts: int = 5
    faults: FaultSettings = field(default_factory=FaultSettings)

    @property
    def host_slug(self) -> str:
        """The hostname form of the account id: lower case with a hyphen (1234567-sb1)."""
        return self.account_id.lower().replace("_", "-")

    @property
    def realm(self) -> str:
        return self.account_id.upper().replace("-", "_")


MONEY_QUANT = Decimal("0.01")
