"""Keyed sublists that link documents: a payment's or credit memo's `apply` (invoices and A/R
journal debit lines it pays), a refund's `apply` (credits it pays out) and a deposit's `payment`.

Keyed semantics (netsuite-api.md section 5): a request line whose key (doc + line; for a
deposit the payment id) matches an existing line updates it, any other request line is added;
with `?replace=<sublist>` existing lines the request does not name are removed. On an apply
sublist `apply: false` or `amount: 0` unapplies; `apply: true` without an amount applies the
lesser of the amount due and what is left to apply.
"""
from __future__ import annotations

import sqlite3
from decimal import Decimal
from typing import Any

from ..errors import ApiError, user_error
from . import ledger
from .changes import Change
from .values import ZERO, dec, is_int_id, parse_bool, parse_int, parse_money, parse_ref, store_money

AUTO = object()


def _invalid_doc(value: Any, path: str, why: str = "") -> ApiError:
    detail = f"Invalid doc reference key {value}."
    if why:
        detail += f" {why}"
    return ApiError(400, "INVALID_KEY_OR_REF", detail, error_path=path)


def _doc_id(conn: sqlite3.Connection, value: Any, path: str, types: tuple[str, ...]) -> int:
    kind, key = parse_ref(value, path)
    if kind == "eid":
        placeholders = ",".join("?" * len(types))
        row = conn.execute(f'SELECT id FROM "transaction" WHERE externalid = ? AND type IN ({placeholders}) '
                           "ORDER BY id LIMIT 1", (key, *types)).fetchone()
        if row is None:
            raise _invalid_doc(key, path)
        return int(row[0])
    if not is_int_id(key):
        raise _invalid_doc(key, path)
    return int(key)


def _items(sublist: Any) -> list[dict[str, Any]]:
    if not sublist:
        return []
    return list(sublist.get("items") or [])


def _target(item: dict[str, Any], path: str, precision: int) -> Any:
    """What the request asks for a line: Decimal amount, ZERO (unapply) or AUTO."""
    flag = parse_bool(item["apply"], f"{path}.apply") if item.get("apply") is not None else None
    amount = (parse_money(item["amount"], f"{path}.amount", precision)
              if item.get("amount") is not None else None)
    if flag is False or (amount is not None and amount == 0):
        return ZERO
    if amount is not None:
        return amount
    return AUTO


def _link(conn: sqlite3.Connection, prev: int, prev_line: int, nxt: int) -> Decimal | None:
    row = conn.execute("SELECT foreignamount FROM nexttransactionlinelink WHERE previousdoc = ? "
                       "AND previousline = ? AND nextdoc = ?", (prev, prev_line, nxt)).fetchone()
    return dec(row[0]) if row is not None else None


def _write_link(ch: Change, prev: sqlite3.Row, prev_line: int, nxt: sqlite3.Row, linktype: str,
                amount: Decimal, precision: int, next_line: int = 0) -> None:
    ch.conn.execute(
        "INSERT INTO nexttransactionlinelink (previousdoc, previousline, previoustype, nextdoc, nextline, "
        "nexttype, linktype, foreignamount, linkdate, lastmodifieddate) VALUES (?,?,?,?,?,?,?,?,?,?) "
        "ON CONFLICT(previousdoc, previousline, nextdoc, nextline) DO UPDATE SET "
        "foreignamount = excluded.foreignamount, linktype = excluded.linktype, "
        "lastmodifieddate = excluded.lastmodifieddate",
        (prev["id"], prev_line, prev["type"], nxt["id"], next_line, nxt["type"], linktype,
         store_money(amount, precision), nxt["trandate"], ch.now))


def _delete_link(ch: Change, prev: int, prev_line: int, nxt: int) -> None:
    ch.conn.execute("DELETE FROM nexttransactionlinelink WHERE previousdoc = ? AND previousline = ? AND nextdoc = ?",
                    (prev, prev_line, nxt))


def _fmt(amount: Decimal, precision: int) -> str:
    return store_money(amount, precision)


def _claim(ch: Change, doc_id: int) -> None:
    """A document whose amounts this write changes: refused while locked, snapshotted for finish()."""
    ch.check_locked(doc_id)
    ch.touch(doc_id)


def _unapply(ch: Change, doc_id: int, line: int, owner_id: int) -> None:
    _claim(ch, doc_id)
    _delete_link(ch, doc_id, line, owner_id)


def _requested_doc(conn: sqlite3.Connection, item: dict[str, Any], path: str, types: tuple[str, ...]) -> int:
    if item.get("doc") is None:
        raise user_error("Please enter value(s) for: Doc.", error_path=f"{path}.doc")
    return _doc_id(conn, item["doc"], f"{path}.doc", types)


def _apply_amount(ch: Change, owner: sqlite3.Row, doc: sqlite3.Row, line: int, existing: Decimal | None,
                  target: Decimal, precision: int) -> None:
    """Make `target` what `owner` applies to a document line (unless it already is)."""
    if existing is not None and existing == target:
        return
    _claim(ch, doc["id"])
    _write_link(ch, doc, line, owner, "Payment", target, precision)


# ---- payments and credit memos -> invoices and A/R journal lines --------------------------------

def _debit_open(conn: sqlite3.Connection, doc: sqlite3.Row, line: int) -> tuple[Decimal, Decimal]:
    """(original amount, open amount) of an invoice or of one A/R journal line, live."""
    if doc["type"] == "Journal":
        row = conn.execute("SELECT foreignamount FROM transactionline WHERE \"transaction\" = ? AND id = ?",
                           (doc["id"], line)).fetchone()
        original = dec(row[0]) if row else ZERO
        return original, original - ledger.doc_paid(conn, doc["id"], line)
    original = dec(doc["foreigntotal"])
    return original, original - ledger.doc_paid(conn, doc["id"])


def _check_debit(ch: Change, owner: sqlite3.Row, doc: sqlite3.Row | None, line: int | None, value: Any,
                 path: str) -> int:
    """Refuse a document this payment/credit may not apply to; returns the line to use."""
    conn = ch.conn
    if doc is None or doc["type"] not in ("CustInvc", "Journal"):
        raise _invalid_doc(value, f"{path}.doc")
    name = ledger.tran_ref_name(doc)
    if doc["voided"] == "T":
        raise _invalid_doc(value, f"{path}.doc", f"{name} is voided.")
    if doc["type"] == "CustInvc":
        if line not in (None, 0):
            raise ApiError(400, "INVALID_KEY_OR_REF", f"Invalid line reference key {line} for {name}.",
                           error_path=f"{path}.line")
        line = 0
        if doc["entity"] is None or int(doc["entity"]) != int(owner["entity"]):
            raise _invalid_doc(value, f"{path}.doc",
                               f"{name} belongs to another customer and cannot be applied.")
    else:
        candidates = conn.execute(
            "SELECT tl.id FROM transactionline tl JOIN account a ON a.id = tl.expenseaccount "
            "WHERE tl.\"transaction\" = ? AND tl.entity = ? AND a.accttype = 'AcctRec' AND tl.foreignamount > 0 "
            "ORDER BY tl.id", (doc["id"], owner["entity"])).fetchall()
        ids = [int(r[0]) for r in candidates]
        if line is None:
            if len(ids) != 1:
                if not ids:
                    raise _invalid_doc(value, f"{path}.doc",
                                       f"{name} has no open A/R debit line for this customer.")
                raise user_error(f"Please enter value(s) for: Line ({name} has several A/R lines).",
                                 error_path=f"{path}.line")
            line = ids[0]
        elif line not in ids:
            raise ApiError(400, "INVALID_KEY_OR_REF",
                           f"Invalid line reference key {line} for {name}: not an A/R debit line of this customer.",
                           error_path=f"{path}.line")
    if int(doc["currency"]) != int(owner["currency"]):
        cur_doc = ledger.currency(conn, doc["currency"])
        cur_own = ledger.currency(conn, owner["currency"])
        raise _invalid_doc(value, f"{path}.doc",
                           f"{name} is in {cur_doc['symbol'] if cur_doc else doc['currency']}; this transaction is in "
                           f"{cur_own['symbol'] if cur_own else owner['currency']}.")
    return int(line)


def apply_to_debits(ch: Change, owner: sqlite3.Row, sublist: Any, *, replace: bool,
                    limit: Decimal | None, precision: int) -> None:
    """Apply/unapply a payment or credit memo (`owner`) to invoices and A/R journal lines."""
    conn = ch.conn
    seen: set[tuple[int, int]] = set()
    for i, item in enumerate(_items(sublist)):
        path = f"apply.items[{i}]"
        doc_id = _requested_doc(conn, item, path, ("CustInvc", "Journal"))
        line = parse_int(item["line"], f"{path}.line") if item.get("line") is not None else None
        doc = ledger.tran(conn, doc_id)
        if doc is not None and doc["type"] == "CustInvc" and line is None:
            line = 0
        existing = _link(conn, doc_id, line, owner["id"]) if line is not None else None
        if existing is None:
            line = _check_debit(ch, owner, doc, line, doc_id, path)
            existing = _link(conn, doc_id, line, owner["id"])
        seen.add((doc_id, line))
        target = _target(item, path, precision)
        if target is not AUTO and target == 0:
            if existing is not None:
                _unapply(ch, doc_id, line, owner["id"])
            continue
        original, open_amount = _debit_open(conn, doc, line)
        due = open_amount + (existing or ZERO)
        if target is AUTO:
            if existing is not None:
                target = existing
            else:
                target = due
                if limit is not None:
                    target = min(target, limit - ledger.credit_used(conn, owner["id"]))
                if target <= 0:
                    continue
        if target > due:
            raise user_error(
                f"You cannot apply more than the amount due on {ledger.tran_ref_name(doc)}. "
                f"Amount due: {_fmt(due, precision)}; amount applied: {_fmt(target, precision)}.",
                error_path=f"{path}.amount")
        _apply_amount(ch, owner, doc, line, existing, target, precision)
    if replace:
        for link in conn.execute("SELECT previousdoc, previousline FROM nexttransactionlinelink "
                                 "WHERE nextdoc = ? AND linktype = 'Payment'", (owner["id"],)).fetchall():
            key = (int(link[0]), int(link[1]))
            if key not in seen:
                _unapply(ch, *key, owner["id"])


def auto_apply(ch: Change, owner: sqlite3.Row, limit: Decimal, precision: int) -> None:
    """`autoApply: true`: the customer's open invoices in the same currency, oldest due first."""
    conn = ch.conn
    for doc in conn.execute(
            'SELECT * FROM "transaction" WHERE entity = ? AND type = \'CustInvc\' AND currency = ? '
            "AND voided = 'F' ORDER BY COALESCE(duedate, trandate), trandate, id",
            (owner["entity"], owner["currency"])).fetchall():
        left = limit - ledger.credit_used(conn, owner["id"])
        if left <= 0:
            break
        _original, open_amount = _debit_open(conn, doc, 0)
        existing = _link(conn, doc["id"], 0, owner["id"]) or ZERO
        amount = min(open_amount, left)
        if amount <= 0:
            continue
        if int(doc["id"]) in ch.settings.faults.locked_record_ids:
            continue
        ch.touch(doc["id"])
        _write_link(ch, doc, 0, owner, "Payment", existing + amount, precision)


def check_applied_limit(conn: sqlite3.Connection, owner: sqlite3.Row, limit: Decimal, precision: int,
                        what: str) -> None:
    used = ledger.credit_used(conn, owner["id"])
    if used > limit:
        raise user_error(f"The total amount applied ({_fmt(used, precision)}) cannot be greater than the "
                         f"{what} ({_fmt(limit, precision)}).")


# ---- refunds -> credit memos and payments ---------------------------------------------------------

def apply_credits(ch: Change, refund: sqlite3.Row, sublist: Any, *, replace: bool, precision: int) -> None:
    conn = ch.conn
    seen: set[int] = set()
    for i, item in enumerate(_items(sublist)):
        path = f"apply.items[{i}]"
        doc_id = _requested_doc(conn, item, path, ("CustCred", "CustPymt"))
        if item.get("line") not in (None, 0, "0"):
            raise ApiError(400, "INVALID_KEY_OR_REF", f"Invalid line reference key {item.get('line')}.",
                           error_path=f"{path}.line")
        doc = ledger.tran(conn, doc_id)
        existing = _link(conn, doc_id, 0, refund["id"])
        if existing is None:
            if doc is None or doc["type"] not in ("CustCred", "CustPymt"):
                raise _invalid_doc(doc_id, f"{path}.doc")
            name = ledger.tran_ref_name(doc)
            if doc["voided"] == "T":
                raise _invalid_doc(doc_id, f"{path}.doc", f"{name} is voided.")
            if doc["entity"] is None or int(doc["entity"]) != int(refund["entity"]):
                raise _invalid_doc(doc_id, f"{path}.doc", f"{name} belongs to another customer.")
            if int(doc["currency"]) != int(refund["currency"]):
                raise _invalid_doc(doc_id, f"{path}.doc", f"{name} is in another currency than this refund.")
        seen.add(doc_id)
        target = _target(item, path, precision)
        if target is not AUTO and target == 0:
            if existing is not None:
                _unapply(ch, doc_id, 0, refund["id"])
            continue
        available = dec(doc["foreigntotal"]) - ledger.credit_used(conn, doc_id) + (existing or ZERO)
        if target is AUTO:
            target = existing if existing is not None else available
            if target <= 0:
                continue
        if target > available:
            raise user_error(
                f"You cannot refund more than the available credit on {ledger.tran_ref_name(doc)}. "
                f"Available: {_fmt(available, precision)}; amount: {_fmt(target, precision)}.",
                error_path=f"{path}.amount")
        _apply_amount(ch, refund, doc, 0, existing, target, precision)
    if replace:
        for link in conn.execute("SELECT previousdoc FROM nexttransactionlinelink WHERE nextdoc = ? "
                                 "AND linktype = 'Payment'", (refund["id"],)).fetchall():
            if int(link[0]) not in seen:
                _unapply(ch, int(link[0]), 0, refund["id"])


# ---- deposits -> payments (and refunds paid from undeposited funds) ------------------------------

def deposit_payments(ch: Change, deposit: sqlite3.Row, sublist: Any, *, replace: bool, precision: int) -> None:
    conn = ch.conn
    seen: set[int] = set()
    for i, item in enumerate(_items(sublist)):
        path = f"payment.items[{i}]"
        key = item.get("id", item.get("doc"))
        if key is None:
            raise user_error("Please enter value(s) for: Id.", error_path=f"{path}.id")
        doc_id = _doc_id(conn, key, f"{path}.id", ("CustPymt", "CustRfnd"))
        doc = ledger.tran(conn, doc_id)
        existing = _link(conn, doc_id, 0, deposit["id"])
        flag = parse_bool(item["deposit"], f"{path}.deposit") if item.get("deposit") is not None else True
        seen.add(doc_id)
        if not flag:
            if existing is not None:
                _undeposit(ch, doc_id, deposit["id"])
            continue
        if doc is None or doc["type"] not in ("CustPymt", "CustRfnd"):
            raise ApiError(400, "INVALID_KEY_OR_REF", f"Invalid payment reference key {doc_id}.",
                           error_path=f"{path}.id")
        name = ledger.tran_ref_name(doc)
        amount = dec(doc["foreigntotal"])
        if item.get("paymentAmount") is not None:
            asked = parse_money(item["paymentAmount"], f"{path}.paymentAmount", precision, allow_negative=True)
            if abs(asked) != amount:
                raise user_error(f"The payment amount of {name} is {_fmt(amount, precision)}; a deposit "
                                 f"includes a payment's full amount, not {_fmt(asked, precision)}.",
                                 error_path=f"{path}.paymentAmount")
        if existing is not None:
            continue
        if doc["voided"] == "T":
            raise user_error(f"{name} is voided and cannot be deposited.", error_path=f"{path}.id")
        other = ledger.deposit_of(conn, doc_id)
        if other is not None and other != int(deposit["id"]):
            dep = ledger.tran(conn, other)
            raise user_error(f"{name} has already been deposited"
                             f"{' (' + ledger.tran_ref_name(dep) + ')' if dep is not None else ''}.",
                             error_path=f"{path}.id")
        main = ledger.main_line(conn, doc_id)
        acct = ledger.account(conn, main["expenseaccount"]) if main is not None else None
        if acct is None or acct["accttype"] != "UnDepFunds":
            raise user_error(f"{name} was not posted to Undeposited Funds and cannot be deposited.",
                             error_path=f"{path}.id")
        if int(doc["currency"]) != int(deposit["currency"]):
            c1 = ledger.currency(conn, doc["currency"])
            c2 = ledger.currency(conn, deposit["currency"])
            raise user_error(f"The currency of {name} ({c1['symbol'] if c1 else doc['currency']}) does not match "
                             f"the currency of the deposit ({c2['symbol'] if c2 else deposit['currency']}).",
                             error_path=f"{path}.id")
        _claim(ch, doc_id)
        # as the seed lays deposits out: one line per deposited payment (undeposited funds, the
        # customer, the payment's amount; negative for a refund) and the link points at that line
        line_id = ledger.next_line_id(conn, deposit["id"])
        signed = -amount if doc["type"] == "CustRfnd" else amount
        conn.execute(
            "INSERT INTO transactionline (\"transaction\", id, linesequencenumber, uniquekey, mainline, taxline, "
            "subsidiary, entity, expenseaccount, foreignamount, netamount, memo, linelastmodifieddate) "
            "VALUES (?,?,?,?,'F','F',?,?,?,?,?,?,?)",
            (deposit["id"], line_id, line_id, ledger.next_uniquekey(conn), main["subsidiary"], doc["entity"],
             acct["id"], store_money(signed, precision), store_money(signed, precision), doc["tranid"], ch.now))
        _write_link(ch, doc, 0, deposit, "Deposit", amount, precision, next_line=line_id)
    if replace:
        for link in conn.execute("SELECT previousdoc FROM nexttransactionlinelink WHERE nextdoc = ? "
                                 "AND linktype = 'Deposit'", (deposit["id"],)).fetchall():
            if int(link[0]) not in seen:
                _undeposit(ch, int(link[0]), deposit["id"])


def _undeposit(ch: Change, doc_id: int, deposit_id: int) -> None:
    """Take a payment out of a deposit: its link and its deposit line."""
    _claim(ch, doc_id)
    for link in ch.conn.execute("SELECT nextline FROM nexttransactionlinelink WHERE previousdoc = ? AND nextdoc = ? "
                                "AND linktype = 'Deposit'", (doc_id, deposit_id)).fetchall():
        if int(link[0]) != 0:
            ch.conn.execute("DELETE FROM transactionline WHERE \"transaction\" = ? AND id = ? AND mainline = 'F'",
                            (deposit_id, int(link[0])))
    ch.conn.execute("DELETE FROM nexttransactionlinelink WHERE previousdoc = ? AND nextdoc = ? AND linktype = 'Deposit'",
                    (doc_id, deposit_id))
