"""The user's date preference (settings.date_format): how raw DATE/DATETIME values are shown
("M/D/YYYY" -> "1/15/2024", also D/M/YYYY, DD/MM/YYYY, MM/DD/YYYY, YYYY-MM-DD, DD.MM.YYYY,
DD-Mon-YYYY ...) and how a date literal written that way is read back.
"""
from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache

from .datefmt import (PUNCTUATION, MONTHS, FormatError, styled, as_datetime, has_time, parse_datetime,
                      parse_iso, to_iso)

_USER_TOKENS = ["YYYY", "YY", "MONTH", "MON", "MM", "M", "DD", "D"]


@lru_cache(maxsize=32)
def user_tokens(user_format: str) -> tuple[tuple[str, str], ...]:
    tokens: list[tuple[str, str]] = []
    i = 0
    while i < len(user_format):
        for token in _USER_TOKENS:
            if user_format[i:i + len(token)].upper() == token:
                tokens.append(("elem", user_format[i:i + len(token)]))
                i += len(token)
                break
        else:
            ch = user_format[i]
            if ch.isalnum():
                raise ValueError(f"unsupported date format preference {user_format!r}")
            tokens.append(("lit", ch))
            i += 1
    return tuple(tokens)


def user_format_sql(user_format: str, x: str) -> str:
    """SQLite expression rendering ISO text `x` (date part only) in the user's date preference."""
    parts: list[str] = []
    for kind, text in user_tokens(user_format):
        if kind == "lit":
            parts.append("'" + text.replace("'", "''") + "'")
            continue
        e = text.upper()
        if e == "YYYY":
            parts.append(f"SUBSTR({x}, 1, 4)")
        elif e == "YY":
            parts.append(f"SUBSTR({x}, 3, 2)")
        elif e == "MM":
            parts.append(f"SUBSTR({x}, 6, 2)")
        elif e == "M":
            parts.append(f"CAST(SUBSTR({x}, 6, 2) AS INTEGER)")
        elif e == "DD":
            parts.append(f"SUBSTR({x}, 9, 2)")
        elif e == "D":
            parts.append(f"CAST(SUBSTR({x}, 9, 2) AS INTEGER)")
        else:  # MON / MONTH
            names = [styled(m if e == "MONTH" else m[:3], text) for m in MONTHS]
            whens = " ".join(f"WHEN '{i + 1:02d}' THEN '{name}'" for i, name in enumerate(names))
            parts.append(f"(CASE SUBSTR({x}, 6, 2) {whens} END)")
    return " || ".join(parts)


def format_user_date(value: str, user_format: str) -> str:
    parsed = as_datetime(value)
    out: list[str] = []
    for kind, text in user_tokens(user_format):
        if kind == "lit":
            out.append(text)
            continue
        e = text.upper()
        out.append({
            "YYYY": f"{parsed.year:04d}", "YY": f"{parsed.year % 100:02d}",
            "MM": f"{parsed.month:02d}", "M": str(parsed.month),
            "DD": f"{parsed.day:02d}", "D": str(parsed.day),
        }.get(e) or styled(MONTHS[parsed.month - 1] if e == "MONTH" else MONTHS[parsed.month - 1][:3], text))
    return "".join(out)


def user_format_as_oracle(user_format: str) -> str:
    out = []
    for kind, text in user_tokens(user_format):
        if kind == "lit":
            out.append(text if text in PUNCTUATION else f'"{text}"')
        else:
            e = text.upper()
            out.append({"M": "MM", "D": "DD", "MONTH": "MON"}.get(e, e))
    return "".join(out)


_TIME_SUFFIXES = ("", " HH24:MI:SS", " HH24:MI", " HH:MI:SS AM", " HH:MI AM")


def parse_user_date(value: str, user_format: str, today: date) -> datetime | None:
    """A date literal in the user's date preference (optionally with a time), as NetSuite accepts."""
    base = user_format_as_oracle(user_format)
    for suffix in _TIME_SUFFIXES:
        try:
            return parse_datetime(value, base + suffix, today)
        except FormatError:
            continue
    return None


def parse_date_literal(value: str, user_format: str, today: date) -> str | None:
    """ISO text of a string literal compared with a date (ISO first, then the user's format)."""
    parsed = parse_iso(value)
    if parsed is None:
        parsed = parse_user_date(value, user_format, today)
    if parsed is None:
        return None
    return to_iso(parsed, short_if_midnight=False)


def to_date(value: str, fmt: str | None, today: date, *, timestamp: bool,
            user_format: str | None = None) -> str:
    """ISO text of TO_DATE / TO_TIMESTAMP: 'YYYY-MM-DD' for a date-only format, else full."""
    if fmt is None:
        parsed = parse_iso(value)
        if parsed is None and user_format:
            parsed = parse_user_date(value, user_format, today)
        if parsed is None:
            raise FormatError(f"'{value}' is not a valid date")
        return to_iso(parsed, short_if_midnight=not timestamp and len(value.strip()) <= 10)
    parsed = parse_datetime(value, fmt, today)
    if timestamp or has_time(fmt):
        return to_iso(parsed, short_if_midnight=False)
    return to_iso(parsed, short_if_midnight=True)
