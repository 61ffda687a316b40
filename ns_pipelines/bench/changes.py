"""Changes a NetSuite user makes during a day, made through the sandbox's admin API (the record
service with context 'UI', as in the NetSuite UI): the load of an incremental sync.

The mix repeats every 20 changes: 6 invoice memo edits, 3 customer edits, 3 new invoices, 4 new
payments applied to open invoices, 2 new credit memos applied to open invoices, 1 voided open
invoice and 1 voided undeposited payment.
"""
from __future__ import annotations

import math
import random
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

from ..sandbox.netsuite.store import DB_FILENAME
from .accounts import SandboxProcess

MIX: tuple[str, ...] = (
    ("edit_invoice",) * 6 + ("edit_customer",) * 3 + ("new_invoice",) * 3 + ("payment",) * 4
    + ("credit_memo",) * 2 + ("void_invoice", "void_payment"))
POOL = 5_000  # the most recent candidates of each kind that changes are drawn from

_CANDIDATES = {
    "customers": "SELECT id, currency FROM customer WHERE isinactive = 'F' AND representingsubsidiary IS NULL "
                 "ORDER BY id DESC LIMIT ?",
    "invoices": "SELECT id FROM \"transaction\" WHERE type = 'CustInvc' AND voided = 'F' ORDER BY id DESC LIMIT ?",
    "open_invoices": "SELECT id, entity, currency, foreignamountunpaid AS unpaid FROM \"transaction\" t "
                     "WHERE type = 'CustInvc' AND status = 'A' AND voided = 'F' AND intercompany = 'F' "
                     "AND foreignamountunpaid >= 10 AND NOT EXISTS (SELECT 1 FROM nexttransactionlinelink l "
                     "WHERE l.previousdoc = t.id) ORDER BY id DESC LIMIT ?",
    "payments": "SELECT id FROM \"transaction\" WHERE type = 'CustPymt' AND status = 'B' AND voided = 'F' "
                "ORDER BY id DESC LIMIT ?",
}


def _candidates(data_dir: Path) -> dict[str, list[sqlite3.Row]]:
    conn = sqlite3.connect(f"file:{data_dir / DB_FILENAME}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        return {name: conn.execute(sql, (POOL,)).fetchall() for name, sql in _CANDIDATES.items()}
    finally:
        conn.close()


def make_changes(sandbox: SandboxProcess, count: int, *, seed: int = 7) -> Counter[str]:
    """Make `count` changes (the MIX, in order); returns how many of each kind."""
    rng = random.Random(seed)
    pools = {name: rows[:] for name, rows in _candidates(sandbox.data_dir).items()}
    for rows in pools.values():
        rng.shuffle(rows)

    def take(pool: str) -> sqlite3.Row:
        """A record of the pool: never twice for open invoices and payments (each is applied or voided)."""
        if not pools[pool]:
            raise RuntimeError(f"the account has too few {pool.replace('_', ' ')} for {count} changes")
        return pools[pool].pop() if pool in ("open_invoices", "payments") else rng.choice(pools[pool])

    def ref(row: sqlite3.Row | int) -> dict[str, str]:
        return {"id": str(row if isinstance(row, int) else row["id"])}

    def amount(invoice: sqlite3.Row, share: float) -> int:
        return max(1, math.floor(float(invoice["unpaid"]) * share))  # whole units: JPY has no decimals

    done: Counter[str] = Counter()
    for n in range(count):
        kind = MIX[n % len(MIX)]
        body: dict[str, Any]
        if kind == "edit_invoice":
            sandbox.admin("PATCH", f"/records/invoice/{take('invoices')['id']}", {"memo": f"edited by a user {n}"})
        elif kind == "edit_customer":
            sandbox.admin("PATCH", f"/records/customer/{take('customers')['id']}", {"phone": f"+1 555 01{n:04d}"})
        elif kind == "new_invoice":
            customer = take("customers")
            body = {"entity": ref(customer), "currency": ref(customer["currency"]),
                    "item": {"items": [{"amount": round(rng.uniform(50, 5_000), 2)}]}}
            sandbox.admin("POST", "/records/invoice", body)
        elif kind == "payment":
            invoice = take("open_invoices")
            paid = amount(invoice, rng.choice((0.5, 1.0)))
            body = {"customer": ref(invoice["entity"]), "currency": ref(invoice["currency"]), "undepFunds": True,
                    "payment": paid, "apply": {"items": [{"doc": ref(invoice), "apply": True, "amount": paid}]}}
            sandbox.admin("POST", "/records/customerPayment", body)
        elif kind == "credit_memo":
            invoice = take("open_invoices")
            credit = amount(invoice, 0.25)
            body = {"entity": ref(invoice["entity"]), "currency": ref(invoice["currency"]),
                    "item": {"items": [{"amount": credit}]},
                    "apply": {"items": [{"doc": ref(invoice), "amount": credit}]}}
            sandbox.admin("POST", "/records/creditMemo", body)
        elif kind == "void_invoice":
            sandbox.admin("POST", f"/records/invoice/{take('open_invoices')['id']}/void")
        else:
            sandbox.admin("POST", f"/records/customerPayment/{take('payments')['id']}/void")
        done[kind] += 1
    return done
