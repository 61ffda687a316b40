"""The test payment methods and tokens the sandbox understands, and what a new payment needs."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PaymentMethod:
    method: str  # "card" or "us_bank_account"
    brand: str = "visa"
    decline_code: str | None = None  # cards: declined at once
    ach_failure: str | None = None  # ACH: fails at settlement with this failure code


# Stripe's test payment methods and tokens the sandbox understands.
PAYMENT_METHODS: dict[str, PaymentMethod] = {
    "pm_card_visa": PaymentMethod("card", "visa"), "pm_card_mastercard": PaymentMethod("card", "mastercard"),
    "pm_card_amex": PaymentMethod("card", "amex"),
    "pm_card_chargeDeclined": PaymentMethod("card", "visa", "generic_decline"),
    "pm_card_chargeDeclinedInsufficientFunds": PaymentMethod("card", "visa", "insufficient_funds"),
    "pm_usBankAccount": PaymentMethod("us_bank_account"),
    "pm_usBankAccount_accountClosed": PaymentMethod("us_bank_account", ach_failure="account_closed"),
    "pm_usBankAccount_insufficientFunds": PaymentMethod("us_bank_account", ach_failure="insufficient_funds"),
}
TOKENS: dict[str, PaymentMethod] = {
    "tok_visa": PAYMENT_METHODS["pm_card_visa"], "tok_mastercard": PAYMENT_METHODS["pm_card_mastercard"],
    "tok_amex": PAYMENT_METHODS["pm_card_amex"], "tok_chargeDeclined": PAYMENT_METHODS["pm_card_chargeDeclined"],
    "tok_chargeDeclinedInsufficientFunds": PAYMENT_METHODS["pm_card_chargeDeclinedInsufficientFunds"],
}
DECLINE_MESSAGES = {"generic_decline": "Your card was declined.",
                    "insufficient_funds": "Your card has insufficient funds."}
ACH_FAILURE_MESSAGES = {"account_closed": "The customer's bank account has been closed.",
                        "insufficient_funds": "The customer's account has insufficient funds to cover this payment.",
                        "debit_not_authorized": "The customer notified their bank that this payment was unauthorized."}


@dataclass
class NewPayment:
    """What a payment needs; `payment_method` names a PAYMENT_METHODS entry."""

    amount: int
    currency: str
    customer: str | None = None
    description: str | None = None
    metadata: dict[str, str] | None = None
    payment_method: str = "pm_card_visa"
    receipt_email: str | None = None
