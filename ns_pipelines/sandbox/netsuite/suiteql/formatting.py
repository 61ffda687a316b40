"""How result values leave the engine: JSON-ready, as NetSuite's SuiteQL shows them.

- id columns (and MIN/MAX/NVL of them): strings, via CAST in SQL;
- DATE/DATETIME values (bare columns, TO_DATE, SYSDATE, TRUNC ...): the user's date preference,
  date part only ("1/15/2024" for M/D/YYYY), via SQL string functions;
- booleans: 'T' / 'F' as stored;
- numbers: JSON numbers; an integral value is an int (100, not 100.0), computed values are rounded
  to 9 decimals to drop binary noise (SUM of 0.1 + 0.2 is 0.3); with numbers_as_strings, strings;
- null columns are left out of the item when omit_null_columns is set.
Per-column work is decided once per query (SQL wrappers plus a short list of Python converters),
so formatting a row is one dict build, done by C-level iterators (zip, compress) rather than a
Python loop over the columns. Rows may carry trailing hidden columns (a seek key); `keys` ends
before them.

Items as JSON text, built by SQLite (`json_item_sql`): when no column needs a Python converter,
SQLite's json_object writes each item exactly as `json.dumps(item, separators=(",", ":"),
ensure_ascii=False)` would: the same string escapes, integers alike, and, for the one value type
where the two differ (a REAL: SQLite prints `%!.15g`, Python the shortest repr that reads back),
only REALs that are the nearest double to a decimal of at most 15 significant digits (2 decimals
below 1e13, 4 below 1e11, 8 below 1e7), and at least 1e-4 in magnitude: that decimal is then
the only one of <= 15 digits naming the double (doubles are closer than 1e-15 apart), so both
print its digits, and both in positional notation. The check divides an integer by a power of
ten, which IEEE rounds correctly, rather than trusting SQLite's text-to-real conversion. Any other
REAL, and any BLOB, becomes a marker (`json_items_text` finds it), and the caller formats that
page in Python instead. `json_items_text` then drops the null members when nulls are omitted.
"""
from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable, Sequence
from itertools import compress, repeat
from operator import is_not

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


_UNREPRESENTABLE = "\x01ns-unrepresentable\x01"
_UNREPRESENTABLE_JSON = json.dumps(_UNREPRESENTABLE)[1:-1]
_UNREPRESENTABLE_SQL = "(char(1) || 'ns-unrepresentable' || char(1))"
# (decimal places, magnitude bound) with at most 15 significant digits: money, rates, quantities.
_DECIMALS = ((2, "1e13"), (4, "1e11"), (8, "1e7"))
_SAFE_KEY = re.compile(r"[a-z_][a-z0-9_$#]*")


def _json_value_sql(expr: str, kind: Kind) -> str:
    if kind.type == "id":
        return expr  # output_sql made it TEXT
    e = expr
    decimal = " OR ".join(f"(abs({e}) < {below} AND CAST(round({e} * 1e{places}) AS INTEGER) / 1e{places} = {e})"
                          for places, below in _DECIMALS)
    decimal = f"abs({e}) >= 1e-4 AND ({decimal})"
    return (f"CASE typeof({e}) WHEN 'real' THEN CASE WHEN {decimal} THEN {e} ELSE {_UNREPRESENTABLE_SQL} END"
            f" WHEN 'blob' THEN {_UNREPRESENTABLE_SQL} ELSE {e} END")


def json_item_sql(keys: Sequence[str], outputs: Sequence[str], kinds: Sequence[Kind]) -> str | None:
    """The select list (one column) giving each row's item, `{"links":[],...}`, as JSON text; None
    when a key is not a plain lower-case name (then items are built in Python)."""
    if not all(_SAFE_KEY.fullmatch(key) for key in keys) or "links" in keys:
        return None
    members = ", ".join(f"'{key}', {_json_value_sql(expr, kind)}" for key, expr, kind in zip(keys, outputs, kinds))
    return f"json_object('links', json_array(){', ' if members else ''}{members}) AS item"


# Values whose JSON text the probe compares: escapes, non-ASCII, integers, and REALs of each range.
_PROBE_VALUES: tuple[object, ...] = (
    'q"uote\\ \x00\x01\x1f\x7f\n\r\t\b\f \u00e9\u20ac\u2028\U0001f600', "", "null", 0, -1, 2**63 - 1, -(2**63),
    1234.56, -0.5, 100.0, 0.0001, 1.09112282, 140.14670557, 9999999999999.99, 99999999999.9999, 0.1 + 0.2,
    617428.8843511459, 1e15, 1e-05, 0.0, -0.0, b"\x00blob", None)


def sqlite_json_agrees(conn: sqlite3.Connection) -> bool:
    """Whether this SQLite writes JSON items as `json_item_sql` expects (or marks the value)."""
    kind = Kind("number")
    for value in _PROBE_VALUES:
        row = conn.execute(f"SELECT json_object('links', json_array(), 'v', {_json_value_sql('?1', kind)})",
                           (value,)).fetchone()
        text = row[0]
        if _UNREPRESENTABLE_JSON in text:
            if isinstance(value, (str, int)) and not isinstance(value, bool):
                return False  # strings and integers must always be written
            continue
        expected = json.dumps({"links": [], "v": value}, separators=(",", ":"), ensure_ascii=False)
        if text != expected:
            return False
    return True


# A null member of an item (after "links", so always after a comma). It cannot match inside a JSON
# string, where every quote is escaped, and item keys are plain names (_SAFE_KEY).
_NULL_MEMBER = re.compile(r',"[a-z0-9_$#]+":null(?=[,}])')


def json_items_text(rows: Sequence[tuple], keys: tuple[str, ...], omit_null: bool) -> str | None:
    """The items of JSON-form rows, joined with commas; None when SQLite marked a value it could
    not write as Python would (the caller then formats the page in Python)."""
    text = ",".join([row[0] for row in rows])
    if _UNREPRESENTABLE_JSON in text:
        return None
    if omit_null:
        text = _NULL_MEMBER.sub("", text)
    return text


def encode_items(items: Sequence[dict[str, object]]) -> str:
    """Items as `json_items_text` gives them, from dicts (the app's JSON encoding, sans brackets)."""
    return json.dumps(items, separators=(",", ":"), ensure_ascii=False, default=str)[1:-1]


def build_items(rows: Sequence[tuple], keys: Sequence[str], converters: Sequence[Converter | None],
                omit_null: bool, *, links: bool = False) -> list[dict[str, object]]:
    """One dict per row, keys in column order; `links=True` puts NetSuite's `"links": []` first."""
    active = [(i, f) for i, f in enumerate(converters) if f is not None]
    if active:
        rows = [_convert(row, active) for row in rows]
    keys = tuple(keys)
    if omit_null:
        nones = repeat(None)
        if links:
            items = []
            for row in rows:
                item: dict[str, object] = {"links": []}
                item.update(compress(zip(keys, row), map(is_not, row, nones)))
                items.append(item)
            return items
        return [dict(compress(zip(keys, row), map(is_not, row, nones))) for row in rows]
    if links:
        items = []
        for row in rows:
            item = {"links": []}
            item.update(zip(keys, row))
            items.append(item)
        return items
    return [dict(zip(keys, row)) for row in rows]


def _convert(row: tuple, active: list[tuple[int, Converter]]) -> list[object]:
    values = list(row)
    for i, f in active:
        if values[i] is not None:
            values[i] = f(values[i])
    return values
