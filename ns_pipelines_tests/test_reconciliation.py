"""Reconciliation rules, one test each, on hand-built warehouse rows (SQLite and PostgreSQL)."""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from ns_pipelines.reconciliation import InvalidInputError, ReconSettings, ReconSettingsError, reconcile
from ns_pipelines.warehouse.tables import netsuite as ns
from ns_pipelines.warehouse.tables import reconciliation as recon
from ns_pipelines.warehouse.tables import stripe as st
from ns_pipelines_tests.test_reconciliation_rows import (
    T0,
    application,
    balance_transaction,
    charge,
    clear,
    credit_memo,
    customer,
    dispute,
    insert,
    invoice,
    netsuite_deposit,
    netsuite_payment,
    netsuite_refund,
    payout,
    refund,
    rows,
    stripe_customer,
)

D = Decimal
SETTINGS = ReconSettings(timezone="UTC", fee_account_id=601, adjustment_account_id=602)


@pytest.fixture
def engine(warehouse_engine: sa.Engine) -> Iterator[sa.Engine]:
    clear(warehouse_engine)
    yield warehouse_engine


def run(engine: sa.Engine, settings: ReconSettings = SETTINGS) -> dict[str, Any]:
    reconcile(engine, settings)
    return {
        "payments": rows(engine, recon.payment_matches),
        "payouts": rows(engine, recon.payout_matches),
        "exceptions": rows(engine, recon.exceptions),
    }


def apps(*pairs: tuple[int, str]) -> list[dict[str, Any]]:
    return [{"invoice_id": i, "amount": a} for i, a in pairs]


def only(found: list[dict[str, Any]], **where: Any) -> dict[str, Any]:
    matching = [r for r in found if all(r[k] == v for k, v in where.items())]
    assert len(matching) == 1, (where, found)
    return matching[0]


def codes(result: dict[str, Any]) -> list[str]:
    return [e["code"] for e in result["exceptions"]]


# --- customer resolution ----------------------------------------------------------------------


def test_customer_from_charge_metadata_wins_over_stripe_customer(engine: sa.Engine) -> None:
    insert(engine, ns.customers, customer(1), customer(2))
    insert(engine, ns.invoices, invoice(10, 1, "100.00"), invoice(20, 2, "100.00"))
    insert(engine, st.customers, stripe_customer("cus_A", 2))
    insert(engine, st.charges, charge("ch_1", 5000, customer="cus_A", netsuite_customer_id=1))
    payment = only(run(engine)["payments"])
    assert (payment["netsuite_customer_id"], payment["external_id"], payment["state"]) == (1, "stripe:ch_1", "planned")
    assert payment["applications"] == apps((10, "50.00"))


def test_customer_from_stripe_customer_metadata(engine: sa.Engine) -> None:
    insert(engine, ns.customers, customer(2))
    insert(engine, ns.invoices, invoice(20, 2, "100.00"))
    insert(engine, st.customers, stripe_customer("cus_A", 2))
    insert(engine, st.charges, charge("ch_1", 5000, customer="cus_A"))
    assert only(run(engine)["payments"])["netsuite_customer_id"] == 2


def test_customer_by_external_id_equal_to_cus_id(engine: sa.Engine) -> None:
    insert(engine, ns.customers, customer(3, external_id="cus_B"))
    insert(engine, ns.invoices, invoice(30, 3, "100.00"))
    insert(engine, st.customers, stripe_customer("cus_B"))
    insert(engine, st.charges, charge("ch_1", 5000, customer="cus_B"))
    assert only(run(engine)["payments"])["netsuite_customer_id"] == 3


def test_unresolved_customer_is_an_exception_not_a_guess(engine: sa.Engine) -> None:
    insert(engine, ns.customers, customer(1))
    insert(engine, ns.invoices, invoice(10, 1, "50.00"))
    insert(engine, st.customers, stripe_customer("cus_X"))
    insert(engine, st.charges, charge("ch_1", 5000, customer="cus_X"))
    result = run(engine)
    assert result["payments"] == []
    problem = only(result["exceptions"])
    assert (problem["code"], problem["severity"], problem["charge_id"]) == ("customer_unresolved", "error", "ch_1")
    assert "cus_X" in problem["reason"] and problem["resolution"]


@pytest.mark.parametrize(("row", "code"), [
    (None, "customer_not_found"),
    (customer(4, is_deleted=True), "customer_not_found"),
    (customer(4, is_intercompany=True), "customer_intercompany"),
])
def test_customer_must_exist_and_not_be_intercompany(engine: sa.Engine, row: dict | None, code: str) -> None:
    if row:
        insert(engine, ns.customers, row)
    insert(engine, st.charges, charge("ch_1", 5000, netsuite_customer_id=4))
    result = run(engine)
    assert result["payments"] == [] and codes(result) == [code]
    assert result["exceptions"][0]["netsuite_customer_id"] == 4


# --- invoice resolution ----------------------------------------------------------------------


def test_explicit_invoice_ids_in_the_order_given(engine: sa.Engine) -> None:
    insert(engine, ns.customers, customer(1))
    insert(engine, ns.invoices, invoice(10, 1, "40.00"), invoice(11, 1, "80.00"), invoice(12, 1, "500.00"))
    insert(engine, st.charges, charge("ch_1", 10000, netsuite_customer_id=1, netsuite_invoice_ids="11,10"))
    payment = only(run(engine)["payments"])
    assert payment["invoice_rule"] == "explicit_ids"
    assert payment["applications"] == apps((11, "80.00"), (10, "20.00"))
    assert payment["amount"] == D("100.00") and payment["unapplied_amount"] == 0 and not payment["is_overpayment"]


def test_invoice_number_from_metadata_then_description(engine: sa.Engine) -> None:
    insert(engine, ns.customers, customer(1))
    insert(engine, ns.invoices, invoice(10, 1, "30.00"), invoice(11, 1, "30.00"), invoice(12, 1, "30.00"))
    insert(engine, st.charges,
           charge("ch_1", 3000, netsuite_customer_id=1, netsuite_invoice_number="INV00012"),
           charge("ch_2", 3000, netsuite_customer_id=1, description="Payment for invoice INV00011, thanks",
                  created=T0 + dt.timedelta(seconds=1)))
    found = run(engine)["payments"]
    assert only(found, charge_id="ch_1")["applications"] == apps((12, "30.00"))
    assert only(found, charge_id="ch_2")["applications"] == apps((11, "30.00"))
    assert {p["invoice_rule"] for p in found} == {"invoice_number"}


def test_unknown_invoice_number_and_ids_are_exceptions(engine: sa.Engine) -> None:
    insert(engine, ns.customers, customer(1))
    insert(engine, ns.invoices, invoice(10, 1, "30.00"))
    insert(engine, st.charges,
           charge("ch_1", 3000, netsuite_customer_id=1, netsuite_invoice_number="INV99999"),
           charge("ch_2", 3000, netsuite_customer_id=1, netsuite_invoice_ids="777"),
           charge("ch_3", 3000, netsuite_customer_id=1, netsuite_invoice_ids="10,abc"))
    result = run(engine)
    assert result["payments"] == []
    assert {(e["charge_id"], e["code"]) for e in result["exceptions"]} == {
        ("ch_1", "invoice_not_found"), ("ch_2", "invoice_not_found"), ("ch_3", "invalid_charge")}
    assert "'abc'" in only(result["exceptions"], charge_id="ch_3")["reason"]


def test_oldest_first_same_currency_skipping_non_targets(engine: sa.Engine) -> None:
    insert(engine, ns.customers, customer(1))
    insert(engine, ns.invoices,
           invoice(10, 1, "100.00", due=dt.date(2026, 3, 5)),
           invoice(11, 1, "100.00", due=dt.date(2026, 1, 5)),                      # oldest
           invoice(12, 1, "100.00", due=dt.date(2026, 2, 5), tran_date=dt.date(2026, 1, 2)),
           invoice(13, 1, "100.00", due=dt.date(2026, 2, 5), tran_date=dt.date(2026, 1, 1)),  # same due, older
           invoice(14, 1, "100.00", due=dt.date(2025, 1, 1), currency="EUR"),
           invoice(15, 1, "100.00", due=dt.date(2025, 1, 1), is_intercompany=True),
           invoice(16, 1, "100.00", due=dt.date(2025, 1, 1), is_deleted=True, status="CLOSED"),
           invoice(17, 1, "100.00", due=dt.date(2025, 1, 1), is_voided=True, status="V"),
           invoice(18, 1, "0.00", due=dt.date(2025, 1, 1), status="B"))
    insert(engine, st.charges, charge("ch_1", 25000, netsuite_customer_id=1))
    payment = only(run(engine)["payments"])
    assert payment["invoice_rule"] == "oldest_first"
    assert payment["applications"] == apps((11, "100.00"), (13, "100.00"), (12, "50.00"))


def test_named_invoice_that_cannot_take_a_payment(engine: sa.Engine) -> None:
    insert(engine, ns.customers, customer(1), customer(9, representing_subsidiary_id=3))
    insert(engine, ns.invoices, invoice(16, 1, "100.00", is_deleted=True, status="CLOSED"),
           invoice(17, 1, "100.00", is_voided=True, status="V"), invoice(19, 9, "100.00"))
    insert(engine, st.charges, charge("ch_1", 100, netsuite_invoice_ids="16"),
           charge("ch_2", 100, netsuite_invoice_ids="17"), charge("ch_3", 100, netsuite_invoice_ids="19"))
    result = run(engine)
    assert result["payments"] == []
    reasons = {e["charge_id"]: e["reason"] for e in result["exceptions"] if e["code"] == "invoice_not_target"}
    assert "deleted" in reasons["ch_1"] and "voided" in reasons["ch_2"] and "intercompany" in reasons["ch_3"]


def test_currency_mismatch_gives_no_application(engine: sa.Engine) -> None:
    insert(engine, ns.customers, customer(1))
    insert(engine, ns.invoices, invoice(10, 1, "100.00", currency="EUR"))
    insert(engine, st.charges, charge("ch_1", 10000, netsuite_customer_id=1, netsuite_invoice_ids="10"))
    result = run(engine)
    assert result["payments"] == []
    problem = only(result["exceptions"])
    assert problem["code"] == "currency_mismatch" and problem["netsuite_record_ids"] == [10]


# --- amounts -------------------------------------------------------------------------------


def test_overpayment_leaves_the_rest_unapplied_and_is_flagged(engine: sa.Engine) -> None:
    insert(engine, ns.customers, customer(1))
    insert(engine, ns.invoices, invoice(10, 1, "60.00"))
    insert(engine, st.charges, charge("ch_1", 10000, netsuite_customer_id=1, netsuite_invoice_ids="10"))
    result = run(engine)
    payment = only(result["payments"])
    assert payment["amount"] == D("100.00") and payment["applied_amount"] == D("60.00")
    assert payment["unapplied_amount"] == D("40.00") and payment["is_overpayment"]
    problem = only(result["exceptions"])
    assert (problem["code"], problem["severity"], problem["amount"]) == ("overpayment", "warning", D("40.00"))


@pytest.mark.parametrize(("currency", "minor", "major"), [
    ("jpy", 1000, "1000"), ("kwd", 12345, "12.345"), ("usd", 12345, "123.45")])
def test_gross_amount_in_presentment_currency(engine: sa.Engine, currency: str, minor: int, major: str) -> None:
    insert(engine, ns.customers, customer(1, currency=currency.upper()))
    insert(engine, ns.invoices, invoice(10, 1, "99999.000", currency=currency.upper()))
    insert(engine, st.charges, charge("ch_1", minor, currency=currency, netsuite_customer_id=1))
    payment = only(run(engine)["payments"])
    assert payment["amount"] == D(major) and payment["currency"] == currency.upper()
    assert payment["applications"] == apps((10, str(D(major))))


def test_charges_share_open_amounts_in_date_order(engine: sa.Engine) -> None:
    insert(engine, ns.customers, customer(1))
    insert(engine, ns.invoices, invoice(10, 1, "70.00", due=dt.date(2026, 1, 1)), invoice(11, 1, "70.00"))
    insert(engine, st.charges, charge("ch_b", 5000, netsuite_customer_id=1, created=T0 + dt.timedelta(hours=1)),
           charge("ch_a", 5000, netsuite_customer_id=1))
    found = run(engine)["payments"]
    assert only(found, charge_id="ch_a")["applications"] == apps((10, "50.00"))
    assert only(found, charge_id="ch_b")["applications"] == apps((10, "20.00"), (11, "30.00"))


def test_split_across_customers_one_payment_each(engine: sa.Engine) -> None:
    insert(engine, ns.customers, customer(1), customer(2))
    insert(engine, ns.invoices, invoice(10, 1, "30.00"), invoice(20, 2, "50.00"))
    insert(engine, st.charges, charge("ch_1", 10000, netsuite_customer_id=2, netsuite_invoice_ids="10,20"))
    found = run(engine)["payments"]
    first, second = only(found, netsuite_customer_id=1), only(found, netsuite_customer_id=2)
    assert first["external_id"] == "stripe:ch_1:1" and second["external_id"] == "stripe:ch_1:2"
    assert first["amount"] == D("30.00") and first["applications"] == apps((10, "30.00"))
    # the remainder stays on the resolved customer's payment
    assert second["amount"] == D("70.00") and second["unapplied_amount"] == D("20.00")
    assert first["is_split"] and second["is_split"]


def test_a_split_charge_already_in_netsuite_is_not_planned_again(engine: sa.Engine) -> None:
    """After the writeback, the invoices are paid: the rerun shows both parts done and plans nothing
    (it once planned a second, unapplied payment of the whole charge)."""
    insert(engine, ns.customers, customer(1), customer(2))
    insert(engine, ns.invoices, invoice(10, 1, "0.00", status="B"), invoice(20, 2, "0.00", status="B"))
    insert(engine, ns.customer_payments, netsuite_payment(501, "stripe:ch_1:1", 1, "30.00"),
           netsuite_payment(502, "stripe:ch_1:2", 2, "70.00", amount_used=D("50.00"), amount_unused=D("20.00")))
    insert(engine, ns.payment_applications, application(10, 501, "30.00"), application(20, 502, "50.00"))
    insert(engine, st.charges, charge("ch_1", 10000, netsuite_customer_id=2, netsuite_invoice_ids="10,20"))
    found = run(engine)["payments"]
    assert sorted((p["external_id"], p["state"]) for p in found) == [
        ("stripe:ch_1:1", "done"), ("stripe:ch_1:2", "done")]


def test_the_missing_part_of_a_split_charge_is_planned_for_what_is_left(engine: sa.Engine) -> None:
    insert(engine, ns.customers, customer(1), customer(2))
    insert(engine, ns.invoices, invoice(10, 1, "0.00", status="B"), invoice(20, 2, "50.00"))
    insert(engine, ns.customer_payments, netsuite_payment(501, "stripe:ch_1:1", 1, "30.00"))
    insert(engine, ns.payment_applications, application(10, 501, "30.00"))
    insert(engine, st.charges, charge("ch_1", 10000, netsuite_customer_id=2, netsuite_invoice_ids="10,20"))
    found = run(engine)["payments"]
    assert only(found, external_id="stripe:ch_1:1")["state"] == "done"
    missing = only(found, external_id="stripe:ch_1:2")
    assert (missing["state"], missing["amount"], missing["unapplied_amount"]) == ("planned", D("70.00"), D("20.00"))
    assert missing["applications"] == apps((20, "50.00")) and missing["is_split"]


# --- which charges -------------------------------------------------------------------------


def test_pending_charges_held_by_default_applied_when_configured(engine: sa.Engine) -> None:
    insert(engine, ns.customers, customer(1))
    insert(engine, ns.invoices, invoice(10, 1, "100.00"))
    insert(engine, st.charges, charge("ch_p", 5000, status="pending", netsuite_customer_id=1,
                                      payment_method_type="us_bank_account"),
           charge("ch_f", 5000, status="failed", netsuite_customer_id=1))
    held = run(engine)
    assert held["payments"] == [] and codes(held) == ["charge_pending_held"]
    applied = run(engine, dataclasses.replace(SETTINGS, pending_charges="apply"))
    assert [p["charge_id"] for p in applied["payments"]] == ["ch_p"] and applied["exceptions"] == []


def test_charges_before_the_start_date_and_their_payouts(engine: sa.Engine) -> None:
    insert(engine, ns.customers, customer(1))
    insert(engine, ns.invoices, invoice(10, 1, "100.00"))
    insert(engine, st.charges, charge("ch_old", 5000, netsuite_customer_id=1, created=T0 - dt.timedelta(days=30)),
           charge("ch_new", 2000, netsuite_customer_id=1))
    insert(engine, ns.customer_payments, netsuite_payment(500, "stripe:ch_new", 1, "20.00"))
    insert(engine, st.payouts, payout("po_1", 6800))
    insert(engine, st.balance_transactions, balance_transaction("txn_ch_old", 5000, 100, "ch_old", "po_1"),
           balance_transaction("txn_ch_new", 2000, 100, "ch_new", "po_1"))
    result = run(engine, dataclasses.replace(SETTINGS, start_date=dt.date(2026, 3, 1)))
    assert [p["charge_id"] for p in result["payments"]] == ["ch_new"]
    assert only(result["payouts"])["status"] == "exception"
    problem = only(result["exceptions"], code="payout_pre_start")
    assert problem["payout_id"] == "po_1" and problem["details"] == {"charges": ["ch_old"]}


# --- idempotency ---------------------------------------------------------------------------


def test_payments_netsuite_has_are_done_and_not_planned_again(engine: sa.Engine) -> None:
    insert(engine, ns.customers, customer(1))
    # NetSuite already shows payment 500 applied 60 to invoice 10 (amount_unpaid is what is left)
    insert(engine, ns.invoices, invoice(10, 1, "40.00", due=dt.date(2026, 1, 1)), invoice(11, 1, "100.00"))
    insert(engine, ns.customer_payments, netsuite_payment(500, "stripe:ch_1", 1, "60.00"))
    insert(engine, ns.payment_applications, application(10, 500, "60.00"))
    insert(engine, st.charges, charge("ch_1", 6000, netsuite_customer_id=1),
           charge("ch_2", 5000, netsuite_customer_id=1, created=T0 + dt.timedelta(hours=1)))
    found = run(engine)["payments"]
    done = only(found, charge_id="ch_1")
    assert (done["state"], done["netsuite_payment_id"], done["invoice_rule"]) == ("done", 500, "netsuite")
    assert done["applications"] == apps((10, "60.00"))
    assert only(found, charge_id="ch_2")["applications"] == apps((10, "40.00"), (11, "10.00"))


def test_same_inputs_same_rows(engine: sa.Engine) -> None:
    insert(engine, ns.customers, customer(1), customer(2))
    insert(engine, ns.invoices, invoice(10, 1, "30.00"), invoice(20, 2, "50.00"), invoice(21, 2, "10.00"))
    insert(engine, st.charges, charge("ch_1", 10000, netsuite_customer_id=2, netsuite_invoice_ids="10,20"),
           charge("ch_2", 500, netsuite_customer_id=2), charge("ch_3", 500))
    first = run(engine)
    assert first == run(engine)
    assert first["payments"] and first["exceptions"]


# --- chargebacks, failures, refunds --------------------------------------------------------


def _paid_invoice(engine: sa.Engine, **payment: Any) -> None:
    """Charge ch_1 (100.00) whose payment 500 NetSuite applied to invoice 10 (now paid)."""
    insert(engine, ns.customers, customer(1))
    insert(engine, ns.invoices, invoice(10, 1, "0.00", status="B"))
    total = str(payment.pop("total", "100.00"))
    insert(engine, ns.customer_payments, netsuite_payment(500, "stripe:ch_1", 1, total, **payment))
    insert(engine, ns.payment_applications, application(10, 500, "100.00"))


def test_chargeback_unapplies_the_payment(engine: sa.Engine) -> None:
    _paid_invoice(engine)
    insert(engine, st.charges, charge("ch_1", 10000, netsuite_customer_id=1, disputed=True))
    insert(engine, st.disputes, dispute("dp_1", "ch_1", 10000, "needs_response"),
           dispute("dp_0", "ch_1", 10000, "warning_needs_response"))
    unapply = only(run(engine)["payments"], action="unapply")
    assert (unapply["external_id"], unapply["state"], unapply["stripe_object_id"]) == ("stripe:ch_1", "planned", "dp_1")
    assert unapply["applications"] == apps((10, "100.00")) and unapply["amount"] == D("100.00")


def test_chargeback_credit_memo_refund_policy(engine: sa.Engine) -> None:
    _paid_invoice(engine)
    insert(engine, st.charges, charge("ch_1", 10000, netsuite_customer_id=1))
    insert(engine, st.disputes, dispute("dp_1", "ch_1", 10000, "lost"))
    found = run(engine, dataclasses.replace(SETTINGS, chargeback_policy="credit_memo_refund"))["payments"]
    row = only(found, action="credit_memo_refund")
    assert (row["external_id"], row["payment_external_id"], row["amount"]) == ("stripe:dp_1", "stripe:ch_1", D("100.00"))
    assert not [r for r in found if r["action"] == "unapply"]


def test_chargeback_before_the_payment_exists_creates_it_unapplied(engine: sa.Engine) -> None:
    insert(engine, ns.customers, customer(1))
    insert(engine, ns.invoices, invoice(10, 1, "100.00"))
    insert(engine, st.charges, charge("ch_1", 10000, netsuite_customer_id=1))
    insert(engine, st.disputes, dispute("dp_1", "ch_1", 10000, "under_review"))
    payment = only(run(engine)["payments"])
    assert payment["action"] == "create_payment" and payment["applications"] == []
    assert payment["unapplied_amount"] == D("100.00") and not payment["is_overpayment"]


def test_won_dispute_reapplies_an_unapplied_payment(engine: sa.Engine) -> None:
    insert(engine, ns.customers, customer(1))
    insert(engine, ns.invoices, invoice(10, 1, "100.00"))  # reopened by the unapply
    insert(engine, ns.customer_payments, netsuite_payment(500, "stripe:ch_1", 1, "100.00",
                                                          amount_used=D(0), amount_unused=D("100.00")))
    insert(engine, st.charges, charge("ch_1", 10000, netsuite_customer_id=1))
    insert(engine, st.disputes, dispute("dp_1", "ch_1", 10000, "won"))
    row = only(run(engine)["payments"], action="reapply")
    assert (row["external_id"], row["state"], row["applications"]) == ("stripe:ch_1", "planned", apps((10, "100.00")))


def test_late_ach_failure_unapplies_and_shows_done_once_unapplied(engine: sa.Engine) -> None:
    _paid_invoice(engine)
    insert(engine, st.charges, charge("ch_1", 10000, status="failed", netsuite_customer_id=1,
                                      failure_message="account closed", payment_method_type="us_bank_account"))
    unapply = only(run(engine)["payments"], action="unapply")
    assert unapply["state"] == "planned" and unapply["applications"] == apps((10, "100.00"))
    assert "account closed" in unapply["memo"]
    with engine.begin() as conn:  # the writeback unapplied it; the sync shows the link removed
        conn.execute(sa.update(ns.payment_applications).values(is_deleted=True))
    unapply = only(run(engine)["payments"], action="unapply")
    assert unapply["state"] == "done" and unapply["applications"] == []


def test_stripe_refund_unapplies_and_refunds_against_the_payment(engine: sa.Engine) -> None:
    _paid_invoice(engine)
    insert(engine, st.charges, charge("ch_1", 10000, netsuite_customer_id=1))
    insert(engine, st.refunds, refund("re_1", "ch_1", 3000),
           refund("re_cm", "ch_1", 1000, metadata={"netsuite_credit_memo_id": "77"}),
           refund("re_failed", "ch_1", 1000, status="failed"))
    found = run(engine)["payments"]
    row = only(found, action="customer_refund")
    assert (row["external_id"], row["state"], row["amount"]) == ("stripe:re_1", "planned", D("30.00"))
    assert row["applications"] == apps((10, "30.00")) and row["payment_external_id"] == "stripe:ch_1"
    insert(engine, ns.customer_refunds, netsuite_refund(900, "stripe:re_1", "30.00"))
    row = only(run(engine)["payments"], action="customer_refund")
    assert (row["state"], row["netsuite_record_id"]) == ("done", 900)


def test_refund_takes_the_unapplied_part_first(engine: sa.Engine) -> None:
    insert(engine, ns.customers, customer(1))
    insert(engine, ns.invoices, invoice(10, 1, "60.00"))
    insert(engine, st.charges, charge("ch_1", 10000, netsuite_customer_id=1, netsuite_invoice_ids="10"))
    insert(engine, st.refunds, refund("re_1", "ch_1", 5000))
    row = only(run(engine)["payments"], action="customer_refund")
    assert row["unapplied_amount"] == D("40.00") and row["applications"] == apps((10, "10.00"))


def test_refund_of_a_charge_without_payment(engine: sa.Engine) -> None:
    insert(engine, st.charges, charge("ch_1", 10000))
    insert(engine, st.refunds, refund("re_1", "ch_1", 3000))
    result = run(engine)
    assert set(codes(result)) == {"customer_unresolved", "refund_without_payment"}


def test_credit_memo_on_an_invoice_stripe_paid_is_info_only(engine: sa.Engine) -> None:
    _paid_invoice(engine)
    insert(engine, ns.credit_memos, credit_memo(700, 1, "20.00"))
    insert(engine, ns.payment_applications, application(10, 700, "20.00", next_type="CustCred"))
    insert(engine, st.charges, charge("ch_1", 10000, netsuite_customer_id=1))
    result = run(engine)
    problem = only(result["exceptions"])
    assert (problem["code"], problem["severity"], problem["netsuite_record_ids"]) == (
        "credit_memo_on_stripe_paid_invoice", "info", [700, 10])
    assert [p["action"] for p in result["payments"]] == ["create_payment"]


# --- payouts -------------------------------------------------------------------------------


def _payout_items(engine: sa.Engine, **payment: Any) -> None:
    """po_1: charge ch_1 100.00 (fee 3.20), refund re_1 -30.00, a 1.00 Stripe fee; net 65.80."""
    _paid_invoice(engine, **payment)
    insert(engine, st.charges, charge("ch_1", 10000, netsuite_customer_id=1))
    insert(engine, st.refunds, refund("re_1", "ch_1", 3000))
    insert(engine, ns.customer_refunds, netsuite_refund(900, "stripe:re_1", "30.00"))
    insert(engine, st.payouts, payout("po_1", 6580))
    insert(engine, st.balance_transactions,
           balance_transaction("txn_ch_1", 10000, 320, "ch_1", "po_1"),
           balance_transaction("txn_re_1", -3000, 0, "re_1", "po_1", category="refund"),
           balance_transaction("txn_fee", -100, 0, None, "po_1", category="fee"),
           balance_transaction("txn_po_1", -6580, 0, "po_1", "po_1", category="payout"))


def test_payout_becomes_a_validated_deposit_plan(engine: sa.Engine) -> None:
    _payout_items(engine)
    result = run(engine)
    deposit = only(result["payouts"])
    assert (deposit["status"], deposit["state"], deposit["external_id"]) == ("ready", "planned", "stripe:po_1")
    assert (deposit["amount"], deposit["fee_total"], deposit["item_count"]) == (D("65.80"), D("4.20"), 3)
    assert deposit["memo"] == "Stripe payout po_1"
    assert [(line["kind"], line["amount"], line["netsuite_id"], line["account_id"]) for line in deposit["lines"]] == [
        ("payment", "100.00", 500, None), ("customer_refund", "-30.00", 900, None), ("fee", "-4.20", None, 601)]
    assert sum(D(line["amount"]) for line in deposit["lines"]) == deposit["amount"]
    assert result["exceptions"] == []


def test_payout_with_an_invalid_item_is_an_exception_listing_it(engine: sa.Engine) -> None:
    _payout_items(engine, status="C")  # already deposited
    with engine.begin() as conn:
        conn.execute(sa.delete(ns.customer_refunds))
    result = run(engine)
    assert only(result["payouts"])["status"] == "exception"
    problem = only(result["exceptions"], code="payout_items_invalid")
    assert [(i["stripe_object_id"], i["problem"]) for i in problem["details"]["items"]] == [
        ("ch_1", "payment 500 is not undeposited (status C)"), ("re_1", "customer refund not in NetSuite yet")]


def test_payout_carrying_a_foreign_currency_payment_is_an_exception(engine: sa.Engine) -> None:
    """A 10,000 JPY charge settled as 66.00 USD: NetSuite deposits only take payments in the bank
    account's currency, so the payout is not itemised automatically."""
    _payout_items(engine)
    insert(engine, st.charges, charge("ch_jpy", 10000, currency="jpy", netsuite_customer_id=1))
    insert(engine, st.balance_transactions, balance_transaction("txn_ch_jpy", 6600, 0, "ch_jpy", "po_1"))
    with engine.begin() as conn:
        conn.execute(sa.update(st.payouts).values(amount=6580 + 6600))
    result = run(engine)
    deposit = only(result["payouts"])
    assert (deposit["status"], deposit["exception_codes"]) == ("exception", "payout_foreign_currency")
    problem = only(result["exceptions"], code="payout_foreign_currency")
    assert problem["details"]["charges"] == ["ch_jpy"] and "by hand" in problem["resolution"]


def test_payout_sum_and_accounts_are_checked(engine: sa.Engine) -> None:
    _payout_items(engine)
    with engine.begin() as conn:
        conn.execute(sa.update(st.payouts).values(amount=6600))
    result = run(engine, dataclasses.replace(SETTINGS, fee_account_id=None))
    assert only(result["payouts"])["exception_codes"] == "payout_sum_mismatch,payout_account_missing"
    assert "NS_RECON_FEE_ACCOUNT_ID" in only(result["exceptions"], code="payout_account_missing")["reason"]


def test_payout_amount_mismatch_and_manual_and_done_payouts(engine: sa.Engine) -> None:
    _payout_items(engine, total=D("99.00"))
    insert(engine, st.payouts, payout("po_manual", 100, automatic=False), payout("po_done", 0),
           payout("po_transit", 100, status="in_transit"))
    insert(engine, ns.deposits, netsuite_deposit(800, "stripe:po_done", "0.00"))
    result = run(engine)
    by_id = {p["payout_id"]: p for p in result["payouts"]}
    assert set(by_id) == {"po_1", "po_done"}
    assert (by_id["po_done"]["state"], by_id["po_done"]["netsuite_deposit_id"]) == ("done", 800)
    items = only(result["exceptions"], code="payout_items_invalid")["details"]["items"]
    assert items[0]["problem"] == "NetSuite payments total 99.00, the charge is 100.00 USD"
    assert only(result["exceptions"], code="payout_not_automatic")["payout_id"] == "po_manual"


def test_split_charge_deposit_lines_share_the_gross_amount(engine: sa.Engine) -> None:
    insert(engine, ns.customers, customer(1), customer(2))
    insert(engine, ns.customer_payments, netsuite_payment(501, "stripe:ch_1:1", 1, "33.33"),
           netsuite_payment(502, "stripe:ch_1:2", 2, "66.67"))
    insert(engine, st.charges, charge("ch_1", 10000, currency="usd"))
    insert(engine, st.payouts, payout("po_1", 9700))
    insert(engine, st.balance_transactions, balance_transaction("txn_ch_1", 10000, 300, "ch_1", "po_1"))
    deposit = only(run(engine)["payouts"])
    assert deposit["status"] == "ready"
    assert [(line["external_id"], line["amount"]) for line in deposit["lines"] if line["kind"] == "payment"] == [
        ("stripe:ch_1:1", "33.33"), ("stripe:ch_1:2", "66.67")]


# --- settings and bad input ----------------------------------------------------------------


def test_memo_template(engine: sa.Engine) -> None:
    insert(engine, ns.customers, customer(1))
    insert(engine, ns.invoices, invoice(10, 1, "100.00"))
    insert(engine, st.charges, charge("ch_1", 1234, netsuite_customer_id=1))
    insert(engine, st.balance_transactions, balance_transaction("txn_ch_1", 1234, 0, "ch_1", "po_9"))
    settings = dataclasses.replace(SETTINGS, memo_template="{provider} {charge_id} {payment_intent_id} "
                                   "{amount} {currency} {date} {payout_id}")
    assert only(run(engine, settings)["payments"])["memo"] == "Stripe ch_1 pi_1 12.34 USD 2026-03-10 po_9"
    assert only(run(engine)["payments"])["memo"] == "Stripe ch_1"


def test_settings_from_env_and_their_errors() -> None:
    settings = ReconSettings.from_env({"NS_RECON_START_DATE": "2026-01-01", "NS_RECON_PENDING_CHARGES": "apply",
                                       "NS_RECON_FEE_ACCOUNT_ID": "601", "NETSUITE_TIMEZONE": "UTC"})
    assert (settings.start_date, settings.pending_charges, settings.fee_account_id) == (dt.date(2026, 1, 1), "apply", 601)
    with pytest.raises(ReconSettingsError, match="NS_RECON_MEMO_TEMPLATE.*nope"):
        ReconSettings.from_env({"NS_RECON_MEMO_TEMPLATE": "Stripe {nope}"})
    with pytest.raises(ReconSettingsError, match="NS_RECON_START_DATE"):
        ReconSettings.from_env({"NS_RECON_START_DATE": "yesterday"})
    with pytest.raises(ReconSettingsError, match="NS_RECON_CHARGEBACK_POLICY"):
        ReconSettings.from_env({"NS_RECON_CHARGEBACK_POLICY": "ignore"})


def test_unreadable_metadata_names_the_record(engine: sa.Engine) -> None:
    insert(engine, st.charges, charge("ch_1", 100))
    insert(engine, st.refunds, refund("re_bad", "ch_1", 100, metadata="{not json"))
    with pytest.raises(InvalidInputError, match="Stripe refund re_bad: metadata is not valid JSON"):
        reconcile(engine, SETTINGS)


def test_chargeback_customer_refund_is_a_deposit_line_under_credit_memo_policy(engine: sa.Engine) -> None:
    _paid_invoice(engine, total="200.00")
    insert(engine, st.charges, charge("ch_1", 20000, netsuite_customer_id=1))
    insert(engine, st.disputes, dispute("dp_1", "ch_1", 10000, "lost"))
    insert(engine, ns.customer_refunds, netsuite_refund(901, "stripe:dp_1", "100.00"))
    insert(engine, st.payouts, payout("po_1", 8100))
    insert(engine, st.balance_transactions, balance_transaction("txn_ch_1", 20000, 400, "ch_1", "po_1"),
           balance_transaction("txn_dp_1", -10000, 1500, "dp_1", "po_1", category="dispute"))
    policy = dataclasses.replace(SETTINGS, chargeback_policy="credit_memo_refund")
    deposit = only(run(engine, policy)["payouts"])
    assert deposit["status"] == "ready"
    assert [(line["kind"], line["external_id"], line["amount"]) for line in deposit["lines"]] == [
        ("payment", "stripe:ch_1", "200.00"), ("customer_refund", "stripe:dp_1", "-100.00"), ("fee", None, "-19.00")]
    # under the default policy the withdrawal is an adjustment line to the configured account
    lines = only(run(engine)["payouts"])["lines"]
    assert [(line["kind"], line["account_id"]) for line in lines] == [("payment", None), ("adjustment", 602), ("fee", 601)]


def test_unusable_currency_is_an_exception_naming_the_record(engine: sa.Engine) -> None:
    insert(engine, ns.customers, customer(1))
    insert(engine, st.charges, charge("ch_1", 100, currency="u$", netsuite_customer_id=1))
    insert(engine, st.payouts, payout("po_1", 100, currency="??"))
    insert(engine, st.balance_transactions, balance_transaction("txn_x", 100, 0, "ch_1", "po_1", currency="??"))
    result = run(engine)
    assert result["payments"] == []
    by_code = {e["code"]: e for e in result["exceptions"]}
    assert set(by_code) == {"invalid_charge", "invalid_payout"}
    assert "ch_1" in by_code["invalid_charge"]["reason"] and "po_1" in by_code["invalid_payout"]["reason"]
