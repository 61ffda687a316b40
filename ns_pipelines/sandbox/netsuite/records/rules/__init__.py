"""Writes: create, update, delete and void per record type, with NetSuite's business rules.

Every function runs inside the caller's Store.write() transaction and records what it touched
on the `Change`; amounts, balances, stamps and notifications are settled by Change.finish().
Errors raise ApiError, which rolls the whole request back.

One module per record family (customers, documents, payments, deposits, journals), the steps
they share (transactions, lines, references) and delete_and_void.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...errors import user_error
from ..changes import Change
from ..types import BY_TRANTYPE, CUSTOMER, RecordType
from .customers import create_customer, delete_customer, update_customer
from .delete_and_void import delete_transaction, void_transaction
from .deposits import create_deposit, update_deposit
from .documents import create_credit_memo, create_invoice, update_credit_memo, update_invoice
from .journals import create_journal, update_journal
from .payments import create_payment, create_refund, update_payment, update_refund

CREATE: dict[str, Callable[[Change, dict[str, Any]], int]] = {
    "customer": create_customer, "invoice": create_invoice, "creditmemo": create_credit_memo,
    "customerpayment": create_payment, "customerrefund": create_refund, "deposit": create_deposit,
    "journalentry": create_journal,
}
UPDATE: dict[str, Callable[[Change, int, dict[str, Any], set[str]], None]] = {
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
