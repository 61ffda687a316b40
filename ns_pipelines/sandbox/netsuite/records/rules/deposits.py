"""Deposits: payments (and refunds) out of undeposited funds plus other and cash-back lines,
into a bank account."""
from __future__ import annotations

import sqlite3
from decimal import Decimal
from typing import Any

from ...errors import invalid_key_or_ref, user_error
from .. import applications as apps
from .. import ledger
from ..changes import Change
from ..types import DEPOSIT
from ..values import ZERO, dec, parse_money, parse_text
from .lines import NO_LINES_TEXT, amount_columns, delete_lines, insert_line, line_key, unseen, update_line
from .references import account_of_type, line_account, ref_id, required
from .transactions import begin_update, finish_header, insert_document, set_total, sublist_given

BANK_ACCOUNTS = ("Bank",)
# other lines add to the deposit and may be negative; cash back is taken out of it
_LINE_SUBLISTS = (("other", 1), ("cashBack", -1))


def _signed_amount(item: dict[str, Any], path: str, precision: int, sign: int) -> Decimal:
    return parse_money(item["amount"], f"{path}.amount", precision, allow_negative=(sign == 1)) * sign


def _other_lines(ch: Change, row: sqlite3.Row, body: dict[str, Any], replace: set[str], precision: int,
                 subsidiary: int | None) -> None:
    """The other and cash-back sublists: every line of the deposit that is not a deposited payment."""
    conn = ch.conn
    payment_lines = ledger.payment_line_ids(conn, row["id"])
    existing = [int(r["id"]) for r in ledger.lines(conn, row["id"]) if int(r["id"]) not in payment_lines]
    seen: set[int] = set()
    for name, sign in _LINE_SUBLISTS:
        for i, item in enumerate((body.get(name) or {}).get("items") or []):
            path = f"{name}.items[{i}]"
            line_id = line_key(item, path)
            if line_id is not None and line_id in existing:
                seen.add(line_id)
                sets: dict[str, Any] = {}
                if item.get("amount") is not None:
                    sets.update(amount_columns(_signed_amount(item, path, precision, sign), precision))
                if "memo" in item:
                    sets["memo"] = parse_text(item["memo"], f"{path}.memo")
                update_line(ch, row["id"], line_id, item, path, sets)
                continue
            if item.get("account") is None:
                raise required("Account", f"{path}.account")
            account = line_account(conn, item, path)
            if item.get("amount") is None:
                raise required("Amount", f"{path}.amount")
            signed = _signed_amount(item, path, precision, sign)
            entity = (ref_id(conn, item["entity"], "customer", "entity", f"{path}.entity")
                      if item.get("entity") is not None else None)
            next_id = ledger.next_line_id(conn, row["id"])
            insert_line(ch, row["id"], next_id, mainline=False, subsidiary=subsidiary, entity=entity,
                        account=account, amount=signed, precision=precision,
                        memo=parse_text(item.get("memo"), f"{path}.memo"))
            seen.add(next_id)
    if "other" in replace or "cashBack" in replace:
        delete_lines(conn, row["id"], unseen(existing, seen))


def _write_lines(ch: Change, row: sqlite3.Row, body: dict[str, Any], replace: set[str], precision: int,
                 subsidiary: int | None) -> None:
    """The deposited payments, the other and cash-back lines, then the total they add up to."""
    conn = ch.conn
    if sublist_given(body, replace, "payment"):
        apps.deposit_payments(ch, row, body.get("payment"), replace="payment" in replace, precision=precision)
    _other_lines(ch, row, body, replace, precision, subsidiary)
    lines = ledger.lines(conn, row["id"])
    total = sum((dec(line["foreignamount"]) for line in lines), ZERO)
    has_payments = conn.execute("SELECT 1 FROM nexttransactionlinelink WHERE nextdoc = ? AND linktype = 'Deposit' "
                                "LIMIT 1", (row["id"],)).fetchone() is not None
    if not has_payments and not lines:
        raise user_error(NO_LINES_TEXT, error_path="payment")
    if total < 0:
        raise user_error("The total of a deposit cannot be negative.", error_path="payment")
    set_total(ch, row["id"], total, precision)


def _subsidiary(conn: sqlite3.Connection, body: dict[str, Any], acct: sqlite3.Row) -> int:
    """The body's, else the bank account's, else the first subsidiary."""
    if body.get("subsidiary") is not None:
        return ref_id(conn, body["subsidiary"], "subsidiary", "subsidiary")
    if acct["subsidiary"] is not None:
        return int(acct["subsidiary"])
    first = conn.execute("SELECT id FROM subsidiary ORDER BY id LIMIT 1").fetchone()
    if first is None:
        raise required("Subsidiary", "subsidiary")
    return int(first[0])


def _currency(conn: sqlite3.Connection, body: dict[str, Any], acct: sqlite3.Row, subsidiary: int) -> int:
    """The body's, else the bank account's, else the subsidiary's; it must be the account's."""
    if body.get("currency") is not None:
        currency = ref_id(conn, body["currency"], "currency", "currency")
    elif acct["currency"] is not None:
        currency = int(acct["currency"])
    else:
        currency = int(ledger.subsidiary(conn, subsidiary)["currency"])
    if acct["currency"] is not None and int(acct["currency"]) != currency:
        raise invalid_key_or_ref("currency", currency)
    return currency


def create_deposit(ch: Change, body: dict[str, Any]) -> int:
    conn = ch.conn
    if body.get("account") is None:
        raise required("Account", "account")
    account = account_of_type(conn, body["account"], "account", BANK_ACCOUNTS)
    acct = ledger.account(conn, account)
    subsidiary = _subsidiary(conn, body, acct)
    hdr = finish_header(ch, body, None, _currency(conn, body, acct, subsidiary), subsidiary)
    row = insert_document(ch, DEPOSIT, hdr, body, account=account, status="A")
    ch.set_primary(DEPOSIT, row["id"], "create")
    _write_lines(ch, row, body, set(), hdr.precision, subsidiary)
    return int(row["id"])


def update_deposit(ch: Change, tran_id: int, body: dict[str, Any], replace: set[str]) -> None:
    edit = begin_update(ch, DEPOSIT, tran_id, body, main_account_types=BANK_ACCOUNTS)
    _write_lines(ch, edit.row, body, replace, edit.precision, edit.subsidiary)
