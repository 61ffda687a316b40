"""The steps every transaction type shares: deriving a new document's header, inserting it with
its main line, the header fields an update may change, and writing the total."""
from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from ...errors import invalid_key_or_ref, user_error
from .. import ledger
from ..changes import Change
from ..types import CREDIT_MEMO, INVOICE, PAYMENT, REFUND, RecordType
from ..values import ZERO, parse_bool, parse_date, parse_rate, parse_text, rate_text, store_money
from .lines import insert_line, set_main_account
from .references import account_of_type, check_external_id, ref_id, required


@dataclass
class Header:
    entity: int | None
    currency: int
    precision: int
    subsidiary: int
    exchangerate: Decimal
    trandate: str


# ---- create ------------------------------------------------------------------------------------

def entity_header(ch: Change, body: dict[str, Any], entity_field: str, label: str) -> Header:
    """The header of a document to a customer: the customer's currency and primary subsidiary
    unless the body names others the customer has."""
    conn = ch.conn
    if body.get(entity_field) is None:
        raise required(label, entity_field)
    entity = ref_id(conn, body[entity_field], "customer", entity_field)
    cust = ledger.customer(conn, entity)
    if body.get("currency") is not None:
        currency = ref_id(conn, body["currency"], "currency", "currency")
    else:
        currency = int(cust["currency"])
    allowed = ledger.customer_currencies(conn, entity) | {int(cust["currency"])}
    if currency not in allowed:
        raise invalid_key_or_ref("currency", currency)
    if body.get("subsidiary") is not None:
        subsidiary = ref_id(conn, body["subsidiary"], "subsidiary", "subsidiary")
        if subsidiary not in ledger.customer_subsidiaries(conn, entity):
            raise invalid_key_or_ref("subsidiary", subsidiary)
    else:
        subsidiary = int(cust["subsidiary"])
    return finish_header(ch, body, entity, currency, subsidiary)


def finish_header(ch: Change, body: dict[str, Any], entity: int | None, currency: int, subsidiary: int) -> Header:
    conn = ch.conn
    rate = (parse_rate(body["exchangeRate"], "exchangeRate") if body.get("exchangeRate") is not None
            else ledger.exchange_rate(conn, currency, subsidiary))
    trandate = parse_date(body["tranDate"], "tranDate") if body.get("tranDate") is not None else ch.store.today()
    return Header(entity, currency, ledger.precision(conn, currency), subsidiary, rate, trandate)


def _next_tranid(conn: sqlite3.Connection, rt: RecordType) -> str:
    """The next document number in the account's sequence for the type (numbers of deleted
    documents stay used up)."""
    last = [conn.execute('SELECT tranid FROM "transaction" WHERE type = ? AND tranid IS NOT NULL '
                         "ORDER BY id DESC LIMIT 1", (rt.trantype,)).fetchone(),
            conn.execute("SELECT name FROM deletedrecord WHERE scriptid = ? AND name IS NOT NULL "
                         "ORDER BY recordid DESC LIMIT 1", (rt.key,)).fetchone()]
    best: tuple[int, str, int] | None = None
    for row in last:
        m = re.match(r"^(.*?)(\d+)$", str(row[0])) if row is not None else None
        if m and (best is None or int(m.group(2)) > best[0]):
            best = (int(m.group(2)), m.group(1), len(m.group(2)))
    if best is not None:
        return f"{best[1]}{best[0] + 1:0{best[2]}d}"
    return f"{rt.tranid_prefix}10001"


def _insert_transaction(ch: Change, rt: RecordType, hdr: Header, body: dict[str, Any], *, status: str,
                        duedate: str | None, amounts: str) -> sqlite3.Row:
    conn = ch.conn
    eid = parse_text(body.get("externalId"), "externalId")
    check_external_id(conn, rt, eid)
    tranid = parse_text(body.get("tranId"), "tranId") or _next_tranid(conn, rt)
    paid = unpaid = used = unused = None
    if amounts == "debit":
        paid, unpaid = "0", "0"
    elif amounts == "credit":
        used, unused = "0", "0"
    # invoices to a customer that represents a subsidiary are intercompany, as the seed writes them
    intercompany, tosub, terms = "F", None, None
    cust = ledger.customer(conn, hdr.entity) if hdr.entity is not None else None
    if rt is INVOICE and cust is not None:
        terms = cust["terms"]
        if cust["representingsubsidiary"] is not None:
            intercompany, tosub = "T", cust["representingsubsidiary"]
    if body.get("intercompany") is not None:
        intercompany = "T" if parse_bool(body["intercompany"], "intercompany") else "F"
    trandate = date.fromisoformat(hdr.trandate)
    period = (trandate.year - 2000) * 12 + trandate.month  # the seed's posting period numbering
    cur = conn.execute(
        'INSERT INTO "transaction" (id, tranid, transactionnumber, type, recordtype, status, trandate, duedate, '
        "postingperiod, posting, voided, void, entity, currency, exchangerate, foreigntotal, foreignamountpaid, "
        "foreignamountunpaid, foreignpaymentamountused, foreignpaymentamountunused, memo, externalid, "
        "intercompany, tosubsidiary, terms, createddate, lastmodifieddate) "
        "VALUES (?,?,?,?,?,?,?,?,?,'T','F','F',?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (ledger.next_record_id(conn, customer=False), tranid, tranid, rt.trantype, rt.key, status, hdr.trandate,
         duedate, period, hdr.entity, hdr.currency, rate_text(hdr.exchangerate), "0", paid, unpaid, used, unused,
         parse_text(body.get("memo"), "memo"), eid, intercompany, tosub, terms, ch.now, ch.now))
    return ledger.tran(conn, cur.lastrowid)


def insert_document(ch: Change, rt: RecordType, hdr: Header, body: dict[str, Any], *, account: int | None,
                    status: str, duedate: str | None = None, amounts: str = "",
                    summary_line: bool = False) -> sqlite3.Row:
    """A new transaction and its main line (line 0, posting to `account`; the total comes later).

    `amounts` starts the open-amount columns at zero: "debit" for documents that get paid,
    "credit" for ones that are applied. A journal entry's main line is a summary line
    (`summary_line`): no account or amount, the entry's memo."""
    row = _insert_transaction(ch, rt, hdr, body, status=status, duedate=duedate, amounts=amounts)
    insert_line(ch, row["id"], 0, mainline=True, subsidiary=hdr.subsidiary, entity=hdr.entity, account=account,
                amount=None if summary_line else ZERO, precision=hdr.precision,
                memo=row["memo"] if summary_line else None)
    return row


def set_total(ch: Change, tran_id: int, total: Decimal, precision: int, *, main_line: bool = True) -> None:
    """Header total and main-line amount (positive on every document, as the seed stores them);
    journal entries pass main_line=False: there is no amount on their main line."""
    ch.conn.execute('UPDATE "transaction" SET foreigntotal = ? WHERE id = ?',
                    (store_money(total, precision), tran_id))
    if not main_line:
        return
    ch.conn.execute("UPDATE transactionline SET foreignamount = ?, netamount = ?, linelastmodifieddate = ? "
                    "WHERE \"transaction\" = ? AND mainline = 'T'",
                    (store_money(total, precision), store_money(total, precision), ch.now, tran_id))


# ---- update ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Edit:
    """A transaction an update request is changing."""
    row: sqlite3.Row  # as it was before the request
    precision: int
    main: sqlite3.Row | None

    @property
    def subsidiary(self) -> int | None:
        return self.main["subsidiary"] if self.main is not None else None


def begin_update(ch: Change, rt: RecordType, tran_id: int, body: dict[str, Any], *,
                 main_account_types: tuple[str, ...] = ()) -> Edit:
    """What every transaction update starts with: refuse a locked or voided transaction, make it
    the request's primary record, write the shared header fields and, for types whose main-line
    account a body may simply set, that account (of one of `main_account_types`)."""
    conn = ch.conn
    ch.check_locked(tran_id)
    row = ledger.tran(conn, tran_id)
    if row["voided"] == "T":
        raise user_error("This transaction has been voided and cannot be changed.")
    ch.set_primary(rt, tran_id, "edit")
    _update_header(ch, rt, row, body)
    edit = Edit(row, ledger.precision(conn, row["currency"]), ledger.main_line(conn, tran_id))
    if main_account_types and body.get("account") is not None:
        set_main_account(ch, tran_id, account_of_type(conn, body["account"], "account", main_account_types))
    return edit


def sublist_given(body: dict[str, Any], replace: set[str], name: str) -> bool:
    """Whether an update writes the sublist: it sends it, or asks to replace it (with nothing)."""
    return name in body or name in replace


def _refuse_change(conn: sqlite3.Connection, body: dict[str, Any], field: str, table: str, label: str,
                   current: Any) -> None:
    if body.get(field) is None:
        return
    new = ref_id(conn, body[field], table, field)
    if current is None or int(current) != new:
        raise user_error(f"You cannot change the {label} of an existing transaction.", error_path=field)


def _update_header(ch: Change, rt: RecordType, row: sqlite3.Row, body: dict[str, Any]) -> None:
    """Header fields every transaction shares; identity fields may not change."""
    conn = ch.conn
    sets: dict[str, Any] = {}
    if "memo" in body:
        sets["memo"] = parse_text(body["memo"], "memo")
    if body.get("tranDate") is not None:
        sets["trandate"] = parse_date(body["tranDate"], "tranDate")
    if body.get("tranId") is not None:
        sets["tranid"] = sets["transactionnumber"] = parse_text(body["tranId"], "tranId")
    if "externalId" in body:
        eid = parse_text(body["externalId"], "externalId")
        check_external_id(conn, rt, eid, int(row["id"]))
        sets["externalid"] = eid
    if body.get("exchangeRate") is not None:
        sets["exchangerate"] = rate_text(parse_rate(body["exchangeRate"], "exchangeRate"))
    if body.get("intercompany") is not None:
        sets["intercompany"] = "T" if parse_bool(body["intercompany"], "intercompany") else "F"
    if rt is INVOICE and "dueDate" in body:
        sets["duedate"] = parse_date(body["dueDate"], "dueDate") if body["dueDate"] is not None else None
    main = ledger.main_line(conn, row["id"])
    _refuse_change(conn, body, "currency", "currency", "currency", row["currency"])
    _refuse_change(conn, body, "subsidiary", "subsidiary", "subsidiary", main["subsidiary"] if main is not None else -1)
    if rt in (PAYMENT, REFUND):
        _refuse_change(conn, body, "customer", "customer", "customer", row["entity"])
    elif rt in (INVOICE, CREDIT_MEMO):
        _refuse_change(conn, body, "entity", "customer", "customer", row["entity"])
    if sets:
        conn.execute(f'UPDATE "transaction" SET {", ".join(f"{k} = ?" for k in sets)} WHERE id = ?',
                     (*sets.values(), row["id"]))
        if "trandate" in sets:
            conn.execute("UPDATE nexttransactionlinelink SET linkdate = ?, lastmodifieddate = ? WHERE nextdoc = ?",
                         (sets["trandate"], ch.now, row["id"]))
