"""The connection check: one signed SuiteQL query and the governance limits, reported plainly."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .config import NetSuiteConfig, RetryPolicy
from .errors import (
    RECONNECT_STEPS,
    AuthenticationError,
    NetSuiteConfigError,
    NetSuiteError,
    PermissionDeniedError,
    TransportError,
)
from .transport import NetSuiteClient

PROBE_QUERY = "SELECT id FROM subsidiary WHERE ROWNUM <= 1"


@dataclass
class ConnectionReport:
    ok: bool
    account_id: str
    base_url: str
    auth_method: str
    problems: list[str] = field(default_factory=list)  # what makes the connection unusable
    warnings: list[str] = field(default_factory=list)  # what works less well
    governance: dict[str, Any] | None = None

    def lines(self) -> list[str]:
        head = (f"NetSuite account {self.account_id} at {self.base_url} ({self.auth_method}): "
                + ("OK" if self.ok else "NOT OK"))
        out = [head]
        if self.governance:
            out.append("  governance limits: " + ", ".join(f"{k}={v}" for k, v in self.governance.items()))
        out.extend(f"  - {problem}" for problem in self.problems)
        out.extend(f"  - warning: {warning}" for warning in self.warnings)
        return out


def check_connection(environ: Mapping[str, str] | None = None, *, attempts: int = 2) -> ConnectionReport:
    """Sign one trivial SuiteQL query and read the governance limits; say exactly what is wrong."""
    try:
        config = NetSuiteConfig.from_env(environ)
    except NetSuiteConfigError as exc:
        return ConnectionReport(False, "?", "?", "?", [str(exc)])
    config = replace(config, retry=RetryPolicy(max_attempts=attempts, initial_backoff_s=0.5, max_backoff_s=2.0))
    report = ConnectionReport(True, config.account_id, config.base_url, config.auth_method)
    with NetSuiteClient(config) as client:
        try:
            client.suiteql.query_page(PROBE_QUERY, limit=1)
        except AuthenticationError:
            report.problems.append(
                "NetSuite refused the credentials (401 INVALID_LOGIN): the token is revoked or wrong, the "
                f"account id is not this account's (realm sent: {config.realm}), or the clock is more than "
                f"5 minutes off. {RECONNECT_STEPS}. "
                "NetSuite's Login Audit Trail (Setup > Users/Roles > User Management > View Login Audit "
                "Trail) gives the exact reason.")
        except PermissionDeniedError as exc:
            report.problems.append(f"The integration role may not run SuiteQL ({exc.code}): give it the "
                                   "permissions listed in the README (REST Web Services, Perform Search, ...).")
        except TransportError as exc:
            report.problems.append(f"NetSuite could not be reached at {config.base_url}: {exc.detail or exc}. "
                                   "Check NETSUITE_BASE_URL / NETSUITE_ACCOUNT_ID and the network.")
        except NetSuiteError as exc:
            report.problems.append(f"SuiteQL answered {exc.status} {exc.code}: {exc.detail}")
        if not report.problems:
            try:
                report.governance = client.records.governance_limits()
            except PermissionDeniedError:
                report.warnings.append("The governance limits need an administrator role; SuiteQL works, so "
                                       "syncing works, but the concurrency limit cannot be read.")
            except NetSuiteError as exc:
                report.warnings.append(f"Reading the governance limits failed: {exc}")
    report.ok = not report.problems
    return report
