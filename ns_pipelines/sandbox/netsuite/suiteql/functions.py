"""Python functions registered on each SQLite connection for what SQLite lacks (ns_* names).

Translation turns literal arguments into constants at translation time whenever it can, so these
run only for computed arguments. A function that fails records the reason in `last_error()` so the
engine can answer a readable 400 instead of SQLite's "user-defined function raised exception".
"""
from __future__ import annotations

import math
import re
import sqlite3
import threading
from collections.abc import Callable
from datetime import date
from functools import lru_cache

from . import datefmt, dateprefs
from .numfmt import format_number

_errors = threading.local()


def last_error() -> str | None:
    message = getattr(_errors, "message", None)
    _errors.message = None
    return message


def _guard(fn: Callable[..., object]) -> Callable[..., object]:
    def wrapper(*args: object) -> object:
        if any(a is None for a in args):
            return None
        try:
            return fn(*args)
        except (datefmt.FormatError, ValueError, TypeError, OverflowError) as exc:
            _errors.message = f"{fn.__name__.upper()}: {exc}"
            raise
    wrapper.__name__ = fn.__name__
    return wrapper


@lru_cache(maxsize=1024)
def _regex(pattern: str, flags: str = "") -> re.Pattern[str]:
    value = 0
    for flag in flags:
        value |= {"i": re.IGNORECASE, "c": 0, "n": re.DOTALL, "m": re.MULTILINE, "x": re.VERBOSE}.get(flag, 0)
    return re.compile(pattern, value)


@lru_cache(maxsize=1024)
def _like_regex(pattern: str, escape: str | None) -> re.Pattern[str]:
    parts = []
    chars = iter(pattern)
    for ch in chars:
        if escape is not None and ch == escape:
            parts.append(re.escape(next(chars, "")))
        elif ch == "%":
            parts.append(".*")
        elif ch == "_":
            parts.append(".")
        else:
            parts.append(re.escape(ch))
    return re.compile("".join(parts), re.DOTALL)


def register(conn: sqlite3.Connection, today: Callable[[], date], user_format: Callable[[], str]) -> None:
    """Register the ns_* functions (and REGEXP) on `conn`."""

    def to_char(value: object, fmt: str | None = None) -> object:
        if isinstance(value, (int, float)):
            return format_number(value, fmt)
        if datefmt.parse_iso(str(value)) is not None:
            if fmt is None:
                return dateprefs.format_user_date(str(value), user_format())
            return datefmt.format_datetime(datefmt.as_datetime(value), fmt)
        return str(value)

    def to_char_date(value: str, fmt: str) -> str:
        return datefmt.format_datetime(datefmt.as_datetime(value), fmt)

    def to_char_number(value: object, fmt: str) -> str:
        return format_number(float(value) if not isinstance(value, (int, float)) else value, fmt)

    def user_date(value: str) -> str:
        return dateprefs.format_user_date(value, user_format())

    def to_date(value: object, fmt: str | None = None) -> str:
        return dateprefs.to_date(str(value), fmt, today(), timestamp=False, user_format=user_format())

    def to_timestamp(value: object, fmt: str | None = None) -> str:
        return dateprefs.to_date(str(value), fmt, today(), timestamp=True, user_format=user_format())

    def dt_full(value: str) -> str:
        return datefmt.iso_full(str(value))

    def dt_short(value: str) -> str:
        return datefmt.iso_short(str(value))

    def date_add(value: str, days: float) -> str:
        return datefmt.add_days(str(value), float(days))

    def add_months(value: str, months: float) -> str:
        return datefmt.add_months(str(value), int(months))

    def last_day(value: str) -> str:
        return datefmt.last_day(str(value))

    def months_between(a: str, b: str) -> float:
        return datefmt.months_between(str(a), str(b))

    def next_day(value: str, weekday: str) -> str:
        parsed = datefmt.as_datetime(value)
        names = [d.lower() for d in datefmt.DAYS]
        wanted = str(weekday).strip().lower()
        index = next((i for i, n in enumerate(names) if n == wanted or n[:3] == wanted[:3]), None)
        if index is None:
            raise ValueError(f"not a valid day of the week: {weekday}")
        delta = (index - parsed.weekday() - 1) % 7 + 1
        return datefmt.add_days(str(value), delta)

    def trunc_date(value: str, fmt: str | None = None) -> str:
        return datefmt.trunc_date(str(value), fmt)

    def trunc_number(value: float, digits: float = 0) -> float | int:
        digits = int(digits)
        factor = 10 ** digits
        result = math.trunc(float(value) * factor) / factor
        return int(result) if digits <= 0 else result

    def trunc(value: object, arg: object = None) -> object:
        if isinstance(value, str) and datefmt.parse_iso(value) is not None:
            return trunc_date(value, None if arg is None else str(arg))
        return trunc_number(float(value), 0 if arg is None else float(arg))  # type: ignore[arg-type]

    def instr(s: str, sub: str, position: float = 1, occurrence: float = 1) -> int:
        s, sub, position, occurrence = str(s), str(sub), int(position), int(occurrence)
        if position == 0 or occurrence < 1:
            return 0
        if position > 0:
            index = position - 2
            for _ in range(occurrence):
                index = s.find(sub, index + 1)
                if index < 0:
                    return 0
            return index + 1
        limit = len(s) + position  # the last 0-based start allowed, searching backwards
        found = -1
        for _ in range(occurrence):
            if limit < 0:
                return 0
            found = s.rfind(sub, 0, limit + len(sub))
            if found < 0:
                return 0
            limit = found - 1
        return found + 1

    def lpad(s: object, n: float, pad: str = " ") -> str | None:
        s, n = str(s), int(n)
        if n <= 0 or not pad:
            return None
        return s[:n] if len(s) >= n else ((pad * n)[: n - len(s)] + s)

    def rpad(s: object, n: float, pad: str = " ") -> str | None:
        s, n = str(s), int(n)
        if n <= 0 or not pad:
            return None
        return s[:n] if len(s) >= n else (s + (pad * n)[: n - len(s)])

    def initcap(s: str) -> str:
        return re.sub(r"[A-Za-z0-9]+", lambda m: m.group(0).capitalize(), str(s))

    def regexp(pattern: str, value: object) -> int:
        return 1 if _regex(str(pattern)).search(str(value)) else 0

    def regexp_like(value: object, pattern: str, flags: str = "") -> int:
        return 1 if _regex(str(pattern), str(flags)).search(str(value)) else 0

    def regexp_substr(value: object, pattern: str, position: float = 1, occurrence: float = 1) -> str | None:
        matches = list(_regex(str(pattern)).finditer(str(value), int(position) - 1))
        return matches[int(occurrence) - 1].group(0) if len(matches) >= int(occurrence) else None

    def regexp_replace(value: object, pattern: str, replacement: str = "") -> str:
        repl = re.sub(r"\\(\d)", r"\\\1", str(replacement))
        return _regex(str(pattern)).sub(repl, str(value))

    def like(value: object, pattern: str, escape: str | None = None) -> int:
        return 1 if _like_regex(str(pattern), escape).fullmatch(str(value)) else 0

    functions: list[tuple[str, int, Callable[..., object]]] = [
        ("ns_like", 2, like), ("ns_like", 3, like),
        ("ns_to_char", 1, to_char), ("ns_to_char", 2, to_char),
        ("ns_to_char_date", 2, to_char_date), ("ns_to_char_number", 2, to_char_number),
        ("ns_user_date", 1, user_date),
        ("ns_to_date", 1, to_date), ("ns_to_date", 2, to_date),
        ("ns_to_timestamp", 1, to_timestamp), ("ns_to_timestamp", 2, to_timestamp),
        ("ns_dt_full", 1, dt_full), ("ns_dt_short", 1, dt_short),
        ("ns_date_add", 2, date_add), ("ns_add_months", 2, add_months),
        ("ns_last_day", 1, last_day), ("ns_months_between", 2, months_between),
        ("ns_next_day", 2, next_day),
        ("ns_trunc_date", 1, trunc_date), ("ns_trunc_date", 2, trunc_date),
        ("ns_trunc_number", 1, trunc_number), ("ns_trunc_number", 2, trunc_number),
        ("ns_trunc", 1, trunc), ("ns_trunc", 2, trunc),
        ("ns_instr", 2, instr), ("ns_instr", 3, instr), ("ns_instr", 4, instr),
        ("ns_lpad", 2, lpad), ("ns_lpad", 3, lpad), ("ns_rpad", 2, rpad), ("ns_rpad", 3, rpad),
        ("ns_initcap", 1, initcap),
        ("regexp", 2, regexp),
        ("ns_regexp_like", 2, regexp_like), ("ns_regexp_like", 3, regexp_like),
        ("ns_regexp_substr", 2, regexp_substr), ("ns_regexp_substr", 3, regexp_substr),
        ("ns_regexp_substr", 4, regexp_substr),
        ("ns_regexp_replace", 2, regexp_replace), ("ns_regexp_replace", 3, regexp_replace),
    ]
    for name, nargs, fn in functions:
        conn.create_function(name, nargs, _guard(fn), deterministic=True)
