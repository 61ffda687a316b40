"""Money going back after a payment: chargebacks, late failures, won disputes, Stripe refunds."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ns_pipelines.reconciliation.context import Context
from ns_pipelines.reconciliation.customers import ResolvedCustomer
from ns_pipelines.reconciliation.exceptions import ReconException
from ns_pipelines.reconciliation.invoices import resolve_invoices
from ns_pipelines.reconciliation.matches import ZERO, Applications, PaymentMatch, major_or_none, total
from ns_pipelines.reconciliation.models import Charge, Dispute, Refund, failure_external_id, object_external_id
from ns_pipelines.reconciliation.payments import allocate_named, allocate_oldest_first


def _follow_up(payment: PaymentMatch, action: str, external_id: str, stripe_object_id: str, amount: Decimal,
               applications: Applications, reason: str, memo: str, context: Context, *, done_id: int | None = None,
               state: str | None = None, **extra: object) -> PaymentMatch:
    """A row acting on (or against) an existing payment row."""
    return PaymentMatch(
        external_id=external_id, action=action, state=state or ("done" if done_id is not None else "planned"),
        stripe_object_id=stripe_object_id, charge_id=payment.charge_id, payment_external_id=payment.external_id,
        currency=payment.currency, amount=amount, applications=applications, invoice_rule=payment.invoice_rule,
        reason=reason, payment_intent_id=payment.payment_intent_id, stripe_customer_id=payment.stripe_customer_id,
        netsuite_customer_id=payment.netsuite_customer_id, netsuite_payment_id=payment.netsuite_payment_id,
        netsuite_record_id=done_id, memo=memo, **extra,  # type: ignore[arg-type]
    )


def take_back(payment: PaymentMatch, why: str, stripe_object_id: str, refund_external_id: str, amount: Decimal,
              memo: str, context: Context) -> None:
    """Chargeback or late failure on a payment: unapply it (default policy), or a credit memo and a
    customer refund (NS_RECON_CHARGEBACK_POLICY=credit_memo_refund)."""
    if context.settings.chargeback_policy == "credit_memo_refund":
        existing = context.inputs.customer_refunds.get(refund_external_id)
        context.add_payment(_follow_up(
            payment, "credit_memo_refund", refund_external_id, stripe_object_id, amount, list(payment.applications),
            f"{why}: credit memo against the invoices and a customer refund.", memo, context,
            done_id=existing.id if existing else None, tran_date=payment.tran_date))
        return
    if payment.state == "planned":
        return  # created unapplied in the first place (payments.funds_withdrawn)
    applications = list(payment.applications)
    context.book.release(applications)
    context.add_payment(_follow_up(
        payment, "unapply", payment.external_id, stripe_object_id, total(applications), applications,
        f"{why}: the payment is unapplied from its invoices, which reopen.", memo, context,
        state="planned" if applications else "done", done_id=payment.netsuite_payment_id if not applications else None))


def reconcile_late_failure(charge: Charge, context: Context) -> None:
    """An ACH (or other delayed) charge that failed after its payment was created in NetSuite."""
    if charge.status != "failed":
        return
    why = f"Charge {charge.id} failed after its payment was created ({charge.failure_message or 'no reason given'})"
    for payment in context.payments.get(charge.id, []):
        if payment.state == "done":
            take_back(payment, why, charge.id, failure_external_id(charge.id), payment.amount,
                      f"Stripe failure {charge.id}: {charge.failure_message or ''}".strip(), context)


def reconcile_dispute(dispute: Dispute, context: Context) -> None:
    """Funds withdrawn: take the payment back; won: apply an unapplied payment again."""
    charge = context.charges.get(dispute.charge or "")
    payments = context.payments.get(dispute.charge or "", [])
    if dispute.status == "won":
        for payment in payments:
            if payment.state == "done" and not payment.applications and charge is not None:
                reapply(charge, dispute, payment, context)
        return
    if not dispute.funds_withdrawn:
        return
    if not payments:
        if charge is None or not context.is_pre_start(charge.created):
            context.add_exception(ReconException(
                "dispute_without_payment", "dispute", dispute.id, charge_id=dispute.charge,
                currency=dispute.currency.upper() or None, amount=major_or_none(dispute.amount, dispute.currency),
                reason=f"Dispute {dispute.id} withdrew funds for charge {dispute.charge}, which has no payment "
                "planned or in NetSuite."))
        return
    amount = major_or_none(dispute.amount, dispute.currency)
    for payment in payments:
        take_back(payment, f"Dispute {dispute.id} ({dispute.status}) withdrew the funds of charge {dispute.charge}",
                  dispute.id, object_external_id(dispute.id), min(amount or payment.amount, payment.amount),
                  f"Stripe dispute {dispute.id}", context)


def reapply(charge: Charge, dispute: Dispute, payment: PaymentMatch, context: Context) -> None:
    """Re-resolve the invoices as for a new charge, limited to the payment's customer."""
    customer = payment.netsuite_customer_id
    if customer is None:
        return
    targets = resolve_invoices(charge, ResolvedCustomer(customer, "payment"), context.book)
    if isinstance(targets, ReconException):
        context.add_exception(targets)
        return
    if targets.rule == "oldest_first":
        applications = allocate_oldest_first(payment.amount, customer, payment.currency, context).applications
    else:
        planned = allocate_named(payment.amount, targets, customer, context)
        applications = next((p.applications for p in planned if p.customer_id == customer), [])
    if not applications:
        return
    context.book.consume(applications)
    context.add_payment(_follow_up(
        payment, "reapply", payment.external_id, dispute.id, total(applications), applications,
        f"Dispute {dispute.id} was won: the payment is applied to its invoices again.",
        f"Stripe dispute {dispute.id} won", context, state="planned"))


@dataclass
class PaymentBalance:
    """What a payment still has to give back: refunded so far, unapplied, applications (a working copy)."""

    refunded: Decimal
    unapplied: Decimal
    applications: Applications


def reconcile_refund(refund: Refund, context: Context, balances: dict[str, PaymentBalance]) -> None:
    """A refund made in Stripe: unapply the refunded amount and a customer refund against the payment.
    Refunds made by our credit-memo refund job (metadata.netsuite_credit_memo_id) are already in NetSuite."""
    if refund.status != "succeeded" or refund.credit_memo_id:
        context.counts["refunds_from_credit_memos" if refund.credit_memo_id else "refunds_not_succeeded"] += 1
        return
    if context.is_pre_start(refund.created):
        return
    amount = major_or_none(refund.amount, refund.currency)
    payments = sorted(context.payments.get(refund.charge or "", []), key=lambda p: p.external_id)
    for p in payments:
        balances.setdefault(p.external_id, PaymentBalance(ZERO, p.unapplied_amount, list(p.applications)))
    payment = next((p for p in payments if amount is not None
                    and balances[p.external_id].refunded + amount <= p.amount), None)
    if payment is None or amount is None:
        context.add_exception(ReconException(
            "refund_without_payment", "refund", refund.id, charge_id=refund.charge,
            currency=refund.currency.upper() or None, amount=amount,
            reason=f"Refund {refund.id} of charge {refund.charge}: no payment of the charge, planned or in "
            "NetSuite, can take it."))
        return
    balance = balances[payment.external_id]
    balance.refunded += amount
    external_id = object_external_id(refund.id)
    existing = context.inputs.customer_refunds.get(external_id)
    if existing is None and refund.customer_refund_id is not None:
        existing = context.inputs.customer_refunds_by_id.get(refund.customer_refund_id)
    if existing is not None:  # NetSuite's payment already shows its effect
        context.add_payment(_follow_up(
            payment, "customer_refund", external_id, refund.id, amount, [],
            f"NetSuite has customer refund {existing.id} for refund {refund.id}.", f"Stripe refund {refund.id}",
            context, done_id=existing.id, tran_date=context.settings.local_date(refund.created),
            payout_id=context.payout_of(refund.balance_transaction)))
        return
    from_unapplied = min(amount, balance.unapplied)
    balance.unapplied -= from_unapplied
    reductions = _reduce_applications(balance, amount - from_unapplied)
    context.book.release(reductions)
    context.add_payment(_follow_up(
        payment, "customer_refund", external_id, refund.id, amount, reductions,
        f"Refund {refund.id} made in Stripe: {total(reductions)} unapplied from the invoices (they reopen), "
        f"a customer refund of {amount} against the payment.", f"Stripe refund {refund.id}", context,
        unapplied_amount=from_unapplied, tran_date=context.settings.local_date(refund.created),
        payout_id=context.payout_of(refund.balance_transaction)))


def _reduce_applications(balance: PaymentBalance, amount: Decimal) -> Applications:
    """Take `amount` off the payment's applications, last applied first."""
    reductions: Applications = []
    kept = balance.applications
    while amount > 0 and kept:
        invoice_id, applied = kept.pop()
        take = min(amount, applied)
        reductions.append((invoice_id, take))
        amount -= take
        if applied > take:
            kept.append((invoice_id, applied - take))
    return reductions
