"""Payouts into deposits: validate every item, then plan one deposit for the net amount."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from ns_pipelines.money import CurrencyError, exponent, round_money, to_major
from ns_pipelines.reconciliation.context import Context
from ns_pipelines.reconciliation.exceptions import ReconException
from ns_pipelines.reconciliation.matches import ZERO, PayoutMatch, in_currency, major_or_none
from ns_pipelines.reconciliation.models import (
    BalanceTransaction,
    NetSuitePayment,
    Payout,
    failure_external_id,
    object_external_id,
)

CHARGE_CATEGORIES = frozenset({"charge"})
REFUND_CATEGORIES = frozenset({"refund"})
FEE_CATEGORIES = frozenset({"fee"})
PAYOUT_CATEGORIES = frozenset({"payout"})


def is_reconcilable(payout: Payout) -> bool:
    """Paid automatic payouts whose balance transactions Stripe has finished listing."""
    return payout.status == "paid" and bool(payout.automatic) and payout.reconciliation_status == "completed"


def reconcile_payout(payout: Payout, context: Context) -> None:
    if payout.status == "paid" and payout.automatic is False:
        context.add_exception(ReconException(
            "payout_not_automatic", "payout", payout.id, payout_id=payout.id, currency=payout.currency.upper(),
            amount=major_or_none(payout.amount, payout.currency),
            reason=f"Payout {payout.id} is a manual payout: Stripe does not list its items."))
        return
    if not is_reconcilable(payout):
        return
    try:
        DepositPlan(payout, context).reconcile()
    except CurrencyError as exc:
        context.add_exception(ReconException(
            "invalid_payout", "payout", payout.id, payout_id=payout.id,
            reason=f"Payout {payout.id} or one of its balance transactions has an unusable currency: {exc}."))


class DepositPlan:
    """The deposit lines of one payout and every problem found on the way."""

    def __init__(self, payout: Payout, context: Context) -> None:
        self.payout, self.context = payout, context
        self.currency = payout.currency
        self.lines: list[dict[str, Any]] = []
        self.problems: list[dict[str, Any]] = []  # payout_items_invalid details
        self.pre_start: list[str] = []
        self.foreign: list[str] = []  # charges presented in another currency than the payout's
        self.missing_accounts: set[str] = set()
        self.fee_minor = 0

    def reconcile(self) -> None:
        payout, context = self.payout, self.context
        exponent(self.currency)  # an unusable currency stops here (CurrencyError), before any line
        items = [bt for bt in context.inputs.transactions_by_payout.get(payout.id, [])
                 if bt.reporting_category not in PAYOUT_CATEGORIES and bt.type != "payout"]
        for bt in items:
            self._item(bt)
        self._fee_line()
        net = sum(bt.net for bt in items)
        deposit = context.inputs.deposits.get(object_external_id(payout.id))
        codes = self._codes(net)
        problems = [] if deposit else codes
        amount = major_or_none(payout.amount, self.currency) or ZERO
        fee_total = major_or_none(self.fee_minor, self.currency) or ZERO
        if deposit:
            reason = f"NetSuite has deposit {deposit.id} for payout {payout.id}."
        elif problems:
            reason = f"Payout {payout.id} cannot be deposited: {', '.join(problems)} (see reconciliation_exceptions)."
        else:
            reason = f"Payout {payout.id}: {len(items)} items validated; deposit {amount} {self.currency.upper()}."
        context.payout_matches.append(PayoutMatch(
            payout_id=payout.id, external_id=object_external_id(payout.id), state="done" if deposit else "planned",
            status="exception" if problems else "ready", currency=self.currency.upper(), amount=amount,
            fee_total=fee_total, tran_date=context.settings.local_date(payout.arrival_date),
            memo=f"Stripe payout {payout.id}", lines=self.lines, item_count=len(items), reason=reason,
            netsuite_deposit_id=deposit.id if deposit else None, exception_codes=problems,
        ))
        if not deposit:
            self._report(problems, net, amount)

    def _codes(self, net: int) -> list[str]:
        codes = []
        if self.problems:
            codes.append("payout_items_invalid")
        if net != self.payout.amount:
            codes.append("payout_sum_mismatch")
        if self.pre_start:
            codes.append("payout_pre_start")
        if self.foreign:
            codes.append("payout_foreign_currency")
        if self.missing_accounts:
            codes.append("payout_account_missing")
        return codes

    def _report(self, codes: list[str], net: int, amount: Decimal) -> None:
        payout, cur = self.payout, self.currency.upper()
        texts = {
            "payout_items_invalid": (f"Payout {payout.id}: {len(self.problems)} item(s) failed validation: "
                                     + "; ".join(f"{p['stripe_object_id']}: {p['problem']}" for p in self.problems[:5])
                                     + (" ..." if len(self.problems) > 5 else ""), {"items": self.problems}),
            "payout_sum_mismatch": (f"Payout {payout.id} is {amount} {cur} but its items net "
                                    f"{major_or_none(net, self.currency)} {cur}.", {"items_net_minor": net,
                                                                              "payout_amount_minor": payout.amount}),
            "payout_pre_start": (f"Payout {payout.id} carries {len(self.pre_start)} charge(s) from before "
                                 f"NS_RECON_START_DATE: {', '.join(self.pre_start[:5])}.",
                                 {"charges": self.pre_start}),
            "payout_foreign_currency": (f"Payout {payout.id} ({cur}) carries {len(self.foreign)} payment(s) in "
                                        f"another currency: {', '.join(self.foreign[:5])}; a NetSuite deposit "
                                        f"takes only payments in its bank account's currency.",
                                        {"charges": self.foreign}),
            "payout_account_missing": (f"Payout {payout.id} needs {', '.join(sorted(self.missing_accounts))}.",
                                       {"settings": sorted(self.missing_accounts)}),
        }
        for code in codes:
            reason, details = texts[code]
            self.context.add_exception(ReconException(
                code, "payout", payout.id, payout_id=payout.id, currency=cur, amount=amount, reason=reason,
                details=details, netsuite_record_ids=tuple(sorted({
                    p["netsuite_id"] for p in self.problems if p.get("netsuite_id") is not None})),
            ))

    def _problem(self, bt: BalanceTransaction, problem: str, netsuite_id: int | None = None) -> None:
        self.problems.append({"balance_transaction_id": bt.id, "stripe_object_id": bt.source,
                              "netsuite_id": netsuite_id, "problem": problem})

    def _line(self, kind: str, bt: BalanceTransaction | None, amount: Decimal, *, external_id: str | None = None,
              netsuite_id: int | None = None, account_id: int | None = None) -> None:
        self.lines.append({
            "kind": kind, "balance_transaction_id": bt.id if bt else None,
            "stripe_object_id": bt.source if bt else None, "external_id": external_id,
            "netsuite_id": netsuite_id, "account_id": account_id, "amount": str(amount),
        })

    def _item(self, bt: BalanceTransaction) -> None:
        if bt.currency != self.currency:
            self._problem(bt, f"in {bt.currency.upper()}, the payout is in {self.currency.upper()}")
            return
        self.fee_minor += bt.fee
        category = bt.reporting_category or bt.type
        if category in CHARGE_CATEGORIES:
            self._charge_item(bt)
        elif category in REFUND_CATEGORIES:
            self._refund_item(bt)
        elif category in FEE_CATEGORIES:
            self.fee_minor -= bt.amount  # a fee transaction: money out, shown as a fee
        elif self._chargeback_refund(bt, category):
            return
        else:
            account = self.context.settings.adjustment_account_id
            if account is None:
                self.missing_accounts.add("NS_RECON_ADJUSTMENT_ACCOUNT_ID")
            self._line("adjustment", bt, to_major(bt.amount, self.currency), account_id=account)

    def _charge_item(self, bt: BalanceTransaction) -> None:
        charge = self.context.charges.get(bt.source or "")
        if charge is None:
            self._problem(bt, "charge not synced from Stripe")
            return
        if self.context.is_pre_start(charge.created):
            self.pre_start.append(charge.id)
            return
        if charge.currency != self.currency:
            # NetSuite refuses a deposit line whose payment is in another currency than the deposit's
            # bank account: the converted amount cannot be deposited item by item.
            self.foreign.append(charge.id)
            return
        payments = self.context.netsuite_payments.get(charge.id, [])
        if not payments:
            self._problem(bt, "payment not in NetSuite yet")
            return
        for payment in payments:
            if not payment.is_undeposited:
                self._problem(bt, f"payment {payment.id} is not undeposited (status {payment.status})", payment.id)
        gross = major_or_none(charge.amount, charge.currency)
        paid = sum((p.total for p in payments), ZERO)
        if paid != gross:
            self._problem(bt, f"NetSuite payments total {in_currency(paid, charge.currency)}, "
                          f"the charge is {gross} {charge.currency.upper()}",
                          payments[0].id)
        for payment, amount in zip(payments, _shares(bt.amount, payments, self.currency)):
            self._line("payment", bt, amount, external_id=payment.external_id, netsuite_id=payment.id)

    def _refund_item(self, bt: BalanceTransaction) -> None:
        refund = self.context.refunds_by_id.get(bt.source or "")
        external_id = object_external_id(bt.source or bt.id)
        record = self.context.inputs.customer_refunds.get(external_id)
        if record is None and refund is not None and refund.customer_refund_id is not None:
            record = self.context.inputs.customer_refunds_by_id.get(refund.customer_refund_id)
        if refund is None:
            self._problem(bt, "refund not synced from Stripe")
        elif record is None:
            self._problem(bt, "customer refund not in NetSuite yet")
        elif record.total != major_or_none(refund.amount, refund.currency):
            self._problem(bt, f"customer refund {record.id} is {in_currency(record.total or ZERO, refund.currency)}, "
                          f"the refund is "
                          f"{major_or_none(refund.amount, refund.currency)}", record.id)
        self._line("customer_refund", bt, to_major(bt.amount, self.currency), external_id=external_id,
                   netsuite_id=record.id if record else None)

    def _chargeback_refund(self, bt: BalanceTransaction, category: str) -> bool:
        """Under NS_RECON_CHARGEBACK_POLICY=credit_memo_refund a dispute withdrawal or a charge failure
        is a customer refund (stripe:<dispute id>, stripe:<charge id>:failure), deposited as one."""
        if self.context.settings.chargeback_policy != "credit_memo_refund" or not bt.source or bt.amount >= 0:
            return False
        if category == "dispute":
            external_id = object_external_id(bt.source)
        elif category == "charge_failure":
            external_id = failure_external_id(bt.source)
        else:
            return False
        record = self.context.inputs.customer_refunds.get(external_id)
        if record is None:
            self._problem(bt, f"customer refund {external_id} not in NetSuite yet")
        self._line("customer_refund", bt, to_major(bt.amount, self.currency), external_id=external_id,
                   netsuite_id=record.id if record else None)
        return True

    def _fee_line(self) -> None:
        if self.fee_minor == 0:
            return
        account = self.context.settings.fee_account_id
        if account is None:
            self.missing_accounts.add("NS_RECON_FEE_ACCOUNT_ID")
        self._line("fee", None, -to_major(self.fee_minor, self.currency), account_id=account)


def _shares(amount_minor: int, payments: list[NetSuitePayment], currency: str) -> list[Decimal]:
    """The balance transaction's gross amount shared among a split charge's payments in proportion
    to their totals; the last takes the rounding remainder, so the shares sum exactly."""
    amount = to_major(amount_minor, currency)
    weights = sum((p.total for p in payments), ZERO)
    if len(payments) == 1 or weights == 0:
        return [amount] + [ZERO] * (len(payments) - 1)
    shares = [round_money(amount * p.total / weights, currency) for p in payments[:-1]]
    return shares + [amount - sum(shares, ZERO)]
