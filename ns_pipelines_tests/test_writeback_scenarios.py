"""Writeback scenarios against the NetSuite sandbox over loopback, on SQLite and PostgreSQL.

Each test seeds a tiny sandbox, creates the invoices it needs (as a NetSuite UI user would),
feeds the planner reconciliation rows (typed inputs), applies the plan through the real client,
and checks the sandbox's records and open amounts, not only the writeback tables.
"""
from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from ns_pipelines.netsuite import NetSuiteClient, NetSuiteConfig, RecordService, RetryPolicy
from ns_pipelines.sandbox.netsuite.server import SandboxServer
from ns_pipelines.warehouse import create_warehouse_engine, upgrade_warehouse
from ns_pipelines.warehouse.tables.writeback import writeback_log, writeback_plan
from ns_pipelines.writeback.apply import Applier, ApplyReport
from ns_pipelines.writeback.model import Application, DepositLine, PayoutAction, PaymentAction
from ns_pipelines.writeback.plan_store import pending_writes, save_plan
from ns_pipelines.writeback.planner import plan_writes
from ns_pipelines.writeback.references import load_references
from ns_pipelines.writeback.settings import WritebackSettings
from ns_pipelines_tests.sync_helpers import sandbox_rows as truth  # the sandbox's own rows: the ground truth

USD_CUSTOMER, USD_CUSTOMER_2 = 101, 110
FEE_ACCOUNT = 9  # the seeded "Stripe Fees" expense account
US_BANK_USD = 21  # the seeded US subsidiary's USD operating account (customers 101 and 110 are US)
D = Decimal
TODAY = dt.date(2026, 11, 20)


# ---- helpers shared with the other writeback tests ----------------------------------------------

def make_client(server: SandboxServer, **config: Any) -> NetSuiteClient:
    config.setdefault("retry", RetryPolicy(initial_backoff_s=0.01, max_backoff_s=0.05))
    return NetSuiteClient(NetSuiteConfig.from_env(server.environment(), **config))


def make_engine(url: str) -> Engine:
    engine = create_warehouse_engine(url)
    upgrade_warehouse(engine)
    return engine


def make_invoice(server: SandboxServer, customer: int, amount: str) -> int:
    """An open invoice, created as a user in the NetSuite UI would."""
    return server.account.records.create(
        "invoice", {"entity": {"id": str(customer)}, "item": {"items": [{"amount": amount}]}}, context="UI")


def unpaid(server: SandboxServer, invoice_id: int) -> Decimal:
    row = truth(server, 'SELECT foreignamountunpaid FROM "transaction" WHERE id = ?', invoice_id)[0]
    return D(str(row[0])).quantize(D("0.01"))


def by_external_id(server: SandboxServer, external_id: str) -> list[sqlite3.Row]:
    return truth(server, 'SELECT * FROM "transaction" WHERE externalid = ?', external_id)


def applied(server: SandboxServer, payment_id: int) -> dict[int, Decimal]:
    return {int(r["previousdoc"]): D(str(r["foreignamount"])).quantize(D("0.01")) for r in truth(
        server, "SELECT previousdoc, foreignamount FROM nexttransactionlinelink WHERE nextdoc = ? "
        "AND linktype = 'Payment'", payment_id)}


def duplicate_external_ids(client: NetSuiteClient) -> list[dict[str, Any]]:
    """Our external ids that NetSuite holds more than once, through SuiteQL."""
    return client.suiteql.query_all(
        "SELECT t.externalid, COUNT(*) AS n FROM transaction t WHERE t.externalid LIKE 'stripe:%' "
        "GROUP BY t.externalid HAVING COUNT(*) > 1")


def payment(charge: str, customer: int, amount: str, apps: list[tuple[int, str]], **kw: Any) -> PaymentAction:
    values: dict[str, Any] = dict(
        external_id=kw.pop("external_id", f"stripe:{charge}"), action="create_payment", state="planned",
        stripe_object_id=charge, charge_id=charge, payment_external_id=kw.pop("payment_external_id", None),
        netsuite_customer_id=customer, currency="USD", amount=D(amount),
        applications=tuple(Application(i, D(a)) for i, a in apps), memo=f"Stripe {charge}", tran_date=TODAY,
        reason=f"charge {charge} succeeded")
    values.update(kw)
    values["payment_external_id"] = values["payment_external_id"] or values["external_id"]
    return PaymentAction(**values)


def settings(**kw: Any) -> WritebackSettings:
    return WritebackSettings(enabled=True, bank_account_ids={"USD": US_BANK_USD}, **kw)


def plan_and_apply(server: SandboxServer, client: NetSuiteClient, engine: Engine, payments: list[PaymentAction],
                   payouts: list[PayoutAction] = (), **applier: Any) -> ApplyReport:
    s = settings()
    writes = plan_writes(payments, list(payouts), load_references(client, s), s)
    save_plan(engine, writes)
    return Applier(RecordService(client), engine, run_id="test", **applier).apply(pending_writes(engine))


def plan_rows(engine: Engine) -> dict[tuple[str, str], Any]:
    with engine.connect() as conn:
        return {(r.external_id, r.action): r for r in conn.execute(select(writeback_plan))}


def log_rows(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return conn.execute(select(writeback_log).order_by(writeback_log.c.id)).all()


# ---- fixtures -------------------------------------------------------------------------------------

@pytest.fixture
def server(tmp_path: Path) -> Iterator[SandboxServer]:
    with SandboxServer(tmp_path / "sandbox", scale="tiny", seed=42) as srv:
        yield srv


@pytest.fixture
def client(server: SandboxServer) -> Iterator[NetSuiteClient]:
    with make_client(server) as c:
        yield c


@pytest.fixture
def engine(fresh_warehouse_url: str) -> Iterator[Engine]:
    eng = make_engine(fresh_warehouse_url)
    yield eng
    eng.dispose()


# ---- scenarios ------------------------------------------------------------------------------------

def test_payment_applied_to_one_invoice(server: SandboxServer, client: NetSuiteClient, engine: Engine) -> None:
    inv = make_invoice(server, USD_CUSTOMER, "120.50")
    report = plan_and_apply(server, client, engine, [payment("ch_one", USD_CUSTOMER, "120.50", [(inv, "120.50")])])

    assert (report.written, report.refused, report.failed) == (1, 0, 0)
    [pay] = by_external_id(server, "stripe:ch_one")
    assert pay["type"] == "CustPymt" and D(str(pay["foreigntotal"])) == D("120.50")
    assert pay["memo"] == "Stripe ch_one" and pay["entity"] == USD_CUSTOMER
    account = truth(server, "SELECT a.accttype FROM transactionline tl JOIN account a ON a.id = tl.expenseaccount "
                    "WHERE tl.\"transaction\" = ? AND tl.mainline = 'T'", pay["id"])[0][0]
    assert account == "UnDepFunds"
    assert applied(server, pay["id"]) == {inv: D("120.50")}
    assert unpaid(server, inv) == 0
    row = plan_rows(engine)[("stripe:ch_one", "create_payment")]
    assert row.status == "done" and row.netsuite_id == pay["id"]
    [log] = log_rows(engine)
    assert (log.status, log.netsuite_id, log.external_id, log.run_id) == ("written", pay["id"], "stripe:ch_one", "test")
    assert '"amount":120.50' in log.request and '"payment":120.50' in log.request


def test_split_per_customer(server: SandboxServer, client: NetSuiteClient, engine: Engine) -> None:
    a = make_invoice(server, USD_CUSTOMER, "50.00")
    b = make_invoice(server, USD_CUSTOMER_2, "70.00")
    actions = [payment("ch_split", USD_CUSTOMER, "50.00", [(a, "50.00")], external_id=f"stripe:ch_split:{USD_CUSTOMER}",
                       is_split=True),
               payment("ch_split", USD_CUSTOMER_2, "70.00", [(b, "70.00")],
                       external_id=f"stripe:ch_split:{USD_CUSTOMER_2}", is_split=True)]
    report = plan_and_apply(server, client, engine, actions)

    assert report.written == 2
    for customer, invoice, amount in ((USD_CUSTOMER, a, "50.00"), (USD_CUSTOMER_2, b, "70.00")):
        [pay] = by_external_id(server, f"stripe:ch_split:{customer}")
        assert pay["entity"] == customer and applied(server, pay["id"]) == {invoice: D(amount)}
        assert unpaid(server, invoice) == 0
    assert by_external_id(server, "stripe:ch_split") == []


def test_overpayment_leaves_unapplied_remainder(server: SandboxServer, client: NetSuiteClient, engine: Engine) -> None:
    inv = make_invoice(server, USD_CUSTOMER, "80.00")
    plan_and_apply(server, client, engine, [payment("ch_over", USD_CUSTOMER, "100.00", [(inv, "80.00")],
                                                    is_overpayment=True, unapplied_amount=D("20.00"))])
    [pay] = by_external_id(server, "stripe:ch_over")
    assert D(str(pay["foreigntotal"])) == D("100.00")
    assert D(str(pay["foreignpaymentamountunused"])).quantize(D("0.01")) == D("20.00")
    assert unpaid(server, inv) == 0


def test_deposit_with_fee_line(server: SandboxServer, client: NetSuiteClient, engine: Engine) -> None:
    i1, i2 = make_invoice(server, USD_CUSTOMER, "100.00"), make_invoice(server, USD_CUSTOMER_2, "50.00")
    plan_and_apply(server, client, engine, [payment("ch_d1", USD_CUSTOMER, "100.00", [(i1, "100.00")]),
                                            payment("ch_d2", USD_CUSTOMER_2, "50.00", [(i2, "50.00")])])
    p1, p2 = by_external_id(server, "stripe:ch_d1")[0]["id"], by_external_id(server, "stripe:ch_d2")[0]["id"]
    payout = PayoutAction(
        payout_id="po_1", external_id="stripe:po_1", state="planned", status="ready", currency="USD",
        amount=D("145.35"), fee_total=D("4.65"), tran_date=TODAY, memo="Stripe payout po_1",
        lines=(DepositLine("payment", D("100.00"), "ch_d1", "stripe:ch_d1", p1),
               DepositLine("payment", D("50.00"), "ch_d2", "stripe:ch_d2", p2),
               DepositLine("fee", D("-4.65"), account_id=FEE_ACCOUNT)))
    report = plan_and_apply(server, client, engine, [], [payout])

    assert report.written == 1, report.problems
    [dep] = by_external_id(server, "stripe:po_1")
    assert dep["type"] == "Deposit" and D(str(dep["foreigntotal"])) == D("145.35")
    assert dep["memo"] == "Stripe payout po_1"
    fee = truth(server, "SELECT expenseaccount, foreignamount FROM transactionline WHERE \"transaction\" = ? "
                "AND mainline = 'F' AND expenseaccount = ?", dep["id"], FEE_ACCOUNT)
    assert [(r[0], D(str(r[1]))) for r in fee] == [(FEE_ACCOUNT, D("-4.65"))]
    for pid in (p1, p2):
        assert truth(server, 'SELECT status FROM "transaction" WHERE id = ?', pid)[0][0] == "C"  # deposited

    # a later payout claiming an already deposited payment: NetSuite refuses, no deposit is made
    again = PayoutAction(
        payout_id="po_2", external_id="stripe:po_2", state="planned", status="ready", currency="USD",
        amount=D("100.00"), lines=(DepositLine("payment", D("100.00"), "ch_d1", "stripe:ch_d1", p1),))
    refused = plan_and_apply(server, client, engine, [], [again])
    assert (refused.written, refused.refused) == (0, 1)
    assert "has already been deposited" in refused.problems[0][2]
    assert by_external_id(server, "stripe:po_2") == []


def test_unapply_after_chargeback_then_reapply_on_won_dispute(server: SandboxServer, client: NetSuiteClient,
                                                               engine: Engine) -> None:
    inv = make_invoice(server, USD_CUSTOMER, "60.00")
    plan_and_apply(server, client, engine, [payment("ch_dp", USD_CUSTOMER, "60.00", [(inv, "60.00")])])
    pid = by_external_id(server, "stripe:ch_dp")[0]["id"]
    assert unpaid(server, inv) == 0

    lost = payment("ch_dp", USD_CUSTOMER, "60.00", [(inv, "60.00")], action="unapply", stripe_object_id="dp_1",
                   netsuite_payment_id=pid, reason="dispute dp_1 withdrew the funds")
    report = plan_and_apply(server, client, engine, [lost])
    assert report.written == 1
    assert unpaid(server, inv) == D("60.00") and applied(server, pid) == {}
    assert len(by_external_id(server, "stripe:ch_dp")) == 1

    won = payment("ch_dp", USD_CUSTOMER, "60.00", [(inv, "60.00")], action="reapply", stripe_object_id="dp_1",
                  netsuite_payment_id=pid, reason="dispute dp_1 won")
    plan_and_apply(server, client, engine, [won])
    assert unpaid(server, inv) == 0 and applied(server, pid) == {inv: D("60.00")}
    assert [r.status for r in log_rows(engine)] == ["written", "written", "written"]


def test_chargeback_as_credit_memo_and_customer_refund(server: SandboxServer, client: NetSuiteClient,
                                                      engine: Engine) -> None:
    inv = make_invoice(server, USD_CUSTOMER, "60.00")
    plan_and_apply(server, client, engine, [payment("ch_cb", USD_CUSTOMER, "60.00", [(inv, "60.00")])])
    chargeback = payment("dp_9", USD_CUSTOMER, "60.00", [(inv, "60.00")], action="credit_memo_refund",
                         external_id="stripe:dp_9", payment_external_id="stripe:ch_cb", charge_id="ch_cb",
                         stripe_object_id="dp_9", memo="Stripe dispute dp_9", reason="dispute dp_9 withdrew the funds")
    for _ in range(2):  # the second run writes the same two records again, nothing more
        report = plan_and_apply(server, client, engine, [chargeback])
        assert (report.refused, report.failed) == (0, 0), report.problems
    [memo] = by_external_id(server, "stripe:dp_9:credit_memo")
    [refund] = by_external_id(server, "stripe:dp_9")
    assert memo["type"] == "CustCred" and D(str(memo["foreigntotal"])) == D("60.00") and memo["status"] == "B"
    assert refund["type"] == "CustRfnd" and D(str(refund["foreigntotal"])) == D("60.00")
    paid_out = truth(server, "SELECT previousdoc FROM nexttransactionlinelink WHERE nextdoc = ?", refund["id"])
    assert [r[0] for r in paid_out] == [memo["id"]]
    assert unpaid(server, inv) == 0  # the payment still pays the invoice; the credit memo is refunded
    assert duplicate_external_ids(client) == []


def test_stripe_refund_reopens_invoice_and_records_customer_refund(server: SandboxServer, client: NetSuiteClient,
                                                                   engine: Engine) -> None:
    i1, i2 = make_invoice(server, USD_CUSTOMER, "40.00"), make_invoice(server, USD_CUSTOMER, "30.00")
    plan_and_apply(server, client, engine, [payment("ch_rf", USD_CUSTOMER, "75.00", [(i1, "40.00"), (i2, "30.00")])])
    pid = by_external_id(server, "stripe:ch_rf")[0]["id"]
    # a refund of 25.00: 5.00 from the unapplied overpayment, 20.00 taken off the last invoice
    refund = payment("re_1", USD_CUSTOMER, "25.00", [(i2, "20.00")], action="customer_refund",
                     external_id="stripe:re_1", payment_external_id="stripe:ch_rf", charge_id="ch_rf",
                     stripe_object_id="re_1", unapplied_amount=D("5.00"), memo="Stripe refund re_1")
    report = plan_and_apply(server, client, engine, [refund])

    assert (report.written, report.refused, report.failed) == (1, 0, 0), report.problems
    [rf] = by_external_id(server, "stripe:re_1")
    assert rf["type"] == "CustRfnd" and D(str(rf["foreigntotal"])) == D("25.00")
    assert applied(server, pid) == {i1: D("40.00"), i2: D("10.00")}
    assert unpaid(server, i2) == D("20.00") and unpaid(server, i1) == 0
    refunded = truth(server, "SELECT previousdoc, foreignamount FROM nexttransactionlinelink WHERE nextdoc = ?", rf["id"])
    assert [(r[0], D(str(r[1]))) for r in refunded] == [(pid, D("25.00"))]
    assert [(r.action, r.status) for r in log_rows(engine)] == [
        ("create_payment", "written"), ("unapply_for_refund", "written"), ("customer_refund", "written")]

    # applying the same plan again takes nothing more off the invoices and creates no second refund
    save_plan(engine, plan_writes([refund], [], load_references(client, settings()), settings()))
    again = Applier(RecordService(client), engine).apply(pending_writes(engine))
    assert again.attempted == 0
    assert applied(server, pid) == {i1: D("40.00"), i2: D("10.00")} and len(by_external_id(server, "stripe:re_1")) == 1


def test_refusals_become_refused_rows_while_the_rest_goes_on(server: SandboxServer, client: NetSuiteClient,
                                                             engine: Engine) -> None:
    locked, paid, fine = (make_invoice(server, USD_CUSTOMER, "10.00"), make_invoice(server, USD_CUSTOMER, "20.00"),
                          make_invoice(server, USD_CUSTOMER, "30.00"))
    server.settings.faults.locked_record_ids = {locked}
    plan_and_apply(server, client, engine, [payment("ch_first", USD_CUSTOMER, "20.00", [(paid, "20.00")])])
    actions = [payment("ch_locked", USD_CUSTOMER, "10.00", [(locked, "10.00")]),
               payment("ch_paid", USD_CUSTOMER, "20.00", [(paid, "20.00")]),  # already paid by ch_first
               payment("ch_fine", USD_CUSTOMER, "30.00", [(fine, "30.00")])]
    report = plan_and_apply(server, client, engine, actions)

    assert (report.written, report.refused) == (1, 2)
    assert unpaid(server, fine) == 0 and len(by_external_id(server, "stripe:ch_fine")) == 1
    assert by_external_id(server, "stripe:ch_locked") == [] and by_external_id(server, "stripe:ch_paid") == []
    rows = plan_rows(engine)
    assert rows[("stripe:ch_locked", "create_payment")].status == "refused"
    assert "locked by a user defined workflow" in rows[("stripe:ch_locked", "create_payment")].error
    assert rows[("stripe:ch_paid", "create_payment")].status == "refused"
    assert "cannot apply more than the amount due" in rows[("stripe:ch_paid", "create_payment")].error
    refused = {r.external_id: r.response for r in log_rows(engine) if r.status == "refused"}
    assert set(refused) == {"stripe:ch_locked", "stripe:ch_paid"} and "USER_ERROR" in refused["stripe:ch_locked"]
