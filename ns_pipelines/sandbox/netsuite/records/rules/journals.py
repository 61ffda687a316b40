"""Journal entries: balanced debit/credit lines; lines posting to A/R carry a customer and can be
paid like invoices (applications.py), so a paid line may only change in ways that keep it paid."""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ...errors import invalid_key_or_ref, user_error
from .. import ledger
from ..changes import Change
from ..types import JOURNAL
from ..values import ZERO, dec, parse_money, parse_text, store_money
from .lines import delete_lines, insert_line, line_key, remaining_lines, unseen
from .references import line_account, ref_id, required, subsidiary_and_currency
from .transactions import begin_update, finish_header, insert_document, set_total, sublist_given


@dataclass(frozen=True)
class _Line:
    """One journal line as a request leaves it: what the request line sends, else what it was."""
    account: int
    debit: Decimal
    credit: Decimal
    entity: int | None
    is_ar: bool
    memo: str | None

    @property
    def amount(self) -> Decimal:
        return self.debit - self.credit


def _requested_line(conn: sqlite3.Connection, tran: sqlite3.Row, item: dict[str, Any], path: str,
                    old: sqlite3.Row | None, precision: int) -> _Line:
    if item.get("account") is not None:
        account = line_account(conn, item, path)
    elif old is not None and old["expenseaccount"] is not None:
        account = int(old["expenseaccount"])
    else:
        raise required("Account", f"{path}.account")
    if old is not None and item.get("debit") is None and item.get("credit") is None:
        debit, credit = dec(old["debitforeignamount"]), dec(old["creditforeignamount"])
    else:
        debit = parse_money(item["debit"], f"{path}.debit", precision) if item.get("debit") is not None else ZERO
        credit = parse_money(item["credit"], f"{path}.credit", precision) if item.get("credit") is not None else ZERO
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
        if int(tran["currency"]) not in allowed:
            raise invalid_key_or_ref("currency", tran["currency"])
    memo = parse_text(item.get("memo"), f"{path}.memo") if "memo" in item else (old["memo"] if old else None)
    return _Line(account, debit, credit, entity, is_ar, memo)


def _rewrite_line(ch: Change, tran_id: int, line_id: int, old: sqlite3.Row, line: _Line, path: str,
                  precision: int) -> None:
    """An existing line; payments applied to it must still fit on it."""
    paid = ledger.doc_paid(ch.conn, tran_id, line_id)
    if paid > 0 and (not line.is_ar or line.amount < paid or line.entity != old["entity"]):
        raise user_error(f"Line {line_id} has payments applied ({store_money(paid, precision)}) and "
                         f"cannot be changed that way.", error_path=path)

    def money(value: Decimal) -> str:
        return store_money(value, precision)

    ch.conn.execute(
        "UPDATE transactionline SET expenseaccount = ?, entity = ?, foreignamount = ?, netamount = ?, "
        "debitforeignamount = ?, creditforeignamount = ?, memo = ?, foreignamountpaid = ?, "
        "foreignamountunpaid = ?, linelastmodifieddate = ? WHERE \"transaction\" = ? AND id = ?",
        (line.account, line.entity, money(line.amount), money(line.amount),
         money(line.debit) if line.debit else None, money(line.credit) if line.credit else None,
         line.memo, money(paid) if line.is_ar else None, money(line.amount - paid) if line.is_ar else None,
         ch.now, tran_id, line_id))


def _write_lines(ch: Change, row: sqlite3.Row, sublist: Any, *, replace: bool, precision: int,
                 subsidiary: int | None) -> None:
    """Journal lines keyed by `line`; the entry must stay in balance."""
    conn = ch.conn
    existing = {int(r["id"]): r for r in ledger.lines(conn, row["id"])}
    next_id = max([0, *existing]) + 1
    seen: set[int] = set()
    for i, item in enumerate((sublist or {}).get("items") or []):
        path = f"line.items[{i}]"
        line_id = line_key(item, path)
        old = existing.get(line_id) if line_id is not None else None
        line = _requested_line(conn, row, item, path, old, precision)
        if old is not None:
            seen.add(line_id)
            _rewrite_line(ch, row["id"], line_id, old, line, path, precision)
            continue
        insert_line(ch, row["id"], next_id, mainline=False, subsidiary=subsidiary, entity=line.entity,
                    account=line.account, amount=line.amount, precision=precision, memo=line.memo,
                    debit=line.debit or None, credit=line.credit or None, ar_open=line.is_ar)
        if line.entity is not None:
            ch.customers.add(line.entity)
        seen.add(next_id)
        next_id += 1
    if replace:
        removed = unseen(existing, seen)
        for line_id in removed:
            if ledger.doc_paid(conn, row["id"], line_id) > 0:
                raise user_error(f"Line {line_id} has payments applied and cannot be removed.", error_path="line")
        delete_lines(conn, row["id"], removed)
    lines = remaining_lines(conn, row["id"], "line")
    debits = sum((dec(r["debitforeignamount"]) for r in lines), ZERO)
    credits = sum((dec(r["creditforeignamount"]) for r in lines), ZERO)
    if debits != credits:
        raise user_error(f"This transaction is not in balance: debits {store_money(debits, precision)}, "
                         f"credits {store_money(credits, precision)}.", error_path="line")
    set_total(ch, row["id"], debits, precision, main_line=False)


def create_journal(ch: Change, body: dict[str, Any]) -> int:
    subsidiary, currency = subsidiary_and_currency(ch.conn, body, "Subsidiary")
    hdr = finish_header(ch, body, None, currency, subsidiary)
    row = insert_document(ch, JOURNAL, hdr, body, account=None, status="B", summary_line=True)
    ch.set_primary(JOURNAL, row["id"], "create")
    _write_lines(ch, row, body.get("line"), replace=False, precision=hdr.precision, subsidiary=subsidiary)
    return int(row["id"])


def update_journal(ch: Change, tran_id: int, body: dict[str, Any], replace: set[str]) -> None:
    edit = begin_update(ch, JOURNAL, tran_id, body)
    if sublist_given(body, replace, "line"):
        _write_lines(ch, edit.row, body.get("line"), replace="line" in replace, precision=edit.precision,
                     subsidiary=edit.subsidiary)
