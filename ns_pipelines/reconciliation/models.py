"""The records reconciliation reads (one small class per warehouse row kind) and the external ids."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

PROVIDER = "Stripe"


def charge_external_id(charge_id: str, customer_id: int | None = None) -> str:
    """`stripe:<charge id>`, or `stripe:<charge id>:<customer id>` for one payment of a split charge."""
    return f"stripe:{charge_id}" if customer_id is None else f"stripe:{charge_id}:{customer_id}"


def object_external_id(object_id: str) -> str:
    """`stripe:<id>` of a refund, dispute or payout."""
    return f"stripe:{object_id}"


def failure_external_id(charge_id: str) -> str:
    return f"stripe:{charge_id}:failure"


@dataclass(slots=True)
class Charge:
    id: str
    payment_intent: str | None
    customer: str | None
    amount: int
    currency: str  # Stripe's lower-case code
    status: str
    balance_transaction: str | None
    failure_message: str | None
    description: str | None
    invoice_ids: str | None  # normalized comma list from metadata
    invoice_number: str | None
    netsuite_customer_id: int | None
    created: dt.datetime


@dataclass(slots=True)
class Refund:
    id: str
    charge: str | None
    amount: int
    currency: str
    status: str | None
    balance_transaction: str | None
    credit_memo_id: str | None  # metadata.netsuite_credit_memo_id: made by our credit-memo refund job
    customer_refund_id: int | None  # metadata.netsuite_customer_refund_id
    created: dt.datetime


@dataclass(slots=True)
class Dispute:
    id: str
    charge: str | None
    amount: int
    currency: str
    status: str
    created: dt.datetime

    @property
    def funds_withdrawn(self) -> bool:
        """Inquiries (warning_*) and prevented disputes move no money; a won one was reinstated."""
        return not (self.status.startswith("warning_") or self.status in ("prevented", "won"))


@dataclass(slots=True)
class Payout:
    id: str
    amount: int
    currency: str
    status: str
    automatic: bool | None
    reconciliation_status: str | None
    arrival_date: dt.datetime | None
    balance_transaction: str | None


@dataclass(slots=True)
class BalanceTransaction:
    id: str
    amount: int
    fee: int
    net: int
    currency: str
    type: str
    reporting_category: str | None
    source: str | None
    payout: str | None


@dataclass(slots=True)
class Invoice:
    id: int
    tran_id: str | None
    customer_id: int | None
    currency: str  # upper-case ISO code
    due_date: dt.date | None
    tran_date: dt.date | None
    amount_unpaid: Decimal
    not_target: str | None  # why the invoice can never be paid by a charge (voided, deleted, ...), else None

    @property
    def age_key(self) -> tuple[dt.date, dt.date, int]:
        """Oldest first: due date, then transaction date, then id (missing dates last)."""
        return (self.due_date or dt.date.max, self.tran_date or dt.date.max, self.id)


@dataclass(slots=True)
class NetSuiteCustomer:
    id: int
    external_id: str | None
    is_deleted: bool
    is_intercompany: bool


@dataclass(slots=True)
class NetSuitePayment:
    """A customer payment NetSuite has under one of our external ids."""

    id: int
    external_id: str
    customer_id: int | None
    currency: str | None
    total: Decimal
    amount_unused: Decimal
    status: str | None
    applications: list[tuple[int, Decimal]] = field(default_factory=list)  # live (invoice id, amount)

    @property
    def is_undeposited(self) -> bool:
        return self.status == "B"


@dataclass(slots=True)
class NetSuiteRecord:
    """A customer refund or deposit: its internal id, external id and total."""

    id: int
    external_id: str | None
    total: Decimal | None
