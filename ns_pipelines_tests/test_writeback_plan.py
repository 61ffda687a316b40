"""The planner, payloads and plan table without NetSuite: exact request bodies, waves, blocked
writes, exact-decimal JSON, the refund reduction's arithmetic, settings, and re-planning."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import Engine, select

from ns_pipelines.warehouse.tables.writeback import writeback_plan
from ns_pipelines.writeback.exact_json import dumps, loads
from ns_pipelines.writeback.model import Application, DepositLine, PayoutAction, PaymentAction, References
from ns_pipelines.writeback.plan_store import save_plan
from ns_pipelines.writeback.planner import plan_writes
from ns_pipelines.writeback.refund_reduction import reduced_apply_items
from ns_pipelines.writeback.settings import WritebackConfigError, WritebackSettings

D = Decimal
REFS = References(currency_ids={"USD": 1, "JPY": 5}, bank_accounts=((21, "USD", 2), (40, "JPY", 5)))
SETTINGS = WritebackSettings()


def action(**kw: object) -> PaymentAction:
    values: dict[str, object] = dict(
        external_id="stripe:ch_1", action="create_payment", state="planned", stripe_object_id="ch_1", charge_id="ch_1",
        payment_external_id="stripe:ch_1", netsuite_customer_id=7, currency="USD", amount=D("100.00"),
        applications=(Application(104, D("60.00")), Application(105, D("40.00"))), memo="Stripe ch_1",
        tran_date=dt.date(2026, 11, 2), reason="charge ch_1 succeeded")
    values.update(kw)
    return PaymentAction(**values)  # type: ignore[arg-type]


def test_customer_payment_body_is_what_the_rest_api_takes() -> None:
    [w] = plan_writes([action()], [], REFS, SETTINGS)
    assert (w.record_type, w.external_id, w.action, w.wave, w.blocked) == (
        "customerPayment", "stripe:ch_1", "create_payment", 0, None)
    assert w.payload == {
        "externalId": "stripe:ch_1", "customer": {"id": "7"}, "currency": {"id": "1"}, "payment": D("100.00"),
        "tranDate": "2026-11-02", "memo": "Stripe ch_1", "undepFunds": True,
        "apply": {"items": [{"doc": {"id": "104"}, "apply": True, "amount": D("60.00")},
                            {"doc": {"id": "105"}, "apply": True, "amount": D("40.00")}]}}
    assert (w.stripe_object_id, w.stripe_metadata_key) == ("ch_1", "netsuite_customer_payment_id")


def test_clearing_account_split_key_and_done_rows() -> None:
    clearing = WritebackSettings(payment_account_id=55)
    split = action(external_id="stripe:ch_1:7", is_split=True)
    [w] = plan_writes([split, action(external_id="stripe:ch_2", state="done")], [], REFS, clearing)
    assert w.payload["account"] == {"id": "55"} and "undepFunds" not in w.payload
    assert w.stripe_metadata_key == "netsuite_customer_payment_id_7"


def test_unapply_reapply_refund_and_deposit_in_waves() -> None:
    unapply = action(action="unapply", stripe_object_id="dp_1", netsuite_payment_id=812)
    reapply = action(action="reapply", stripe_object_id="dp_1", netsuite_payment_id=812)
    refund = action(external_id="stripe:re_1", action="customer_refund", stripe_object_id="re_1", amount=D("25.00"),
                    applications=(Application(105, D("25.00")),), netsuite_payment_id=None)
    payout = PayoutAction("po_1", "stripe:po_1", "planned", "ready", "USD", D("95.10"),
                          (DepositLine("payment", D("100.00"), "ch_1", "stripe:ch_1", 812),
                           DepositLine("fee", D("-4.90"), account_id=9)), fee_total=D("4.90"))
    skipped = PayoutAction("po_2", "stripe:po_2", "planned", "exception", "USD", D("1.00"), ())
    writes = plan_writes([refund, unapply, reapply], [payout, skipped], REFS, SETTINGS)
    assert [(w.external_id, w.action, w.wave) for w in writes] == [
        ("stripe:ch_1", "reapply", 1), ("stripe:ch_1", "unapply", 1), ("stripe:re_1", "customer_refund", 3),
        ("stripe:po_1", "deposit", 4)]
    by_action = {w.action: w for w in writes}
    assert by_action["unapply"].payload == {"apply": {"items": [{"doc": {"id": "104"}, "apply": False},
                                                                {"doc": {"id": "105"}, "apply": False}]}}
    assert by_action["reapply"].payload["apply"]["items"][0] == {"doc": {"id": "104"}, "apply": True,
                                                                 "amount": D("60.00")}
    rf = by_action["customer_refund"]
    assert rf.record_type == "customerRefund" and rf.depends_on == ("stripe:ch_1",)
    assert rf.payload["apply"]["items"] == [{"doc": {"externalId": "stripe:ch_1"}, "apply": True, "amount": D("25.00")}]
    assert rf.reduce_applications == (Application(105, D("25.00")),) and rf.stripe_metadata_key == "netsuite_customer_refund_id"
    dep = by_action["deposit"].payload
    assert dep["account"] == {"id": "21"} and dep["payment"]["items"] == [
        {"id": "812", "deposit": True, "paymentAmount": D("100.00")}]
    assert dep["cashBack"]["items"] == [{"account": {"id": "9"}, "amount": D("4.90"), "memo": "Stripe fees po_1"}]


@pytest.mark.parametrize("bad, why", [
    (action(currency="EUR"), "currency EUR is not enabled"),
    (action(netsuite_customer_id=None), "no NetSuite customer"),
    (action(amount=D("50.00")), "exceed the payment"),
    (action(action="credit_memo_refund", applications=()), "no invoices to credit"),
    (action(action="settle"), "unknown action 'settle'"),
])
def test_what_cannot_be_planned_is_blocked_with_the_reason(bad: PaymentAction, why: str) -> None:
    writes = plan_writes([bad], [], REFS, SETTINGS)
    assert writes and all(w.blocked and why in w.blocked and w.payload == {} for w in writes)


def test_chargeback_as_credit_memo_and_refund() -> None:
    chargeback = action(external_id="stripe:dp_9", action="credit_memo_refund", stripe_object_id="dp_9",
                        amount=D("60.00"), applications=(Application(104, D("60.00")),), memo="Stripe dispute dp_9",
                        reason="dispute dp_9 withdrew the funds")
    memo, refund = plan_writes([chargeback], [], REFS, WritebackSettings(credit_item_id=77))
    assert (memo.external_id, memo.action, memo.record_type, memo.wave) == (
        "stripe:dp_9:credit_memo", "credit_memo", "creditMemo", 2)
    assert memo.payload == {
        "externalId": "stripe:dp_9:credit_memo", "entity": {"id": "7"}, "currency": {"id": "1"},
        "tranDate": "2026-11-02", "memo": "Stripe dispute dp_9",
        "item": {"items": [{"amount": D("60.00"), "description": "dispute dp_9 withdrew the funds (invoice 104)",
                            "item": {"id": "77"}}]}}
    assert (refund.external_id, refund.record_type, refund.wave, refund.depends_on) == (
        "stripe:dp_9", "customerRefund", 3, ("stripe:dp_9:credit_memo",))
    assert refund.payload["apply"]["items"] == [
        {"doc": {"externalId": "stripe:dp_9:credit_memo"}, "apply": True, "amount": D("60.00")}]
    assert (refund.stripe_object_id, refund.stripe_metadata_key) == ("dp_9", "netsuite_customer_refund_id")


def test_deposit_that_does_not_add_up_or_lacks_a_bank_is_blocked() -> None:
    lines = (DepositLine("payment", D("10.00"), "ch_1", "stripe:ch_1", 812),)
    [off] = plan_writes([], [PayoutAction("po_1", "stripe:po_1", "planned", "ready", "USD", D("9.00"), lines)],
                        REFS, SETTINGS)
    assert "lines add up to 10.00, the payout is 9.00" in off.blocked
    two_banks = References(currency_ids={"USD": 1}, bank_accounts=((21, "USD", 2), (22, "USD", 3)))
    [amb] = plan_writes([], [PayoutAction("po_1", "stripe:po_1", "planned", "ready", "USD", D("10.00"), lines)],
                        two_banks, SETTINGS)
    assert "2 NetSuite bank accounts in USD" in amb.blocked


def test_exact_json_round_trip_has_no_floats() -> None:
    text = dumps({"b": D("0.10"), "a": [D("1234567890123.4567"), 1, "x", None, True]})
    assert text == '{"a":[1234567890123.4567,1,"x",null,true],"b":0.10}'
    assert loads(text) == {"a": [D("1234567890123.4567"), 1, "x", None, True], "b": D("0.10")}
    with pytest.raises(TypeError):
        dumps({"amount": 0.1})


def test_refund_reduction_is_computed_from_live_state() -> None:
    plan = (Application(105, D("30.00")), Application(104, D("10.00")))  # last applied first, as planned
    payment = {"unapplied": D("5.00"), "apply": {"items": [
        {"doc": {"id": "104"}, "apply": True, "amount": D("40.00")},
        {"doc": {"id": "105"}, "apply": True, "amount": D("30.00")}]}}
    assert reduced_apply_items(payment, D("45.00"), plan) == [
        {"doc": {"id": "105"}, "apply": False}, {"doc": {"id": "104"}, "apply": True, "amount": D("30.00")}]
    already = {"unapplied": D("45.00"), "apply": {"items": []}}
    assert reduced_apply_items(already, D("45.00"), plan) == []
    halfway = {"unapplied": D("35.00"), "apply": {"items": [  # 105 came off before a crash, 104 did not
        {"doc": {"id": "104"}, "apply": True, "amount": D("40.00")}]}}
    assert reduced_apply_items(halfway, D("45.00"), plan) == [
        {"doc": {"id": "104"}, "apply": True, "amount": D("30.00")}]
    with pytest.raises(ValueError, match="free only"):
        reduced_apply_items(payment, D("200.00"), plan)


def test_settings_from_env() -> None:
    s = WritebackSettings.from_env({"NS_WRITEBACK_ENABLED": "true", "NS_WRITEBACK_BANK_ACCOUNTS": "usd=21, EUR=23",
                                    "NS_WRITEBACK_PAYMENT_ACCOUNT_ID": "55"})
    assert (s.enabled, s.bank_account_ids, s.payment_account_id) == (True, {"USD": 21, "EUR": 23}, 55)
    assert WritebackSettings.from_env({}).enabled is False
    with pytest.raises(WritebackConfigError, match="NS_WRITEBACK_BANK_ACCOUNTS"):
        WritebackSettings.from_env({"NS_WRITEBACK_BANK_ACCOUNTS": "dollars"})
    with pytest.raises(WritebackConfigError, match="NS_WRITEBACK_PAYMENT_ACCOUNT_ID"):
        WritebackSettings.from_env({"NS_WRITEBACK_PAYMENT_ACCOUNT_ID": "x"})


def test_replanning_keeps_done_rows_and_supersedes_dropped_ones(warehouse_engine: Engine) -> None:
    first = plan_writes([action(), action(external_id="stripe:ch_2", charge_id="ch_2")], [], REFS, SETTINGS)
    assert save_plan(warehouse_engine, first).planned == 2
    with warehouse_engine.begin() as conn:
        conn.execute(writeback_plan.update().where(writeback_plan.c.external_id == "stripe:ch_1")
                     .values(status="done", netsuite_id=812))
    summary = save_plan(warehouse_engine, first[:1])
    assert (summary.planned, summary.unchanged_done, summary.superseded) == (0, 1, 1)
    with warehouse_engine.connect() as conn:
        rows = {r.external_id: (r.status, r.netsuite_id) for r in conn.execute(select(writeback_plan))}
    assert rows == {"stripe:ch_1": ("done", 812), "stripe:ch_2": ("superseded", None)}
