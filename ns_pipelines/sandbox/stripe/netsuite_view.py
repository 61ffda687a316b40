"""Read-only access to the NetSuite sandbox's store: the customers and invoices the Stripe seed pays.

The Stripe sandbox never writes to NetSuite (the pipeline's writeback does); it opens the
NetSuite SQLite file read-only.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from ns_pipelines.money import to_minor

NETSUITE_DB = "netsuite.sqlite3"


@dataclass(frozen=True)
class NsCustomer:
    id: int
    entityid: str
    name: str
    email: str | None
    currency: str  # lower-case ISO code
    has_open_invoices: bool


@dataclass(frozen=True)
class NsInvoice:
    id: int
    tranid: str
    customer: int
    currency: str
    total: int  # minor units
    unpaid: int  # minor units
    trandate: str
    open: bool


def netsuite_db_path(netsuite: Any) -> Path:
    """The NetSuite store's file from a SandboxServer, SandboxAccount, Store, data dir or file path."""
    for chain in (("account", "store", "path"), ("store", "path"), ("path",)):
        target = netsuite
        for name in chain:
            target = getattr(target, name, None)
            if target is None:
                break
        if target is not None:
            return Path(target)
    path = Path(netsuite)
    return path / NETSUITE_DB if path.is_dir() else path


class NetSuiteView:
    """Customers and invoices of a NetSuite sandbox account, read through a read-only connection."""

    def __init__(self, netsuite: Any) -> None:
        self.path = netsuite_db_path(netsuite)
        if not self.path.exists():
            raise FileNotFoundError(f"no NetSuite sandbox store at {self.path}")

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=60)
        conn.row_factory = sqlite3.Row
        return conn

    def today(self) -> date:
        with self._connect() as conn:
            row = conn.execute("SELECT value FROM sandbox_meta WHERE key = 'seed.today'").fetchone()
        return date.fromisoformat(row[0]) if row else date.today()

    def customers(self) -> list[NsCustomer]:
        """Active customers that are not intercompany (they pay by Stripe; subsidiaries do not)."""
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT c.id, c.entityid, COALESCE(c.companyname, c.entityid) AS name, c.email, "
                "lower(cu.symbol) AS currency, EXISTS(SELECT 1 FROM \"transaction\" t WHERE t.entity = c.id "
                "AND t.type = 'CustInvc' AND t.status = 'A' AND t.voided = 'F') AS has_open "
                "FROM customer c JOIN currency cu ON cu.id = c.currency "
                "WHERE c.isinactive = 'F' AND c.representingsubsidiary IS NULL ORDER BY c.id").fetchall()
        return [NsCustomer(r["id"], r["entityid"], r["name"], r["email"], r["currency"], bool(r["has_open"]))
                for r in rows]

    def invoices(self, *, paid_limit: int = 200, invoice_id: int | None = None) -> list[NsInvoice]:
        """Invoices of those customers that are not voided or intercompany: every open one and the
        `paid_limit` most recent paid ones (a large account has far more than a seed can use)."""
        sql = ("SELECT t.id, t.tranid, t.entity, lower(cu.symbol) AS currency, t.foreigntotal, "
               "t.foreignamountunpaid, t.trandate, t.status FROM \"transaction\" t "
               "JOIN currency cu ON cu.id = t.currency JOIN customer c ON c.id = t.entity "
               "WHERE t.type = 'CustInvc' AND t.voided = 'F' AND t.intercompany = 'F' "
               "AND c.isinactive = 'F' AND c.representingsubsidiary IS NULL AND t.status = ?")
        with self._connect() as conn:
            if invoice_id is not None:
                rows = conn.execute(sql.replace("t.status = ?", "t.status IN ('A', 'B') AND t.id = ?"),
                                    (int(invoice_id),)).fetchall()
            else:
                rows = conn.execute(sql + " ORDER BY t.id", ("A",)).fetchall()
                rows += conn.execute(sql + " ORDER BY t.id DESC LIMIT ?", ("B", paid_limit)).fetchall()
        invoices = [NsInvoice(r["id"], r["tranid"], r["entity"], r["currency"],
                              to_minor(Decimal(str(r["foreigntotal"])), r["currency"]),
                              to_minor(Decimal(str(r["foreignamountunpaid"] or 0)), r["currency"]),
                              r["trandate"], r["status"] == "A")
                    for r in rows]
        return sorted(invoices, key=lambda i: i.id)

    def invoice(self, invoice_id: int) -> NsInvoice | None:
        found = self.invoices(invoice_id=invoice_id)
        return found[0] if found else None
