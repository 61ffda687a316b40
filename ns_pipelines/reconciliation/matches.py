"""Rows of the match tables (docs/reconciliation.md), as plain objects."""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ns_pipelines.money import CurrencyError, quantum, to_major
from ns_pipelines.reconciliation.exceptions import ReconException

ZERO = Decimal(0)
Applications = list[tuple[int, Decimal]]


def in_currency(amount: Decimal, currency: str) -> Decimal:
    """`amount` with the currency's number of decimals (NetSuite amounts arrive with four)."""
    try:
        return amount.quantize(quantum(currency))
    except CurrencyError:
        return amount


def major_or_none(amount: int, currency: str) -> Decimal | None:
    """`to_major`, or None for a currency or amount it cannot convert (reported elsewhere)."""
    try:
        return to_major(amount, currency)
    except CurrencyError:
        return None


def applications_json(applications: Applications, currency: str) -> str:
    return json.dumps([{"invoice_id": i, "amount": str(in_currency(a, currency))} for i, a in applications],
                      sort_keys=True)


def total(applications: Applications) -> Decimal:
    return sum((amount for _, amount in applications), ZERO)


@dataclass
class PaymentMatch:
    external_id: str
    action: str
    state: str
    stripe_object_id: str
    charge_id: str
    payment_external_id: str
    currency: str
    amount: Decimal
    applications: Applications
    invoice_rule: str
    reason: str
    payment_intent_id: str | None = None
    stripe_customer_id: str | None = None
    netsuite_customer_id: int | None = None
    netsuite_payment_id: int | None = None
    netsuite_record_id: int | None = None
    unapplied_amount: Decimal = ZERO
    is_overpayment: bool = False
    is_split: bool = False
    memo: str | None = None
    tran_date: dt.date | None = None
    payout_id: str | None = None

    def row(self) -> dict[str, Any]:
        return {
            "external_id": self.external_id, "action": self.action, "state": self.state,
            "stripe_object_id": self.stripe_object_id, "charge_id": self.charge_id,
            "payment_intent_id": self.payment_intent_id, "stripe_customer_id": self.stripe_customer_id,
            "payment_external_id": self.payment_external_id, "netsuite_customer_id": self.netsuite_customer_id,
            "netsuite_payment_id": self.netsuite_payment_id, "netsuite_record_id": self.netsuite_record_id,
            "currency": self.currency, "amount": in_currency(self.amount, self.currency),
            "applications": applications_json(self.applications, self.currency),
            "applied_amount": in_currency(total(self.applications), self.currency),
            "unapplied_amount": in_currency(self.unapplied_amount, self.currency), "is_overpayment": self.is_overpayment,
            "is_split": self.is_split, "invoice_rule": self.invoice_rule, "memo": self.memo,
            "tran_date": self.tran_date, "payout_id": self.payout_id, "reason": self.reason,
        }


@dataclass
class PayoutMatch:
    payout_id: str
    external_id: str
    state: str
    status: str
    currency: str
    amount: Decimal
    fee_total: Decimal
    tran_date: dt.date | None
    memo: str
    lines: list[dict[str, Any]]
    item_count: int
    reason: str
    netsuite_deposit_id: int | None = None
    exception_codes: list[str] = field(default_factory=list)

    def row(self) -> dict[str, Any]:
        return {
            "payout_id": self.payout_id, "external_id": self.external_id, "state": self.state,
            "status": self.status, "currency": self.currency, "amount": self.amount, "fee_total": self.fee_total,
            "tran_date": self.tran_date, "memo": self.memo, "lines": json.dumps(self.lines, sort_keys=True),
            "item_count": self.item_count,
            "payment_count": sum(1 for line in self.lines if line["kind"] == "payment"),
            "refund_count": sum(1 for line in self.lines if line["kind"] == "customer_refund"),
            "netsuite_deposit_id": self.netsuite_deposit_id,
            "exception_codes": ",".join(self.exception_codes) or None, "reason": self.reason,
        }


def exception_row(problem: ReconException) -> dict[str, Any]:
    return {
        "exception_id": problem.exception_id, "code": problem.code, "severity": problem.severity,
        "stripe_object_type": problem.object_type, "stripe_object_id": problem.object_id,
        "charge_id": problem.charge_id, "payout_id": problem.payout_id,
        "netsuite_customer_id": problem.netsuite_customer_id,
        "netsuite_record_ids": json.dumps(list(problem.netsuite_record_ids)),
        "currency": problem.currency,
        "amount": None if problem.amount is None else in_currency(problem.amount, problem.currency or ""),
        "reason": problem.reason,
        "resolution": problem.resolution, "details": json.dumps(problem.details, sort_keys=True, default=str),
    }
