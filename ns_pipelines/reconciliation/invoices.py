"""Invoice resolution: which invoices a charge pays, and how much is still open on each.

Rules, in order: explicit internal ids in the charge metadata; else an invoice number (tranid) in
the metadata or the description; else the customer's open invoices, oldest first, same currency.
"""
from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from ns_pipelines.reconciliation.customers import ResolvedCustomer
from ns_pipelines.reconciliation.exceptions import ReconException
from ns_pipelines.reconciliation.models import Charge, Invoice

ZERO = Decimal(0)
# Document-number-like words of a description: letters, digits and - _ / #, with at least one digit.
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-_/#]*")


class InvoiceBook:
    """Invoices with their open amounts, reduced as planned payments apply to them."""

    def __init__(self, invoices: dict[int, Invoice]) -> None:
        self.invoices = invoices
        self.remaining: dict[int, Decimal] = {}
        self._by_tran_id: dict[str, list[Invoice]] = defaultdict(list)
        open_lists: dict[tuple[int, str], list[Invoice]] = defaultdict(list)
        for invoice in invoices.values():
            if invoice.tran_id:
                self._by_tran_id[invoice.tran_id.strip().upper()].append(invoice)
            if invoice.not_target is None:
                self.remaining[invoice.id] = invoice.amount_unpaid
                if invoice.amount_unpaid > 0 and invoice.customer_id is not None:
                    open_lists[(invoice.customer_id, invoice.currency)].append(invoice)
        self._open = {key: sorted(found, key=lambda i: i.age_key) for key, found in open_lists.items()}
        self._first_open: dict[tuple[int, str], int] = {}  # skips invoices already used up

    def open_amount(self, invoice_id: int) -> Decimal:
        return self.remaining.get(invoice_id, ZERO)

    def by_tran_id(self, number: str) -> list[Invoice]:
        return self._by_tran_id.get(number.strip().upper(), [])

    def oldest_open(self, customer_id: int, currency: str) -> Iterable[Invoice]:
        """The customer's open invoices in `currency`, oldest first, skipping the ones used up."""
        key = (customer_id, currency)
        found = self._open.get(key, [])
        start = self._first_open.get(key, 0)
        while start < len(found) and self.remaining[found[start].id] <= 0:
            start += 1
        self._first_open[key] = start
        for invoice in found[start:]:
            if self.remaining[invoice.id] > 0:
                yield invoice

    def consume(self, applications: Iterable[tuple[int, Decimal]]) -> None:
        for invoice_id, amount in applications:
            self.remaining[invoice_id] = self.remaining.get(invoice_id, ZERO) - amount

    def release(self, applications: Iterable[tuple[int, Decimal]]) -> None:
        """Amounts taken off invoices (unapplied): they are open again."""
        for invoice_id, amount in applications:
            if invoice_id in self.remaining:
                self.remaining[invoice_id] += amount


@dataclass(frozen=True)
class Targets:
    """The invoices a charge pays: named (explicit ids or numbers, in order) or oldest_first."""

    rule: str  # explicit_ids, invoice_number, oldest_first
    invoices: tuple[Invoice, ...] = ()


def _problem(code: str, charge: Charge, reason: str, invoice: Invoice | None = None,
             customer_id: int | None = None) -> ReconException:
    return ReconException(
        code, "charge", charge.id, charge_id=charge.id, reason=reason,
        netsuite_customer_id=invoice.customer_id if invoice else customer_id,
        netsuite_record_ids=(invoice.id,) if invoice else (),
        currency=charge.currency.upper(),
    )


def check_target(charge: Charge, invoice: Invoice) -> ReconException | None:
    """A named invoice can take this charge: a live, non-intercompany invoice in the same currency."""
    if invoice.not_target:
        return _problem("invoice_not_target", charge, invoice=invoice,
                        reason=f"Charge {charge.id} names invoice {invoice.id} ({invoice.tran_id}), which is "
                        f"{invoice.not_target} and cannot take a payment.")
    if invoice.currency != charge.currency.upper():
        return _problem("currency_mismatch", charge, invoice=invoice,
                        reason=f"Charge {charge.id} is in {charge.currency.upper()} but invoice {invoice.id} "
                        f"({invoice.tran_id}) is in {invoice.currency}: no automatic application.")
    return None


def explicit_invoice_ids(charge: Charge, book: InvoiceBook) -> Targets | ReconException | None:
    """metadata netsuite_invoice_id / netsuite_invoice_ids: NetSuite internal ids, in the order given."""
    if not charge.invoice_ids or not charge.invoice_ids.strip():
        return None
    named: list[Invoice] = []
    for part in charge.invoice_ids.split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit():
            return _problem("invalid_charge", charge,
                            f"Charge {charge.id}: metadata netsuite_invoice_ids {charge.invoice_ids!r} holds "
                            f"{part!r}, which is not a NetSuite internal id.")
        invoice = book.invoices.get(int(part))
        if invoice is None:
            return _problem("invoice_not_found", charge,
                            f"Charge {charge.id} names invoice internal id {part}, which is not in NetSuite.")
        problem = check_target(charge, invoice)
        if problem:
            return problem
        if invoice not in named:
            named.append(invoice)
    return Targets("explicit_ids", tuple(named)) if named else None


def invoice_numbers(charge: Charge, customer: ResolvedCustomer | None, book: InvoiceBook) -> Targets | ReconException | None:
    """metadata netsuite_invoice_number (any invoice, one match required), else document numbers in
    the description (the resolved customer's invoices only, so a stray number is never a guess)."""
    if charge.invoice_number and charge.invoice_number.strip():
        named: list[Invoice] = []
        for number in (n.strip() for n in charge.invoice_number.split(",")):
            if not number:
                continue
            found = book.by_tran_id(number)
            if customer is not None and len(found) > 1:
                found = [i for i in found if i.customer_id == customer.customer_id] or found
            if not found:
                return _problem("invoice_not_found", charge, customer_id=customer and customer.customer_id,
                                reason=f"Charge {charge.id} names invoice number {number!r}, which is not in NetSuite.")
            if len(found) > 1:
                return ReconException(
                    "invoice_number_ambiguous", "charge", charge.id, charge_id=charge.id,
                    netsuite_record_ids=tuple(sorted(i.id for i in found)),
                    reason=f"Charge {charge.id}: invoice number {number!r} matches invoices "
                    f"{', '.join(str(i.id) for i in sorted(found, key=lambda i: i.id))}.")
            problem = check_target(charge, found[0])
            if problem:
                return problem
            if found[0] not in named:
                named.append(found[0])
        return Targets("invoice_number", tuple(named)) if named else None
    if not charge.description or customer is None:
        return None
    named = []
    for word in _WORD.findall(charge.description):
        if not any(ch.isdigit() for ch in word):
            continue
        for invoice in book.by_tran_id(word):
            if invoice.customer_id == customer.customer_id and invoice not in named:
                problem = check_target(charge, invoice)
                if problem:
                    return problem
                named.append(invoice)
    return Targets("invoice_number", tuple(named)) if named else None


def resolve_invoices(charge: Charge, customer: ResolvedCustomer | None, book: InvoiceBook) -> Targets | ReconException:
    """The first rule that names invoices; else oldest first (which needs a customer)."""
    for rule in (lambda: explicit_invoice_ids(charge, book), lambda: invoice_numbers(charge, customer, book)):
        found = rule()
        if found is not None:
            return found
    return Targets("oldest_first")
