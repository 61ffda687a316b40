"""How result values leave the engine: JSON-ready, as NetSuite's SuiteQL shows them.

- id columns (and MIN/MAX/NVL of them): strings, via CAST in SQL;
- DATE/DATETIME values (bare columns, TO_DATE, SYSDATE, TRUNC ...): the user's date preference,
  date part only ("1/15/2024" for M/D/YYYY), via SQL string functions;
- booleans: 'T' / 'F' as stored;
- numbers: JSON numbers; an integral value is an int (100, not 100.0), computed values are rounded
  to 9 decimals to drop binary noise (SUM of 0.1 + 0.2 is 0.3); with numbers_as_strings, strings;
- null columns are left out of the item when omit_null_columns is set.
Per-column work is decided once per query (SQL wrappers plus a short list of Python converters),
so formatting a row is one dict build.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

from .catalog import Kind
from .dateprefs import user_format_sql

Converter = Callable[[object], object]


def output_sql(ref: str, kind: Kind, date_format: str) -> str:
    if kind.type == "id":
        return f"CAST({ref} AS TEXT)"
    if kind.dateish:
        return user_format_sql(date_format, ref)
    return ref


def _clean(value: object) -> object:
    if value.__class__ is float:
        rounded = round(value, 9)  # type: ignore[call-overload]
        if rounded.is_integer() and -1e15 < rounded < 1e15:
            return int(rounded)
        return rounded
    return value


def _as_string(value: object) -> object:
    if value.__class__ is int:
        return str(value)
    if value.__class__ is float:
        return str(_clean(value))
    return value


def _clean_as_string(value: object) -> object:
    return _as_string(_clean(value))


def converter(kind: Kind, numbers_as_strings: bool) -> Converter | None:
    if kind.type in ("id", "bool", "text", "date", "datetime", "dateany"):
        return None
    if kind.bare:  # stored NUMERIC: SQLite already gives an int when integral
        return _as_string if numbers_as_strings else None
    return _clean_as_string if numbers_as_strings else _clean


def build_items(rows: Sequence[tuple], keys: Sequence[str], converters: Sequence[Converter | None],
                omit_null: bool) -> list[dict[str, object]]:
    active = [(i, f) for i, f in enumerate(converters) if f is not None]
    if active:
        converted = []
        for row in rows:
            values = list(row)
            for i, f in active:
                if values[i] is not None:
                    values[i] = f(values[i])
            converted.append(values)
        rows = converted  # type: ignore[assignment]
    if omit_null:
        return [{k: v for k, v in zip(keys, row) if v is not None} for row in rows]
    return [dict(zip(keys, row)) for row in rows]
