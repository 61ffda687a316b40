"""The 400 answers of the SuiteQL endpoint, worded as NetSuite words them.

Every query problem is `INVALID_PARAMETER` on the `q` query parameter with NetSuite's prefix
"Invalid search query. Detailed unprocessed description follows. Search error occurred: ...";
paging problems name the `limit` / `offset` parameter.
"""
from __future__ import annotations

from ..errors import ApiError

SEARCH_PREFIX = "Invalid search query. Detailed unprocessed description follows. Search error occurred: "


def search_error(reason: str) -> ApiError:
    return ApiError(400, "INVALID_PARAMETER", SEARCH_PREFIX + reason, extra={"o:errorQueryParam": "q"})


def unsupported(reason: str) -> ApiError:
    """Syntax SuiteQL refuses (LIMIT, WITH, DML, ...): NetSuite's generic text plus the reason."""
    return search_error(f"Invalid or unsupported search. {reason}")


def record_not_found(name: str) -> ApiError:
    return search_error(f"Record '{name}' was not found.")


def field_not_found(field: str, record: str) -> ApiError:
    return search_error(f"Field '{field}' for record '{record}' was not found. "
                        "Reason: NOT_EXPOSED - Not available for channel SEARCH")


def invalid_limit(value: object) -> ApiError:
    return ApiError(400, "INVALID_PARAMETER",
                    f"Invalid value for the 'limit' query parameter: {value}. "
                    "Provide a value between 1 and 1000.",
                    extra={"o:errorQueryParam": "limit"})


def invalid_offset(value: object) -> ApiError:
    return ApiError(400, "INVALID_PARAMETER",
                    f"Invalid value for the 'offset' query parameter: {value}. "
                    "Provide a value of 0 or more.",
                    extra={"o:errorQueryParam": "offset"})


def offset_beyond_cap(value: int, cap: int) -> ApiError:
    return ApiError(400, "INVALID_PARAMETER",
                    f"Invalid value for the 'offset' query parameter: {value}. A SuiteQL query returns "
                    f"at most {cap} results; narrow the query (for example WHERE id > <last id> "
                    "ORDER BY id) to read further.",
                    extra={"o:errorQueryParam": "offset"})
