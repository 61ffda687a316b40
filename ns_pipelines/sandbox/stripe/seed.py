"""Deterministic Stripe history that pays the NetSuite sandbox's invoices (docs/stripe-sandbox.md).

`seed_stripe(sandbox, netsuite, seed=...)` reads the NetSuite sandbox's customers and invoices
(read-only), creates a Stripe customer per active, non-intercompany NetSuite customer
(`metadata.netsuite_customer_id`), then replays about three weeks of history through the ledger
with the clock pinned to each instant: payments linked to invoices in every way the
reconciliation must handle, refunds, disputes, ACH debits, and automatic payouts. The same
NetSuite account and seed give the same Stripe account, ids included.

Open invoices are a scarce resource (a tiny NetSuite account has about eight), so each one is
used by one scenario only; where two charges share an invoice, their amounts add up to exactly
its open amount, so the outcome does not depend on the order they are reconciled in.
`scenarios` (admin API GET /scenarios) names the objects of each case.
"""
from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from ns_pipelines.money import ZERO_DECIMAL_CURRENCIES, exponent, to_major, to_minor

from .ids import IdFactory
from .ledger import DAY, NewPayment
from .netsuite_view import NetSuiteView, NsCustomer, NsInvoice
from .pricing import SETTLEMENT_CURRENCY, USD_RATES

if TYPE_CHECKING:
    from .server import StripeSandbox

HOUR = 3600
DEFAULT_INTEGRATION_START_DAYS = 21  # the integration "went live" this many days before the NetSuite seed's today
MAX_FILLER_PAYMENTS = 25


@dataclass
class Plan:
    """Scenario name -> ids, details per id, and the timeline of actions to replay."""

    scenarios: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    details: dict[str, dict[str, Any]] = field(default_factory=dict)
    actions: list[tuple[int, int, Callable[[], None]]] = field(default_factory=list)

    def at(self, instant: int, action: Callable[[], None]) -> None:
        self.actions.append((instant, len(self.actions), action))


class InvoicePool:
    """Open invoices not yet given to a scenario, in a seed-shuffled order."""

    def __init__(self, invoices: list[NsInvoice], rng: random.Random) -> None:
        self.free = [i for i in invoices if i.open and i.unpaid > 0]
        rng.shuffle(self.free)

    def take(self, predicate: Callable[[NsInvoice], bool] = lambda i: True) -> NsInvoice | None:
        for invoice in self.free:
            if predicate(invoice):
                self.free.remove(invoice)
                return invoice
        return None

    def take_group(self, size: int, same_customer: bool) -> list[NsInvoice]:
        """`size` invoices in one currency, of one customer or of `size` different customers."""
        groups: dict[tuple[Any, ...], list[NsInvoice]] = defaultdict(list)
        for invoice in self.free:
            key = (invoice.currency, invoice.customer) if same_customer else (invoice.currency,)
            group = groups[key]
            if same_customer or all(other.customer != invoice.customer for other in group):
                group.append(invoice)
        candidates = [group[:size] for group in groups.values() if len(group) >= size]
        if not candidates:
            return []
        # the smallest group keeps a lost dispute on it from wiping out the seeded balance
        chosen = min(candidates, key=lambda g: sum(i.unpaid for i in g) * USD_RATES[g[0].currency]
                     / 10 ** exponent(g[0].currency))
        for invoice in chosen:
            self.free.remove(invoice)
        return chosen


class StripeSeeder:
    def __init__(self, sandbox: "StripeSandbox", netsuite: Any, seed: int,
                 integration_start_days: int = DEFAULT_INTEGRATION_START_DAYS) -> None:
        self.sandbox = sandbox
        self.ledger = sandbox.ledger
        self.view = NetSuiteView(netsuite)
        self.rng = random.Random(seed)
        self.today = self.view.today()
        self.anchor = int(datetime.combine(self.today, time(0), tzinfo=timezone.utc).timestamp())
        self.integration_start = self.anchor - integration_start_days * DAY
        self.customers: list[NsCustomer] = self.view.customers()
        self.invoices: list[NsInvoice] = self.view.invoices()
        self.stripe_customer: dict[int, str] = {}
        self.unlinked_customer: str | None = None
        self.plan = Plan()

    # ------------------------------------------------------------------ helpers
    def day(self, days_before: float, hour: int = 10) -> int:
        return int(self.anchor - days_before * DAY + hour * HOUR)

    def tag(self, scenario: str, object_id: str) -> None:
        if object_id not in self.plan.scenarios[scenario]:
            self.plan.scenarios[scenario].append(object_id)

    def pay(self, instant: int, scenarios: list[str], *, amount: int, currency: str, ns_customer: int | None,
            invoices: list[NsInvoice], metadata: dict[str, str] | None = None, description: str | None = None,
            method: str = "pm_card_visa", stripe_customer: str | None = None,
            after: Callable[[dict[str, Any]], None] | None = None) -> None:
        """Plan a confirmed PaymentIntent at `instant`; `after(charge)` plans follow-ups on its charge."""
        customer = stripe_customer or (self.stripe_customer.get(ns_customer) if ns_customer else None)

        def run() -> None:
            pi = self.ledger.create_payment_intent(
                NewPayment(amount=amount, currency=currency, customer=customer, description=description,
                           metadata=dict(metadata or {}), payment_method=method), confirm=True)
            charge = self.sandbox.store.get(pi["latest_charge"], "charge")
            for scenario in scenarios:
                self.tag(scenario, charge["id"])
            self.plan.details[charge["id"]] = {
                "payment_intent": pi["id"], "amount": amount, "currency": currency, "customer": customer,
                "netsuite_customer_id": str(ns_customer) if ns_customer else None,
                "netsuite_invoice_ids": [str(i.id) for i in invoices],
                "netsuite_invoice_numbers": [i.tranid for i in invoices],
                "invoice_open_amounts": {str(i.id): i.unpaid for i in invoices},
                "scenarios": list(scenarios)}
            if after is not None:
                after(charge)
        self.plan.at(instant, run)

    def refund(self, instant: int, scenario: str, charge: dict[str, Any], amount: int | None = None) -> None:
        def run() -> None:
            refund = self.ledger.create_refund(charge_id=charge["id"], amount=amount,
                                               reason="requested_by_customer")
            self.tag(scenario, refund["id"])
            self.plan.details[refund["id"]] = {"charge": charge["id"], "amount": refund["amount"],
                                               "currency": refund["currency"]}
        self.plan.at(instant, run)

    def dispute(self, opened: int, scenario: str, charge: dict[str, Any], closed: int | None = None,
                outcome: str | None = None) -> None:
        def run_open() -> None:
            dispute = self.ledger.open_dispute(charge["id"], reason="fraudulent")
            self.tag(scenario, dispute["id"])
            self.plan.details[dispute["id"]] = {"charge": charge["id"], "amount": dispute["amount"],
                                                "currency": dispute["currency"], "outcome": outcome or "open"}
            if closed is not None and outcome is not None:
                self.plan.at(closed, lambda: self.ledger.close_dispute(dispute["id"], outcome))
        self.plan.at(opened, run_open)

    def payout(self, instant: int, scenarios: list[str]) -> None:
        def run() -> None:
            if self.ledger.available_net() <= 0:
                return  # as on Stripe, a negative balance is not paid out; later payments cover it
            payout = self.ledger.create_payout()
            for scenario in scenarios:
                self.tag(scenario, payout["id"])
            swept = self.sandbox.store.select("balance_transaction", ["payout = ?"], [payout["id"]])
            sources = [bt["source"] for bt in swept if bt["type"] != "payout"]
            self.plan.details[payout["id"]] = {"amount": payout["amount"], "sources": sources}
            early = [s for s in sources if s in self.plan.scenarios.get("pre_integration", [])]
            if early:
                self.tag("payout_with_pre_integration", payout["id"])
        self.plan.at(instant, run)

    def convert(self, amount: int, source: str, target: str) -> int:
        """An amount in another currency at today's base rate, rounded to whole major units."""
        major = to_major(amount, source) * USD_RATES[source] / USD_RATES[target]
        return to_minor(max(Decimal(1), major.quantize(Decimal(1), rounding=ROUND_HALF_UP)), target)

    # ------------------------------------------------------------------ the history
    def build(self) -> Plan:
        pool = InvoicePool(self.invoices, self.rng)
        usd = lambda i: i.currency == "usd"  # noqa: E731

        def lose(charge: dict[str, Any]) -> None:
            self.dispute(self.day(9), "dispute_lost", charge, closed=self.day(4), outcome="lost")

        # Several invoices of one customer first (the scarcest case), then invoices of several customers.
        group = pool.take_group(2, same_customer=True)
        if group:
            self.pay(self.day(17), ["invoice_ids"], amount=sum(i.unpaid for i in group), currency=group[0].currency,
                     ns_customer=group[0].customer, invoices=group,
                     metadata={"netsuite_invoice_ids": ",".join(str(i.id) for i in group)},
                     description="Invoices " + ", ".join(i.tranid for i in group), after=lose)
        split = pool.take_group(2, same_customer=False)
        if split:
            self.pay(self.integration_start + HOUR, ["split_customers", "invoice_ids"],
                     amount=sum(i.unpaid for i in split), currency=split[0].currency, ns_customer=split[0].customer,
                     invoices=split, metadata={"netsuite_invoice_ids": ",".join(str(i.id) for i in split)},
                     description="Group payment " + ", ".join(i.tranid for i in split),
                     after=None if group else lose)

        # The ACH debit that fails late reopens its invoice; the customer then pays it by card,
        # quoting the invoice number only.
        invoice = pool.take(usd)
        if invoice:
            def retry(charge: dict[str, Any], inv: NsInvoice = invoice) -> None:
                self.pay(self.day(7), ["invoice_number_metadata", "paid_after_ach_failure"], amount=inv.unpaid,
                         currency=inv.currency, ns_customer=inv.customer, invoices=[inv],
                         metadata={"netsuite_invoice_number": inv.tranid}, description="Card payment")
            self.pay(self.day(13), ["ach_failed", "invoice_id"], amount=invoice.unpaid, currency="usd",
                     ns_customer=invoice.customer, invoices=[invoice],
                     metadata={"netsuite_invoice_id": str(invoice.id)}, description=f"ACH debit {invoice.tranid}",
                     method="pm_usBankAccount_accountClosed", after=retry)
        else:  # no USD invoice left: the failing debit is a payment on account
            self.pay_on_account(self.day(13), ["ach_failed", "on_account"], "pm_usBankAccount_accountClosed")

        # A customer's oldest open invoice, paid half by explicit id and half through the customer only.
        oldest_open: dict[int, NsInvoice] = {}
        for inv in sorted((i for i in self.invoices if i.open and i.unpaid > 0), key=lambda i: (i.trandate, i.id)):
            oldest_open.setdefault(inv.customer, inv)
        invoice = pool.take(lambda i: oldest_open.get(i.customer) is i and i.unpaid >= 2 * 10 ** exponent(i.currency))
        if invoice:
            first = self.part(invoice)

            def open_dispute(charge: dict[str, Any]) -> None:
                self.dispute(self.day(1, 18), "dispute_open", charge)
            self.pay(self.day(16), ["partial_payment", "invoice_id"], amount=first, currency=invoice.currency,
                     ns_customer=invoice.customer, invoices=[invoice], metadata={"netsuite_invoice_id": str(invoice.id)},
                     description="Partial payment")
            self.pay(self.day(15), ["customer_only"], amount=invoice.unpaid - first, currency=invoice.currency,
                     ns_customer=invoice.customer, invoices=[invoice], description="Payment on account",
                     after=open_dispute)

        invoice = pool.take()
        if invoice:
            extra = self.convert(100 * 10 ** exponent("usd"), "usd", invoice.currency)

            def refund_excess(charge: dict[str, Any], excess: int = extra) -> None:
                self.refund(self.day(8), "refund_partial", charge, amount=excess)
            self.pay(self.day(15, 13), ["overpayment", "invoice_id"], amount=invoice.unpaid + extra,
                     currency=invoice.currency, ns_customer=invoice.customer, invoices=[invoice],
                     metadata={"netsuite_invoice_id": str(invoice.id)}, description=f"Payment {invoice.tranid}",
                     after=refund_excess)

        # One invoice paid in three parts: by id, by its number in the description, by its number in metadata.
        invoice = pool.take(lambda i: i.unpaid >= 3 * 10 ** exponent(i.currency))
        if invoice:
            first = self.part(invoice)
            second = max(10 ** exponent(invoice.currency), self.part(invoice) * 3 // 4 // 10 ** exponent(
                invoice.currency) * 10 ** exponent(invoice.currency))

            def win(charge: dict[str, Any]) -> None:
                self.dispute(self.day(10), "dispute_won", charge, closed=self.day(6), outcome="won")
            self.pay(self.day(12), ["invoice_id", "partial_payment"], amount=first, currency=invoice.currency,
                     ns_customer=invoice.customer, invoices=[invoice], metadata={"netsuite_invoice_id": str(invoice.id)})
            self.pay(self.day(11), ["invoice_number_description"], amount=second,
                     currency=invoice.currency, ns_customer=invoice.customer, invoices=[invoice],
                     description=f"Payment for {invoice.tranid}", after=win)
            self.pay(self.day(10, 16), ["invoice_number_metadata"], amount=invoice.unpaid - first - second,
                     currency=invoice.currency, ns_customer=invoice.customer, invoices=[invoice],
                     metadata={"netsuite_invoice_number": invoice.tranid}, description="Balance payment")

        self.plan_ach()
        self.plan_mismatch_and_unmatched()
        self.plan_pre_integration()
        for n, invoice in enumerate(pool.free[:MAX_FILLER_PAYMENTS]):
            self.pay(self.day(20 - (n * 17 / MAX_FILLER_PAYMENTS), 9 + n % 8), ["invoice_id"], amount=invoice.unpaid,
                     currency=invoice.currency, ns_customer=invoice.customer, invoices=[invoice],
                     metadata={"netsuite_invoice_id": str(invoice.id)}, description=f"Invoice {invoice.tranid}")
        self.payout(self.day(19, 12), ["payouts_paid"])
        self.payout(self.day(12, 12), ["payouts_paid"])
        self.payout(self.day(5, 12), ["payouts_paid"])
        self.payout(self.day(1, 12), ["payouts_in_transit"])
        return self.plan

    def part(self, invoice: NsInvoice) -> int:
        """About 40% of the open amount, in whole major units (and a valid three-decimal amount)."""
        unit = 10 ** exponent(invoice.currency)
        return max(unit, (invoice.unpaid * 2 // 5) // unit * unit)

    def pay_on_account(self, instant: int, scenarios: list[str], method: str,
                       after: Callable[[dict[str, Any]], None] | None = None) -> None:
        """An ACH payment from a USD customer with no open invoice (else from the unlinked customer)."""
        on_account = [c for c in self.customers if c.currency == "usd" and not c.has_open_invoices]
        linked = on_account[0].id if on_account else None
        self.pay(instant, scenarios, amount=self.rng.randint(200, 900) * 100, currency="usd", ns_customer=linked,
                 invoices=[], description="ACH payment on account", method=method, after=after,
                 stripe_customer=None if linked else self.unlinked_customer)

    def plan_ach(self) -> None:
        """ACH debits (USD) on account: one that succeeds (later fully refunded) and one still pending."""
        def refund_all(charge: dict[str, Any]) -> None:
            self.refund(self.day(7, 15), "refund_full", charge)
        self.pay_on_account(self.day(14), ["ach_succeeded", "on_account"], "pm_usBankAccount", after=refund_all)
        self.pay_on_account(self.day(2), ["ach_pending", "on_account"], "pm_usBankAccount")

    def plan_mismatch_and_unmatched(self) -> None:
        target = next((i for i in self.invoices if i.open and i.unpaid > 0), None)
        if target is not None:
            currency = "eur" if target.currency != "eur" else "usd"
            self.pay(self.day(10, 14), ["currency_mismatch"], amount=self.convert(target.unpaid, target.currency, currency),
                     currency=currency, ns_customer=target.customer, invoices=[target],
                     metadata={"netsuite_invoice_id": str(target.id)}, description=f"Payment {target.tranid}")
        self.pay(self.day(9, 11), ["unmatched"], amount=self.rng.randint(1000, 9000) * 10, currency="kwd",
                 ns_customer=None, invoices=[], description="Online order")
        self.pay(self.day(8, 16), ["unmatched"], amount=self.rng.randint(50, 400) * 100, currency="usd",
                 ns_customer=None, invoices=[], description="Conference ticket",
                 stripe_customer=self.unlinked_customer)
        self.pay(self.day(6, 9), ["unmatched"], amount=self.rng.randint(50, 400) * 100, currency="jpy",
                 ns_customer=None, invoices=[], description="Webshop order")
        for days in (5, 4, 3):  # everyday sales keep the balance positive for the last payouts
            self.pay(self.day(days, 15), ["unmatched"], amount=self.rng.randint(4000, 8000) * 100, currency="usd",
                     ns_customer=None, invoices=[], description="Webshop order")

    def plan_pre_integration(self) -> None:
        """Payments from before the integration started, for invoices NetSuite already shows paid."""
        paid = [i for i in self.invoices if not i.open and i.total > 0]
        self.rng.shuffle(paid)
        for days, invoice in zip((40, 26, 24), paid):
            self.pay(self.anchor - days * DAY + 11 * HOUR, ["pre_integration", "invoice_id"], amount=invoice.total,
                     currency=invoice.currency, ns_customer=invoice.customer, invoices=[invoice],
                     metadata={"netsuite_invoice_id": str(invoice.id)}, description=f"Invoice {invoice.tranid}")

    # ------------------------------------------------------------------ running it
    def run(self) -> dict[str, Any]:
        ledger, clock = self.ledger, self.sandbox.clock
        ids = IdFactory(self.rng)
        ledger.ids = ids
        self.sandbox.events.ids = ids
        try:
            with clock.pinned(self.anchor - 60 * DAY):
                for customer in self.customers:
                    body = ledger.create_customer(
                        name=customer.name, email=customer.email, description=customer.entityid,
                        metadata={"netsuite_customer_id": str(customer.id)})
                    self.stripe_customer[customer.id] = body["id"]
                self.unlinked_customer = ledger.create_customer(
                    name="Walk-in Buyer", email="buyer@example.org", description="not in NetSuite")["id"]
            self.plan.scenarios["customers"] = list(self.stripe_customer.values())
            self.build()
            while self.plan.actions:
                self.plan.actions.sort(key=lambda a: (a[0], a[1]))
                instant, _, action = self.plan.actions.pop(0)
                with clock.pinned(instant):
                    ledger.process_due()
                    action()
            with clock.pinned(self.anchor):
                ledger.process_due()
        finally:
            ledger.ids = IdFactory()
            self.sandbox.events.ids = IdFactory()
        scenarios = dict(self.plan.scenarios)
        scenarios["fx"] = [cid for cid, d in self.plan.details.items()
                           if cid.startswith(("ch_", "py_")) and d["currency"] != SETTLEMENT_CURRENCY]
        scenarios["zero_decimal"] = [cid for cid in scenarios["fx"]
                                     if self.plan.details[cid]["currency"] in ZERO_DECIMAL_CURRENCIES]
        scenarios["three_decimal"] = [cid for cid in scenarios["fx"] if exponent(self.plan.details[cid]["currency"]) == 3]
        return {"scenarios": scenarios, "details": self.plan.details,
                "customers": {str(k): v for k, v in self.stripe_customer.items()},
                "unlinked_customer": self.unlinked_customer,
                "integration_start": self.integration_start,
                "integration_start_date": datetime.fromtimestamp(self.integration_start, timezone.utc).date().isoformat(),
                "anchor": self.anchor, "netsuite_today": self.today.isoformat()}


def seed_stripe(sandbox: "StripeSandbox", netsuite: Any, *, seed: int = 42,
                integration_start_days: int = DEFAULT_INTEGRATION_START_DAYS) -> dict[str, Any]:
    """Fill an empty Stripe sandbox from the NetSuite sandbox's data; returns the scenario catalogue."""
    return StripeSeeder(sandbox, netsuite, seed, integration_start_days).run()
