"""Writing rows: upsert on the primary key, soft delete. Nothing is ever hard-deleted.

Both functions take a Connection inside the caller's transaction, so rows and the sync cursor
commit together: `with engine.begin() as conn: upsert_rows(...); write_cursor(...)`.
"""
from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import Column, Connection, Table, and_, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite

from ns_pipelines.warehouse.tables.netsuite import ON_DELETE

# Per dialect: the INSERT construct with on_conflict_do_update, and the most bind parameters one
# statement may carry (SQLite: 999 before 3.32, 32766 since, or what the build says; PostgreSQL's
# protocol: 65535). The dialect name picks the entry; there is no other dialect branching.
_DIALECTS: dict[str, tuple[Callable[[Table], Any], int]] = {
    "sqlite": (sqlite.insert, 999),
    "postgresql": (postgresql.insert, 65535),
}

# Rows per executemany() call. Upserts run as one prepared single-row statement executed for
# many rows (a C loop in sqlite3, pipeline mode in psycopg 3), so each execution binds one row's
# columns and SQLite's variable limit never bounds the batch. Measured ~10x faster than
# multi-row VALUES, which SQLAlchemy compiles afresh for every batch.
UPSERT_BATCH_ROWS = 1000


def _dialect(conn: Connection) -> tuple[Callable[[Table], Any], int]:
    try:
        return _DIALECTS[conn.dialect.name]
    except KeyError:
        raise NotImplementedError(f"unsupported warehouse dialect {conn.dialect.name!r}") from None


def dialect_insert(conn: Connection, table: Table) -> Any:
    """`INSERT` for `conn`'s dialect, with `on_conflict_do_update` / `on_conflict_do_nothing`."""
    return _dialect(conn)[0](table)


def _max_params(conn: Connection) -> int:
    """Bind parameters one statement may carry on `conn` (sizes IN lists)."""
    getlimit = getattr(conn.connection.dbapi_connection, "getlimit", None)  # sqlite3, Python 3.11+
    return getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) if getlimit else _dialect(conn)[1]


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _primary_key(table: Table) -> list[Column]:
    key = list(table.primary_key.columns)
    if not key:
        raise ValueError(f"{table.name} has no primary key")
    return key


def upsert_rows(conn: Connection, table: Table, rows: Iterable[Mapping[str, Any]]) -> int:
    """Insert `rows` into `table`, updating rows whose primary key already exists.

    Only the columns present in a row are written on update; others keep their values. A row read
    from NetSuite exists there: unless it says otherwise, is_deleted is set to false and
    deleted_at to null; synced_at is set to now. Rows repeating a key: the last one wins.
    Returns the number of distinct rows written.
    """
    key = [c.name for c in _primary_key(table)]
    names = set(table.c.keys())
    defaults: dict[str, Any] = {}
    if "synced_at" in names:
        defaults["synced_at"] = _utcnow()
    if "is_deleted" in names:
        defaults.update(is_deleted=False, deleted_at=None)

    unique: dict[tuple, dict[str, Any]] = {}
    for row in rows:
        unknown = row.keys() - names
        if unknown:
            raise KeyError(f"{table.name} has no column(s) {sorted(unknown)}")
        full = {**defaults, **row}
        unique[tuple(full.get(k) for k in key)] = full

    # Rows with the same columns share one INSERT ... ON CONFLICT statement.
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for full in unique.values():
        groups.setdefault(tuple(sorted(full)), []).append(full)
    for columns, group in groups.items():
        stmt = dialect_insert(conn, table)
        to_update = {c: stmt.excluded[c] for c in columns if c not in key}
        stmt = (
            stmt.on_conflict_do_update(index_elements=key, set_=to_update)
            if to_update
            else stmt.on_conflict_do_nothing(index_elements=key)
        )
        for start in range(0, len(group), UPSERT_BATCH_ROWS):
            conn.execute(stmt, group[start : start + UPSERT_BATCH_ROWS])
    return len(unique)


def soft_delete(
    conn: Connection,
    table: Table,
    ids: Iterable[Any],
    deleted_at: dt.datetime,
    *,
    column: Column | str | None = None,
) -> int:
    """Mark rows deleted (is_deleted, deleted_at) and keep them; returns the rows newly marked.

    `ids` are values of `column`; by default the primary key (tuples for a composite key). Pass
    e.g. `column="journal_entry_id"` to mark every line of the given journal entries, or
    `column="next_doc_id"` for the applications of a deleted payment. Rows already deleted keep
    their first deleted_at. A table may set more values on deletion in `table.info["ns/on_delete"]`
    (invoices: status CLOSED, so a deleted invoice leaves open receivables).
    """
    if "is_deleted" not in table.c:
        raise ValueError(f"{table.name} has no is_deleted column")
    if column is None:
        key = _primary_key(table)
        target = key[0] if len(key) == 1 else tuple_(*key)
        width = len(key)
    else:
        target = table.c[column] if isinstance(column, str) else column
        width = 1
    values = {"is_deleted": True, "deleted_at": deleted_at, **table.info.get(ON_DELETE, {})}
    if "synced_at" in table.c:
        values["synced_at"] = _utcnow()

    unique = list(dict.fromkeys(tuple(i) if isinstance(i, list) else i for i in ids))
    batch_size = max(1, (_max_params(conn) - len(values) - 1) // width)
    marked = 0
    for start in range(0, len(unique), batch_size):
        stmt = (
            update(table)
            .where(and_(target.in_(unique[start : start + batch_size]), table.c.is_deleted.is_(False)))
            .values(values)
        )
        marked += conn.execute(stmt).rowcount
    return marked
