"""Refunding a NetSuite credit memo through Stripe (behaviour.md section 5, "refunds through credit
notes").

The credit memo's invoice (the one it is applied to, or the one given) was paid by a Stripe charge
(a customer payment of ours, external id stripe:<charge>[:<customer>], applied to it). The job
creates the Stripe refund on that charge for the credit memo's unapplied amount (idempotency key
from the credit memo id, metadata.netsuite_credit_memo_id), then a NetSuite Customer Refund
applied to the credit memo (external id stripe:<refund id>), and writes the Customer Refund's id
onto the Stripe refund (metadata.netsuite_customer_refund_id). A rerun finds the Stripe refund by
its metadata and upserts the same Customer Refund: nothing is refunded twice.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import stripe
from sqlalchemy import Engine

from ns_pipelines.money import to_major, to_minor
from ns_pipelines.netsuite import NetSuiteClient, RecordService

from .exact_json import dumps
from .model import REFUND_RECORD
from .plan_store import FAILED, WRITTEN, Attempt, record_attempt
from .planner import REFUND_ID_KEY
from .stripe_links import StripeLinker

CREDIT_MEMO_KEY = "netsuite_credit_memo_id"


class CreditMemoRefundError(ValueError):
    """The credit memo cannot be refunded through Stripe; the message says why."""


@dataclass(frozen=True)
class CreditMemoRefund:
    credit_memo_id: int
    invoice_id: int
    charge_id: str
    stripe_refund_id: str
    netsuite_refund_id: int
    amount: Decimal
    currency: str
    reused_stripe_refund: bool


def refund_idempotency_key(credit_memo_id: int) -> str:
    return f"ns-pipelines:credit-memo-refund:{credit_memo_id}"


def _one(rows: list[dict[str, Any]], what: str) -> dict[str, Any]:
    if len(rows) != 1:
        raise CreditMemoRefundError(f"{what}: found {len(rows)}")
    return rows[0]


def credit_memo(client: NetSuiteClient, credit_memo_id: int) -> dict[str, Any]:
    return _one(client.suiteql.query_all(
        "SELECT t.id, t.entity, t.currency, c.symbol, t.foreigntotal, t.foreignpaymentamountunused, t.voided "
        f"FROM transaction t JOIN currency c ON c.id = t.currency WHERE t.id = {int(credit_memo_id)} "
        "AND t.type = 'CustCred'"), f"credit memo {credit_memo_id}")


def invoice_of(client: NetSuiteClient, credit_memo_id: int, invoice_id: int | None) -> int:
    if invoice_id is not None:
        return int(invoice_id)
    rows = client.suiteql.query_all(
        "SELECT DISTINCT l.previousdoc FROM nexttransactionlinelink l "
        f"WHERE l.nextdoc = {int(credit_memo_id)} AND l.linktype = 'Payment' AND l.previoustype = 'CustInvc'")
    if len(rows) != 1:
        raise CreditMemoRefundError(
            f"credit memo {credit_memo_id} is applied to {len(rows)} invoices: name the invoice (invoice_id)")
    return int(rows[0]["previousdoc"])


def charge_of(client: NetSuiteClient, invoice_id: int) -> str:
    rows = client.suiteql.query_all(
        "SELECT DISTINCT t.externalid FROM nexttransactionlinelink l JOIN transaction t ON t.id = l.nextdoc "
        f"WHERE l.previousdoc = {int(invoice_id)} AND t.type = 'CustPymt' AND t.externalid LIKE 'stripe:%'")
    charges = sorted({str(r["externalid"]).split(":")[1] for r in rows})
    if len(charges) != 1:
        raise CreditMemoRefundError(f"invoice {invoice_id} was paid by {len(charges)} Stripe charges "
                                    f"({', '.join(charges) or 'none'}): refund it by hand")
    return charges[0]


def existing_refund(stripe_client: stripe.StripeClient, charge_id: str, credit_memo_id: int) -> Any | None:
    """The Stripe refund an earlier run made for this credit memo (found by its metadata)."""
    for refund in stripe_client.v1.refunds.list(params={"charge": charge_id, "limit": 100}).auto_paging_iter():
        if refund.metadata is not None and refund.metadata.to_dict().get(CREDIT_MEMO_KEY) == str(credit_memo_id):
            return refund
    return None


def refund_credit_memo(client: NetSuiteClient, engine: Engine, stripe_client: stripe.StripeClient,
                       credit_memo_id: int, *, invoice_id: int | None = None,
                       run_id: str | None = None) -> CreditMemoRefund:
    memo = credit_memo(client, credit_memo_id)
    if memo.get("voided") == "T":
        raise CreditMemoRefundError(f"credit memo {credit_memo_id} is voided")
    currency = str(memo["symbol"]).upper()
    invoice = invoice_of(client, credit_memo_id, invoice_id)
    charge = charge_of(client, invoice)
    refund = existing_refund(stripe_client, charge, credit_memo_id)
    reused = refund is not None
    if refund is None:
        amount = Decimal(str(memo.get("foreignpaymentamountunused") or 0))
        if amount <= 0:
            raise CreditMemoRefundError(f"credit memo {credit_memo_id} has no unapplied credit left to refund")
        params = {"charge": charge, "amount": to_minor(amount, currency),
                  "metadata": {CREDIT_MEMO_KEY: str(credit_memo_id)}}
        try:
            refund = stripe_client.v1.refunds.create(
                params=params, options={"idempotency_key": refund_idempotency_key(credit_memo_id)})
        except stripe.StripeError as exc:
            _log(engine, f"stripe:credit_memo:{credit_memo_id}", "stripe_refund", "stripe:refund", params, FAILED,
                 str(exc), None, charge, run_id)
            raise
        _log(engine, f"stripe:{refund.id}", "stripe_refund", "stripe:refund", params, WRITTEN,
             f"refund {refund.id} status {refund.status}", None, refund.id, run_id)
    amount = to_major(int(refund.amount), currency)
    body = {"externalId": f"stripe:{refund.id}", "customer": {"id": str(memo["entity"])},
            "currency": {"id": str(memo["currency"])}, "undepFunds": True,
            "memo": f"Stripe refund {refund.id} of credit memo {credit_memo_id}",
            "apply": {"items": [{"doc": {"id": str(credit_memo_id)}, "apply": True, "amount": amount}]}}
    netsuite_id = RecordService(client).upsert(REFUND_RECORD, f"stripe:{refund.id}", body)
    _log(engine, f"stripe:{refund.id}", "credit_memo_refund", REFUND_RECORD, body, WRITTEN,
         f"{REFUND_RECORD} {netsuite_id}", netsuite_id, refund.id, run_id)
    StripeLinker(stripe_client).link(refund.id, REFUND_ID_KEY, netsuite_id)
    _log(engine, f"stripe:{refund.id}", "stripe_metadata", "stripe:refund",
         {"metadata": {REFUND_ID_KEY: str(netsuite_id)}}, WRITTEN, f"metadata.{REFUND_ID_KEY} = {netsuite_id}",
         netsuite_id, refund.id, run_id)
    return CreditMemoRefund(credit_memo_id, invoice, charge, refund.id, netsuite_id, amount, currency, reused)


def _log(engine: Engine, external_id: str, action: str, record_type: str, request: dict[str, Any], status: str,
         response: str, netsuite_id: int | None, stripe_id: str | None, run_id: str | None) -> None:
    record_attempt(engine, Attempt(external_id, action, record_type, "credit memo refund requested", dumps(request),
                                   status, response, netsuite_id, stripe_id), run_id=run_id, plan_status=None)
