"""Reconciliation exceptions: what a person must look at, with what to do about it."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]

# code -> (severity, what a person should do)
RESOLUTIONS: dict[str, tuple[Severity, str]] = {
    "customer_unresolved": ("error", "Set metadata.netsuite_customer_id on the Stripe customer (or the charge), "
                            "or the cus_ id as the NetSuite customer's external id; the next run picks it up."),
    "customer_not_found": ("error", "Correct metadata.netsuite_customer_id in Stripe to an existing NetSuite "
                           "customer (or restore the customer), then rerun."),
    "customer_intercompany": ("error", "Intercompany customers are not reconciled: record this payment in "
                              "NetSuite by hand, or correct the customer link in Stripe."),
    "invoice_not_found": ("error", "Correct the invoice id or number in the charge's metadata (or sync the "
                          "invoice), then rerun; or apply the payment by hand in NetSuite."),
    "invoice_not_target": ("error", "The invoice cannot take a payment: correct the charge's metadata to the "
                           "right invoice, or record the payment by hand in NetSuite."),
    "invoice_number_ambiguous": ("error", "Put the invoice internal id in metadata.netsuite_invoice_id instead "
                                 "of the number, then rerun."),
    "currency_mismatch": ("error", "Apply the payment by hand in NetSuite (a payment and its invoices must "
                          "share a currency), or correct the invoice in the charge's metadata."),
    "invalid_charge": ("error", "Correct the named field on the Stripe charge (or the sync), then rerun."),
    "overpayment": ("warning", "The excess stays unapplied on the payment as a customer credit: apply it to a "
                    "later invoice or refund it."),
    "charge_pending_held": ("info", "Nothing to do: the payment is created when the charge succeeds "
                            "(or set NS_RECON_PENDING_CHARGES=apply)."),
    "refund_without_payment": ("error", "Record the refund in NetSuite by hand (the charge has no payment "
                               "there), or resolve the charge's own exception first."),
    "dispute_without_payment": ("error", "Record the chargeback in NetSuite by hand (the charge has no payment "
                                "there), or resolve the charge's own exception first."),
    "payout_items_invalid": ("error", "Fix each listed item (create or correct the NetSuite record), then rerun; "
                             "the deposit is created once every item validates."),
    "payout_sum_mismatch": ("error", "Sync the payout's balance transactions again; if the sum still differs, "
                            "record the deposit by hand."),
    "payout_pre_start": ("error", "The payout carries charges from before NS_RECON_START_DATE: record this "
                         "deposit by hand in NetSuite."),
    "payout_foreign_currency": ("error", "Record this deposit by hand in NetSuite (the foreign-currency "
                                "payments need a bank account in their own currency or a transfer at the "
                                "payout's exchange rate); the other payments stay undeposited until then."),
    "payout_account_missing": ("error", "Set NS_RECON_FEE_ACCOUNT_ID and/or NS_RECON_ADJUSTMENT_ACCOUNT_ID to "
                               "NetSuite account internal ids, then rerun."),
    "invalid_payout": ("error", "Correct the payout's currency in the Stripe sync (or record the deposit by "
                       "hand), then rerun."),
    "payout_not_automatic": ("info", "Manual payouts cannot be itemised: record the deposit by hand."),
    "credit_memo_on_stripe_paid_invoice": ("info", "Nothing is changed automatically: if the customer is owed "
                                           "money, refund the credit memo (credit-memo refund job) or apply "
                                           "it to another invoice."),
}


@dataclass(frozen=True)
class ReconException:
    code: str
    object_type: str
    object_id: str | None
    reason: str
    charge_id: str | None = None
    payout_id: str | None = None
    netsuite_customer_id: int | None = None
    netsuite_record_ids: tuple[int, ...] = ()
    currency: str | None = None
    amount: Decimal | None = None
    details: dict[str, Any] = field(default_factory=dict)
    key_suffix: str | None = None

    def __post_init__(self) -> None:
        if self.code not in RESOLUTIONS:
            raise ValueError(f"unknown exception code {self.code!r}")

    @property
    def exception_id(self) -> str:
        parts = [self.code, self.object_id or "-"]
        if self.key_suffix:
            parts.append(self.key_suffix)
        return ":".join(parts)

    @property
    def severity(self) -> Severity:
        return RESOLUTIONS[self.code][0]

    @property
    def resolution(self) -> str:
        return RESOLUTIONS[self.code][1]
