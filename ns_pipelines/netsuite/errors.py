"""Typed errors of the NetSuite client.

Every error raised by an HTTP exchange carries what NetSuite said (`status`, `code` = the first
`o:errorCode`, `detail`, `error_path`, all `details`) and what was asked (`method`, `path`), and
never the Authorization header, the query string's signature or any credential.

    NetSuiteError
    +-- NetSuiteConfigError        missing or invalid configuration (environment variables)
    +-- AuthenticationError        401 INVALID_LOGIN (revoked / expired token, bad signature ...)
    +-- PermissionDeniedError      403 INSUFFICIENT_PERMISSION
    +-- RecordNotFoundError        404
    +-- InvalidRequestError        other 4xx (USER_ERROR, INVALID_KEY_OR_REF, INVALID_PARAMETER ...)
    +-- ConcurrencyLimitError      429 CONCURRENCY_LIMIT_EXCEEDED                    (retryable)
    +-- ServerError                5xx                                               (retryable)
    +-- TransportError             connection refused / dropped, timeouts            (retryable)
    +-- SuiteQLRowCapError         an offset-paged query would pass SuiteQL's 100,000-row cap
    +-- DecodeError                a SuiteQL value that cannot be decoded (names the record)
"""
from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import requests

#: The reconnect steps without the last one (the connection check says them: it is that last step).
RECONNECT_STEPS = (
    "The connection to NetSuite must be re-established: create a new access token for the "
    "integration role in NetSuite (Setup > Users/Roles > Access Tokens), update "
    "NETSUITE_TOKEN_ID / NETSUITE_TOKEN_SECRET (or the OAuth 2.0 client credentials: "
    "NETSUITE_CLIENT_ID, NETSUITE_CERTIFICATE_ID, NETSUITE_PRIVATE_KEY)"
)
#: What a user must do when NetSuite refuses the credentials (behaviour.md section 1).
RECONNECT_INSTRUCTIONS = f"{RECONNECT_STEPS}, then run `ns-pipelines check-connection`."

#: Error codes that mean "over the concurrency limit" whatever the HTTP status
#: (REST 429, RESTlet 400 SSS_REQUEST_LIMIT_EXCEEDED, SOAP WS_REQUEST_BLOCKED).
CONCURRENCY_CODES = frozenset({"CONCURRENCY_LIMIT_EXCEEDED", "SSS_REQUEST_LIMIT_EXCEEDED",
                               "WS_REQUEST_BLOCKED"})

_MAX_TEXT = 500


@dataclass(frozen=True)
class ErrorDetail:
    """One entry of NetSuite's `o:errorDetails`."""

    code: str | None
    detail: str | None
    error_path: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


def _rebuilt(cls: type[BaseException], args: tuple[Any, ...], state: dict[str, Any]) -> BaseException:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class PortableError(Exception):
    """An exception that crosses a process boundary (pickle) whole, whatever its __init__ takes:
    a sync worker process's error reaches the run with its type and attributes."""

    def __reduce__(self) -> tuple[Any, ...]:
        return _rebuilt, (type(self), self.args, dict(self.__dict__))


class NetSuiteError(PortableError):
    """Base class of everything the client raises."""

    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        detail: str | None = None,
        error_path: str | None = None,
        details: tuple[ErrorDetail, ...] = (),
        title: str | None = None,
        method: str | None = None,
        path: str | None = None,
        attempts: int = 1,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.detail = detail
        self.error_path = error_path
        self.details = details
        self.title = title
        self.method = method
        self.path = path
        self.attempts = attempts
        #: seconds from a Retry-After header (NetSuite is not known to send one; honoured if it does)
        self.retry_after = retry_after

    def __str__(self) -> str:
        if self.attempts > 1:
            return f"{self.message} (after {self.attempts} attempts)"
        return self.message


class NetSuiteConfigError(NetSuiteError, ValueError):
    """The client's configuration is missing or invalid."""


class AuthenticationError(NetSuiteError):
    """401: NetSuite refused the credentials. The message says how to reconnect."""

    def __init__(self, message: str, **kwargs: Any) -> None:
        #: the `error` of the WWW-Authenticate header (token_rejected, invalid_token)
        self.auth_error: str | None = kwargs.pop("auth_error", None)
        #: the client was at its concurrency limit while the request was in flight, so the 401 may
        #: be NetSuite's answer to over-concurrency rather than refused credentials
        self.at_budget: bool = kwargs.pop("at_budget", False)
        super().__init__(message, **kwargs)

    def __str__(self) -> str:
        return f"{super().__str__()} {RECONNECT_INSTRUCTIONS}"


class PermissionDeniedError(NetSuiteError):
    """403: the integration role lacks a permission (INSUFFICIENT_PERMISSION)."""


class RecordNotFoundError(NetSuiteError):
    """404: the record (or endpoint) does not exist."""


class InvalidRequestError(NetSuiteError):
    """A 4xx NetSuite refused as invalid: USER_ERROR, INVALID_KEY_OR_REF, INVALID_PARAMETER,
    NONEXISTENT_FIELD, DUP_RCRD, a SuiteQL syntax error ... Not retried."""


class ConcurrencyLimitError(NetSuiteError):
    """429 CONCURRENCY_LIMIT_EXCEEDED: the account's concurrency limit was hit."""

    retryable = True


class ServerError(NetSuiteError):
    """5xx (UNEXPECTED_ERROR, gateway errors)."""

    retryable = True


class TransportError(NetSuiteError):
    """No HTTP answer: connection refused or dropped, DNS failure, timeout."""

    retryable = True

    def __init__(self, message: str, *, sent: bool = True, **kwargs: Any) -> None:
        # `sent` is False when the request certainly never reached the server (connect failed),
        # so even a non-idempotent request may be retried.
        self.sent = sent
        super().__init__(message, **kwargs)


class SuiteQLRowCapError(NetSuiteError):
    """An offset-paged SuiteQL query has more rows than SuiteQL returns (100,000)."""


class DecodeError(NetSuiteError, ValueError):
    """A SuiteQL value that cannot be decoded; names the record, the column and the value."""

    def __init__(self, message: str, *, record_id: object = None, record_type: str | None = None,
                 column: str | None = None, value: object = None, kind: str | None = None) -> None:
        super().__init__(message)
        self.record_id = record_id
        self.record_type = record_type
        self.column = column
        self.value = value
        self.kind = kind


# --------------------------------------------------------------------------------------------
# Parsing NetSuite's error bodies


@dataclass(frozen=True)
class ParsedErrorBody:
    title: str | None
    details: tuple[ErrorDetail, ...]
    text: str | None  # a non-JSON (or unrecognised JSON) body, shortened

    @property
    def code(self) -> str | None:
        return next((d.code for d in self.details if d.code), None)

    @property
    def detail(self) -> str | None:
        return next((d.detail for d in self.details if d.detail), None)

    @property
    def error_path(self) -> str | None:
        return next((d.error_path for d in self.details if d.error_path), None)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_TEXT else text[:_MAX_TEXT] + "..."


def parse_error_body(body: bytes | str | None, content_type: str | None = None) -> ParsedErrorBody:
    """Parse NetSuite's problem-details body (`o:errorDetails`), an OAuth 2.0 error body
    (`error`, `error_description`), or anything else (HTML from a proxy, empty) robustly."""
    if body is None:
        return ParsedErrorBody(None, (), None)
    if isinstance(body, bytes):
        text = body.decode("utf-8", errors="replace")
    else:
        text = body
    if not text.strip():
        return ParsedErrorBody(None, (), None)
    try:
        data = json.loads(text)
    except ValueError:
        return ParsedErrorBody(None, (), _short(text))
    if not isinstance(data, dict):
        return ParsedErrorBody(None, (), _short(text))

    title = data.get("title") if isinstance(data.get("title"), str) else None
    details: list[ErrorDetail] = []
    raw_details = data.get("o:errorDetails")
    if isinstance(raw_details, dict):
        raw_details = [raw_details]
    if isinstance(raw_details, list):
        for item in raw_details:
            if not isinstance(item, dict):
                continue
            code = item.get("o:errorCode")
            detail = item.get("detail")
            path = item.get("o:errorPath")
            extra = {k: v for k, v in item.items() if k not in ("o:errorCode", "detail", "o:errorPath")}
            details.append(ErrorDetail(
                code=str(code) if code is not None else None,
                detail=str(detail) if detail is not None else None,
                error_path=str(path) if path is not None else None,
                extra=extra,
            ))
    top_code = data.get("o:errorCode")
    if isinstance(top_code, str) and not any(d.code for d in details):
        top_detail = data.get("detail")
        details.append(ErrorDetail(code=top_code, detail=top_detail if isinstance(top_detail, str) else None))
    if not details and isinstance(data.get("error"), str):  # OAuth 2.0 token endpoint (RFC 6749 5.2)
        desc = data.get("error_description")
        details.append(ErrorDetail(code=data["error"], detail=desc if isinstance(desc, str) else None))
    if not details and isinstance(data.get("detail"), str):
        details.append(ErrorDetail(code=None, detail=data["detail"]))
    if not details:
        return ParsedErrorBody(title, (), _short(text))
    return ParsedErrorBody(title, tuple(details), None)


def _www_authenticate_error(header: str | None) -> str | None:
    if not header:
        return None
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key.strip().lower().endswith("error"):
            return value.strip().strip('"') or None
    return None


def _retry_after(header: str | None) -> float | None:
    if not header:
        return None
    header = header.strip()
    try:
        return max(0.0, float(header))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(header)
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
    except (TypeError, ValueError, IndexError):
        return None


def error_class_for(status: int | None, code: str | None) -> type[NetSuiteError]:
    """The exception class for an HTTP status and NetSuite error code."""
    if code in CONCURRENCY_CODES or status == 429:
        return ConcurrencyLimitError
    if status == 401 or code == "INVALID_LOGIN":
        return AuthenticationError
    if status == 403:
        return PermissionDeniedError
    if status == 404:
        return RecordNotFoundError
    if status is not None and status >= 500:
        return ServerError
    if status is not None and 400 <= status < 500:
        return InvalidRequestError
    return NetSuiteError


def error_from_response(
    response: requests.Response,
    *,
    method: str | None = None,
    path: str | None = None,
    redact: Callable[[str], str] = lambda s: s,
    attempts: int = 1,
    cls: type[NetSuiteError] | None = None,
) -> NetSuiteError:
    """Build the typed error for a non-success response. Never reads the request's headers."""
    status = response.status_code
    try:
        body = response.content
    except Exception:  # noqa: BLE001 - a body that cannot be read is just absent
        body = None
    parsed = parse_error_body(body, response.headers.get("Content-Type"))
    code = parsed.code
    klass = cls or error_class_for(status, code)
    method = (method or (response.request.method if response.request is not None else None) or "").upper() or None
    where = f" on {method} {path}" if method and path else ""
    reason = parsed.title or response.reason or ""
    message = f"NetSuite answered {status}{' ' + reason if reason else ''}{where}"
    if code:
        message += f": {code}"
    if parsed.detail:
        message += f" - {parsed.detail}"
    if parsed.error_path:
        message += f" (field {parsed.error_path})"
    if parsed.text:
        message += f": {parsed.text}"
    kwargs: dict[str, Any] = dict(
        status=status, code=code, detail=parsed.detail, error_path=parsed.error_path,
        details=parsed.details, title=parsed.title, method=method, path=path, attempts=attempts,
        retry_after=_retry_after(response.headers.get("Retry-After")),
    )
    if issubclass(klass, AuthenticationError):
        kwargs["auth_error"] = _www_authenticate_error(response.headers.get("WWW-Authenticate"))
    return klass(redact(message), **kwargs)
