"""The plan: the NetSuite writes the reconciliation's planned rows call for, with their payloads.

Pure: inputs are the reconciliation rows (model.PaymentAction, model.PayoutAction) and the
NetSuite references; nothing is read or written here. Rows already `done` are left out. A row
whose payload cannot be built (a currency NetSuite lacks, an unsupported policy) is still
planned, `blocked` with the reason, so it is reported instead of silently dropped.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from . import payloads
from .model import (
    CREDIT_MEMO_RECORD,
    DEPOSIT_RECORD,
    PAYMENT_RECORD,
    REFUND_RECORD,
    WAVE_APPLICATIONS,
    WAVE_CREDIT_MEMOS,
    WAVE_DEPOSITS,
    WAVE_PAYMENTS,
    WAVE_REFUNDS,
    PayoutAction,
    PaymentAction,
    PlanError,
    PlannedWrite,
    References,
)
from .settings import WritebackSettings

PAYMENT_ID_KEY = "netsuite_customer_payment_id"
REFUND_ID_KEY = "netsuite_customer_refund_id"
DEPOSIT_ID_KEY = "netsuite_deposit_id"


def plan_writes(payments: Sequence[PaymentAction], payouts: Sequence[PayoutAction], refs: References,
                settings: WritebackSettings) -> list[PlannedWrite]:
    """Every write to make, in wave order (payments, unapply/re-apply, credit memos, refunds, deposits)."""
    writes = [w for a in payments if a.state == "planned" for w in _payment_writes(a, refs, settings)]
    writes += [_deposit_write(p, refs) for p in payouts if p.state == "planned" and p.status == "ready"]
    # a blocked write carries no request: nothing of it may be sent
    writes = [replace(w, payload={}) if w.blocked else w for w in writes]
    return sorted(writes, key=lambda w: (w.wave, w.external_id, w.action))


def _blocked_or(build: Callable[[], dict[str, Any]]) -> tuple[dict[str, Any], str | None]:
    try:
        return build(), None
    except PlanError as exc:
        return {}, str(exc)


def _payment_writes(a: PaymentAction, refs: References, settings: WritebackSettings) -> list[PlannedWrite]:
    reason = a.reason or a.action
    if a.action == "create_payment":
        payload, blocked = _blocked_or(lambda: payloads.payment_body(a, refs, settings))
        key = f"{PAYMENT_ID_KEY}_{a.netsuite_customer_id}" if a.is_split else PAYMENT_ID_KEY
        return [PlannedWrite(a.external_id, a.action, PAYMENT_RECORD, reason, payload, WAVE_PAYMENTS,
                             stripe_object_id=a.charge_id, stripe_metadata_key=key, blocked=blocked)]
    if a.action in ("unapply", "reapply"):
        payload = payloads.unapply_body(a) if a.action == "unapply" else payloads.reapply_body(a)
        return [PlannedWrite(a.external_id, a.action, PAYMENT_RECORD, reason, payload, WAVE_APPLICATIONS,
                             depends_on=(a.payment_external_id,), stripe_object_id=a.stripe_object_id)]
    if a.action == "customer_refund":
        payload, blocked = _blocked_or(lambda: payloads.customer_refund_body(a, refs))
        return [PlannedWrite(a.external_id, a.action, REFUND_RECORD, reason, payload, WAVE_REFUNDS,
                             depends_on=(a.payment_external_id,), stripe_object_id=a.stripe_object_id,
                             stripe_metadata_key=REFUND_ID_KEY, reduce_applications=a.applications,
                             blocked=blocked)]
    if a.action == "credit_memo_refund":
        memo, memo_blocked = _blocked_or(lambda: payloads.credit_memo_body(a, refs, settings))
        refund, refund_blocked = _blocked_or(lambda: payloads.credit_memo_refund_body(a, refs))
        memo_id = payloads.credit_memo_external_id(a)
        return [PlannedWrite(memo_id, "credit_memo", CREDIT_MEMO_RECORD, reason, memo, WAVE_CREDIT_MEMOS,
                             depends_on=(a.payment_external_id,), stripe_object_id=a.stripe_object_id,
                             blocked=memo_blocked),
                PlannedWrite(a.external_id, a.action, REFUND_RECORD, reason, refund, WAVE_REFUNDS,
                             depends_on=(memo_id,), stripe_object_id=a.stripe_object_id,
                             stripe_metadata_key=REFUND_ID_KEY, blocked=memo_blocked or refund_blocked)]
    return [PlannedWrite(a.external_id, a.action, PAYMENT_RECORD, reason, {}, WAVE_PAYMENTS,
                         stripe_object_id=a.stripe_object_id, blocked=f"unknown action {a.action!r}")]


def _deposit_write(p: PayoutAction, refs: References) -> PlannedWrite:
    payload, blocked = _blocked_or(lambda: payloads.deposit_body(p, refs))
    return PlannedWrite(p.external_id, "deposit", DEPOSIT_RECORD, p.reason or f"paid Stripe payout {p.payout_id}",
                        payload, WAVE_DEPOSITS, stripe_object_id=p.payout_id, stripe_metadata_key=DEPOSIT_ID_KEY,
                        blocked=blocked)
