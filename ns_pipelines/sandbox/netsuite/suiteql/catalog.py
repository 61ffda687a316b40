"""What SuiteQL can see: tables, columns and how each column's values are typed and shown."""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from ..schema import (BOOLEAN_COLUMNS, DATE_COLUMNS, DATETIME_COLUMNS, ID_COLUMNS, MONEY_COLUMNS,
                      SUITEQL_TABLES)

# Columns of the store that SuiteQL does not expose (schema.py says so).
HIDDEN_COLUMNS = {("deletedrecord", "id")}

DATEISH = frozenset({"date", "datetime", "dateany"})
NUMERIC = frozenset({"money", "number", "any", "null"})


@dataclass(frozen=True)
class Kind:
    """The static type of a SuiteQL expression, as far as output formatting needs it.

    type: id | bool | date (ISO 'YYYY-MM-DD') | datetime (ISO 'YYYY-MM-DD HH:MM:SS') |
          dateany (computed date, either form) | money | number | text | any | null
    bare: the value is exactly as stored in a base column (no arithmetic, no float noise).
    origin: (base table, column) when the expression is a base column passed through unchanged.
    """

    type: str
    bare: bool = False
    origin: tuple[str, str] | None = None

    @property
    def dateish(self) -> bool:
        return self.type in DATEISH

    def computed(self) -> "Kind":
        return Kind(self.type)


ANY = Kind("any")
NUMBER = Kind("number")
TEXT = Kind("text")
NULL = Kind("null")


def column_type(name: str, declared: str) -> str:
    if name in ID_COLUMNS:
        return "id"
    if name in BOOLEAN_COLUMNS:
        return "bool"
    if name in DATE_COLUMNS:
        return "date"
    if name in DATETIME_COLUMNS:
        return "datetime"
    if name in MONEY_COLUMNS:
        return "money"
    declared = declared.upper()
    if "INT" in declared or "NUM" in declared or "REAL" in declared:
        return "number"
    return "text"


class Catalog:
    """Table -> ordered columns with their kinds; loaded from the store's own DDL."""

    def __init__(self, tables: dict[str, dict[str, Kind]], notnull: set[tuple[str, str]],
                 rowid_keys: dict[str, str] | None = None) -> None:
        self.tables = tables
        self.notnull = notnull
        self.rowid_keys = rowid_keys or {}  # table -> its INTEGER PRIMARY KEY column (unique)

    @classmethod
    def load(cls, conn: sqlite3.Connection) -> "Catalog":
        tables: dict[str, dict[str, Kind]] = {}
        notnull: set[tuple[str, str]] = set()
        rowid_keys: dict[str, str] = {}
        for table in SUITEQL_TABLES:
            columns: dict[str, Kind] = {}
            info = conn.execute(f'PRAGMA table_info("{table}")').fetchall()
            keys = [row for row in info if row[5]]
            if len(keys) == 1 and (keys[0][2] or "").upper() == "INTEGER":
                rowid_keys[table] = keys[0][1]
            for row in info:
                name, declared, is_notnull, pk = row[1], row[2] or "", row[3], row[5]
                if (table, name) in HIDDEN_COLUMNS:
                    continue
                columns[name] = Kind(column_type(name, declared), True, (table, name))
                if is_notnull or (pk and "INT" in declared.upper()):
                    notnull.add((table, name))
            tables[table] = columns
        return cls(tables, notnull, rowid_keys)

    def has(self, table: str) -> bool:
        return table in self.tables

    def column(self, table: str, name: str) -> Kind | None:
        return self.tables.get(table, {}).get(name)

    def sqlglot_schema(self) -> dict[str, dict[str, str]]:
        return {table: {name: "TEXT" for name in columns} for table, columns in self.tables.items()}


def merge(kinds: list[Kind]) -> Kind:
    """The kind of CASE / NVL / COALESCE / UNION results: the common kind of the branches."""
    known = [k for k in kinds if k.type != "null"]
    if not known:
        return NULL
    first = known[0]
    if all(k.type == first.type for k in known):
        return Kind(first.type, all(k.bare for k in known))
    if all(k.dateish for k in known):
        return Kind("dateany")
    if first.type in ("id", "money") and all(k.type in (first.type, "number") for k in known):
        return Kind(first.type)  # NVL(entity, 0) is still an id; NVL(foreigntotal, 0) money
    return ANY


def storage(kind: Kind) -> str | None:
    """How a date kind is stored: 'short' ('YYYY-MM-DD'), 'full' (with the time) or unknown."""
    return {"date": "short", "datetime": "full"}.get(kind.type)
