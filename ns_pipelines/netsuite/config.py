"""Connection settings of the NetSuite client, read from the environment (never from the repo).

Account id forms (netsuite-api.md section 1.1): the realm is upper case with an underscore
(`1234567_SB1`), the hostname lower case with a hyphen (`1234567-sb1.suitetalk.api.netsuite.com`).
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Literal

from .errors import NetSuiteConfigError

AuthMethod = Literal["tba", "oauth2"]
AUTH_METHODS: tuple[str, ...] = ("tba", "oauth2")

DEFAULT_CONCURRENCY = 3
REDACTED = "***"

#: Field name -> environment variable (the contract in docs/sandbox-design.md).
ENV_VARS: dict[str, str] = {
    "account_id": "NETSUITE_ACCOUNT_ID",
    "base_url": "NETSUITE_BASE_URL",
    "auth_method": "NETSUITE_AUTH_METHOD",
    "consumer_key": "NETSUITE_CONSUMER_KEY",
    "consumer_secret": "NETSUITE_CONSUMER_SECRET",
    "token_id": "NETSUITE_TOKEN_ID",
    "token_secret": "NETSUITE_TOKEN_SECRET",
    "client_id": "NETSUITE_CLIENT_ID",
    "certificate_id": "NETSUITE_CERTIFICATE_ID",
    "private_key_pem": "NETSUITE_PRIVATE_KEY",
    "private_key_file": "NETSUITE_PRIVATE_KEY_FILE",
    "concurrency": "NETSUITE_CONCURRENCY",
}

_SECRET_FIELDS = ("consumer_secret", "token_secret", "private_key_pem")
# Identifiers that travel in the Authorization header: not secrets, but kept out of reprs too.
_CREDENTIAL_FIELDS = ("consumer_key", "consumer_secret", "token_id", "token_secret", "client_id",
                      "certificate_id", "private_key_pem", "private_key_file")


def host_slug(account_id: str) -> str:
    """`1234567_SB1` -> `1234567-sb1` (the hostname form)."""
    return account_id.strip().lower().replace("_", "-")


def realm_of(account_id: str) -> str:
    """`1234567-sb1` -> `1234567_SB1` (the OAuth realm form)."""
    return account_id.strip().upper().replace("-", "_")


def default_base_url(account_id: str) -> str:
    return f"https://{host_slug(account_id)}.suitetalk.api.netsuite.com"


@dataclass(frozen=True)
class RetryPolicy:
    """How the transport retries: exponential backoff with full jitter.

    The n-th retry waits uniform(0, min(max_backoff_s, initial_backoff_s * 2**(n-1))) seconds.
    """

    max_attempts: int = 10  # attempts in all, the first one included
    initial_backoff_s: float = 1.0
    max_backoff_s: float = 30.0
    #: retries of a 401 that arrived while the client was at its concurrency budget
    #: (NetSuite sometimes answers over-concurrency with a slow INVALID_LOGIN)
    auth_retries_at_budget: int = 3

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise NetSuiteConfigError("RetryPolicy.max_attempts must be at least 1")
        if self.initial_backoff_s < 0 or self.max_backoff_s < 0:
            raise NetSuiteConfigError("RetryPolicy backoff times must not be negative")
        if self.auth_retries_at_budget < 0:
            raise NetSuiteConfigError("RetryPolicy.auth_retries_at_budget must not be negative")


@dataclass(frozen=True, repr=False)
class NetSuiteConfig:
    """Everything the client needs to talk to one NetSuite account.

    Credentials are excluded from `repr()`/`str()`; `redact()` masks them in any text.
    """

    account_id: str
    base_url: str = ""  # empty: https://<account lower-case, '_' -> '-'>.suitetalk.api.netsuite.com
    auth_method: AuthMethod = "tba"
    # Token-based authentication (OAuth 1.0a)
    consumer_key: str | None = field(default=None, repr=False)
    consumer_secret: str | None = field(default=None, repr=False)
    token_id: str | None = field(default=None, repr=False)
    token_secret: str | None = field(default=None, repr=False)
    # OAuth 2.0 client credentials (machine to machine)
    client_id: str | None = field(default=None, repr=False)
    certificate_id: str | None = field(default=None, repr=False)
    private_key_pem: str | None = field(default=None, repr=False)
    private_key_file: str | None = field(default=None, repr=False)
    oauth2_scope: str = "rest_webservices"
    # Concurrency: the project's share of the account's limit (behaviour.md section 4), held by all its
    # processes together (budget.py; docs/concurrency-budget.md): set the same value everywhere.
    concurrency: int = DEFAULT_CONCURRENCY
    adaptive_concurrency: bool = True  # AIMD below the budget after over-limit answers
    adaptive_recovery_successes: int = 20  # successes before the adaptive limit grows by one
    # Timeouts (seconds)
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 300.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    def __post_init__(self) -> None:
        if not self.account_id or not self.account_id.strip():
            raise NetSuiteConfigError("NetSuite account id is missing (NETSUITE_ACCOUNT_ID)")
        object.__setattr__(self, "account_id", self.account_id.strip())
        base = (self.base_url or default_base_url(self.account_id)).strip().rstrip("/")
        if not base.startswith(("http://", "https://")):
            raise NetSuiteConfigError(f"NetSuite base URL must start with http:// or https://: {base!r}")
        object.__setattr__(self, "base_url", base)
        method = (self.auth_method or "tba").strip().lower()
        if method not in AUTH_METHODS:
            raise NetSuiteConfigError(
                f"unknown NetSuite auth method {self.auth_method!r} (NETSUITE_AUTH_METHOD): "
                f"use 'tba' or 'oauth2'")
        object.__setattr__(self, "auth_method", method)
        if not isinstance(self.concurrency, int) or self.concurrency < 1:
            raise NetSuiteConfigError(
                f"NetSuite concurrency budget must be a positive integer (NETSUITE_CONCURRENCY), "
                f"got {self.concurrency!r}")
        if self.adaptive_recovery_successes < 1:
            raise NetSuiteConfigError("adaptive_recovery_successes must be at least 1")
        if self.connect_timeout_s <= 0 or self.read_timeout_s <= 0:
            raise NetSuiteConfigError("timeouts must be positive")
        missing = self.missing_credentials()
        if missing:
            raise NetSuiteConfigError(
                f"NetSuite {self.auth_method} credentials are incomplete; missing: "
                + ", ".join(missing))

    # -- derived values ------------------------------------------------------------------

    @property
    def realm(self) -> str:
        """The OAuth realm: account id upper case with underscores (`1234567_SB1`)."""
        return realm_of(self.account_id)

    @property
    def host_slug(self) -> str:
        return host_slug(self.account_id)

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/services/rest/auth/oauth2/v1/token"

    @property
    def timeout(self) -> tuple[float, float]:
        """(connect, read) timeout for requests."""
        return (self.connect_timeout_s, self.read_timeout_s)

    def missing_credentials(self) -> list[str]:
        """Names of the credential fields the chosen auth method needs and lacks."""
        if self.auth_method == "tba":
            needed = ("consumer_key", "consumer_secret", "token_id", "token_secret")
            return [n for n in needed if not getattr(self, n)]
        missing = [n for n in ("client_id", "certificate_id") if not getattr(self, n)]
        if not self.private_key_pem and not self.private_key_file:
            missing.append("private_key_pem or private_key_file")
        return missing

    def private_key(self) -> str:
        """The OAuth 2.0 certificate's private key (PEM), read from the file if needed."""
        if self.private_key_pem:
            pem = self.private_key_pem
            if "\\n" in pem and "\n" not in pem.strip():  # PEM pasted into an env file on one line
                pem = pem.replace("\\n", "\n")
            return pem
        if not self.private_key_file:
            raise NetSuiteConfigError(
                "no OAuth 2.0 private key configured (NETSUITE_PRIVATE_KEY or NETSUITE_PRIVATE_KEY_FILE)")
        try:
            return Path(self.private_key_file).read_text()
        except OSError as exc:
            raise NetSuiteConfigError(
                f"cannot read the OAuth 2.0 private key file (NETSUITE_PRIVATE_KEY_FILE): "
                f"{exc.strerror or type(exc).__name__}") from None

    def secret_values(self) -> tuple[str, ...]:
        """Every configured credential value (for redaction), longest first."""
        values = [getattr(self, n) for n in _CREDENTIAL_FIELDS if n != "private_key_file"]
        return tuple(sorted({v for v in values if v and len(v) >= 4}, key=len, reverse=True))

    def redact(self, text: str) -> str:
        """`text` with every credential value replaced by ***."""
        for value in self.secret_values():
            if value in text:
                text = text.replace(value, REDACTED)
        return text

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if f.name not in _CREDENTIAL_FIELDS)
        present = [n for n in _CREDENTIAL_FIELDS if getattr(self, n)]
        return f"NetSuiteConfig({shown}, credentials=<redacted: {', '.join(present) or 'none'}>)"

    __str__ = __repr__

    # -- construction ----------------------------------------------------------------------

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> "NetSuiteConfig":
        """Read the NETSUITE_* variables (docs/sandbox-design.md, "Environment variables").

        Raises NetSuiteConfigError naming every missing variable (never their values).
        `overrides` set other fields (timeouts, retry policy ...) directly.
        """
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(ENV_VARS[name])
            if value is None:
                return None
            value = value.strip() if name != "private_key_pem" else value
            return value or None

        account = get("account_id")
        method = (get("auth_method") or "tba").lower()
        missing: list[str] = []
        if not account:
            missing.append(ENV_VARS["account_id"])
        if method == "tba":
            missing += [ENV_VARS[n] for n in ("consumer_key", "consumer_secret", "token_id", "token_secret")
                        if not get(n)]
        elif method == "oauth2":
            missing += [ENV_VARS[n] for n in ("client_id", "certificate_id") if not get(n)]
            if not get("private_key_pem") and not get("private_key_file"):
                missing.append(f"{ENV_VARS['private_key_pem']} or {ENV_VARS['private_key_file']}")
        else:
            raise NetSuiteConfigError(
                f"unknown {ENV_VARS['auth_method']}={method!r}: use 'tba' or 'oauth2'")
        if missing:
            raise NetSuiteConfigError(
                f"NetSuite connection is not configured ({method}); missing environment variables: "
                + ", ".join(missing))

        concurrency_text = get("concurrency")
        concurrency = DEFAULT_CONCURRENCY
        if concurrency_text is not None:
            try:
                concurrency = int(concurrency_text)
            except ValueError:
                raise NetSuiteConfigError(
                    f"{ENV_VARS['concurrency']} must be a positive integer, got {concurrency_text!r}") from None

        kwargs: dict[str, object] = dict(
            account_id=account,
            base_url=get("base_url") or "",
            auth_method=method,
            concurrency=concurrency,
        )
        if method == "tba":
            kwargs.update({n: get(n) for n in ("consumer_key", "consumer_secret", "token_id", "token_secret")})
        else:
            kwargs.update({n: get(n) for n in ("client_id", "certificate_id", "private_key_pem", "private_key_file")})
        kwargs.update(overrides)
        return cls(**kwargs)  # type: ignore[arg-type]
