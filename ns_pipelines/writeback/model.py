"""The planner's inputs (rows of the reconciliation tables, docs/reconciliation.md) and its output.

Inputs are plain frozen dataclasses so the planner runs without a database; `sources.py` reads
them from the warehouse. Amounts are Decimal in major units of `currency` (upper-case ISO).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

# writes happen wave by wave: a later wave may depend on records an earlier one wrote
WAVE_PAYMENTS, WAVE_APPLICATIONS, WAVE_CREDIT_MEMOS, WAVE_REFUNDS, WAVE_DEPOSITS = 0, 1, 2, 3, 4

PAYMENT_RECORD = "customerPayment"
REFUND_RECORD = "customerRefund"
DEPOSIT_RECORD = "deposit"
CREDIT_MEMO_RECORD = "creditMemo"


@dataclass(frozen=True)
class Application:
    invoice_id: int
    amount: Decimal


def applications(items: Iterable[Mapping[str, Any]]) -> tuple[Application, ...]:
    """`[{"invoice_id": ..., "amount": ...}]` as read back from a JSON column."""
    return tuple(Application(int(item["invoice_id"]), Decimal(str(item["amount"]))) for item in items)


@dataclass(frozen=True)
class PaymentAction:
    """One row of reconciliation_payment_matches."""

    external_id: str
    action: str  # create_payment | unapply | reapply | customer_refund | credit_memo_refund
    state: str  # planned | done
    stripe_object_id: str
    charge_id: str
    payment_external_id: str
    netsuite_customer_id: int | None
    currency: str
    amount: Decimal
    applications: tuple[Application, ...] = ()
    unapplied_amount: Decimal = Decimal(0)
    is_split: bool = False
    is_overpayment: bool = False
    netsuite_payment_id: int | None = None
    memo: str | None = None
    tran_date: dt.date | None = None
    payout_id: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class DepositLine:
    kind: str  # payment | customer_refund | fee | adjustment
    amount: Decimal  # signed, payout currency
    stripe_object_id: str | None = None
    external_id: str | None = None
    netsuite_id: int | None = None
    account_id: int | None = None


@dataclass(frozen=True)
class PayoutAction:
    """One row of reconciliation_payout_matches."""

    payout_id: str
    external_id: str
    state: str
    status: str  # ready | exception
    currency: str
    amount: Decimal
    lines: tuple[DepositLine, ...]
    fee_total: Decimal = Decimal(0)
    tran_date: dt.date | None = None
    memo: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class References:
    """NetSuite internal ids the payloads need: currencies by ISO code, bank accounts."""

    currency_ids: dict[str, int]
    #: (account id, currency code, subsidiary id) of every active bank account
    bank_accounts: tuple[tuple[int, str, int | None], ...] = ()
    #: configured bank account per currency (overrides the lookup)
    bank_account_by_currency: dict[str, int] = field(default_factory=dict)

    def currency_id(self, code: str) -> int:
        try:
            return self.currency_ids[code.upper()]
        except KeyError:
            raise PlanError(f"currency {code.upper()} is not enabled in NetSuite") from None

    def bank_account(self, code: str) -> int:
        code = code.upper()
        if code in self.bank_account_by_currency:
            return self.bank_account_by_currency[code]
        candidates = sorted(a for a, cur, _sub in self.bank_accounts if cur == code)
        if len(candidates) != 1:
            raise PlanError(
                f"{len(candidates)} NetSuite bank accounts in {code}: set NS_WRITEBACK_BANK_ACCOUNTS "
                f"(e.g. {code}=<account id>) to choose the one Stripe pays out to")
        return candidates[0]


class PlanError(ValueError):
    """A write that cannot be planned (missing reference, unsupported action); the text says why."""


@dataclass(frozen=True)
class PlannedWrite:
    """One NetSuite write: PUT /record/v1/<record_type>/eid:<external_id> with `payload`."""

    external_id: str
    action: str
    record_type: str
    reason: str
    payload: dict[str, Any]
    wave: int
    depends_on: tuple[str, ...] = ()
    stripe_object_id: str | None = None
    stripe_metadata_key: str | None = None
    #: customer_refund only: reduce the payment's applications by up to these amounts (last first)
    #: until it has the refund's amount unapplied (done from NetSuite's live state, so repeatable)
    reduce_applications: tuple[Application, ...] = ()
    #: why it cannot be written (the plan row is then refused without a NetSuite call)
    blocked: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.external_id, self.action)
