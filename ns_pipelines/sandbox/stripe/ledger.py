"""The Stripe account's behaviour: payments, refunds, disputes, ACH settlement, payouts, balances.

Every operation runs in one store transaction, stamps objects with `clock.now()`, writes the
balance transactions Stripe would (settlement currency, fees, exchange rate) and emits the
events Stripe would, in Stripe's order. The API, the admin API and the seed all go through here.

Time-driven transitions (`process_due`): balance transactions become available at
`available_on`; planned ACH debits succeed or fail at their settle time; in-transit payouts are
paid (reconciliation completed) at `arrival_date`. They run before every API request and after
every clock move.
"""
from __future__ import annotations

import copy
import json
from typing import Any

from . import shapes
from .clock import Clock
from .errors import StripeApiError, card_declined, invalid, missing
from .params import as_metadata
from .events import EventLog
from .ids import IdFactory
from .payment_methods import (ACH_FAILURE_MESSAGES, DECLINE_MESSAGES, PAYMENT_METHODS, TOKENS, NewPayment,
                              PaymentMethod)
from .pricing import SETTLEMENT_CURRENCY, ach_fees, card_fees, check_amount, dispute_fees, settle
from .store import StripeStore

DAY = 86400
CARD_AVAILABLE_DAYS = 2
ACH_SETTLE_DAYS = 4
PAYOUT_ARRIVAL_DAYS = 2
ACH_PLAN_PREFIX = "ach_plan:"
PAYOUT_FAILURE_MESSAGES = {"account_closed": "The bank account has been closed.",
                           "no_account": "The bank account details on file are probably incorrect.",
                           "could_not_process": "The bank could not process this payout."}


def day_start(instant: int) -> int:
    return instant - instant % DAY


class Ledger:
    """The account's operations (see the module docstring); `ids` is swapped for a seeded one while seeding."""

    def __init__(self, store: StripeStore, clock: Clock, events: EventLog) -> None:
        self.store = store
        self.clock = clock
        self.events = events
        self.ids = IdFactory()
        self._last_due_check: int | None = None

    # ------------------------------------------------------------------ reading
    def require(self, object_id: str, object_type: str, *, param: str = "id", status: int = 404) -> dict[str, Any]:
        body = self.store.get(object_id, object_type) if isinstance(object_id, str) else None
        if body is None:
            err = missing(object_type.replace("_", " "), str(object_id), param=param)
            err.status = status
            raise err
        return body

    def _save(self, body: dict[str, Any]) -> dict[str, Any]:
        self.store.update(body)
        return body

    # ------------------------------------------------------------------ customers
    def create_customer(self, *, name: str | None = None, email: str | None = None,
                        description: str | None = None, metadata: dict[str, str] | None = None) -> dict[str, Any]:
        with self.store.write():
            body = shapes.customer(self.ids.new("cus"), self.clock.now(), name=name, email=email,
                                   description=description, metadata=metadata or {})
            self.store.insert(body)
            self.events.emit("customer.created", body)
        return body

    def delete_customer(self, customer_id: str) -> dict[str, Any]:
        """Stripe keeps a deleted customer's id: GET answers {id, object, deleted: true}; lists skip it."""
        with self.store.write():
            body = self.require(customer_id, "customer")
            if body.get("deleted"):
                raise missing("customer", customer_id)
            self.events.emit("customer.deleted", body)
            self._save({"id": customer_id, "object": "customer", "deleted": True, "created": body["created"]})
        return {"id": customer_id, "object": "customer", "deleted": True}

    def update_object(self, object_id: str, object_type: str, changes: dict[str, Any],
                      params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Set fields (metadata, description ...) and emit `<type>.updated` with previous_attributes.

        With the request's `params`, their metadata is merged into the object's under the write lock,
        so concurrent updates of different keys (as Stripe allows) never lose one another's keys.
        A deleted object (a customer) answers 400 resource_missing, as Stripe does."""
        event_prefix = {"dispute": "charge.dispute", "payment_intent": "payment_intent"}.get(object_type, object_type)
        with self.store.write():
            body = self.require(object_id, object_type)
            if body.get("deleted"):
                raise invalid(f"No such {object_type}: '{object_id}'", param="id", code="resource_missing")
            if params is not None and "metadata" in params:
                changes = {**changes, "metadata": as_metadata(params, body.get("metadata"))}
            previous = {k: body.get(k) for k, v in changes.items() if body.get(k) != v}
            body.update(changes)
            self._save(body)
            if object_type == "refund":
                self._refresh_charge_refunds(body["charge"])
            if previous:
                self.events.emit(f"{event_prefix}.updated", body, previous)
        return body

    # ------------------------------------------------------------------ payments
    def resolve_payment_method(self, name: str, *, param: str = "payment_method") -> PaymentMethod:
        method = PAYMENT_METHODS.get(name) or TOKENS.get(name)
        if method is None:
            raise invalid(f"No such PaymentMethod: '{name}'. The Stripe sandbox knows: "
                          f"{', '.join(sorted(PAYMENT_METHODS))}", param=param, code="resource_missing")
        return method

    def _check_payment(self, payment: NewPayment, method: PaymentMethod) -> None:
        check_amount(payment.amount, payment.currency)
        if payment.customer is not None:
            if self.require(payment.customer, "customer", param="customer", status=400).get("deleted"):
                raise invalid(f"No such customer: '{payment.customer}'", param="customer", code="resource_missing")
        if method.method == "us_bank_account" and payment.currency != "usd":
            raise invalid("The currency provided (%s) is invalid. Payments with us_bank_account support the "
                          "following currencies: usd." % payment.currency, param="currency")

    def create_payment_intent(self, payment: NewPayment, *, confirm: bool,
                              payment_method_types: list[str] | None = None,
                              with_payment_method: bool = True) -> dict[str, Any]:
        method = self.resolve_payment_method(payment.payment_method) if with_payment_method else None
        if method is not None:
            self._check_payment(payment, method)
        else:
            check_amount(payment.amount, payment.currency)
        types = payment_method_types or ([method.method] if method else ["card"])
        with self.store.write():
            pi = shapes.payment_intent(self.ids.new("pi"), self.clock.now(), amount=payment.amount,
                                       currency=payment.currency, customer=payment.customer,
                                       description=payment.description, metadata=dict(payment.metadata or {}),
                                       payment_method=payment.payment_method if method else None,
                                       payment_method_types=types, receipt_email=payment.receipt_email)
            self.store.insert(pi)
            self.events.emit("payment_intent.created", pi)
        if confirm:
            return self.confirm_payment_intent(pi["id"], payment.payment_method if method else None)
        return pi

    def confirm_payment_intent(self, pi_id: str, payment_method: str | None = None) -> dict[str, Any]:
        error: StripeApiError | None = None
        with self.store.write():
            pi = self.require(pi_id, "payment_intent")
            if pi["status"] not in {"requires_payment_method", "requires_confirmation"}:
                raise invalid(f"This PaymentIntent's status is {pi['status']}; it cannot be confirmed.",
                              code="payment_intent_unexpected_state")
            name = payment_method or pi["payment_method"]
            if not name:
                raise invalid("You cannot confirm this PaymentIntent because it's missing a payment method.",
                              param="payment_method", code="payment_intent_unexpected_state")
            method = self.resolve_payment_method(name)
            payment = NewPayment(pi["amount"], pi["currency"], pi["customer"], pi["description"], pi["metadata"],
                                 name, pi["receipt_email"])
            self._check_payment(payment, method)
            pi["payment_method"] = name
            charge, error = self._charge(payment, method, pi)
        if error is not None:
            raise error
        return self.require(pi_id, "payment_intent")

    def create_charge(self, payment: NewPayment) -> dict[str, Any]:
        """The Charges API (POST /v1/charges with a `source` token): a charge without a PaymentIntent."""
        method = self.resolve_payment_method(payment.payment_method, param="source")
        self._check_payment(payment, method)
        with self.store.write():
            charge, error = self._charge(payment, method, None)
        if error is not None:
            raise error
        return charge

    def _charge(self, payment: NewPayment, method: PaymentMethod,
                pi: dict[str, Any] | None) -> tuple[dict[str, Any], StripeApiError | None]:
        now = self.clock.now()
        customer = self.store.get(payment.customer, "customer") if payment.customer else None
        charge = shapes.charge(self.ids.new("py" if method.method == "us_bank_account" else "ch"), now,
                               amount=payment.amount, currency=payment.currency, customer=payment.customer,
                               description=payment.description, metadata=dict(payment.metadata or {}),
                               payment_intent=pi["id"] if pi else None,
                               payment_method=self.ids.new("pm"), method=method.method, brand=method.brand,
                               billing_name=customer["name"] if customer else None,
                               receipt_email=payment.receipt_email)
        if pi is not None:
            pi["latest_charge"] = charge["id"]
        if method.decline_code:
            message = DECLINE_MESSAGES[method.decline_code]
            charge.update(status="failed", failure_code="card_declined", failure_message=message,
                          outcome=shapes.outcome("issuer_declined", reason=method.decline_code,
                                                 message="The bank did not return any further details."))
            self.store.insert(charge)
            self.events.emit("charge.failed", charge)
            pi_body = None
            if pi is not None:
                pi.update(status="requires_payment_method", payment_method=None,
                          last_payment_error={"charge": charge["id"], "code": "card_declined",
                                              "decline_code": method.decline_code, "message": message,
                                              "type": "card_error"})
                self._save(pi)
                self.events.emit("payment_intent.payment_failed", pi)
                pi_body = copy.deepcopy(pi)
            return charge, card_declined(message, method.decline_code, charge_id=charge["id"], payment_intent=pi_body)

        settled = settle(payment.amount, payment.currency, now)
        ach = method.method == "us_bank_account"
        fees = ach_fees(settled) if ach else card_fees(settled, payment.currency)
        available_on = day_start(now) + DAY * ((ACH_SETTLE_DAYS + 1) if ach else CARD_AVAILABLE_DAYS)
        bt = shapes.balance_transaction(self.ids.new("txn"), now, amount=settled.amount, fee_details=fees,
                                        currency=settled.currency, exchange_rate=settled.exchange_rate,
                                        type="payment" if ach else "charge", reporting_category="charge",
                                        source=charge["id"], available_on=available_on,
                                        description=payment.description)
        self.store.insert(bt)
        charge.update(balance_transaction=bt["id"], captured=True, amount_captured=payment.amount,
                      outcome=shapes.outcome("authorized"))
        if ach:
            charge.update(status="pending", paid=False)
            self.store.insert(charge)
            self.store.set_meta(ACH_PLAN_PREFIX + charge["id"], json.dumps(
                {"settle_at": now + ACH_SETTLE_DAYS * DAY, "outcome": method.ach_failure or "succeeded"}))
            self.events.emit("charge.pending", charge)
            if pi is not None:
                pi.update(status="processing", processing={"type": "us_bank_account"})
                self._save(pi)
                self.events.emit("payment_intent.processing", pi)
            return charge, None
        charge.update(status="succeeded", paid=True)
        self.store.insert(charge)
        self.events.emit("charge.succeeded", charge)
        if pi is not None:
            pi.update(status="succeeded", amount_received=payment.amount)
            self._save(pi)
            self.events.emit("payment_intent.succeeded", pi)
        return charge, None

    # ------------------------------------------------------------------ ACH settlement
    def settle_ach(self, charge_id: str, outcome: str, failure_code: str = "insufficient_funds") -> dict[str, Any]:
        """A pending ACH debit succeeds, or fails late (charge.failed + a payment_failure_refund)."""
        if outcome not in {"succeeded", "failed"}:
            raise invalid("outcome must be succeeded or failed", param="outcome")
        with self.store.write() as conn:
            charge = self.require(charge_id, "charge")
            if charge["payment_method_details"]["type"] != "us_bank_account" or charge["status"] != "pending":
                raise invalid(f"Charge {charge_id} is not a pending ACH debit (status {charge['status']}).",
                              param="charge")
            conn.execute("DELETE FROM stripe_meta WHERE key = ?", (ACH_PLAN_PREFIX + charge_id,))
            pi = self.store.get(charge["payment_intent"], "payment_intent") if charge["payment_intent"] else None
            now = self.clock.now()
            if outcome == "succeeded":
                previous = {"status": "pending", "paid": False}
                charge.update(status="succeeded", paid=True)
                self._save(charge)
                self.events.emit("charge.succeeded", charge, previous)
                if pi is not None:
                    pi.update(status="succeeded", amount_received=pi["amount"], processing=None)
                    self._save(pi)
                    self.events.emit("payment_intent.succeeded", pi)
                return charge
            original = self.require(charge["balance_transaction"], "balance_transaction")
            failure = shapes.balance_transaction(
                self.ids.new("txn"), now, amount=-original["amount"], fee_details=[], currency=original["currency"],
                exchange_rate=original["exchange_rate"], type="payment_failure_refund",
                reporting_category="charge_failure", source=charge["id"],
                available_on=max(original["available_on"], day_start(now)),
                description=f"Payment failure refund for {charge['id']}")
            self.store.insert(failure)
            message = ACH_FAILURE_MESSAGES.get(failure_code, "The payment failed.")
            charge.update(status="failed", paid=False, failure_code=failure_code, failure_message=message,
                          failure_balance_transaction=failure["id"])
            self._save(charge)
            self.events.emit("charge.failed", charge, {"status": "pending"})
            if pi is not None:
                pi.update(status="requires_payment_method", processing=None,
                          last_payment_error={"charge": charge["id"], "code": failure_code, "message": message,
                                              "type": "invalid_request_error",
                                              "payment_method": {"type": "us_bank_account"}})
                self._save(pi)
                self.events.emit("payment_intent.payment_failed", pi)
            return charge

    # ------------------------------------------------------------------ refunds
    def create_refund(self, *, charge_id: str | None = None, payment_intent_id: str | None = None,
                      amount: int | None = None, reason: str | None = None,
                      metadata: dict[str, str] | None = None) -> dict[str, Any]:
        if reason is not None and reason not in {"duplicate", "fraudulent", "requested_by_customer"}:
            raise invalid("Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer",
                          param="reason")
        with self.store.write():
            if charge_id is None and payment_intent_id is None:
                raise invalid("One of the following params should be provided for this request: "
                              "payment_intent or charge.", param="charge")
            if charge_id is None:
                pi = self.require(payment_intent_id, "payment_intent", param="payment_intent", status=400)
                if not pi["latest_charge"]:
                    raise invalid(f"PaymentIntent {pi['id']} has no charge to refund.", param="payment_intent")
                charge_id = pi["latest_charge"]
            charge = self.require(charge_id, "charge", param="charge", status=400)
            if charge["disputed"]:
                raise invalid(f"Charge {charge_id} has been charged back; cannot issue a refund.",
                              param="charge", code="charge_disputed")
            if charge["status"] != "succeeded":
                raise invalid(f"Charge {charge_id} cannot be refunded (status {charge['status']}).",
                              param="charge", code="charge_not_refundable")
            remaining = charge["amount"] - charge["amount_refunded"]
            if remaining <= 0:
                raise invalid(f"Charge {charge_id} has already been refunded.", param="charge",
                              code="charge_already_refunded")
            amount = remaining if amount is None else amount
            if amount < 1:
                raise invalid("Refund amount must be positive.", param="amount")
            if amount > remaining:
                raise invalid(f"Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining})",
                              param="amount", code="amount_too_large")
            check_amount(amount, charge["currency"])
            now = self.clock.now()
            method = charge["payment_method_details"]["type"]
            settled = settle(amount, charge["currency"], now)
            refund_id = self.ids.new("re")
            bt = shapes.balance_transaction(self.ids.new("txn"), now, amount=-settled.amount, fee_details=[],
                                            currency=settled.currency, exchange_rate=settled.exchange_rate,
                                            type="refund" if method == "card" else "payment_refund",
                                            reporting_category="refund", source=refund_id,
                                            available_on=day_start(now), description="REFUND FOR CHARGE",
                                            status="available")
            self.store.insert(bt)
            refund = shapes.refund(refund_id, now, amount=amount, currency=charge["currency"], charge=charge_id,
                                   payment_intent=charge["payment_intent"], reason=reason,
                                   metadata=metadata or {}, balance_transaction=bt["id"], method=method,
                                   customer=charge["customer"], payment_method=charge["payment_method"])
            self.store.insert(refund)
            previous = {"amount_refunded": charge["amount_refunded"], "refunded": charge["refunded"]}
            charge["amount_refunded"] += amount
            charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
            self._save(charge)
            charge = self._refresh_charge_refunds(charge_id)
            self.events.emit("refund.created", refund)
            self.events.emit("charge.refunded", charge, previous)
        return refund

    def _refresh_charge_refunds(self, charge_id: str) -> dict[str, Any]:
        """The charge's embedded `refunds` list: its ten newest refunds as they are now."""
        charge = self.require(charge_id, "charge")
        refunds = self.store.select("refund", ["json_extract(body, '$.charge') = ?"], [charge_id], limit=11)
        charge["refunds"] = shapes.list_object(f"/v1/charges/{charge_id}/refunds", refunds[:10], len(refunds) > 10)
        return self._save(charge)

    # ------------------------------------------------------------------ disputes
    def open_dispute(self, charge_id: str, *, amount: int | None = None, reason: str = "fraudulent",
                     inquiry: bool = False) -> dict[str, Any]:
        """A chargeback (funds withdrawn with the dispute fee) or an inquiry (no money moves)."""
        with self.store.write():
            charge = self.require(charge_id, "charge", param="charge", status=400)
            if charge["status"] != "succeeded":
                raise invalid(f"Charge {charge_id} did not succeed; it cannot be disputed.", param="charge")
            if charge["disputed"]:
                raise invalid(f"Charge {charge_id} is already disputed.", param="charge")
            amount = charge["amount"] - charge["amount_refunded"] if amount is None else amount
            if not 1 <= amount <= charge["amount"]:
                raise invalid("Dispute amount must be between 1 and the charge amount.", param="amount")
            now = self.clock.now()
            method = charge["payment_method_details"]["type"]
            dispute = shapes.dispute(self.ids.new("dp"), now, amount=amount, currency=charge["currency"],
                                     charge=charge_id, payment_intent=charge["payment_intent"], reason=reason,
                                     status="warning_needs_response" if inquiry else "needs_response",
                                     method=method,
                                     brand=charge["payment_method_details"].get("card", {}).get("brand", "visa"),
                                     due_by=day_start(now) + 8 * DAY - 1)
            previous = {"disputed": False}
            charge["disputed"] = True
            self._save(charge)
            self.store.insert(dispute)
            self.events.emit("charge.dispute.created", dispute)
            if not inquiry:
                settled = settle(amount, charge["currency"], now)
                bt = shapes.balance_transaction(self.ids.new("txn"), now, amount=-settled.amount,
                                                fee_details=dispute_fees(), currency=settled.currency,
                                                exchange_rate=settled.exchange_rate, type="adjustment",
                                                reporting_category="dispute", source=dispute["id"],
                                                available_on=day_start(now),
                                                description=f"Chargeback withdrawal for {charge_id}",
                                                status="available")
                self.store.insert(bt)
                dispute["balance_transactions"] = [bt]
                self._save(dispute)
                self.events.emit("charge.dispute.funds_withdrawn", dispute)
            self.events.emit("charge.updated", charge, previous)
        return dispute

    def close_dispute(self, dispute_id: str, outcome: str) -> dict[str, Any]:
        """won: funds and the fee reinstated (dispute_reversal); lost: the withdrawal stands."""
        if outcome not in {"won", "lost"}:
            raise invalid("outcome must be won or lost", param="outcome")
        with self.store.write():
            dispute = self.require(dispute_id, "dispute")
            if dispute["status"] in {"won", "lost", "warning_closed"}:
                raise invalid(f"Dispute {dispute_id} is already closed ({dispute['status']}).", param="dispute")
            now = self.clock.now()
            previous = {"status": dispute["status"]}
            inquiry = dispute["status"].startswith("warning")
            dispute["status"] = "warning_closed" if inquiry else outcome
            if outcome == "won" and not inquiry:
                withdrawal = dispute["balance_transactions"][0]
                bt = shapes.balance_transaction(self.ids.new("txn"), now, amount=-withdrawal["amount"],
                                                fee_details=dispute_fees(returned=True),
                                                currency=withdrawal["currency"],
                                                exchange_rate=withdrawal["exchange_rate"], type="adjustment",
                                                reporting_category="dispute_reversal", source=dispute["id"],
                                                available_on=day_start(now),
                                                description=f"Chargeback reversal for {dispute['charge']}",
                                                status="available")
                self.store.insert(bt)
                dispute["balance_transactions"].append(bt)
                self._save(dispute)
                self.events.emit("charge.dispute.funds_reinstated", dispute)
            self._save(dispute)
            self.events.emit("charge.dispute.closed", dispute, previous)
        return dispute

    # ------------------------------------------------------------------ payouts
    def _payable(self, currency: str) -> list[dict[str, Any]]:
        return self.store.select("balance_transaction", [
            "payout IS NULL", "json_extract(body, '$.status') = 'available'",
            "json_extract(body, '$.currency') = ?", "json_extract(body, '$.type') <> 'payout'"], [currency],
            order="created ASC, seq ASC")

    def available_net(self, currency: str = SETTLEMENT_CURRENCY) -> int:
        """What an automatic payout would pay out now (after the due transitions)."""
        with self.store.write():
            self.process_due()
            return sum(bt["net"] for bt in self._payable(currency))

    def create_payout(self, *, currency: str = SETTLEMENT_CURRENCY, paid: bool = False) -> dict[str, Any]:
        """An automatic payout of every available, not yet paid out balance transaction."""
        with self.store.write():
            self.process_due()
            swept = self._payable(currency)
            amount = sum(bt["net"] for bt in swept)
            if amount <= 0:
                raise invalid(f"No available {currency.upper()} balance to pay out (available net {amount}).",
                              code="balance_insufficient")
            now = self.clock.now()
            payout_id = self.ids.new("po")
            bt = shapes.balance_transaction(self.ids.new("txn"), now, amount=-amount, fee_details=[],
                                            currency=currency, exchange_rate=None, type="payout",
                                            reporting_category="payout", source=payout_id,
                                            available_on=day_start(now), description="STRIPE PAYOUT",
                                            status="available")
            self.store.insert(bt, payout=payout_id)
            arrival = day_start(now) if paid else day_start(now) + PAYOUT_ARRIVAL_DAYS * DAY
            payout = shapes.payout(payout_id, now, amount=amount, currency=currency, arrival_date=arrival,
                                   automatic=True, balance_transaction=bt["id"])
            payout["status"] = "in_transit"
            self.store.insert(payout)
            self.store.set_payout([b["id"] for b in swept], payout_id)
            self.events.emit("payout.created", payout)
            if paid:
                self._pay(payout)
        return payout

    def pay_payout(self, payout_id: str) -> dict[str, Any]:
        with self.store.write():
            payout = self.require(payout_id, "payout")
            if payout["status"] == "paid":
                raise invalid(f"Payout {payout_id} is already paid.", param="payout")
            payout["arrival_date"] = min(payout["arrival_date"], day_start(self.clock.now()))
            return self._pay(payout)

    def fail_payout(self, payout_id: str, failure_code: str = "account_closed") -> dict[str, Any]:
        """The bank returns a payout (even one shown paid): its amount comes back to the balance as a
        `payout_failure` balance transaction, paid out again with the next payout."""
        with self.store.write():
            payout = self.require(payout_id, "payout")
            if payout["status"] not in {"in_transit", "paid"}:
                raise invalid(f"Payout {payout_id} cannot fail (status {payout['status']}).", param="payout")
            now = self.clock.now()
            bt = shapes.balance_transaction(self.ids.new("txn"), now, amount=payout["amount"], fee_details=[],
                                            currency=payout["currency"], exchange_rate=None, type="payout_failure",
                                            reporting_category="payout_reversal", source=payout_id,
                                            available_on=day_start(now), description="STRIPE PAYOUT FAILURE",
                                            status="available")
            self.store.insert(bt)
            previous = {"status": payout["status"]}
            payout.update(status="failed", failure_balance_transaction=bt["id"], failure_code=failure_code,
                          failure_message=PAYOUT_FAILURE_MESSAGES.get(failure_code, "The payout failed."))
            self._save(payout)
            self.events.emit("payout.failed", payout, previous)
        return payout

    def _pay(self, payout: dict[str, Any]) -> dict[str, Any]:
        previous = {"status": payout["status"], "reconciliation_status": payout["reconciliation_status"]}
        payout.update(status="paid", reconciliation_status="completed",
                      trace_id={"status": "supported", "value": "SBX" + payout["id"][3:18].upper()})
        self._save(payout)
        self.events.emit("payout.paid", payout, {"status": previous["status"]})
        self.events.emit("payout.reconciliation_completed", payout,
                         {"reconciliation_status": previous["reconciliation_status"]})
        return payout

    # ------------------------------------------------------------------ time
    def process_due(self) -> int:
        """Run the transitions whose time has come; returns how many objects changed."""
        now = self.clock.now()
        if now == self._last_due_check:
            return 0  # every request calls this; once per clock second is enough
        changed = 0
        with self.store.write() as conn:
            plans = conn.execute("SELECT key, value FROM stripe_meta WHERE key LIKE ?",
                                 (ACH_PLAN_PREFIX + "%",)).fetchall()
            for key, value in plans:
                plan = json.loads(value)
                if plan["settle_at"] <= now:
                    with self.clock.pinned(plan["settle_at"]):
                        self.settle_ach(key[len(ACH_PLAN_PREFIX):],
                                        "succeeded" if plan["outcome"] == "succeeded" else "failed",
                                        plan["outcome"])
                    changed += 1
            for bt in self.store.select("balance_transaction", [
                    "json_extract(body, '$.status') = 'pending'", "json_extract(body, '$.available_on') <= ?"],
                    [now]):
                source = self.store.get(bt["source"], "charge") if bt["source"].startswith(("ch_", "py_")) else None
                if source is not None and source["status"] == "pending":
                    continue  # an ACH debit still in flight stays pending
                bt["status"] = "available"
                self._save(bt)
                changed += 1
            for payout in self.store.select("payout", [
                    "json_extract(body, '$.status') IN ('pending', 'in_transit')",
                    "json_extract(body, '$.arrival_date') <= ?", "json_extract(body, '$.automatic') = 1"], [now]):
                with self.clock.pinned(max(payout["arrival_date"], payout["created"])):
                    self._pay(payout)
                changed += 1
        self._last_due_check = now
        return changed

    def balance(self) -> dict[str, Any]:
        rows = self.store.connect().execute(
            "SELECT json_extract(body, '$.currency') AS currency, json_extract(body, '$.status') AS status, "
            "sum(json_extract(body, '$.net')) AS net FROM stripe_object WHERE object = 'balance_transaction' "
            "GROUP BY 1, 2").fetchall()
        totals: dict[str, dict[str, int]] = {}
        for row in rows:
            totals.setdefault(row["currency"], {"available": 0, "pending": 0})[row["status"]] += int(row["net"])
        currencies = sorted(totals) or [SETTLEMENT_CURRENCY]
        return {"object": "balance", "livemode": False,
                "available": [{"amount": totals.get(c, {}).get("available", 0), "currency": c,
                               "source_types": {"card": totals.get(c, {}).get("available", 0)}} for c in currencies],
                "pending": [{"amount": totals.get(c, {}).get("pending", 0), "currency": c,
                             "source_types": {"card": totals.get(c, {}).get("pending", 0)}} for c in currencies],
                "connect_reserved": [{"amount": 0, "currency": c} for c in currencies]}
