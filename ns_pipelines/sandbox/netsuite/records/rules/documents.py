"""Invoices and credit memos: documents with an item sublist, posted to an A/R account. A credit
memo also applies its credit to invoices and A/R journal lines (applications.py)."""
from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from ...errors import user_error
from .. import applications as apps
from .. import ledger
from ..changes import Change
from ..types import CREDIT_MEMO, INVOICE, RecordType
from ..values import ZERO, dec, parse_date, parse_money, parse_text, store_money
from .lines import (NO_LINES_TEXT, amount_columns, delete_lines, insert_line, line_key, remaining_lines, unseen,
                    update_line)
from .references import account_of_type, default_account, line_account, required, terms_id
from .transactions import Edit, Header, begin_update, entity_header, insert_document, set_total, sublist_given

AR_ACCOUNTS = ("AcctRec",)


def _ar_account(conn: sqlite3.Connection, body: dict[str, Any], subsidiary: int) -> int:
    if body.get("account") is not None:
        return account_of_type(conn, body["account"], "account", AR_ACCOUNTS)
    return default_account(conn, "AcctRec", subsidiary)


def _item_amount(item: dict[str, Any], path: str, precision: int) -> Decimal | None:
    if item.get("amount") is not None:
        return parse_money(item["amount"], f"{path}.amount", precision, allow_negative=True)
    if item.get("rate") is not None:
        quantity = (parse_money(item["quantity"], f"{path}.quantity", 8, allow_negative=True)
                    if item.get("quantity") is not None else Decimal(1))
        rate = parse_money(item["rate"], f"{path}.rate", 8, allow_negative=True)
        return dec(store_money(quantity * rate, precision))
    return None


def _write_items(ch: Change, row: sqlite3.Row, sublist: Any, *, replace: bool, precision: int,
                 subsidiary: int | None) -> Decimal:
    """Item lines keyed by `line`; returns the new total."""
    conn = ch.conn
    existing = {int(r["id"]) for r in ledger.lines(conn, row["id"])}
    seen: set[int] = set()
    next_id = max([0, *existing]) + 1
    for i, item in enumerate((sublist or {}).get("items") or []):
        path = f"item.items[{i}]"
        line_id = line_key(item, path)
        memo = parse_text(item.get("description", item.get("memo")), f"{path}.description")
        amount = _item_amount(item, path, precision)
        if line_id is not None and line_id in existing:
            seen.add(line_id)
            sets: dict[str, Any] = amount_columns(amount, precision) if amount is not None else {}
            if "description" in item or "memo" in item:
                sets["memo"] = memo
            update_line(ch, row["id"], line_id, item, path, sets)
            continue
        if amount is None:
            raise required("Amount", f"{path}.amount")
        if item.get("account") is not None:
            account = line_account(conn, item, path)
        else:
            account = default_account(conn, "Income", subsidiary, f"{path}.account")
        insert_line(ch, row["id"], next_id, mainline=False, subsidiary=subsidiary, entity=row["entity"],
                    account=account, amount=amount, precision=precision, memo=memo)
        seen.add(next_id)
        next_id += 1
    if replace:
        delete_lines(conn, row["id"], unseen(existing, seen))
    total = sum((dec(line["foreignamount"]) for line in remaining_lines(conn, row["id"], "item")), ZERO)
    if total < 0:
        raise user_error("The total of this transaction cannot be negative.", error_path="item")
    return total


def _create_with_items(ch: Change, rt: RecordType, hdr: Header, body: dict[str, Any], *, amounts: str,
                       duedate: str | None = None) -> tuple[sqlite3.Row, Decimal]:
    """The document with its A/R main line and its items; returns it and its total."""
    if not ((body.get("item") or {}).get("items")):
        raise user_error(NO_LINES_TEXT, error_path="item")
    account = _ar_account(ch.conn, body, hdr.subsidiary)
    row = insert_document(ch, rt, hdr, body, account=account, status="A", duedate=duedate, amounts=amounts)
    total = _write_items(ch, row, body.get("item"), replace=False, precision=hdr.precision,
                         subsidiary=hdr.subsidiary)
    set_total(ch, row["id"], total, hdr.precision)
    return row, total


def _update_items(ch: Change, edit: Edit, body: dict[str, Any], replace: set[str]) -> Decimal | None:
    """The new total when the body sends items, else None."""
    if "item" not in body:
        return None
    return _write_items(ch, edit.row, body["item"], replace="item" in replace, precision=edit.precision,
                        subsidiary=edit.subsidiary)


# ---- invoice -----------------------------------------------------------------------------------

def create_invoice(ch: Change, body: dict[str, Any]) -> int:
    conn = ch.conn
    hdr = entity_header(ch, body, "entity", "Customer")
    terms = terms_id(body.get("terms"))
    if terms is None:
        terms = ledger.customer(conn, hdr.entity)["terms"]
    if body.get("dueDate") is not None:
        duedate = parse_date(body["dueDate"], "dueDate")
    else:
        duedate = (date.fromisoformat(hdr.trandate) + timedelta(days=int(terms or 0))).isoformat()
    row, _total = _create_with_items(ch, INVOICE, hdr, body, amounts="debit", duedate=duedate)
    conn.execute('UPDATE "transaction" SET foreignamountunpaid = foreigntotal, terms = ? WHERE id = ?',
                 (terms, row["id"]))
    ch.set_primary(INVOICE, row["id"], "create")
    return int(row["id"])


def update_invoice(ch: Change, tran_id: int, body: dict[str, Any], replace: set[str]) -> None:
    edit = begin_update(ch, INVOICE, tran_id, body, main_account_types=AR_ACCOUNTS)
    total = _update_items(ch, edit, body, replace)
    if total is None:
        return
    paid = ledger.doc_paid(ch.conn, tran_id)
    if total < paid:
        raise user_error(f"The total of {ledger.tran_ref_name(edit.row)} ({store_money(total, edit.precision)}) "
                         f"cannot be less than the amount already paid ({store_money(paid, edit.precision)}).",
                         error_path="item")
    set_total(ch, tran_id, total, edit.precision)


# ---- credit memo -------------------------------------------------------------------------------

CREDIT_MEMO_LIMIT = "credit memo total"


def create_credit_memo(ch: Change, body: dict[str, Any]) -> int:
    conn = ch.conn
    hdr = entity_header(ch, body, "entity", "Customer")
    row, total = _create_with_items(ch, CREDIT_MEMO, hdr, body, amounts="credit")
    row = ledger.tran(conn, row["id"])
    ch.set_primary(CREDIT_MEMO, row["id"], "create")
    apps.apply_to_debits(ch, row, body.get("apply"), replace=False, limit=total, precision=hdr.precision)
    if body.get("autoApply") is True:
        apps.auto_apply(ch, row, total, hdr.precision)
    apps.check_applied_limit(conn, row, total, hdr.precision, CREDIT_MEMO_LIMIT)
    return int(row["id"])


def update_credit_memo(ch: Change, tran_id: int, body: dict[str, Any], replace: set[str]) -> None:
    edit = begin_update(ch, CREDIT_MEMO, tran_id, body, main_account_types=AR_ACCOUNTS)
    total = _update_items(ch, edit, body, replace)
    if total is None:
        total = dec(edit.row["foreigntotal"])
    else:
        set_total(ch, tran_id, total, edit.precision)
    row = reapply_to_debits(ch, tran_id, body, replace, limit=total, precision=edit.precision)
    apps.check_applied_limit(ch.conn, row, total, edit.precision, CREDIT_MEMO_LIMIT)


def reapply_to_debits(ch: Change, tran_id: int, body: dict[str, Any], replace: set[str], *, limit: Decimal,
                      precision: int) -> sqlite3.Row:
    """An update's apply sublist on a credit memo or payment; returns the transaction as it is now."""
    row = ledger.tran(ch.conn, tran_id)
    if sublist_given(body, replace, "apply"):
        apps.apply_to_debits(ch, row, body.get("apply"), replace="apply" in replace, limit=limit,
                             precision=precision)
    return row
