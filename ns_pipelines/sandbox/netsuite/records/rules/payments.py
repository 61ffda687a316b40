"""Customer payments (applied to invoices and A/R journal lines) and customer refunds (paying
out credit memos and unapplied payments), both posted to a cash account."""
from __future__ import annotations

import sqlite3
from decimal import Decimal
from typing import Any

from ...errors import user_error
from .. import applications as apps
from .. import ledger
from ..changes import Change
from ..types import PAYMENT, REFUND
from ..values import dec, parse_bool, parse_money
from .documents import reapply_to_debits
from .lines import NO_LINES_TEXT, set_main_account
from .references import account_of_type, default_account, required
from .transactions import Edit, begin_update, entity_header, insert_document, set_total, sublist_given

CASH_ACCOUNTS = ("Bank", "UnDepFunds", "OthCurrAsset")
PAYMENT_LIMIT = "payment amount"


def _cash_account(conn: sqlite3.Connection, body: dict[str, Any], subsidiary: int, *,
                  default_undeposited: bool) -> int:
    undep = parse_bool(body["undepFunds"], "undepFunds") if body.get("undepFunds") is not None else None
    if body.get("account") is not None and undep is not True:
        return account_of_type(conn, body["account"], "account", CASH_ACCOUNTS)
    if undep is True or (undep is None and default_undeposited):
        return default_account(conn, "UnDepFunds", subsidiary)
    raise required("Account", "account")


def _change_cash_account(ch: Change, edit: Edit, body: dict[str, Any], *, default_undeposited: bool,
                         deposited: bool, what: str) -> None:
    if body.get("account") is None and body.get("undepFunds") is None:
        return
    main = edit.main
    account = _cash_account(ch.conn, body, main["subsidiary"], default_undeposited=default_undeposited)
    if int(account) == int(main["expenseaccount"]):
        return
    if deposited:
        raise user_error(f"The account cannot be changed because the {what} has been deposited.",
                         error_path="account")
    set_main_account(ch, edit.row["id"], account)


# ---- customer payment --------------------------------------------------------------------------

def _payment_amount(body: dict[str, Any], precision: int) -> Decimal | None:
    if body.get("payment") is None:
        return None
    amount = parse_money(body["payment"], "payment", precision)
    if amount <= 0:
        raise user_error(f"Invalid number (must be positive) for field payment: {body['payment']}.",
                         error_path="payment")
    return amount


def _wants_auto_apply(body: dict[str, Any]) -> bool:
    return body.get("autoApply") is not None and parse_bool(body["autoApply"], "autoApply")


def create_payment(ch: Change, body: dict[str, Any]) -> int:
    conn = ch.conn
    hdr = entity_header(ch, body, "customer", "Customer")
    account = _cash_account(conn, body, hdr.subsidiary, default_undeposited=True)
    amount = _payment_amount(body, hdr.precision)
    row = insert_document(ch, PAYMENT, hdr, body, account=account, status="B", amounts="credit")
    ch.set_primary(PAYMENT, row["id"], "create")
    apps.apply_to_debits(ch, row, body.get("apply"), replace=False, limit=amount, precision=hdr.precision)
    if amount is None:
        # no amount given: the payment is what it applies
        amount = ledger.applied_total(conn, row["id"])
        if amount <= 0:
            raise required("Payment Amount", "payment")
    if _wants_auto_apply(body):
        apps.auto_apply(ch, row, amount, hdr.precision)
    set_total(ch, row["id"], amount, hdr.precision)
    conn.execute('UPDATE "transaction" SET foreignpaymentamountunused = foreigntotal WHERE id = ?', (row["id"],))
    apps.check_applied_limit(conn, ledger.tran(conn, row["id"]), amount, hdr.precision, PAYMENT_LIMIT)
    return int(row["id"])


def update_payment(ch: Change, tran_id: int, body: dict[str, Any], replace: set[str]) -> None:
    conn = ch.conn
    edit = begin_update(ch, PAYMENT, tran_id, body)
    deposited = ledger.deposit_of(conn, tran_id) is not None
    amount = dec(edit.row["foreigntotal"])
    new = _payment_amount(body, edit.precision)
    if new is not None:
        if new != amount and deposited:
            raise user_error("The payment amount cannot be changed because the payment has been deposited.",
                             error_path="payment")
        amount = new
        set_total(ch, tran_id, amount, edit.precision)
    _change_cash_account(ch, edit, body, default_undeposited=True, deposited=deposited, what="payment")
    row = reapply_to_debits(ch, tran_id, body, replace, limit=amount, precision=edit.precision)
    if _wants_auto_apply(body):
        apps.auto_apply(ch, row, amount, edit.precision)
    apps.check_applied_limit(conn, row, amount, edit.precision, PAYMENT_LIMIT)


# ---- customer refund ---------------------------------------------------------------------------

def _refund_total(conn: sqlite3.Connection, tran_id: int) -> Decimal:
    """A refund is what it pays out; it must pay out something."""
    total = ledger.applied_total(conn, tran_id)
    if total <= 0:
        raise user_error(NO_LINES_TEXT, error_path="apply")
    return total


def create_refund(ch: Change, body: dict[str, Any]) -> int:
    conn = ch.conn
    hdr = entity_header(ch, body, "customer", "Customer")
    account = _cash_account(conn, body, hdr.subsidiary, default_undeposited=False)
    row = insert_document(ch, REFUND, hdr, body, account=account, status="A")
    ch.set_primary(REFUND, row["id"], "create")
    apps.apply_credits(ch, row, body.get("apply"), replace=False, precision=hdr.precision)
    set_total(ch, row["id"], _refund_total(conn, row["id"]), hdr.precision)
    return int(row["id"])


def update_refund(ch: Change, tran_id: int, body: dict[str, Any], replace: set[str]) -> None:
    conn = ch.conn
    edit = begin_update(ch, REFUND, tran_id, body)
    deposited = ledger.deposit_of(conn, tran_id) is not None
    _change_cash_account(ch, edit, body, default_undeposited=False, deposited=deposited, what="refund")
    if not sublist_given(body, replace, "apply"):
        return
    apps.apply_credits(ch, edit.row, body.get("apply"), replace="apply" in replace, precision=edit.precision)
    total = _refund_total(conn, tran_id)
    if deposited and total != dec(edit.row["foreigntotal"]):
        raise user_error("The refund amount cannot be changed because the refund has been deposited.",
                         error_path="apply")
    set_total(ch, tran_id, total, edit.precision)
