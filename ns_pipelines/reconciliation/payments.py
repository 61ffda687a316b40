"""Charges into customer payments: which charges, for how much, applied to which invoices."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ns_pipelines.money import CurrencyError, to_major
from ns_pipelines.reconciliation.context import Context
from ns_pipelines.reconciliation.customers import ResolvedCustomer, check_customer, resolve_customer
from ns_pipelines.reconciliation.exceptions import ReconException
from ns_pipelines.reconciliation.invoices import Targets, resolve_invoices
from ns_pipelines.reconciliation.matches import ZERO, Applications, PaymentMatch, total
from ns_pipelines.reconciliation.models import PROVIDER, Charge, NetSuitePayment, charge_external_id


@dataclass
class PlannedPayment:
    customer_id: int
    amount: Decimal
    applications: Applications


def gross_amount(charge: Charge) -> Decimal | ReconException:
    """The charge amount in major units of its presentment currency."""
    try:
        return to_major(charge.amount, charge.currency)
    except CurrencyError as exc:
        return ReconException("invalid_charge", "charge", charge.id, charge_id=charge.id,
                              reason=f"Charge {charge.id}: amount {charge.amount!r} {charge.currency!r}: {exc}.")


def becomes_payment(charge: Charge, context: Context) -> bool:
    """Succeeded charges (and pending ones when NS_RECON_PENDING_CHARGES=apply) from the start date on;
    a pending charge held back is listed as info."""
    if context.is_pre_start(charge.created):
        context.pre_start.add(charge.id)
        return False
    if charge.status == "succeeded":
        return True
    if charge.status == "pending":
        if context.settings.pending_charges == "apply":
            return True
        context.add_exception(ReconException(
            "charge_pending_held", "charge", charge.id, charge_id=charge.id, currency=charge.currency.upper(),
            reason=f"Charge {charge.id} is pending ({charge.balance_transaction or 'no balance transaction'}); "
            "its payment waits until it succeeds."))
    return False


def allocate_named(amount: Decimal, targets: Targets, primary: int | None, context: Context) -> list[PlannedPayment]:
    """Apply up to each named invoice's open amount, in the order named; one payment per customer,
    the remainder unapplied on the primary customer's payment (the resolved customer, else the first)."""
    by_customer: dict[int, Applications] = {}
    left = amount
    for invoice in targets.invoices:
        by_customer.setdefault(invoice.customer_id, [])
        take = min(left, context.book.open_amount(invoice.id))
        if take > 0:
            by_customer[invoice.customer_id].append((invoice.id, take))
            left -= take
    if primary not in by_customer:
        primary = next(iter(by_customer))
    planned = []
    for customer_id, applications in by_customer.items():
        share = total(applications) + (left if customer_id == primary else ZERO)
        if share > 0:
            planned.append(PlannedPayment(customer_id, share, applications))
    return planned


def allocate_oldest_first(amount: Decimal, customer_id: int, currency: str, context: Context) -> PlannedPayment:
    """Apply to the customer's open invoices in the currency, oldest first, up to each open amount."""
    applications: Applications = []
    left = amount
    for invoice in context.book.oldest_open(customer_id, currency):
        if left <= 0:
            break
        take = min(left, context.book.open_amount(invoice.id))
        applications.append((invoice.id, take))
        left -= take
    return PlannedPayment(customer_id, amount, applications)


def plan_payments(charge: Charge, amount: Decimal, context: Context) -> tuple[str, list[PlannedPayment]] | ReconException:
    """(invoice rule, payments) for the charge, or the exception that stops it. Nothing is consumed."""
    customer = resolve_customer(charge, context.inputs)
    targets = resolve_invoices(charge, customer if isinstance(customer, ResolvedCustomer) else None, context.book)
    if isinstance(targets, ReconException):
        return targets
    if targets.rule == "oldest_first":
        if isinstance(customer, ReconException):
            return customer
        return targets.rule, [allocate_oldest_first(amount, customer.customer_id, charge.currency.upper(), context)]
    primary = customer.customer_id if isinstance(customer, ResolvedCustomer) else None
    planned = allocate_named(amount, targets, primary, context)
    for payment in planned:
        checked = check_customer(charge, ResolvedCustomer(payment.customer_id, "invoice"), context.inputs)
        if isinstance(checked, ReconException):
            return checked
    return targets.rule, planned


def memo_for(charge: Charge, amount: Decimal, context: Context) -> str:
    tran_date = context.settings.local_date(charge.created)
    return context.settings.memo_template.format(
        provider=PROVIDER, charge_id=charge.id, payment_intent_id=charge.payment_intent or "",
        amount=str(amount), currency=charge.currency.upper(), date=tran_date.isoformat() if tran_date else "",
        payout_id=context.payout_of(charge.balance_transaction) or "",
    )


def done_payment_match(charge: Charge, payment: NetSuitePayment, context: Context) -> PaymentMatch:
    """A payment NetSuite already has, as it is there (its live applications)."""
    return PaymentMatch(
        external_id=payment.external_id, action="create_payment", state="done", stripe_object_id=charge.id,
        charge_id=charge.id, payment_external_id=payment.external_id,
        currency=payment.currency or charge.currency.upper(), amount=payment.total,
        applications=list(payment.applications), invoice_rule="netsuite",
        reason=f"NetSuite has payment {payment.id} for charge {charge.id}.",
        payment_intent_id=charge.payment_intent, stripe_customer_id=charge.customer,
        netsuite_customer_id=payment.customer_id, netsuite_payment_id=payment.id, netsuite_record_id=payment.id,
        unapplied_amount=payment.amount_unused, is_overpayment=payment.amount_unused > 0,
        is_split=payment.external_id.count(":") == 2, memo=memo_for(charge, payment.total, context),
        tran_date=context.settings.local_date(charge.created), payout_id=context.payout_of(charge.balance_transaction),
    )


def funds_withdrawn(charge: Charge, context: Context) -> bool:
    """A chargeback already took the money back (under the unapply policy the payment is then created
    unapplied, so its invoices stay open)."""
    return context.settings.chargeback_policy == "unapply" and any(
        d.charge == charge.id and d.funds_withdrawn for d in context.inputs.disputes_by_charge.get(charge.id, ()))


def reconcile_charge(charge: Charge, context: Context) -> None:
    """The create_payment rows of one charge: done ones as NetSuite has them, the others planned.

    Once NetSuite has a payment for the charge, its money is there: only the part of a split charge
    that is not yet in NetSuite (one customer's payment written, another's not) is planned again,
    for the amount that is left, so a rerun after the invoices were paid never plans the charge twice.
    """
    done = {p.external_id: p for p in context.netsuite_payments.get(charge.id, [])}
    if not done and not becomes_payment(charge, context):
        return
    for payment in done.values():
        context.add_payment(done_payment_match(charge, payment, context))
    amount = gross_amount(charge)
    if isinstance(amount, ReconException):
        context.add_exception(amount)
        return
    split_already = any(external_id != charge_external_id(charge.id) for external_id in done)
    if done:
        amount -= sum((p.total for p in done.values()), ZERO)
        if amount <= 0 or not split_already:
            return
    planned = plan_payments(charge, amount, context)
    if isinstance(planned, ReconException):
        context.add_exception(planned)
        return
    rule, payments = planned
    split = split_already or len(payments) > 1
    withdrawn = funds_withdrawn(charge, context)
    for payment in payments:
        external_id = charge_external_id(charge.id, payment.customer_id if split else None)
        if external_id in done:
            continue  # that customer's part is in NetSuite already
        context.add_payment(planned_payment_match(charge, payment, rule, split, withdrawn, external_id, context))


def planned_payment_match(charge: Charge, payment: PlannedPayment, rule: str, split: bool, withdrawn: bool,
                          external_id: str, context: Context) -> PaymentMatch:
    applications = [] if withdrawn else payment.applications
    unapplied = payment.amount - total(applications)
    context.book.consume(applications)
    overpaid = unapplied > 0 and not withdrawn
    if overpaid:
        context.add_exception(ReconException(
            "overpayment", "charge", charge.id, charge_id=charge.id, key_suffix=external_id.split(":", 2)[-1]
            if split else None, netsuite_customer_id=payment.customer_id,
            netsuite_record_ids=tuple(i for i, _ in applications), currency=charge.currency.upper(), amount=unapplied,
            reason=f"Charge {charge.id} pays {payment.amount} {charge.currency.upper()} to customer "
            f"{payment.customer_id} but only {total(applications)} is open on its invoices; {unapplied} stays "
            "unapplied on the payment."))
    how = {"explicit_ids": "the invoice ids in its metadata", "invoice_number": "the invoice number it carries",
           "oldest_first": "the customer's oldest open invoices"}[rule]
    reason = f"Succeeded charge {charge.id}: payment applied by {how}."
    if withdrawn:
        reason = f"Charge {charge.id} was charged back: the payment is created unapplied, its invoices stay open."
    elif charge.status == "pending":
        reason = f"Pending charge {charge.id} applied before it settles (NS_RECON_PENDING_CHARGES=apply)."
    return PaymentMatch(
        external_id=external_id, action="create_payment", state="planned", stripe_object_id=charge.id,
        charge_id=charge.id, payment_external_id=external_id, currency=charge.currency.upper(),
        amount=payment.amount, applications=applications, invoice_rule=rule, reason=reason,
        payment_intent_id=charge.payment_intent, stripe_customer_id=charge.customer,
        netsuite_customer_id=payment.customer_id, unapplied_amount=unapplied, is_overpayment=overpaid,
        is_split=split, memo=memo_for(charge, payment.amount, context),
        tran_date=context.settings.local_date(charge.created), payout_id=context.payout_of(charge.balance_transaction),
    )
