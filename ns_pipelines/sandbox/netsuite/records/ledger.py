"""Small SQL helpers over the store: lookups, open amounts computed live from the links.

Open amounts are computed from `nexttransactionlinelink` rather than read from the stored
paid/unpaid columns, so a request that applies several lines sees its own earlier changes
before balances.recompute_document_amounts runs at the end of the write.
"""
from __future__ import annotations

import sqlite3
from decimal import Decimal
from typing import Any

from ..errors import record_not_found
from .types import BY_TRANTYPE, CUSTOMER, RecordType
from .values import ZERO, dec, is_int_id

Row = sqlite3.Row


def find_id(conn: sqlite3.Connection, rt: RecordType, ref: str) -> int:
    """The internal id named by `ref` ('104' or 'eid:<external id>'); 404 when absent."""
    text = str(ref).strip()
    if text.lower().startswith("eid:"):
        eid = text[4:]
        row = find_by_external_id(conn, rt, eid)
        if row is None:
            raise record_not_found(rt.key, text)
        return int(row["id"])
    if not is_int_id(text):
        raise record_not_found(rt.key, text)
    record_id = int(text)
    if rt is CUSTOMER:
        row = conn.execute("SELECT id FROM customer WHERE id = ?", (record_id,)).fetchone()
    else:
        row = conn.execute('SELECT id FROM "transaction" WHERE id = ? AND type = ?',
                           (record_id, rt.trantype)).fetchone()
    if row is None:
        raise record_not_found(rt.key, text)
    return record_id


def find_by_external_id(conn: sqlite3.Connection, rt: RecordType, eid: str) -> Row | None:
    if rt is CUSTOMER:
        return conn.execute("SELECT id FROM customer WHERE externalid = ?", (eid,)).fetchone()
    return conn.execute('SELECT id FROM "transaction" WHERE recordtype = ? AND externalid = ?',
                        (rt.key, eid)).fetchone()


def tran(conn: sqlite3.Connection, tran_id: int) -> Row | None:
    return conn.execute('SELECT * FROM "transaction" WHERE id = ?', (tran_id,)).fetchone()


def main_line(conn: sqlite3.Connection, tran_id: int) -> Row | None:
    return conn.execute("SELECT * FROM transactionline WHERE \"transaction\" = ? AND mainline = 'T'",
                        (tran_id,)).fetchone()


def lines(conn: sqlite3.Connection, tran_id: int, *, mainline: bool = False) -> list[Row]:
    return conn.execute(
        "SELECT * FROM transactionline WHERE \"transaction\" = ? AND mainline = ? ORDER BY linesequencenumber, id",
        (tran_id, "T" if mainline else "F")).fetchall()


def currency(conn: sqlite3.Connection, currency_id: Any) -> Row | None:
    if currency_id is None:
        return None
    return conn.execute("SELECT * FROM currency WHERE id = ?", (currency_id,)).fetchone()


def precision(conn: sqlite3.Connection, currency_id: Any) -> int:
    row = currency(conn, currency_id)
    return int(row["currencyprecision"]) if row is not None else 2


def customer(conn: sqlite3.Connection, customer_id: Any) -> Row | None:
    return conn.execute("SELECT * FROM customer WHERE id = ?", (customer_id,)).fetchone()


def account(conn: sqlite3.Connection, account_id: Any) -> Row | None:
    return conn.execute("SELECT * FROM account WHERE id = ?", (account_id,)).fetchone()


def subsidiary(conn: sqlite3.Connection, subsidiary_id: Any) -> Row | None:
    return conn.execute("SELECT * FROM subsidiary WHERE id = ?", (subsidiary_id,)).fetchone()


def customer_name(row: Row | None) -> str | None:
    if row is None:
        return None
    return row["companyname"] or row["entityid"]


def tran_ref_name(row: Row) -> str:
    rt = BY_TRANTYPE.get(row["type"])
    display = rt.display if rt else row["type"]
    return f"{display} #{row['tranid']}" if row["tranid"] else display


def customer_currencies(conn: sqlite3.Connection, customer_id: int) -> set[int]:
    rows = conn.execute("SELECT currency FROM customercurrency WHERE entity = ?", (customer_id,)).fetchall()
    return {int(r[0]) for r in rows}


def customer_subsidiaries(conn: sqlite3.Connection, customer_id: int) -> set[int]:
    rows = conn.execute("SELECT subsidiary FROM customersubsidiaryrelationship WHERE entity = ?",
                        (customer_id,)).fetchall()
    subs = {int(r[0]) for r in rows}
    cust = customer(conn, customer_id)
    if cust is not None:
        subs.add(int(cust["subsidiary"]))
    return subs


def exchange_rate(conn: sqlite3.Connection, currency_id: int, subsidiary_id: int | None) -> Decimal:
    """Transaction exchange rate: the currency in the subsidiary's base currency."""
    cur = currency(conn, currency_id)
    rate = dec(cur["exchangerate"]) if cur is not None else Decimal(1)
    if subsidiary_id is not None:
        sub = subsidiary(conn, subsidiary_id)
        base = currency(conn, sub["currency"]) if sub is not None else None
        if base is not None and dec(base["exchangerate"]) != 0:
            rate = rate / dec(base["exchangerate"])
    return rate.quantize(Decimal("0.00000001"))


# ---- open amounts (live from links) ------------------------------------------------------------

def _sum(conn: sqlite3.Connection, sql: str, args: tuple) -> Decimal:
    row = conn.execute(sql, args).fetchone()
    return dec(row[0]) if row and row[0] is not None else ZERO


def doc_paid(conn: sqlite3.Connection, doc_id: int, line: int | None = None) -> Decimal:
    """Applied to an invoice (or to one A/R line of a journal entry)."""
    if line is None:
        return _sum(conn, "SELECT SUM(foreignamount) FROM nexttransactionlinelink "
                          "WHERE previousdoc = ? AND linktype = 'Payment'", (doc_id,))
    return (_sum(conn, "SELECT SUM(foreignamount) FROM nexttransactionlinelink WHERE previousdoc = ? "
                       "AND previousline = ? AND linktype = 'Payment'", (doc_id, line))
            + _sum(conn, "SELECT SUM(foreignamount) FROM nexttransactionlinelink WHERE nextdoc = ? "
                         "AND nextline = ? AND linktype = 'Payment'", (doc_id, line)))


def credit_used(conn: sqlite3.Connection, doc_id: int) -> Decimal:
    """Used part of a payment or credit memo: its applications plus what refunds paid out of it."""
    applied = _sum(conn, "SELECT SUM(foreignamount) FROM nexttransactionlinelink "
                         "WHERE nextdoc = ? AND linktype = 'Payment'", (doc_id,))
    refunded = _sum(conn, "SELECT SUM(foreignamount) FROM nexttransactionlinelink "
                          "WHERE previousdoc = ? AND nexttype = 'CustRfnd'", (doc_id,))
    return applied + refunded


def applied_total(conn: sqlite3.Connection, doc_id: int) -> Decimal:
    """What a payment, credit memo or refund has applied (links where it is nextdoc)."""
    return _sum(conn, "SELECT SUM(foreignamount) FROM nexttransactionlinelink "
                      "WHERE nextdoc = ? AND linktype = 'Payment'", (doc_id,))


def deposit_of(conn: sqlite3.Connection, doc_id: int) -> int | None:
    row = conn.execute("SELECT nextdoc FROM nexttransactionlinelink WHERE previousdoc = ? AND linktype = 'Deposit'",
                       (doc_id,)).fetchone()
    return int(row[0]) if row else None


def links_of(conn: sqlite3.Connection, doc_id: int) -> list[Row]:
    """Every link the transaction is part of, on either side."""
    return conn.execute("SELECT * FROM nexttransactionlinelink WHERE previousdoc = ? OR nextdoc = ?",
                        (doc_id, doc_id)).fetchall()


def linked_ids(conn: sqlite3.Connection, doc_id: int) -> set[int]:
    out: set[int] = set()
    for link in links_of(conn, doc_id):
        out.add(int(link["previousdoc"]))
        out.add(int(link["nextdoc"]))
    out.discard(doc_id)
    return out


def is_ar_account(conn: sqlite3.Connection, account_id: Any) -> bool:
    acct = account(conn, account_id)
    return acct is not None and acct["accttype"] == "AcctRec"


def next_record_id(conn: sqlite3.Connection, customer: bool) -> int:
    """A new internal id: never one a deleted record had (NetSuite does not reuse ids)."""
    if customer:
        live = conn.execute("SELECT MAX(id) FROM customer").fetchone()[0]
        gone = conn.execute("SELECT MAX(recordid) FROM deletedrecord WHERE scriptid = 'customer'").fetchone()[0]
    else:
        live = conn.execute('SELECT MAX(id) FROM "transaction"').fetchone()[0]
        gone = conn.execute("SELECT MAX(recordid) FROM deletedrecord WHERE scriptid <> 'customer'").fetchone()[0]
    return max(int(live or 0), int(gone or 0)) + 1


def next_uniquekey(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT MAX(uniquekey) FROM transactionline").fetchone()
    return int(row[0] or 0) + 1


def next_line_id(conn: sqlite3.Connection, tran_id: int) -> int:
    return int(conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM transactionline WHERE \"transaction\" = ?",
                            (tran_id,)).fetchone()[0])


def payment_line_ids(conn: sqlite3.Connection, deposit_id: int) -> set[int]:
    """Deposit lines that stand for deposited payments (the rest are other/cash-back lines)."""
    return {int(r[0]) for r in conn.execute("SELECT nextline FROM nexttransactionlinelink WHERE nextdoc = ? "
                                            "AND linktype = 'Deposit'", (deposit_id,))}


def first_account(conn: sqlite3.Connection, accttype: str, subsidiary_id: int | None) -> Row | None:
    rows = conn.execute("SELECT * FROM account WHERE accttype = ? AND isinactive = 'F' ORDER BY id",
                        (accttype,)).fetchall()
    for row in rows:
        if subsidiary_id is not None and row["subsidiary"] is not None and int(row["subsidiary"]) == subsidiary_id:
            return row
    for row in rows:
        if row["subsidiary"] is None:
            return row
    return rows[0] if rows else None
