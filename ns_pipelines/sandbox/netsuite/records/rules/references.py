"""What a request body refers to (customers, currencies, subsidiaries, accounts, terms, external
ids), and the errors NetSuite answers when a reference is missing or wrong."""
from __future__ import annotations

import sqlite3
from typing import Any

from ...errors import ApiError, invalid_key_or_ref, user_error
from .. import ledger
from ..types import RecordType
from ..values import is_int_id, parse_ref

_TABLES = {"customer": "customer", "currency": "currency", "subsidiary": "subsidiary", "account": "account"}


def required(label: str, path: str) -> ApiError:
    return user_error(f"Please enter value(s) for: {label}", error_path=path)


def ref_id(conn: sqlite3.Connection, value: Any, table: str, field: str, path: str | None = None) -> int:
    """The internal id of a reference field's target; INVALID_KEY_OR_REF when there is none."""
    path = path or field
    kind, key = parse_ref(value, path)
    row = None
    if kind == "eid":
        # only customers are looked up by external id; other eid references are refused
        if table == "customer":
            row = conn.execute("SELECT id FROM customer WHERE externalid = ?", (key,)).fetchone()
    elif is_int_id(key):
        row = conn.execute(f'SELECT id FROM "{_TABLES[table]}" WHERE id = ?', (int(key),)).fetchone()
    if row is None:
        raise ApiError(400, "INVALID_KEY_OR_REF", f"Invalid {field} reference key {key}.", error_path=path)
    return int(row[0])


def optional_ref(conn: sqlite3.Connection, body: dict[str, Any], field: str, table: str) -> int | None:
    """The id `body[field]` refers to, or None when the field is absent or null."""
    return ref_id(conn, body[field], table, field) if body.get(field) is not None else None


def subsidiary_and_currency(conn: sqlite3.Connection, body: dict[str, Any], label: str) -> tuple[int, int]:
    """The subsidiary a body must name (`label` in the error), and the currency it names, else
    that subsidiary's base currency."""
    if body.get("subsidiary") is None:
        raise required(label, "subsidiary")
    subsidiary = ref_id(conn, body["subsidiary"], "subsidiary", "subsidiary")
    currency = optional_ref(conn, body, "currency", "currency")
    if currency is None:
        currency = int(ledger.subsidiary(conn, subsidiary)["currency"])
    return subsidiary, currency


def line_account(conn: sqlite3.Connection, item: dict[str, Any], path: str) -> int:
    """The account a sublist line names (`item["account"]`, which must be present)."""
    return ref_id(conn, item["account"], "account", "account", f"{path}.account")


def default_account(conn: sqlite3.Connection, accttype: str, subsidiary: int | None, path: str = "account") -> int:
    """The account of the type a body may leave out (the subsidiary's, else a shared one)."""
    acct = ledger.first_account(conn, accttype, subsidiary)
    if acct is None:
        raise required("Account", path)
    return int(acct["id"])


def account_of_type(conn: sqlite3.Connection, value: Any, field: str, types: tuple[str, ...],
                    path: str | None = None) -> int:
    account_id = ref_id(conn, value, "account", field, path)
    if ledger.account(conn, account_id)["accttype"] not in types:
        raise ApiError(400, "INVALID_KEY_OR_REF", f"Invalid {field} reference key {account_id}.",
                       error_path=path or field)
    return account_id


def terms_id(value: Any) -> int | None:
    """Terms are referenced by internal id only (there is no terms table to look up)."""
    if value is None:
        return None
    kind, key = parse_ref(value, "terms")
    if kind != "id" or not is_int_id(key):
        raise invalid_key_or_ref("terms", key)
    return int(key)


def check_external_id(conn: sqlite3.Connection, rt: RecordType, eid: str | None, own_id: int | None = None) -> None:
    """Refuse an external id another record of the type already has."""
    if eid is None:
        return
    row = ledger.find_by_external_id(conn, rt, eid)
    if row is not None and int(row["id"]) != (own_id or -1):
        raise ApiError(400, "DUP_RCRD",
                       f"This record already exists. A {rt.rest} record with external ID {eid} exists "
                       f"(internal ID {row['id']}).", error_path="externalId")
