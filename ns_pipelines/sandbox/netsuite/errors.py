"""NetSuite's REST error body (RFC 9110 problem details with `o:errorDetails`)."""
from __future__ import annotations

from typing import Any

_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
_SECTIONS = {400: "15.5.1", 401: "15.5.2", 403: "15.5.4", 404: "15.5.5", 405: "15.5.6",
             409: "15.5.10", 415: "15.5.16", 500: "15.6.1", 502: "15.6.3", 503: "15.6.4"}

LOGIN_AUDIT_DETAIL = (
    "Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at "
    "Setup > Users/Roles > User Management > View Login Audit Trail."
)


class ApiError(Exception):
    """An error the sandbox answers with, in NetSuite's shape."""

    def __init__(self, status: int, code: str, detail: str, *, error_path: str | None = None,
                 headers: dict[str, str] | None = None, extra: dict[str, Any] | None = None) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail
        self.error_path = error_path
        self.headers = headers or {}
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        if self.status == 429:
            # The body practitioners observe on REST web services (netsuite-api.md section 6).
            return {
                "type": "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html",
                "title": "Bad Request",
                "status": 429,
                "o:errorDetails": [{"detail": self.detail, "o:errorCode": self.code}],
            }
        detail: dict[str, Any] = {"detail": self.detail, "o:errorCode": self.code}
        if self.error_path:
            detail["o:errorPath"] = self.error_path
        detail.update(self.extra)
        return {
            "type": f"https://www.rfc-editor.org/rfc/rfc9110.html#section-{_SECTIONS.get(self.status, '15.5.1')}",
            "title": _TITLES.get(self.status, "Error"),
            "status": self.status,
            "o:errorDetails": [detail],
        }


def invalid_login(realm: str, *, bearer: bool = False) -> ApiError:
    scheme = "Bearer" if bearer else "OAuth"
    error = "invalid_token" if bearer else "token_rejected"
    return ApiError(
        401, "INVALID_LOGIN", LOGIN_AUDIT_DETAIL,
        headers={"WWW-Authenticate": f'{scheme} realm="{realm}", error="{error}", '
                                     f'error_description="Invalid login attempt."'},
    )


def concurrency_exceeded() -> ApiError:
    return ApiError(429, "CONCURRENCY_LIMIT_EXCEEDED", "Concurrent request limit exceeded. Request blocked.")


def user_error(detail: str, *, error_path: str | None = None) -> ApiError:
    return ApiError(400, "USER_ERROR", detail, error_path=error_path)


def invalid_key_or_ref(field: str, value: object) -> ApiError:
    return ApiError(400, "INVALID_KEY_OR_REF", f"Invalid {field} reference key {value}.", error_path=field)


def record_not_found(record_type: str, record_id: object) -> ApiError:
    return ApiError(404, "NONEXISTENT_ID",
                    f"The record instance does not exist. Provide a valid record instance ID.",
                    extra={"o:errorUrl": f"/services/rest/record/v1/{record_type}/{record_id}"})
