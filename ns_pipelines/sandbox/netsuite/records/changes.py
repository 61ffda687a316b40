"""One write request: what it touched, and the bookkeeping done when it ends.

A write records the transactions whose amounts it may change (`touch` before changing their
links), the customers involved and its primary record. `finish()` then, inside the same store
transaction: recomputes document amounts and customer balances (balances.py), stamps
`lastmodifieddate` on every document whose amounts or status changed (and
`linelastmodifieddate` on journal lines whose open amount changed), and calls `notify` for the
primary record and for each other document it changed (event 'edit').
"""
from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from ..errors import user_error
from ..settings import SandboxSettings
from ..store import Store
from . import ledger
from .types import BY_TRANTYPE, RecordType
from .values import dec

Notify = Callable[[str, int, str], None]

LOCKED_TEXT = "This record has been locked by a user defined workflow."

_SNAP_COLUMNS = ("status", "voided", "foreigntotal", "foreignamountpaid", "foreignamountunpaid",
                 "foreignpaymentamountused", "foreignpaymentamountunused", "entity")


@dataclass
class Change:
    conn: sqlite3.Connection
    store: Store
    settings: SandboxSettings
    context: str
    now: str = ""
    primary: tuple[RecordType, int, str] | None = None
    touched: dict[int, tuple[Any, ...] | None] = field(default_factory=dict)
    line_snap: dict[int, dict[int, Any]] = field(default_factory=dict)
    customers: set[int] = field(default_factory=set)
    deleted: set[int] = field(default_factory=set)
    extra_events: list[tuple[str, int, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.now:
            self.now = self.store.now()

    # ---- faults ----
    def check_locked(self, record_id: int) -> None:
        if int(record_id) in self.settings.faults.locked_record_ids:
            raise user_error(LOCKED_TEXT)

    # ---- tracking ----
    def touch(self, *tran_ids: int) -> None:
        """Remember a transaction's amounts before this write changes them."""
        for tid in tran_ids:
            tid = int(tid)
            if tid in self.touched:
                continue
            row = ledger.tran(self.conn, tid)
            if row is None:
                self.touched[tid] = None
                continue
            self.touched[tid] = tuple(_norm(row[c]) for c in _SNAP_COLUMNS)
            self.line_snap[tid] = {int(r["id"]): _norm(r["foreignamountunpaid"]) for r in self.conn.execute(
                "SELECT id, foreignamountunpaid FROM transactionline WHERE \"transaction\" = ?", (tid,))}
            self._note_customers(tid)

    def _note_customers(self, tid: int) -> None:
        for r in self.conn.execute(
                'SELECT entity FROM "transaction" WHERE id = ? AND entity IS NOT NULL '
                "UNION SELECT entity FROM transactionline WHERE \"transaction\" = ? AND entity IS NOT NULL",
                (tid, tid)):
            self.customers.add(int(r[0]))

    def set_primary(self, rt: RecordType, record_id: int, event: str) -> None:
        self.primary = (rt, int(record_id), event)
        if rt.is_transaction and event != "delete":
            self.touch(record_id)

    # ---- the end of the request ----
    def finish(self, notify: Notify | None) -> None:
        from .. import balances  # written alongside; imported late so the package loads without it

        conn = self.conn
        if self.primary is not None and self.primary[0].is_transaction and self.primary[2] != "delete":
            self._note_customers(self.primary[1])
        alive = [tid for tid in self.touched if tid not in self.deleted and ledger.tran(conn, tid) is not None]
        for tid in alive:
            self._note_customers(tid)
        if alive:
            balances.recompute_document_amounts(conn, alive)
        changed: list[tuple[str, int]] = []
        primary_id = self.primary[1] if self.primary and self.primary[0].is_transaction else None
        for tid in alive:
            row = ledger.tran(conn, tid)
            before = self.touched[tid]
            after = tuple(_norm(row[c]) for c in _SNAP_COLUMNS)
            lines_before = self.line_snap.get(tid, {})
            changed_lines = [int(r["id"]) for r in conn.execute(
                "SELECT id, foreignamountunpaid FROM transactionline WHERE \"transaction\" = ?", (tid,))
                if int(r["id"]) in lines_before and lines_before[int(r["id"])] != _norm(r["foreignamountunpaid"])]
            if changed_lines:
                conn.executemany("UPDATE transactionline SET linelastmodifieddate = ? "
                                 "WHERE \"transaction\" = ? AND id = ?",
                                 [(self.now, tid, lid) for lid in changed_lines])
            if tid == primary_id:
                conn.execute('UPDATE "transaction" SET lastmodifieddate = ? WHERE id = ?', (self.now, tid))
                continue
            if before != after or changed_lines:
                conn.execute('UPDATE "transaction" SET lastmodifieddate = ? WHERE id = ?', (self.now, tid))
                rt = BY_TRANTYPE.get(row["type"])
                if rt is not None:
                    changed.append((rt.key, tid))
        customers = sorted(c for c in self.customers if ledger.customer(conn, c) is not None)
        if customers:
            balances.recompute_customer_balances(conn, customer_ids=customers, today=self.store.today())
        if notify is None:
            return
        if self.primary is not None:
            rt, rid, event = self.primary
            notify(rt.key, rid, event)
        for key, tid in changed:
            notify(key, tid, "edit")
        for key, rid, event in self.extra_events:
            notify(key, rid, event)


def _norm(value: Any) -> Any:
    """Compare money columns by value (SQLite may hand back 10, 10.0 or '10.00')."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return dec(value).normalize()
    if isinstance(value, str):
        try:
            return Decimal(value).normalize()
        except InvalidOperation:  # not a number: compare as text
            return value
    return value
