"""Customers: create, update and delete, with their currencies and primary subsidiary."""
from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

from ...errors import invalid_key_or_ref, user_error
from .. import ledger
from ..changes import Change
from ..types import CUSTOMER
from ..values import parse_bool, parse_money, parse_text
from .delete_and_void import DEPENDENT_TEXT, record_deletion
from .references import (check_external_id, optional_ref, ref_id, required, subsidiary_and_currency,
                         terms_id)


def _flag(body: dict[str, Any], field: str) -> str:
    return "T" if parse_bool(body[field], field) else "F"


def _credit_limit(body: dict[str, Any]) -> str | None:
    return str(parse_money(body["creditLimit"], "creditLimit", 2)) if body.get("creditLimit") is not None else None


def _currency_list(conn: sqlite3.Connection, sublist: Any) -> set[int]:
    out: set[int] = set()
    for i, item in enumerate((sublist or {}).get("items") or []):
        path = f"currencyList.items[{i}].currency"
        if item.get("currency") is None:
            raise required("Currency", path)
        out.add(ref_id(conn, item["currency"], "currency", "currency", path))
    return out


def _add_currencies(conn: sqlite3.Connection, customer_id: int, currencies: Iterable[int]) -> None:
    conn.executemany("INSERT OR IGNORE INTO customercurrency (entity, currency) VALUES (?,?)",
                     [(customer_id, c) for c in sorted(currencies)])


def _has_transactions(conn: sqlite3.Connection, customer_id: int) -> bool:
    return conn.execute('SELECT 1 FROM "transaction" WHERE entity = ? UNION ALL '
                        "SELECT 1 FROM transactionline WHERE entity = ? LIMIT 1",
                        (customer_id, customer_id)).fetchone() is not None


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
    subsidiary, currency = subsidiary_and_currency(conn, body, "Primary Subsidiary")
    eid = parse_text(body.get("externalId"), "externalId")
    check_external_id(conn, CUSTOMER, eid)
    entityid = parse_text(body.get("entityId"), "entityId") or company or person
    parent = optional_ref(conn, body, "parent", "customer")
    representing = optional_ref(conn, body, "representingSubsidiary", "subsidiary")
    terms = terms_id(body.get("terms"))
    limit = _credit_limit(body)
    inactive = _flag(body, "isInactive") if body.get("isInactive") is not None else "F"
    cur = conn.execute(
        "INSERT INTO customer (id, entityid, companyname, isperson, email, phone, currency, subsidiary, parent, "
        "representingsubsidiary, terms, creditlimit, isinactive, externalid, datecreated, lastmodifieddate) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (ledger.next_record_id(conn, customer=True), entityid, company, "T" if is_person else "F",
         parse_text(body.get("email"), "email"), parse_text(body.get("phone"), "phone"), currency, subsidiary,
         parent, representing, terms, limit, inactive, eid, ch.now, ch.now))
    customer_id = int(cur.lastrowid)
    conn.execute("INSERT INTO customersubsidiaryrelationship (entity, subsidiary, isprimarysub, primarycurrency, "
                 "balance, depositbalance, lastmodifieddate) VALUES (?,?,'T',?,0,0,?)",
                 (customer_id, subsidiary, currency, ch.now))
    _add_currencies(conn, customer_id, {currency} | _currency_list(conn, body.get("currencyList")))
    ch.customers.add(customer_id)
    ch.set_primary(CUSTOMER, customer_id, "create")
    return customer_id


def _changed_fields(conn: sqlite3.Connection, customer_id: int, body: dict[str, Any]) -> dict[str, Any]:
    """The customer columns a body sets, apart from its currencies and primary subsidiary."""
    sets: dict[str, Any] = {}
    for field, column in (("companyName", "companyname"), ("entityId", "entityid"), ("email", "email"),
                          ("phone", "phone")):
        if field in body:
            sets[column] = parse_text(body[field], field)
    if "entityId" in body and not sets.get("entityid"):
        raise required("Customer ID", "entityId")
    for field in ("isPerson", "isInactive"):
        if body.get(field) is not None:
            sets[field.lower()] = _flag(body, field)
    if "externalId" in body:
        eid = parse_text(body["externalId"], "externalId")
        check_external_id(conn, CUSTOMER, eid, customer_id)
        sets["externalid"] = eid
    if "parent" in body:
        parent = optional_ref(conn, body, "parent", "customer")
        if parent == customer_id:
            raise invalid_key_or_ref("parent", parent)
        sets["parent"] = parent
    if "representingSubsidiary" in body:
        sets["representingsubsidiary"] = optional_ref(conn, body, "representingSubsidiary", "subsidiary")
    if "terms" in body:
        sets["terms"] = terms_id(body["terms"])
    if "creditLimit" in body:
        sets["creditlimit"] = _credit_limit(body)
    return sets


def _change_primary(conn: sqlite3.Connection, customer_id: int, cust: sqlite3.Row, body: dict[str, Any],
                    sets: dict[str, Any]) -> None:
    """The primary currency and subsidiary may change only while the customer has no transactions."""
    has_transactions = _has_transactions(conn, customer_id)
    for field in ("currency", "subsidiary"):
        if body.get(field) is None:
            continue
        new = ref_id(conn, body[field], field, field)
        if new != int(cust[field]):
            if has_transactions:
                raise user_error(f"You cannot change the primary {field} of a customer that has transactions.",
                                 error_path=field)
            sets[field] = new


def _update_currency_list(conn: sqlite3.Connection, customer_id: int, sublist: Any, primary: int,
                          replace: bool) -> None:
    wanted = _currency_list(conn, sublist)
    _add_currencies(conn, customer_id, wanted | {primary})
    if not replace:
        return
    for c in ledger.customer_currencies(conn, customer_id) - wanted - {primary}:
        used = conn.execute('SELECT 1 FROM "transaction" WHERE entity = ? AND currency = ? LIMIT 1',
                            (customer_id, c)).fetchone()
        if used is not None:
            raise user_error("You cannot remove a currency the customer has transactions in.",
                             error_path="currencyList")
        conn.execute("DELETE FROM customercurrency WHERE entity = ? AND currency = ?", (customer_id, c))


def update_customer(ch: Change, customer_id: int, body: dict[str, Any], replace: set[str]) -> None:
    conn = ch.conn
    ch.check_locked(customer_id)
    cust = ledger.customer(conn, customer_id)
    sets = _changed_fields(conn, customer_id, body)
    _change_primary(conn, customer_id, cust, body, sets)
    if body.get("currencyList") is not None:
        _update_currency_list(conn, customer_id, body["currencyList"], int(sets.get("currency", cust["currency"])),
                              "currencyList" in replace)
    if "currency" in sets:
        _add_currencies(conn, customer_id, [sets["currency"]])
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
    if _has_transactions(conn, customer_id) or conn.execute(
            "SELECT 1 FROM customer WHERE parent = ? LIMIT 1", (customer_id,)).fetchone():
        raise user_error(DEPENDENT_TEXT)
    cust = ledger.customer(conn, customer_id)
    conn.execute("DELETE FROM customercurrency WHERE entity = ?", (customer_id,))
    conn.execute("DELETE FROM customersubsidiaryrelationship WHERE entity = ?", (customer_id,))
    conn.execute("DELETE FROM customer WHERE id = ?", (customer_id,))
    record_deletion(ch, CUSTOMER, customer_id, cust["entityid"], cust["externalid"])
    ch.set_primary(CUSTOMER, customer_id, "delete")
