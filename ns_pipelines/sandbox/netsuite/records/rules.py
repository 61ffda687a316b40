"""Writes: create, update, delete and void per record type, with NetSuite's business rules.

Every function runs inside the caller's Store.write() transaction and records what it touched
on the `Change`; amounts, balances, stamps and notifications are settled by Change.finish().
Errors raise ApiError, which rolls the whole request back.
"""
from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from ..errors import ApiError, invalid_key_or_ref, user_error
from . import applications as apps
from . import ledger
from .changes import Change
from .types import (BY_TRANTYPE, CREDIT_MEMO, CUSTOMER, DEPOSIT, INVOICE, JOURNAL, PAYMENT, REFUND,
                    RecordType)
from .values import (ZERO, dec, is_int_id, parse_bool, parse_date, parse_int, parse_money, parse_rate, parse_ref,
                     parse_text, rate_text, store_money)

DEPENDENT_TEXT = "This record cannot be deleted because it has dependent records."
NO_LINES_TEXT = "You must enter at least one line item for this transaction."


def required(label: str, path: str) -> ApiError:
    return user_error(f"Please enter value(s) for: {label}", error_path=path)


def dup_external_id(rt: RecordType, eid: str, existing_id: Any) -> ApiError:
    return ApiError(400, "DUP_RCRD",
                    f"This record already exists. A {rt.rest} record with external ID {eid} exists "
                    f"(internal ID {existing_id}).", error_path="externalId")


# ---- references ------------------------------------------------------------------------------

_TABLES = {"customer": "customer", "currency": "currency", "subsidiary": "subsidiary", "account": "account"}


def ref_id(conn: sqlite3.Connection, value: Any, table: str, field: str, path: str | None = None) -> int:
    """The internal id of a reference field's target; INVALID_KEY_OR_REF when there is none."""
    path = path or field
    kind, key = parse_ref(value, path)
    if kind == "eid":
        row = None
        if table == "customer":
            row = conn.execute("SELECT id FROM customer WHERE externalid = ?", (key,)).fetchone()
        if row is None:
            raise ApiError(400, "INVALID_KEY_OR_REF", f"Invalid {field} reference key {key}.", error_path=path)
        return int(row[0])
    if not is_int_id(key):
        raise ApiError(400, "INVALID_KEY_OR_REF", f"Invalid {field} reference key {key}.", error_path=path)
    row = conn.execute(f'SELECT id FROM "{_TABLES[table]}" WHERE id = ?', (int(key),)).fetchone()
    if row is None:
        raise ApiError(400, "INVALID_KEY_OR_REF", f"Invalid {field} reference key {key}.", error_path=path)
    return int(key)


def _account_of_type(conn: sqlite3.Connection, value: Any, field: str, types: tuple[str, ...],
                     path: str | None = None) -> int:
    account_id = ref_id(conn, value, "account", field, path)
    acct = ledger.account(conn, account_id)
    if acct["accttype"] not in types:
        raise ApiError(400, "INVALID_KEY_OR_REF", f"Invalid {field} reference key {account_id}.",
                       error_path=path or field)
    return account_id


# ---- shared transaction plumbing ---------------------------------------------------------------

@dataclass
class Header:
    entity: int | None
    currency: int
    precision: int
    subsidiary: int
    exchangerate: Decimal
    trandate: str


def _check_external_id(conn: sqlite3.Connection, rt: RecordType, eid: str | None, own_id: int | None = None) -> None:
    if eid is None:
        return
    row = ledger.find_by_external_id(conn, rt, eid)
    if row is not None and int(row["id"]) != (own_id or -1):
        raise dup_external_id(rt, eid, row["id"])


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


def _entity_header(ch: Change, body: dict[str, Any], entity_field: str, label: str) -> Header:
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
    return _finish_header(ch, body, entity, currency, subsidiary)


def _finish_header(ch: Change, body: dict[str, Any], entity: int | None, currency: int, subsidiary: int) -> Header:
    conn = ch.conn
    rate = (parse_rate(body["exchangeRate"], "exchangeRate") if body.get("exchangeRate") is not None
            else ledger.exchange_rate(conn, currency, subsidiary))
    trandate = parse_date(body["tranDate"], "tranDate") if body.get("tranDate") is not None else ch.store.today()
    return Header(entity, currency, ledger.precision(conn, currency), subsidiary, rate, trandate)


def _insert_transaction(ch: Change, rt: RecordType, hdr: Header, body: dict[str, Any], *, status: str,
                        duedate: str | None = None, amounts: str = "") -> sqlite3.Row:
    conn = ch.conn
    eid = parse_text(body.get("externalId"), "externalId")
    _check_external_id(conn, rt, eid)
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
        (ledger.next_record_id(conn, customer=False), tranid, tranid, rt.trantype, rt.key, status, hdr.trandate, duedate, period, hdr.entity, hdr.currency,
         rate_text(hdr.exchangerate), "0", paid, unpaid, used, unused, parse_text(body.get("memo"), "memo"), eid,
         intercompany, tosub, terms, ch.now, ch.now))
    return ledger.tran(conn, cur.lastrowid)


def _insert_line(ch: Change, tran_id: int, line_id: int, *, mainline: bool, subsidiary: int | None,
                 entity: int | None, account: int | None, amount: Decimal | None, precision: int,
                 memo: str | None = None, debit: Decimal | None = None, credit: Decimal | None = None,
                 ar_open: bool = False) -> None:
    conn = ch.conn
    money = (lambda v: store_money(v, precision) if v is not None else None)
    conn.execute(
        "INSERT INTO transactionline (\"transaction\", id, linesequencenumber, uniquekey, mainline, taxline, "
        "subsidiary, entity, expenseaccount, foreignamount, netamount, debitforeignamount, creditforeignamount, "
        "foreignamountpaid, foreignamountunpaid, memo, eliminate, linelastmodifieddate) "
        "VALUES (?,?,?,?,?,'F',?,?,?,?,?,?,?,?,?,?,"
        "(SELECT CASE WHEN intercompany = 'T' AND type = 'CustInvc' THEN 'T' ELSE 'F' END "
        "FROM \"transaction\" WHERE id = ?),?)",
        (tran_id, line_id, line_id, ledger.next_uniquekey(conn), "T" if mainline else "F", subsidiary, entity,
         account, money(amount), money(amount), money(debit), money(credit),
         "0" if ar_open else None, money(amount) if ar_open else None, memo, tran_id, ch.now))


def _set_total(ch: Change, tran_id: int, total: Decimal, precision: int, main_sign: int = 1) -> None:
    """Header total and main-line amount (positive on every document, as the seed stores them);
    main_sign 0 leaves the main line alone (journal entries: no amount on it)."""
    ch.conn.execute('UPDATE "transaction" SET foreigntotal = ? WHERE id = ?',
                    (store_money(total, precision), tran_id))
    if main_sign == 0:
        return
    ch.conn.execute("UPDATE transactionline SET foreignamount = ?, netamount = ?, linelastmodifieddate = ? "
                    "WHERE \"transaction\" = ? AND mainline = 'T'",
                    (store_money(total * main_sign, precision), store_money(total * main_sign, precision), ch.now,
                     tran_id))


def _refuse_change(row: sqlite3.Row, body: dict[str, Any], field: str, column: str, table: str, label: str,
                   conn: sqlite3.Connection, current: Any = None) -> None:
    if body.get(field) is None:
        return
    new = ref_id(conn, body[field], table, field)
    old = current if current is not None else row[column]
    if old is None or int(old) != new:
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
        _check_external_id(conn, rt, eid, int(row["id"]))
        sets["externalid"] = eid
    if body.get("exchangeRate") is not None:
        sets["exchangerate"] = rate_text(parse_rate(body["exchangeRate"], "exchangeRate"))
    if body.get("intercompany") is not None:
        sets["intercompany"] = "T" if parse_bool(body["intercompany"], "intercompany") else "F"
    if rt is INVOICE and "dueDate" in body:
        sets["duedate"] = parse_date(body["dueDate"], "dueDate") if body["dueDate"] is not None else None
    main = ledger.main_line(conn, row["id"])
    _refuse_change(row, body, "currency", "currency", "currency", "currency", conn)
    _refuse_change(row, body, "subsidiary", "", "subsidiary", "subsidiary", conn,
                   current=main["subsidiary"] if main is not None else -1)
    if rt in (PAYMENT, REFUND):
        _refuse_change(row, body, "customer", "entity", "customer", "customer", conn)
    elif rt in (INVOICE, CREDIT_MEMO):
        _refuse_change(row, body, "entity", "entity", "customer", "customer", conn)
    if sets:
        conn.execute(f'UPDATE "transaction" SET {", ".join(f"{k} = ?" for k in sets)} WHERE id = ?',
                     (*sets.values(), row["id"]))
        if "trandate" in sets:
            conn.execute("UPDATE nexttransactionlinelink SET linkdate = ?, lastmodifieddate = ? WHERE nextdoc = ?",
                         (sets["trandate"], ch.now, row["id"]))


def _tran_for_write(ch: Change, rt: RecordType, record_id: int) -> sqlite3.Row:
    ch.check_locked(record_id)
    row = ledger.tran(ch.conn, record_id)
    if row["voided"] == "T":
        raise user_error("This transaction has been voided and cannot be changed.")
    return row


# ---- item sublists (invoice, credit memo) ------------------------------------------------------

def _item_amount(item: dict[str, Any], path: str, precision: int) -> Decimal | None:
    if item.get("amount") is not None:
        return parse_money(item["amount"], f"{path}.amount", precision, allow_negative=True)
    if item.get("rate") is not None:
        quantity = (parse_money(item["quantity"], f"{path}.quantity", 8, allow_negative=True)
                    if item.get("quantity") is not None else Decimal(1))
        rate = parse_money(item["rate"], f"{path}.rate", 8, allow_negative=True)
        return dec(store_money(quantity * rate, precision))
    return None


def _write_items(ch: Change, row: sqlite3.Row, sublist: Any, *, replace: bool, precision: int, line_sign: int,
                 subsidiary: int | None, creating: bool) -> Decimal:
    """Item lines keyed by `line`; returns the new total."""
    conn = ch.conn
    items = list((sublist or {}).get("items") or []) if sublist is not None else []
    existing = {int(r["id"]): r for r in ledger.lines(conn, row["id"])}
    seen: set[int] = set()
    next_id = max([0, *existing]) + 1
    for i, item in enumerate(items):
        path = f"item.items[{i}]"
        line_id = parse_int(item["line"], f"{path}.line") if item.get("line") is not None else None
        memo = parse_text(item.get("description", item.get("memo")), f"{path}.description")
        if line_id is not None and line_id in existing:
            seen.add(line_id)
            sets: dict[str, Any] = {}
            amount = _item_amount(item, path, precision)
            if amount is not None:
                sets["foreignamount"] = sets["netamount"] = store_money(amount * line_sign, precision)
            if "description" in item or "memo" in item:
                sets["memo"] = memo
            if item.get("account") is not None:
                sets["expenseaccount"] = ref_id(conn, item["account"], "account", "account", f"{path}.account")
            if sets:
                sets["linelastmodifieddate"] = ch.now
                conn.execute(f"UPDATE transactionline SET {', '.join(f'{k} = ?' for k in sets)} "
                             "WHERE \"transaction\" = ? AND id = ?", (*sets.values(), row["id"], line_id))
            continue
        amount = _item_amount(item, path, precision)
        if amount is None:
            raise required("Amount", f"{path}.amount")
        if item.get("account") is not None:
            account = ref_id(conn, item["account"], "account", "account", f"{path}.account")
        else:
            acct = ledger.first_account(conn, "Income", subsidiary)
            if acct is None:
                raise required("Account", f"{path}.account")
            account = int(acct["id"])
        _insert_line(ch, row["id"], next_id, mainline=False, subsidiary=subsidiary, entity=row["entity"],
                     account=account, amount=amount * line_sign, precision=precision, memo=memo)
        seen.add(next_id)
        next_id += 1
    if replace and not creating:
        for line_id in existing:
            if line_id not in seen:
                conn.execute("DELETE FROM transactionline WHERE \"transaction\" = ? AND id = ?", (row["id"], line_id))
    total = ZERO
    for line in ledger.lines(conn, row["id"]):
        total += dec(line["foreignamount"]) * line_sign
    if not ledger.lines(conn, row["id"]):
        raise user_error(NO_LINES_TEXT, error_path="item")
    if total < 0:
        raise user_error("The total of this transaction cannot be negative.", error_path="item")
    return total


# ---- customer ----------------------------------------------------------------------------------

def create_customer(ch: Change, body: dict[str, Any]) -> int:
    conn = ch.conn
    is_person = parse_bool(body["isPerson"], "isPerson") if body.get("isPerson") is not None else False
    company = parse_text(body.get("companyName"), "companyName")
    person = " ".join(x for x in (parse_text(body.get("firstName"), "firstName"),
                                  parse_text(body.get("lastName"), "lastName")) if x)
    if not is_person and not company:
        raise required("Company Name", "companyName")
    if is_person and not person and not body.get("entityId"):
        raise required("First Name, Last Name", "firstName")
    if body.get("subsidiary") is None:
        raise required("Primary Subsidiary", "subsidiary")
    subsidiary = ref_id(conn, body["subsidiary"], "subsidiary", "subsidiary")
    currency = (ref_id(conn, body["currency"], "currency", "currency") if body.get("currency") is not None
                else int(ledger.subsidiary(conn, subsidiary)["currency"]))
    eid = parse_text(body.get("externalId"), "externalId")
    _check_external_id(conn, CUSTOMER, eid)
    entityid = parse_text(body.get("entityId"), "entityId") or company or person
    parent = ref_id(conn, body["parent"], "customer", "parent") if body.get("parent") is not None else None
    rep = (ref_id(conn, body["representingSubsidiary"], "subsidiary", "representingSubsidiary")
           if body.get("representingSubsidiary") is not None else None)
    terms = _terms(body.get("terms"))
    limit = parse_money(body["creditLimit"], "creditLimit", 2) if body.get("creditLimit") is not None else None
    inactive = parse_bool(body["isInactive"], "isInactive") if body.get("isInactive") is not None else False
    cur = conn.execute(
        "INSERT INTO customer (id, entityid, companyname, isperson, email, phone, currency, subsidiary, parent, "
        "representingsubsidiary, terms, creditlimit, isinactive, externalid, datecreated, lastmodifieddate) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (ledger.next_record_id(conn, customer=True), entityid, company, "T" if is_person else "F", parse_text(body.get("email"), "email"),
         parse_text(body.get("phone"), "phone"), currency, subsidiary, parent, rep, terms,
         str(limit) if limit is not None else None, "T" if inactive else "F", eid, ch.now, ch.now))
    customer_id = int(cur.lastrowid)
    conn.execute("INSERT INTO customersubsidiaryrelationship (entity, subsidiary, isprimarysub, primarycurrency, "
                 "balance, depositbalance, lastmodifieddate) VALUES (?,?,'T',?,0,0,?)",
                 (customer_id, subsidiary, currency, ch.now))
    currencies = {currency} | _currency_list(conn, body.get("currencyList"))
    conn.executemany("INSERT OR IGNORE INTO customercurrency (entity, currency) VALUES (?,?)",
                     [(customer_id, c) for c in sorted(currencies)])
    ch.customers.add(customer_id)
    ch.set_primary(CUSTOMER, customer_id, "create")
    return customer_id


def _terms(value: Any) -> int | None:
    if value is None:
        return None
    kind, key = parse_ref(value, "terms")
    if kind != "id" or not is_int_id(key):
        raise invalid_key_or_ref("terms", key)
    return int(key)


def _currency_list(conn: sqlite3.Connection, sublist: Any) -> set[int]:
    out: set[int] = set()
    for i, item in enumerate((sublist or {}).get("items") or []):
        if item.get("currency") is None:
            raise required("Currency", f"currencyList.items[{i}].currency")
        out.add(ref_id(conn, item["currency"], "currency", "currency", f"currencyList.items[{i}].currency"))
    return out


def _customer_has_transactions(conn: sqlite3.Connection, customer_id: int) -> bool:
    return conn.execute('SELECT 1 FROM "transaction" WHERE entity = ? UNION ALL '
                        "SELECT 1 FROM transactionline WHERE entity = ? LIMIT 1",
                        (customer_id, customer_id)).fetchone() is not None


def update_customer(ch: Change, customer_id: int, body: dict[str, Any], replace: set[str]) -> None:
    conn = ch.conn
    ch.check_locked(customer_id)
    cust = ledger.customer(conn, customer_id)
    sets: dict[str, Any] = {}
    for field, column in (("companyName", "companyname"), ("entityId", "entityid"), ("email", "email"),
                          ("phone", "phone")):
        if field in body:
            sets[column] = parse_text(body[field], field)
    if "entityId" in body and not sets.get("entityid"):
        raise required("Customer ID", "entityId")
    if "isPerson" in body and body["isPerson"] is not None:
        sets["isperson"] = "T" if parse_bool(body["isPerson"], "isPerson") else "F"
    if "isInactive" in body and body["isInactive"] is not None:
        sets["isinactive"] = "T" if parse_bool(body["isInactive"], "isInactive") else "F"
    if "externalId" in body:
        eid = parse_text(body["externalId"], "externalId")
        _check_external_id(conn, CUSTOMER, eid, customer_id)
        sets["externalid"] = eid
    if "parent" in body:
        parent = ref_id(conn, body["parent"], "customer", "parent") if body["parent"] is not None else None
        if parent == customer_id:
            raise invalid_key_or_ref("parent", parent)
        sets["parent"] = parent
    if "representingSubsidiary" in body:
        sets["representingsubsidiary"] = (ref_id(conn, body["representingSubsidiary"], "subsidiary",
                                                 "representingSubsidiary")
                                          if body["representingSubsidiary"] is not None else None)
    if "terms" in body:
        sets["terms"] = _terms(body["terms"])
    if "creditLimit" in body:
        sets["creditlimit"] = (str(parse_money(body["creditLimit"], "creditLimit", 2))
                               if body["creditLimit"] is not None else None)
    has_trans = _customer_has_transactions(conn, customer_id)
    for field, column, table in (("currency", "currency", "currency"), ("subsidiary", "subsidiary", "subsidiary")):
        if body.get(field) is not None:
            new = ref_id(conn, body[field], table, field)
            if new != int(cust[column]):
                if has_trans:
                    raise user_error(f"You cannot change the primary {field} of a customer that has transactions.",
                                     error_path=field)
                sets[column] = new
    if "currencyList" in body and body["currencyList"] is not None:
        wanted = _currency_list(conn, body["currencyList"])
        primary = int(sets.get("currency", cust["currency"]))
        conn.executemany("INSERT OR IGNORE INTO customercurrency (entity, currency) VALUES (?,?)",
                         [(customer_id, c) for c in sorted(wanted | {primary})])
        if "currencyList" in replace:
            for c in ledger.customer_currencies(conn, customer_id) - wanted - {primary}:
                used = conn.execute('SELECT 1 FROM "transaction" WHERE entity = ? AND currency = ? LIMIT 1',
                                    (customer_id, c)).fetchone()
                if used is not None:
                    raise user_error("You cannot remove a currency the customer has transactions in.",
                                     error_path="currencyList")
                conn.execute("DELETE FROM customercurrency WHERE entity = ? AND currency = ?", (customer_id, c))
    if "currency" in sets:
        conn.execute("INSERT OR IGNORE INTO customercurrency (entity, currency) VALUES (?,?)",
                     (customer_id, sets["currency"]))
    if "subsidiary" in sets or "currency" in sets:
        conn.execute("UPDATE customersubsidiaryrelationship SET subsidiary = ?, primarycurrency = ?, "
                     "lastmodifieddate = ? WHERE entity = ? AND isprimarysub = 'T'",
                     (sets.get("subsidiary", cust["subsidiary"]), sets.get("currency", cust["currency"]), ch.now,
                      customer_id))
    sets["lastmodifieddate"] = ch.now
    conn.execute(f"UPDATE customer SET {', '.join(f'{k} = ?' for k in sets)} WHERE id = ?",
                 (*sets.values(), customer_id))
    ch.customers.add(customer_id)
    ch.set_primary(CUSTOMER, customer_id, "edit")


def delete_customer(ch: Change, customer_id: int) -> None:
    conn = ch.conn
    ch.check_locked(customer_id)
    if _customer_has_transactions(conn, customer_id) or conn.execute(
            "SELECT 1 FROM customer WHERE parent = ? LIMIT 1", (customer_id,)).fetchone():
        raise user_error(DEPENDENT_TEXT)
    cust = ledger.customer(conn, customer_id)
    conn.execute("DELETE FROM customercurrency WHERE entity = ?", (customer_id,))
    conn.execute("DELETE FROM customersubsidiaryrelationship WHERE entity = ?", (customer_id,))
    conn.execute("DELETE FROM customer WHERE id = ?", (customer_id,))
    _deleted_record(ch, CUSTOMER, customer_id, cust["entityid"], cust["externalid"])
    ch.set_primary(CUSTOMER, customer_id, "delete")


def _deleted_record(ch: Change, rt: RecordType, record_id: int, name: Any, eid: Any) -> None:
    from ..seed import RECORD_TYPE_IDS  # NetSuite's numeric record type ids, as the seed writes them

    ch.conn.execute("INSERT INTO deletedrecord (recordid, recordtypeid, scriptid, type, name, externalid, context, "
                    "deleteddate) VALUES (?,?,?,?,?,?,?,?)",
                    (record_id, RECORD_TYPE_IDS.get(rt.key), rt.key, rt.display, name, eid, ch.context, ch.now))


# ---- invoice and credit memo -------------------------------------------------------------------

def _ar_account(conn: sqlite3.Connection, body: dict[str, Any], subsidiary: int) -> int:
    if body.get("account") is not None:
        return _account_of_type(conn, body["account"], "account", ("AcctRec",))
    acct = ledger.first_account(conn, "AcctRec", subsidiary)
    if acct is None:
        raise required("Account", "account")
    return int(acct["id"])


def create_invoice(ch: Change, body: dict[str, Any]) -> int:
    conn = ch.conn
    hdr = _entity_header(ch, body, "entity", "Customer")
    terms = _terms(body.get("terms"))
    if terms is None:
        terms = ledger.customer(conn, hdr.entity)["terms"]
    if body.get("dueDate") is not None:
        duedate = parse_date(body["dueDate"], "dueDate")
    else:
        duedate = (date.fromisoformat(hdr.trandate) + timedelta(days=int(terms or 0))).isoformat()
    if not ((body.get("item") or {}).get("items")):
        raise user_error(NO_LINES_TEXT, error_path="item")
    account = _ar_account(conn, body, hdr.subsidiary)
    row = _insert_transaction(ch, INVOICE, hdr, body, status="A", duedate=duedate, amounts="debit")
    _insert_line(ch, row["id"], 0, mainline=True, subsidiary=hdr.subsidiary, entity=hdr.entity, account=account,
                 amount=ZERO, precision=hdr.precision)
    total = _write_items(ch, row, body.get("item"), replace=False, precision=hdr.precision, line_sign=1,
                         subsidiary=hdr.subsidiary, creating=True)
    _set_total(ch, row["id"], total, hdr.precision, 1)
    conn.execute('UPDATE "transaction" SET foreignamountunpaid = foreigntotal, terms = ? WHERE id = ?',
                 (terms, row["id"]))
    ch.set_primary(INVOICE, row["id"], "create")
    return int(row["id"])


def update_invoice(ch: Change, tran_id: int, body: dict[str, Any], replace: set[str]) -> None:
    conn = ch.conn
    row = _tran_for_write(ch, INVOICE, tran_id)
    ch.set_primary(INVOICE, tran_id, "edit")
    _update_header(ch, INVOICE, row, body)
    hdr_prec = ledger.precision(conn, row["currency"])
    main = ledger.main_line(conn, tran_id)
    if body.get("account") is not None:
        account = _account_of_type(conn, body["account"], "account", ("AcctRec",))
        conn.execute("UPDATE transactionline SET expenseaccount = ?, linelastmodifieddate = ? "
                     "WHERE \"transaction\" = ? AND mainline = 'T'", (account, ch.now, tran_id))
    if "item" in body:
        total = _write_items(ch, row, body["item"], replace="item" in replace, precision=hdr_prec, line_sign=1,
                             subsidiary=main["subsidiary"] if main is not None else None, creating=False)
        paid = ledger.doc_paid(conn, tran_id)
        if total < paid:
            raise user_error(f"The total of {ledger.tran_ref_name(row)} ({store_money(total, hdr_prec)}) cannot be "
                             f"less than the amount already paid ({store_money(paid, hdr_prec)}).",
                             error_path="item")
        _set_total(ch, tran_id, total, hdr_prec, 1)


def create_credit_memo(ch: Change, body: dict[str, Any]) -> int:
    conn = ch.conn
    hdr = _entity_header(ch, body, "entity", "Customer")
    if not ((body.get("item") or {}).get("items")):
        raise user_error(NO_LINES_TEXT, error_path="item")
    account = _ar_account(conn, body, hdr.subsidiary)
    row = _insert_transaction(ch, CREDIT_MEMO, hdr, body, status="A", amounts="credit")
    _insert_line(ch, row["id"], 0, mainline=True, subsidiary=hdr.subsidiary, entity=hdr.entity, account=account,
                 amount=ZERO, precision=hdr.precision)
    total = _write_items(ch, row, body.get("item"), replace=False, precision=hdr.precision, line_sign=1,
                         subsidiary=hdr.subsidiary, creating=True)
    _set_total(ch, row["id"], total, hdr.precision)
    row = ledger.tran(conn, row["id"])
    ch.set_primary(CREDIT_MEMO, row["id"], "create")
    apps.apply_to_debits(ch, row, body.get("apply"), replace=False, limit=total, precision=hdr.precision)
    if body.get("autoApply") is True:
        apps.auto_apply(ch, row, total, hdr.precision)
    apps.check_applied_limit(conn, row, total, hdr.precision, "credit memo total")
    return int(row["id"])


def update_credit_memo(ch: Change, tran_id: int, body: dict[str, Any], replace: set[str]) -> None:
    conn = ch.conn
    row = _tran_for_write(ch, CREDIT_MEMO, tran_id)
    ch.set_primary(CREDIT_MEMO, tran_id, "edit")
    _update_header(ch, CREDIT_MEMO, row, body)
    prec = ledger.precision(conn, row["currency"])
    main = ledger.main_line(conn, tran_id)
    if body.get("account") is not None:
        account = _account_of_type(conn, body["account"], "account", ("AcctRec",))
        conn.execute("UPDATE transactionline SET expenseaccount = ?, linelastmodifieddate = ? "
                     "WHERE \"transaction\" = ? AND mainline = 'T'", (account, ch.now, tran_id))
    total = dec(row["foreigntotal"])
    if "item" in body:
        total = _write_items(ch, row, body["item"], replace="item" in replace, precision=prec, line_sign=1,
                             subsidiary=main["subsidiary"] if main is not None else None, creating=False)
        _set_total(ch, tran_id, total, prec)
    row = ledger.tran(conn, tran_id)
    if "apply" in body or "apply" in replace:
        apps.apply_to_debits(ch, row, body.get("apply"), replace="apply" in replace, limit=total, precision=prec)
    apps.check_applied_limit(conn, row, total, prec, "credit memo total")


# ---- customer payment --------------------------------------------------------------------------

_CASH_ACCOUNTS = ("Bank", "UnDepFunds", "OthCurrAsset")


def _cash_account(conn: sqlite3.Connection, body: dict[str, Any], subsidiary: int, *, default_undeposited: bool) -> int:
    undep = parse_bool(body["undepFunds"], "undepFunds") if body.get("undepFunds") is not None else None
    if body.get("account") is not None and undep is not True:
        return _account_of_type(conn, body["account"], "account", _CASH_ACCOUNTS)
    if undep is True or (undep is None and default_undeposited):
        acct = ledger.first_account(conn, "UnDepFunds", subsidiary)
        if acct is None:
            raise required("Account", "account")
        return int(acct["id"])
    raise required("Account", "account")


def create_payment(ch: Change, body: dict[str, Any]) -> int:
    conn = ch.conn
    hdr = _entity_header(ch, body, "customer", "Customer")
    account = _cash_account(conn, body, hdr.subsidiary, default_undeposited=True)
    amount = None
    if body.get("payment") is not None:
        amount = parse_money(body["payment"], "payment", hdr.precision)
        if amount <= 0:
            raise user_error(f"Invalid number (must be positive) for field payment: {body['payment']}.",
                             error_path="payment")
    row = _insert_transaction(ch, PAYMENT, hdr, body, status="B", amounts="credit")
    _insert_line(ch, row["id"], 0, mainline=True, subsidiary=hdr.subsidiary, entity=hdr.entity, account=account,
                 amount=ZERO, precision=hdr.precision)
    ch.set_primary(PAYMENT, row["id"], "create")
    apps.apply_to_debits(ch, row, body.get("apply"), replace=False, limit=amount, precision=hdr.precision)
    if amount is None:
        amount = ledger.applied_total(conn, row["id"])
        if amount <= 0:
            raise required("Payment Amount", "payment")
    if body.get("autoApply") is not None and parse_bool(body["autoApply"], "autoApply"):
        apps.auto_apply(ch, row, amount, hdr.precision)
    _set_total(ch, row["id"], amount, hdr.precision, 1)
    conn.execute('UPDATE "transaction" SET foreignpaymentamountunused = foreigntotal WHERE id = ?', (row["id"],))
    apps.check_applied_limit(conn, ledger.tran(conn, row["id"]), amount, hdr.precision, "payment amount")
    return int(row["id"])


def update_payment(ch: Change, tran_id: int, body: dict[str, Any], replace: set[str]) -> None:
    conn = ch.conn
    row = _tran_for_write(ch, PAYMENT, tran_id)
    ch.set_primary(PAYMENT, tran_id, "edit")
    _update_header(ch, PAYMENT, row, body)
    prec = ledger.precision(conn, row["currency"])
    deposited = ledger.deposit_of(conn, tran_id) is not None
    amount = dec(row["foreigntotal"])
    if body.get("payment") is not None:
        new = parse_money(body["payment"], "payment", prec)
        if new <= 0:
            raise user_error(f"Invalid number (must be positive) for field payment: {body['payment']}.",
                             error_path="payment")
        if new != amount and deposited:
            raise user_error("The payment amount cannot be changed because the payment has been deposited.",
                             error_path="payment")
        amount = new
        _set_total(ch, tran_id, amount, prec, 1)
    if body.get("account") is not None or body.get("undepFunds") is not None:
        main = ledger.main_line(conn, tran_id)
        account = _cash_account(conn, body, main["subsidiary"], default_undeposited=True)
        if int(account) != int(main["expenseaccount"]):
            if deposited:
                raise user_error("The account cannot be changed because the payment has been deposited.",
                                 error_path="account")
            conn.execute("UPDATE transactionline SET expenseaccount = ?, linelastmodifieddate = ? "
                         "WHERE \"transaction\" = ? AND mainline = 'T'", (account, ch.now, tran_id))
    row = ledger.tran(conn, tran_id)
    if "apply" in body or "apply" in replace:
        apps.apply_to_debits(ch, row, body.get("apply"), replace="apply" in replace, limit=amount, precision=prec)
    if body.get("autoApply") is not None and parse_bool(body["autoApply"], "autoApply"):
        apps.auto_apply(ch, row, amount, prec)
    apps.check_applied_limit(conn, row, amount, prec, "payment amount")


# ---- customer refund ---------------------------------------------------------------------------

def create_refund(ch: Change, body: dict[str, Any]) -> int:
    conn = ch.conn
    hdr = _entity_header(ch, body, "customer", "Customer")
    account = _cash_account(conn, body, hdr.subsidiary, default_undeposited=False)
    row = _insert_transaction(ch, REFUND, hdr, body, status="A")
    _insert_line(ch, row["id"], 0, mainline=True, subsidiary=hdr.subsidiary, entity=hdr.entity, account=account,
                 amount=ZERO, precision=hdr.precision)
    ch.set_primary(REFUND, row["id"], "create")
    apps.apply_credits(ch, row, body.get("apply"), replace=False, precision=hdr.precision)
    total = ledger.applied_total(conn, row["id"])
    if total <= 0:
        raise user_error(NO_LINES_TEXT, error_path="apply")
    _set_total(ch, row["id"], total, hdr.precision)
    return int(row["id"])


def update_refund(ch: Change, tran_id: int, body: dict[str, Any], replace: set[str]) -> None:
    conn = ch.conn
    row = _tran_for_write(ch, REFUND, tran_id)
    ch.set_primary(REFUND, tran_id, "edit")
    _update_header(ch, REFUND, row, body)
    prec = ledger.precision(conn, row["currency"])
    deposited = ledger.deposit_of(conn, tran_id) is not None
    if body.get("account") is not None or body.get("undepFunds") is not None:
        main = ledger.main_line(conn, tran_id)
        account = _cash_account(conn, body, main["subsidiary"], default_undeposited=False)
        if int(account) != int(main["expenseaccount"]):
            if deposited:
                raise user_error("The account cannot be changed because the refund has been deposited.",
                                 error_path="account")
            conn.execute("UPDATE transactionline SET expenseaccount = ?, linelastmodifieddate = ? "
                         "WHERE \"transaction\" = ? AND mainline = 'T'", (account, ch.now, tran_id))
    if "apply" in body or "apply" in replace:
        apps.apply_credits(ch, row, body.get("apply"), replace="apply" in replace, precision=prec)
        total = ledger.applied_total(conn, tran_id)
        if total <= 0:
            raise user_error(NO_LINES_TEXT, error_path="apply")
        if deposited and total != dec(row["foreigntotal"]):
            raise user_error("The refund amount cannot be changed because the refund has been deposited.",
                             error_path="apply")
        _set_total(ch, tran_id, total, prec)


# ---- deposit -----------------------------------------------------------------------------------

def _other_lines(ch: Change, row: sqlite3.Row, body: dict[str, Any], replace: set[str], precision: int,
                 subsidiary: int | None) -> None:
    conn = ch.conn
    payment_lines = apps.payment_line_ids(conn, row["id"])
    all_lines = {int(r["id"]): r for r in ledger.lines(conn, row["id"])}
    existing = {k: v for k, v in all_lines.items() if k not in payment_lines}
    seen: set[int] = set()
    for name, sign in (("other", 1), ("cashBack", -1)):
        sub = body.get(name)
        for i, item in enumerate((sub or {}).get("items") or []):
            path = f"{name}.items[{i}]"
            line_id = parse_int(item["line"], f"{path}.line") if item.get("line") is not None else None
            if line_id is not None and line_id in existing:
                seen.add(line_id)
                sets: dict[str, Any] = {}
                if item.get("amount") is not None:
                    amount = parse_money(item["amount"], f"{path}.amount", precision, allow_negative=(sign == 1))
                    sets["foreignamount"] = sets["netamount"] = store_money(amount * sign, precision)
                if "memo" in item:
                    sets["memo"] = parse_text(item["memo"], f"{path}.memo")
                if item.get("account") is not None:
                    sets["expenseaccount"] = ref_id(conn, item["account"], "account", "account", f"{path}.account")
                if sets:
                    sets["linelastmodifieddate"] = ch.now
                    conn.execute(f"UPDATE transactionline SET {', '.join(f'{k} = ?' for k in sets)} "
                                 "WHERE \"transaction\" = ? AND id = ?", (*sets.values(), row["id"], line_id))
                continue
            if item.get("account") is None:
                raise required("Account", f"{path}.account")
            account = ref_id(conn, item["account"], "account", "account", f"{path}.account")
            if item.get("amount") is None:
                raise required("Amount", f"{path}.amount")
            amount = parse_money(item["amount"], f"{path}.amount", precision, allow_negative=(sign == 1))
            entity = (ref_id(conn, item["entity"], "customer", "entity", f"{path}.entity")
                      if item.get("entity") is not None else None)
            next_id = int(conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM transactionline "
                                       "WHERE \"transaction\" = ?", (row["id"],)).fetchone()[0])
            _insert_line(ch, row["id"], next_id, mainline=False, subsidiary=subsidiary, entity=entity,
                         account=account, amount=amount * sign, precision=precision,
                         memo=parse_text(item.get("memo"), f"{path}.memo"))
            seen.add(next_id)
    if "other" in replace or "cashBack" in replace:
        for line_id in existing:
            if line_id not in seen:
                conn.execute("DELETE FROM transactionline WHERE \"transaction\" = ? AND id = ?", (row["id"], line_id))


def _deposit_total(ch: Change, tran_id: int, precision: int) -> None:
    conn = ch.conn
    lines = ledger.lines(conn, tran_id)
    total = sum((dec(line["foreignamount"]) for line in lines), ZERO)
    has_payments = conn.execute("SELECT 1 FROM nexttransactionlinelink WHERE nextdoc = ? AND linktype = 'Deposit' "
                                "LIMIT 1", (tran_id,)).fetchone() is not None
    if not has_payments and not lines:
        raise user_error(NO_LINES_TEXT, error_path="payment")
    if total < 0:
        raise user_error("The total of a deposit cannot be negative.", error_path="payment")
    _set_total(ch, tran_id, total, precision, 1)


def create_deposit(ch: Change, body: dict[str, Any]) -> int:
    conn = ch.conn
    if body.get("account") is None:
        raise required("Account", "account")
    account = _account_of_type(conn, body["account"], "account", ("Bank",))
    acct = ledger.account(conn, account)
    if body.get("subsidiary") is not None:
        subsidiary = ref_id(conn, body["subsidiary"], "subsidiary", "subsidiary")
    elif acct["subsidiary"] is not None:
        subsidiary = int(acct["subsidiary"])
    else:
        first = conn.execute("SELECT id FROM subsidiary ORDER BY id LIMIT 1").fetchone()
        if first is None:
            raise required("Subsidiary", "subsidiary")
        subsidiary = int(first[0])
    if body.get("currency") is not None:
        currency = ref_id(conn, body["currency"], "currency", "currency")
    elif acct["currency"] is not None:
        currency = int(acct["currency"])
    else:
        currency = int(ledger.subsidiary(conn, subsidiary)["currency"])
    if acct["currency"] is not None and int(acct["currency"]) != currency:
        raise invalid_key_or_ref("currency", currency)
    hdr = _finish_header(ch, body, None, currency, subsidiary)
    row = _insert_transaction(ch, DEPOSIT, hdr, body, status="A")
    _insert_line(ch, row["id"], 0, mainline=True, subsidiary=subsidiary, entity=None, account=account,
                 amount=ZERO, precision=hdr.precision)
    ch.set_primary(DEPOSIT, row["id"], "create")
    apps.deposit_payments(ch, row, body.get("payment"), replace=False, precision=hdr.precision)
    _other_lines(ch, row, body, set(), hdr.precision, subsidiary)
    _deposit_total(ch, row["id"], hdr.precision)
    return int(row["id"])


def update_deposit(ch: Change, tran_id: int, body: dict[str, Any], replace: set[str]) -> None:
    conn = ch.conn
    row = _tran_for_write(ch, DEPOSIT, tran_id)
    ch.set_primary(DEPOSIT, tran_id, "edit")
    _update_header(ch, DEPOSIT, row, body)
    prec = ledger.precision(conn, row["currency"])
    main = ledger.main_line(conn, tran_id)
    if body.get("account") is not None:
        account = _account_of_type(conn, body["account"], "account", ("Bank",))
        conn.execute("UPDATE transactionline SET expenseaccount = ?, linelastmodifieddate = ? "
                     "WHERE \"transaction\" = ? AND mainline = 'T'", (account, ch.now, tran_id))
    if "payment" in body or "payment" in replace:
        apps.deposit_payments(ch, row, body.get("payment"), replace="payment" in replace, precision=prec)
    _other_lines(ch, row, body, replace, prec, main["subsidiary"] if main is not None else None)
    _deposit_total(ch, tran_id, prec)


# ---- journal entry -----------------------------------------------------------------------------

def _je_lines(ch: Change, row: sqlite3.Row, sublist: Any, *, replace: bool, precision: int, subsidiary: int | None,
              creating: bool) -> None:
    conn = ch.conn
    existing = {int(r["id"]): r for r in ledger.lines(conn, row["id"])}
    next_id = max([0, *existing]) + 1
    seen: set[int] = set()
    for i, item in enumerate((sublist or {}).get("items") or []):
        path = f"line.items[{i}]"
        line_id = parse_int(item["line"], f"{path}.line") if item.get("line") is not None else None
        old = existing.get(line_id) if line_id is not None else None
        account = (ref_id(conn, item["account"], "account", "account", f"{path}.account")
                   if item.get("account") is not None else (int(old["expenseaccount"]) if old is not None and
                                                             old["expenseaccount"] is not None else None))
        if account is None:
            raise required("Account", f"{path}.account")
        if old is not None and item.get("debit") is None and item.get("credit") is None:
            debit, credit = dec(old["debitforeignamount"]), dec(old["creditforeignamount"])
        else:
            debit = parse_money(item["debit"], f"{path}.debit", precision) if item.get("debit") is not None else ZERO
            credit = (parse_money(item["credit"], f"{path}.credit", precision)
                      if item.get("credit") is not None else ZERO)
        if (debit == 0) == (credit == 0):
            raise user_error("Enter either a debit or a credit amount on each line.", error_path=path)
        if "entity" in item:
            entity = (ref_id(conn, item["entity"], "customer", "entity", f"{path}.entity")
                      if item["entity"] is not None else None)
        else:
            entity = int(old["entity"]) if old is not None and old["entity"] is not None else None
        is_ar = ledger.is_ar_account(conn, account)
        if is_ar and entity is None:
            raise user_error("Please enter value(s) for: Name (a customer is required on lines that post to "
                             "Accounts Receivable).", error_path=f"{path}.entity")
        if is_ar:
            allowed = ledger.customer_currencies(conn, entity) | {int(ledger.customer(conn, entity)["currency"])}
            if int(row["currency"]) not in allowed:
                raise invalid_key_or_ref("currency", row["currency"])
        memo = parse_text(item.get("memo"), f"{path}.memo") if "memo" in item else (old["memo"] if old else None)
        amount = debit - credit
        if old is not None:
            seen.add(line_id)
            paid = ledger.doc_paid(conn, row["id"], line_id)
            if paid > 0 and (not is_ar or amount < paid or entity != old["entity"]):
                raise user_error(f"Line {line_id} has payments applied ({store_money(paid, precision)}) and "
                                 f"cannot be changed that way.", error_path=path)
            conn.execute(
                "UPDATE transactionline SET expenseaccount = ?, entity = ?, foreignamount = ?, netamount = ?, "
                "debitforeignamount = ?, creditforeignamount = ?, memo = ?, foreignamountpaid = ?, "
                "foreignamountunpaid = ?, linelastmodifieddate = ? WHERE \"transaction\" = ? AND id = ?",
                (account, entity, store_money(amount, precision), store_money(amount, precision),
                 store_money(debit, precision) if debit else None, store_money(credit, precision) if credit else None,
                 memo, store_money(paid, precision) if is_ar else None,
                 store_money(amount - paid, precision) if is_ar else None, ch.now, row["id"], line_id))
            continue
        _insert_line(ch, row["id"], next_id, mainline=False, subsidiary=subsidiary, entity=entity, account=account,
                     amount=amount, precision=precision, memo=memo, debit=debit or None, credit=credit or None,
                     ar_open=is_ar)
        if entity is not None:
            ch.customers.add(entity)
        seen.add(next_id)
        next_id += 1
    if replace and not creating:
        for line_id in existing:
            if line_id not in seen:
                if ledger.doc_paid(conn, row["id"], line_id) > 0:
                    raise user_error(f"Line {line_id} has payments applied and cannot be removed.", error_path="line")
                conn.execute("DELETE FROM transactionline WHERE \"transaction\" = ? AND id = ?", (row["id"], line_id))
    lines = ledger.lines(conn, row["id"])
    if not lines:
        raise user_error(NO_LINES_TEXT, error_path="line")
    debits = sum((dec(r["debitforeignamount"]) for r in lines), ZERO)
    credits = sum((dec(r["creditforeignamount"]) for r in lines), ZERO)
    if debits != credits:
        raise user_error(f"This transaction is not in balance: debits {store_money(debits, precision)}, "
                         f"credits {store_money(credits, precision)}.", error_path="line")
    _set_total(ch, row["id"], debits, precision, 0)


def create_journal(ch: Change, body: dict[str, Any]) -> int:
    conn = ch.conn
    if body.get("subsidiary") is None:
        raise required("Subsidiary", "subsidiary")
    subsidiary = ref_id(conn, body["subsidiary"], "subsidiary", "subsidiary")
    currency = (ref_id(conn, body["currency"], "currency", "currency") if body.get("currency") is not None
                else int(ledger.subsidiary(conn, subsidiary)["currency"]))
    hdr = _finish_header(ch, body, None, currency, subsidiary)
    row = _insert_transaction(ch, JOURNAL, hdr, body, status="B")
    _insert_line(ch, row["id"], 0, mainline=True, subsidiary=subsidiary, entity=None, account=None, amount=None,
                 precision=hdr.precision, memo=parse_text(body.get("memo"), "memo"))
    ch.set_primary(JOURNAL, row["id"], "create")
    _je_lines(ch, row, body.get("line"), replace=False, precision=hdr.precision, subsidiary=subsidiary, creating=True)
    return int(row["id"])


def update_journal(ch: Change, tran_id: int, body: dict[str, Any], replace: set[str]) -> None:
    conn = ch.conn
    row = _tran_for_write(ch, JOURNAL, tran_id)
    ch.set_primary(JOURNAL, tran_id, "edit")
    _update_header(ch, JOURNAL, row, body)
    prec = ledger.precision(conn, row["currency"])
    main = ledger.main_line(conn, tran_id)
    if "line" in body or "line" in replace:
        _je_lines(ch, row, body.get("line"), replace="line" in replace, precision=prec,
                  subsidiary=main["subsidiary"] if main is not None else None, creating=False)


# ---- delete and void ---------------------------------------------------------------------------

def _dependents(conn: sqlite3.Connection, row: sqlite3.Row) -> bool:
    """Links that make other records depend on this one (it cannot be deleted while they exist)."""
    tid = row["id"]
    if row["type"] in ("CustInvc", "Journal"):
        return conn.execute("SELECT 1 FROM nexttransactionlinelink WHERE previousdoc = ? LIMIT 1",
                            (tid,)).fetchone() is not None
    if row["type"] in ("CustPymt", "CustCred", "CustRfnd"):
        # deposits and refunds of it; its own applications go with it
        return conn.execute("SELECT 1 FROM nexttransactionlinelink WHERE previousdoc = ? LIMIT 1",
                            (tid,)).fetchone() is not None
    return False


def delete_transaction(ch: Change, rt: RecordType, tran_id: int) -> None:
    conn = ch.conn
    ch.check_locked(tran_id)
    row = ledger.tran(conn, tran_id)
    if _dependents(conn, row):
        raise user_error(DEPENDENT_TEXT)
    linked = ledger.linked_ids(conn, tran_id)
    for other in linked:
        ch.check_locked(other)
    ch.touch(tran_id, *linked)
    conn.execute("DELETE FROM nexttransactionlinelink WHERE previousdoc = ? OR nextdoc = ?", (tran_id, tran_id))
    conn.execute("DELETE FROM transactionline WHERE \"transaction\" = ?", (tran_id,))
    conn.execute('DELETE FROM "transaction" WHERE id = ?', (tran_id,))
    ch.deleted.add(tran_id)
    _deleted_record(ch, rt, tran_id, row["tranid"], row["externalid"])
    ch.set_primary(rt, tran_id, "delete")


def void_transaction(ch: Change, rt: RecordType, tran_id: int) -> None:
    conn = ch.conn
    ch.check_locked(tran_id)
    row = ledger.tran(conn, tran_id)
    if row["voided"] == "T":
        raise user_error("This transaction has already been voided.")
    if row["type"] in ("CustPymt", "CustCred", "CustRfnd"):
        if ledger.deposit_of(conn, tran_id) is not None:
            raise user_error("This transaction cannot be voided because it has been deposited.")
        if conn.execute("SELECT 1 FROM nexttransactionlinelink WHERE previousdoc = ? AND nexttype = 'CustRfnd' "
                        "LIMIT 1", (tran_id,)).fetchone():
            raise user_error("This transaction cannot be voided because it has been refunded.")
    linked = ledger.linked_ids(conn, tran_id)
    for other in linked:
        ch.check_locked(other)
    ch.set_primary(rt, tran_id, "edit")
    ch.touch(*linked)
    if row["type"] == "Deposit":
        for line_id in apps.payment_line_ids(conn, tran_id):
            conn.execute("DELETE FROM transactionline WHERE \"transaction\" = ? AND id = ? AND mainline = 'F'",
                         (tran_id, line_id))
    conn.execute("DELETE FROM nexttransactionlinelink WHERE previousdoc = ? OR nextdoc = ?", (tran_id, tran_id))
    sets = "voided = 'T', status = 'V', lastmodifieddate = ?"
    if row["type"] == "CustInvc":
        sets += ", foreignamountpaid = 0, foreignamountunpaid = 0"
    elif row["type"] in ("CustPymt", "CustCred"):
        sets += ", foreignpaymentamountused = 0, foreignpaymentamountunused = 0"
    conn.execute(f'UPDATE "transaction" SET {sets} WHERE id = ?', (ch.now, tran_id))
    conn.execute("UPDATE transactionline SET foreignamountpaid = CASE WHEN foreignamountunpaid IS NULL THEN NULL "
                 "ELSE 0 END, foreignamountunpaid = CASE WHEN foreignamountunpaid IS NULL THEN NULL ELSE 0 END, "
                 "linelastmodifieddate = ? WHERE \"transaction\" = ?", (ch.now, tran_id))


CREATE = {
    "customer": create_customer, "invoice": create_invoice, "creditmemo": create_credit_memo,
    "customerpayment": create_payment, "customerrefund": create_refund, "deposit": create_deposit,
    "journalentry": create_journal,
}
UPDATE = {
    "customer": update_customer, "invoice": update_invoice, "creditmemo": update_credit_memo,
    "customerpayment": update_payment, "customerrefund": update_refund, "deposit": update_deposit,
    "journalentry": update_journal,
}


def create(ch: Change, rt: RecordType, body: dict[str, Any]) -> int:
    return CREATE[rt.key](ch, body)


def update(ch: Change, rt: RecordType, record_id: int, body: dict[str, Any], replace: set[str]) -> None:
    UPDATE[rt.key](ch, record_id, body, replace)


def delete(ch: Change, rt: RecordType, record_id: int) -> None:
    if rt is CUSTOMER:
        delete_customer(ch, record_id)
    else:
        delete_transaction(ch, rt, record_id)


def void(ch: Change, rt: RecordType, record_id: int) -> None:
    if rt is CUSTOMER:
        raise user_error("Only transactions can be voided.")
    void_transaction(ch, rt, record_id)


__all__ = ["create", "update", "delete", "void", "BY_TRANTYPE"]
