"""Request bodies exactly as NetSuite's REST record service takes them (netsuite-api.md section 5).

Amounts stay Decimal (sent as exact JSON numbers); references are `{"id": "<internal id>"}`, or
`{"externalId": ...}` for a record written earlier in the same run (resolved before sending).
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from .model import Application, DepositLine, PayoutAction, PaymentAction, PlanError, References
from .settings import WritebackSettings


def ref(internal_id: int) -> dict[str, str]:
    return {"id": str(internal_id)}


def _cash_account(settings: WritebackSettings) -> dict[str, Any]:
    # Undeposited Funds unless a clearing account is configured; deposits need Undeposited Funds
    if settings.payment_account_id is not None:
        return {"account": ref(settings.payment_account_id)}
    return {"undepFunds": True}


def _header(action: PaymentAction, refs: References) -> dict[str, Any]:
    if action.netsuite_customer_id is None:
        raise PlanError(f"{action.external_id}: no NetSuite customer")
    body: dict[str, Any] = {
        "externalId": action.external_id,
        "customer": ref(action.netsuite_customer_id),
        "currency": ref(refs.currency_id(action.currency)),
    }
    if action.tran_date is not None:
        body["tranDate"] = action.tran_date.isoformat()
    if action.memo:
        body["memo"] = action.memo
    return body


def _applied(applications: tuple[Application, ...]) -> dict[str, Any]:
    return {"items": [{"doc": ref(a.invoice_id), "apply": True, "amount": a.amount} for a in applications]}


def payment_body(action: PaymentAction, refs: References, settings: WritebackSettings) -> dict[str, Any]:
    """A Customer Payment at the charge's gross amount (or this customer's share of a split
    charge), applied to its invoices; the rest stays unapplied on the payment."""
    applied = sum((a.amount for a in action.applications), Decimal(0))
    if applied > action.amount:
        raise PlanError(f"{action.external_id}: applications ({applied}) exceed the payment ({action.amount})")
    return {**_header(action, refs), **_cash_account(settings), "payment": action.amount,
            "apply": _applied(action.applications)}


def unapply_body(action: PaymentAction) -> dict[str, Any]:
    """Take the payment off the listed invoices (`apply: false` on each keyed line), so they
    reopen; repeating it changes nothing."""
    return {"apply": {"items": [{"doc": ref(a.invoice_id), "apply": False} for a in action.applications]}}


def reapply_body(action: PaymentAction) -> dict[str, Any]:
    """Apply the payment again (absolute amounts on keyed lines: repeatable)."""
    return {"apply": _applied(action.applications)}


def payment_ref(action: PaymentAction) -> dict[str, str]:
    if action.netsuite_payment_id is not None:
        return ref(action.netsuite_payment_id)
    return {"externalId": action.payment_external_id}


def customer_refund_body(action: PaymentAction, refs: References) -> dict[str, Any]:
    """A Customer Refund paying out `amount` of the payment's unapplied credit, posted to
    Undeposited Funds so the payout's deposit can carry it."""
    return {**_header(action, refs), "undepFunds": True,
            "apply": {"items": [{"doc": payment_ref(action), "apply": True, "amount": action.amount}]}}


def credit_memo_external_id(action: PaymentAction) -> str:
    """The chargeback's credit memo: `<refund external id>:credit_memo` (stripe:<dispute id>:credit_memo)."""
    return f"{action.external_id}:credit_memo"


def credit_memo_body(action: PaymentAction, refs: References, settings: WritebackSettings) -> dict[str, Any]:
    """Chargeback policy credit_memo_refund: a credit memo for the disputed amount, one line per
    invoice it is for, left unapplied (the payment still pays the invoices); the Customer Refund
    then pays it out."""
    if not action.applications:
        raise PlanError(f"{action.external_id}: no invoices to credit")
    lines = []
    for a in action.applications:
        line: dict[str, Any] = {"amount": a.amount, "description": f"{action.reason or action.stripe_object_id} "
                                f"(invoice {a.invoice_id})"[:250]}
        if settings.credit_item_id is not None:
            line["item"] = ref(settings.credit_item_id)
        lines.append(line)
    header = _header(action, refs)
    header["externalId"] = credit_memo_external_id(action)
    header["entity"] = header.pop("customer")
    return {**header, "item": {"items": lines}}


def credit_memo_refund_body(action: PaymentAction, refs: References) -> dict[str, Any]:
    """The Customer Refund paying out the chargeback's credit memo."""
    return {**_header(action, refs), "undepFunds": True, "apply": {"items": [
        {"doc": {"externalId": credit_memo_external_id(action)}, "apply": True, "amount": action.amount}]}}


def deposit_body(payout: PayoutAction, refs: References) -> dict[str, Any]:
    """One Deposit for the payout's net amount: a line per payment and customer refund, the fees
    as a cash-back line, other balance transactions as other-deposit lines."""
    payments: list[dict[str, Any]] = []
    cash_back: list[dict[str, Any]] = []
    other: list[dict[str, Any]] = []
    for line in payout.lines:
        if line.kind in ("payment", "customer_refund"):
            payments.append(_deposited(payout, line))
        elif line.kind == "fee":
            cash_back.append({"account": ref(_account(payout, line)), "amount": -line.amount,
                              "memo": f"Stripe fees {payout.payout_id}"})
        elif line.kind == "adjustment":
            other.append({"account": ref(_account(payout, line)), "amount": line.amount,
                          "memo": f"Stripe {line.stripe_object_id or 'adjustment'}"})
        else:
            raise PlanError(f"{payout.external_id}: unknown deposit line kind {line.kind!r}")
    total = sum((line.amount for line in payout.lines), Decimal(0))
    if total != payout.amount:
        raise PlanError(f"{payout.external_id}: lines add up to {total}, the payout is {payout.amount}")
    body: dict[str, Any] = {
        "externalId": payout.external_id,
        "account": ref(refs.bank_account(payout.currency)),
        "currency": ref(refs.currency_id(payout.currency)),
        "memo": payout.memo or f"Stripe payout {payout.payout_id}",
        "payment": {"items": payments},
    }
    if payout.tran_date is not None:
        body["tranDate"] = payout.tran_date.isoformat()
    if cash_back:
        body["cashBack"] = {"items": cash_back}
    if other:
        body["other"] = {"items": other}
    return body


def _deposited(payout: PayoutAction, line: DepositLine) -> dict[str, Any]:
    if line.netsuite_id is None:
        raise PlanError(f"{payout.external_id}: {line.external_id or line.stripe_object_id} is not in NetSuite yet")
    return {"id": str(line.netsuite_id), "deposit": True, "paymentAmount": line.amount}


def _account(payout: PayoutAction, line: DepositLine) -> int:
    if line.account_id is None:
        raise PlanError(f"{payout.external_id}: the {line.kind} line has no account configured")
    return line.account_id
