"""The Stripe sandbox's SQLite ground truth (DATA_DIR/stripe.sqlite3): one JSON body per object.

Every API object (customers, charges, events ...) is one row of `stripe_object`: its id, its
`object` type, `created`, and its body as the API renders it unexpanded. `seq` orders objects
created in the same second (lists are newest first: created DESC, seq DESC). `payout` is
bookkeeping Stripe does not show on the object: the automatic payout that swept a balance
transaction (the payout's own balance transaction carries it too). Filters read the body with
SQLite's JSON functions.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..sqlite import SqliteStore

DB_FILENAME = "stripe.sqlite3"

DDL = """
CREATE TABLE IF NOT EXISTS stripe_object (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    object TEXT NOT NULL,
    created INTEGER NOT NULL,
    payout TEXT,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS stripe_object_list ON stripe_object(object, created, seq);
CREATE INDEX IF NOT EXISTS stripe_object_payout ON stripe_object(payout);
CREATE TABLE IF NOT EXISTS stripe_delivery (
    event_id TEXT PRIMARY KEY,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL DEFAULT 0,
    delivered_at TEXT,
    last_error TEXT,
    given_up INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS stripe_idempotency (
    key TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS stripe_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

DATA_TABLES = ("stripe_object", "stripe_delivery", "stripe_idempotency")


class StripeStore(SqliteStore):
    """Readers run concurrently (WAL); writes are serialised by `write()` (nested use joins)."""

    meta_table = "stripe_meta"

    def __init__(self, data_dir: Path | str) -> None:
        super().__init__(data_dir, DB_FILENAME, DDL)

    # ------------------------------------------------------------------ objects
    def insert(self, body: dict[str, Any], *, payout: str | None = None) -> None:
        with self.write() as conn:
            conn.execute("INSERT INTO stripe_object(id, object, created, payout, body) VALUES (?, ?, ?, ?, ?)",
                         (body["id"], body["object"], int(body["created"]), payout, _dumps(body)))

    def update(self, body: dict[str, Any]) -> None:
        with self.write() as conn:
            conn.execute("UPDATE stripe_object SET body = ? WHERE id = ?", (_dumps(body), body["id"]))

    def set_payout(self, object_ids: Sequence[str], payout_id: str) -> None:
        with self.write() as conn:
            conn.executemany("UPDATE stripe_object SET payout = ? WHERE id = ?",
                             [(payout_id, oid) for oid in object_ids])

    def get(self, object_id: str, object_type: str | None = None) -> dict[str, Any] | None:
        sql = "SELECT body FROM stripe_object WHERE id = ?"
        args: list[Any] = [object_id]
        if object_type is not None:
            sql += " AND object = ?"
            args.append(object_type)
        row = self.connect().execute(sql, args).fetchone()
        return json.loads(row[0]) if row else None

    def position(self, object_id: str, object_type: str) -> tuple[int, int] | None:
        row = self.connect().execute("SELECT created, seq FROM stripe_object WHERE id = ? AND object = ?",
                                     (object_id, object_type)).fetchone()
        return (row[0], row[1]) if row else None

    def select(self, object_type: str, where: Sequence[str] = (), args: Sequence[Any] = (), *,
               order: str = "created DESC, seq DESC", limit: int | None = None) -> list[dict[str, Any]]:
        sql = "SELECT body FROM stripe_object WHERE object = ?"
        for clause in where:
            sql += f" AND ({clause})"
        sql += f" ORDER BY {order}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        rows = self.connect().execute(sql, [object_type, *args]).fetchall()
        return [json.loads(r[0]) for r in rows]

    def page(self, object_type: str, where: Sequence[str], args: Sequence[Any], *, limit: int,
             starting_after: tuple[int, int] | None = None,
             ending_before: tuple[int, int] | None = None) -> tuple[list[dict[str, Any]], bool]:
        """One page, newest first, and whether more lie beyond it in the direction of travel.

        With `ending_before`, the `limit` objects just newer than the cursor (still newest first).
        """
        where, args = list(where), list(args)
        if ending_before is not None:
            where.append("created > ? OR (created = ? AND seq > ?)")
            args += [ending_before[0], ending_before[0], ending_before[1]]
            rows = self.select(object_type, where, args, order="created ASC, seq ASC", limit=limit + 1)
            has_more = len(rows) > limit
            return list(reversed(rows[:limit])), has_more
        if starting_after is not None:
            where.append("created < ? OR (created = ? AND seq < ?)")
            args += [starting_after[0], starting_after[0], starting_after[1]]
        rows = self.select(object_type, where, args, limit=limit + 1)
        return rows[:limit], len(rows) > limit

    def wipe(self) -> None:
        with self.write() as conn:
            for table in DATA_TABLES:
                conn.execute(f"DELETE FROM {table}")
            conn.execute("DELETE FROM stripe_meta WHERE key NOT IN ('credentials')")


def _dumps(body: dict[str, Any]) -> str:
    return json.dumps(body, separators=(",", ":"), sort_keys=False)
