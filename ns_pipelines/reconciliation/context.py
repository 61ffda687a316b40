"""The state of one reconciliation run: inputs, open amounts, and what the rules produced so far."""
from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from ns_pipelines.reconciliation.exceptions import ReconException
from ns_pipelines.reconciliation.inputs import Inputs
from ns_pipelines.reconciliation.invoices import InvoiceBook
from ns_pipelines.reconciliation.matches import PaymentMatch, PayoutMatch
from ns_pipelines.reconciliation.models import Charge, NetSuitePayment, Refund
from ns_pipelines.reconciliation.settings import ReconSettings


def charge_of_payment_external_id(external_id: str) -> str | None:
    """`stripe:<charge>` or `stripe:<charge>:<customer id>` -> the charge id (else None)."""
    parts = external_id.split(":")
    if len(parts) == 2 or (len(parts) == 3 and parts[2].isdigit()):
        return parts[1] if parts[0] == "stripe" else None
    return None


@dataclass
class Context:
    inputs: Inputs
    settings: ReconSettings
    book: InvoiceBook
    charges: dict[str, Charge] = field(default_factory=dict)
    refunds_by_id: dict[str, Refund] = field(default_factory=dict)
    netsuite_payments: dict[str, list[NetSuitePayment]] = field(default_factory=dict)  # by charge id
    payments: dict[str, list[PaymentMatch]] = field(default_factory=dict)  # create_payment rows by charge id
    payment_matches: list[PaymentMatch] = field(default_factory=list)
    payout_matches: list[PayoutMatch] = field(default_factory=list)
    exceptions: dict[str, ReconException] = field(default_factory=dict)
    pre_start: set[str] = field(default_factory=set)  # charge ids before NS_RECON_START_DATE
    counts: Counter = field(default_factory=Counter)
    _match_keys: set[tuple[str, str]] = field(default_factory=set)

    @classmethod
    def build(cls, inputs: Inputs, settings: ReconSettings) -> "Context":
        context = cls(inputs, settings, InvoiceBook(inputs.invoices))
        context.charges = {charge.id: charge for charge in inputs.charges}
        context.refunds_by_id = {refund.id: refund for refund in inputs.refunds}
        by_charge: dict[str, list[NetSuitePayment]] = defaultdict(list)
        for external_id in sorted(inputs.payments):
            charge_id = charge_of_payment_external_id(external_id)
            if charge_id:
                by_charge[charge_id].append(inputs.payments[external_id])
        context.netsuite_payments = dict(by_charge)
        return context

    @property
    def start(self) -> dt.datetime | None:
        day = self.settings.start_date
        return None if day is None else dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)

    def is_pre_start(self, created: dt.datetime) -> bool:
        start = self.start
        return start is not None and created < start

    def add_exception(self, problem: ReconException) -> None:
        self.exceptions.setdefault(problem.exception_id, problem)

    def add_payment(self, match: PaymentMatch) -> None:
        key = (match.external_id, match.action)
        if key in self._match_keys:  # e.g. a late failure and a chargeback both unapplying one payment
            return
        self._match_keys.add(key)
        self.payment_matches.append(match)
        if match.action == "create_payment":
            self.payments.setdefault(match.charge_id, []).append(match)

    def payout_of(self, balance_transaction_id: str | None) -> str | None:
        bt = self.inputs.balance_transactions.get(balance_transaction_id or "")
        return bt.payout if bt else None
