"""The writeback's Stripe side against both sandboxes (NetSuite and Stripe) over loopback, with the
real `stripe` SDK: NetSuite ids written onto charges, and the credit-memo refund (Stripe refund +
NetSuite Customer Refund, each side's id on the other), run twice without a second refund."""
from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import stripe
from sqlalchemy import Engine

from ns_pipelines.sandbox.netsuite.server import SandboxServer
from ns_pipelines.sandbox.stripe.server import StripeSandboxServer
from ns_pipelines.writeback.credit_memo_refund import CreditMemoRefundError, refund_credit_memo
from ns_pipelines.writeback.stripe_links import StripeLinker
from ns_pipelines_tests.test_writeback_scenarios import (
    USD_CUSTOMER,
    by_external_id,
    duplicate_external_ids,
    engine,  # noqa: F401 - fixture
    log_rows,
    make_client,
    make_invoice,
    payment,
    plan_and_apply,
    truth,
    unpaid,
)

D = Decimal


@pytest.fixture
def sandboxes(tmp_path: Path) -> Iterator[tuple[SandboxServer, StripeSandboxServer]]:
    with SandboxServer(tmp_path / "ns", scale="tiny", seed=42) as ns, \
            StripeSandboxServer(tmp_path / "stripe", netsuite=ns, seed=42) as st:
        yield ns, st


def _stripe(st: StripeSandboxServer) -> stripe.StripeClient:
    return stripe.StripeClient(st.api_key, base_addresses={"api": st.base_url}, max_network_retries=2)


def _charge(client: stripe.StripeClient, amount_minor: int) -> str:
    return client.v1.charges.create(params={"amount": amount_minor, "currency": "usd", "source": "tok_visa"}).id


def test_payment_id_written_onto_the_charge(sandboxes: tuple[SandboxServer, StripeSandboxServer],
                                            engine: Engine) -> None:
    ns, st = sandboxes
    sc = _stripe(st)
    charge = _charge(sc, 4500)
    inv = make_invoice(ns, USD_CUSTOMER, "45.00")
    with make_client(ns) as client:
        report = plan_and_apply(ns, client, engine, [payment(charge, USD_CUSTOMER, "45.00", [(inv, "45.00")])],
                                linker=StripeLinker(sc))
    [pay] = by_external_id(ns, f"stripe:{charge}")
    assert report.stripe_linked == 1 and report.stripe_failed == 0
    assert sc.v1.charges.retrieve(charge).metadata["netsuite_customer_payment_id"] == str(pay["id"])
    stripe_log = [r for r in log_rows(engine) if r.action == "stripe_metadata"]
    assert [(r.status, r.stripe_object_id, r.netsuite_id) for r in stripe_log] == [("written", charge, pay["id"])]


def test_credit_memo_refund_both_sides_and_rerun(sandboxes: tuple[SandboxServer, StripeSandboxServer],
                                                 engine: Engine) -> None:
    ns, st = sandboxes
    sc = _stripe(st)
    charge = _charge(sc, 7000)
    invoice = make_invoice(ns, USD_CUSTOMER, "100.00")
    with make_client(ns) as client:
        plan_and_apply(ns, client, engine, [payment(charge, USD_CUSTOMER, "70.00", [(invoice, "70.00")])])
        # a credit note of 50.00: 30.00 settles the rest of the invoice, 20.00 is credit to pay back
        memo = ns.account.records.create("creditmemo", {
            "entity": {"id": str(USD_CUSTOMER)}, "item": {"items": [{"amount": "50.00"}]},
            "apply": {"items": [{"doc": {"id": str(invoice)}, "apply": True, "amount": "30.00"}]}}, context="UI")
        assert unpaid(ns, invoice) == 0

        first = refund_credit_memo(client, engine, sc, memo, run_id="t1")
        second = refund_credit_memo(client, engine, sc, memo, run_id="t2")
        assert duplicate_external_ids(client) == []

    assert (first.invoice_id, first.charge_id, first.amount, first.reused_stripe_refund) == (
        invoice, charge, D("20.00"), False)
    assert (second.stripe_refund_id, second.netsuite_refund_id, second.reused_stripe_refund) == (
        first.stripe_refund_id, first.netsuite_refund_id, True)
    refunds = list(sc.v1.refunds.list(params={"charge": charge}).auto_paging_iter())
    ours = [r for r in refunds if r.metadata.to_dict().get("netsuite_credit_memo_id") == str(memo)]
    assert len(ours) == 1 and ours[0].amount == 2000
    assert ours[0].metadata["netsuite_customer_refund_id"] == str(first.netsuite_refund_id)
    [ns_refund] = by_external_id(ns, f"stripe:{first.stripe_refund_id}")
    assert ns_refund["type"] == "CustRfnd" and ns_refund["id"] == first.netsuite_refund_id
    link = truth(ns, "SELECT previousdoc, foreignamount FROM nexttransactionlinelink WHERE nextdoc = ?", ns_refund["id"])
    assert [(r[0], D(str(r[1]))) for r in link] == [(memo, D("20.00"))]
    cm = truth(ns, 'SELECT foreignpaymentamountunused, status FROM "transaction" WHERE id = ?', memo)[0]
    assert D(str(cm[0])) == 0 and cm[1] == "B"  # fully applied: nothing left to refund twice
    assert {r.action for r in log_rows(engine) if r.run_id == "t1"} == {"stripe_refund", "credit_memo_refund",
                                                                        "stripe_metadata"}


def test_credit_memo_without_a_stripe_paid_invoice_is_refused(sandboxes: tuple[SandboxServer, StripeSandboxServer],
                                                              engine: Engine) -> None:
    ns, st = sandboxes
    invoice = make_invoice(ns, USD_CUSTOMER, "100.00")
    memo = ns.account.records.create("creditmemo", {
        "entity": {"id": str(USD_CUSTOMER)}, "item": {"items": [{"amount": "10.00"}]},
        "apply": {"items": [{"doc": {"id": str(invoice)}, "apply": True, "amount": "5.00"}]}}, context="UI")
    with make_client(ns) as client, pytest.raises(CreditMemoRefundError, match="paid by 0 Stripe charges"):
        refund_credit_memo(client, engine, _stripe(st), memo)
