"""Stripe sandbox lifecycles that change data: each module gets its own NetSuite + Stripe pair."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
import stripe
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from ns_pipelines.sandbox.netsuite.server import SandboxServer
from ns_pipelines.sandbox.stripe.dispatch import IdempotencyKeys
from ns_pipelines.sandbox.stripe.server import StripeSandboxServer, wait_until

DAY = 86400


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SandboxServer, StripeSandboxServer]]:
    root = tmp_path_factory.mktemp("stripe_lifecycle")
    with SandboxServer(root / "ns", scale="tiny", seed=42) as netsuite, \
            StripeSandboxServer(root / "stripe", netsuite=netsuite, seed=42) as server:
        yield netsuite, server


@pytest.fixture(scope="module")
def server(pair: tuple[SandboxServer, StripeSandboxServer]) -> StripeSandboxServer:
    return pair[1]


@pytest.fixture(scope="module")
def client(server: StripeSandboxServer) -> stripe.StripeClient:
    return server.client()


def admin(server: StripeSandboxServer, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    resp = requests.request(method, server.admin_url + path, json=body, timeout=30,
                            headers={"Authorization": f"Bearer {server.admin_token}"})
    assert resp.status_code < 300, resp.text
    return resp.json()


def pay(client: stripe.StripeClient, amount: int, currency: str = "usd", method: str = "pm_card_visa",
        **extra: Any) -> stripe.PaymentIntent:
    return client.v1.payment_intents.create({"amount": amount, "currency": currency, "payment_method": method,
                                             "confirm": True, **extra})


def test_the_admin_api_needs_its_token(server: StripeSandboxServer) -> None:
    resp = requests.get(server.admin_url + "/scenarios", headers={"Authorization": f"Bearer {server.api_key}"},
                        timeout=10)
    assert resp.status_code == 401 and resp.json()["error"]["type"] == "invalid_request_error"


def test_concurrent_requests_with_one_idempotency_key_execute_once(client: stripe.StripeClient,
                                                                   server: StripeSandboxServer) -> None:
    start = threading.Barrier(8)

    def create(_: int) -> requests.Response:
        start.wait()
        return requests.post(server.base_url + "/v1/customers", data={"name": "Race Co"}, timeout=30,
                             headers={"Authorization": f"Bearer {server.api_key}", "Idempotency-Key": "race-1"})

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(create, range(8)))
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    assert sum("Idempotent-Replayed" not in a.headers for a in answers) == 1  # one executed, seven replayed
    names = [c.name for c in client.v1.customers.list({"limit": 100}).auto_paging_iter()]
    assert names.count("Race Co") == 1


def test_a_key_lock_makes_the_second_holder_wait_and_is_dropped_when_free() -> None:
    keys = IdempotencyKeys(sandbox=None)  # type: ignore[arg-type]  # lock() does not touch the sandbox
    entered, order = threading.Event(), []

    def second() -> None:
        entered.set()
        with keys.lock("k"):
            order.append("second")

    with keys.lock("k"):
        waiter = threading.Thread(target=second)
        waiter.start()
        entered.wait(5)
        assert wait_until(lambda: keys.locks_held() == 1 and keys._locks["k"].users == 2)  # noqa: SLF001
        order.append("first")
    waiter.join(5)
    assert order == ["first", "second"] and keys.locks_held() == 0
    for n in range(1000):
        with keys.lock(f"key-{n}"):
            assert keys.locks_held() == 1
    assert keys.locks_held() == 0


def test_idempotency_key_replays_the_first_answer_and_refuses_other_params(client: stripe.StripeClient,
                                                                           server: StripeSandboxServer) -> None:
    params = {"name": "Idem Co", "metadata": {"netsuite_customer_id": "101"}}
    first = client.v1.customers.create(params, {"idempotency_key": "cust-idem-1"})
    again = client.v1.customers.create(params, {"idempotency_key": "cust-idem-1"})
    assert again.id == first.id
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.last_response.headers
    assert len(client.v1.customers.list({"email": None, "limit": 100}).data) >= 1
    with pytest.raises(stripe.IdempotencyError) as info:
        client.v1.customers.create({"name": "Other Co"}, {"idempotency_key": "cust-idem-1"})
    assert info.value.http_status == 400 and info.value.error.type == "idempotency_error"
    names = [c.name for c in client.v1.customers.list({"limit": 100}).auto_paging_iter()]
    assert names.count("Idem Co") == 1 and "Other Co" not in names


def test_a_deleted_customer_keeps_its_id_and_leaves_the_list(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create({"name": "Gone Co"})
    deleted = client.v1.customers.delete(customer.id)
    assert deleted.deleted is True
    assert client.v1.customers.retrieve(customer.id).deleted is True
    assert customer.id not in {c.id for c in client.v1.customers.list({"limit": 100}).auto_paging_iter()}
    event = client.v1.events.list({"type": "customer.deleted", "limit": 1}).data[0]
    assert event.data.object.id == customer.id and event.data.object.name == "Gone Co"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.customers.delete(customer.id)


def test_metadata_updates_on_customers_and_charges(client: stripe.StripeClient, server: StripeSandboxServer) -> None:
    customer = client.v1.customers.create({"name": "Meta Co", "metadata": {"a": "1", "b": "2"}})
    updated = client.v1.customers.update(customer.id, {"metadata": {"a": "", "c": "3"}})
    assert updated.metadata.to_dict() == {"b": "2", "c": "3"}
    charge_id = server.scenarios()["overpayment"][0]
    charge = client.v1.charges.update(charge_id, {"metadata": {"netsuite_customer_payment_id": "4242"}})
    assert charge.metadata["netsuite_customer_payment_id"] == "4242"
    assert "netsuite_invoice_id" in charge.metadata
    event = client.v1.events.list({"type": "charge.updated", "limit": 1}).data[0]
    assert event.data.object.id == charge_id
    assert event.data.previous_attributes.metadata.to_dict() == {
        k: v for k, v in charge.metadata.to_dict().items() if k != "netsuite_customer_payment_id"}
    assert event.request.id.startswith("req_")


def test_card_payment_makes_a_charge_with_fees_then_refunds(client: stripe.StripeClient,
                                                           server: StripeSandboxServer) -> None:
    pi = pay(client, 10_000, metadata={"netsuite_invoice_id": "1052"})
    assert pi.status == "succeeded" and pi.amount_received == 10_000
    charge = client.v1.charges.retrieve(pi.latest_charge, {"expand": ["balance_transaction"]})
    assert charge.status == "succeeded" and charge.paid and charge.payment_intent == pi.id
    assert charge.metadata["netsuite_invoice_id"] == "1052"
    bt = charge.balance_transaction
    assert (bt.type, bt.reporting_category, bt.amount, bt.fee, bt.net) == ("charge", "charge", 10_000, 320, 9_680)
    assert bt.status == "pending" and bt.available_on > bt.created
    assert bt.fee_details[0].type == "stripe_fee"

    partial = client.v1.refunds.create({"charge": charge.id, "amount": 2_500, "metadata": {"netsuite_credit_memo_id": "9"}},
                                       {"idempotency_key": "refund:cm-9"})
    assert partial.status == "succeeded" and partial.amount == 2_500
    replay = client.v1.refunds.create({"charge": charge.id, "amount": 2_500, "metadata": {"netsuite_credit_memo_id": "9"}},
                                      {"idempotency_key": "refund:cm-9"})
    assert replay.id == partial.id
    rest = client.v1.refunds.create({"payment_intent": pi.id})
    assert rest.amount == 7_500
    charge = client.v1.charges.retrieve(charge.id)
    assert charge.refunded and charge.amount_refunded == 10_000
    assert {r.id for r in client.v1.refunds.list({"charge": charge.id}).data} == {partial.id, rest.id}
    listed = requests.get(f"{server.base_url}/v1/charges/{charge.id}/refunds", timeout=10,
                          headers={"Authorization": f"Bearer {server.api_key}"}).json()
    assert [r["id"] for r in listed["data"]] == [rest.id, partial.id] and listed["url"].endswith("/refunds")
    refund_bt = client.v1.balance_transactions.retrieve(partial.balance_transaction)
    assert (refund_bt.type, refund_bt.amount, refund_bt.fee, refund_bt.net) == ("refund", -2_500, 0, -2_500)
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.refunds.create({"charge": charge.id, "amount": 1})
    assert info.value.code == "charge_already_refunded"


def test_declined_cards_raise_card_errors(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.CardError) as info:
        pay(client, 5_000, method="pm_card_chargeDeclinedInsufficientFunds")
    assert info.value.http_status == 402 and info.value.code == "card_declined"
    assert info.value.error.decline_code == "insufficient_funds"
    charge = client.v1.charges.retrieve(info.value.error.charge)
    assert charge.status == "failed" and charge.balance_transaction is None
    pi = client.v1.payment_intents.retrieve(info.value.error.payment_intent.id)
    assert pi.status == "requires_payment_method" and pi.last_payment_error.code == "card_declined"
    with pytest.raises(stripe.CardError):
        client.v1.charges.create({"amount": 1_000, "currency": "usd", "source": "tok_chargeDeclined"})


def test_amount_rules_for_zero_and_three_decimal_currencies(client: stripe.StripeClient) -> None:
    jpy = pay(client, 5_000, "jpy")
    bt = client.v1.balance_transactions.retrieve(client.v1.charges.retrieve(jpy.latest_charge).balance_transaction)
    assert bt.currency == "usd" and 2_000 < bt.amount < 5_000  # ¥5,000 is about $33.56
    kwd = pay(client, 12_340, "kwd")
    bt = client.v1.balance_transactions.retrieve(client.v1.charges.retrieve(kwd.latest_charge).balance_transaction)
    assert 3_900 < bt.amount < 4_100  # 12.340 KWD is about $40.17
    with pytest.raises(stripe.InvalidRequestError) as info:
        pay(client, 12_345, "kwd")
    assert info.value.param == "amount"
    with pytest.raises(stripe.InvalidRequestError):
        pay(client, 100, "xyz")


def test_disputes_withdraw_then_reinstate_or_keep_the_funds(client: stripe.StripeClient,
                                                            server: StripeSandboxServer) -> None:
    won_charge = client.v1.charges.retrieve(pay(client, 20_000).latest_charge)
    lost_charge = client.v1.charges.retrieve(pay(client, 30_000).latest_charge)
    won = admin(server, "POST", "/disputes", {"charge": won_charge.id})
    lost = admin(server, "POST", "/disputes", {"charge": lost_charge.id, "reason": "product_not_received"})
    dispute = client.v1.disputes.retrieve(won["id"])
    assert dispute.status == "needs_response" and dispute.amount == 20_000
    withdrawal = dispute.balance_transactions[0]
    assert (withdrawal.type, withdrawal.reporting_category, withdrawal.amount, withdrawal.fee,
            withdrawal.net) == ("adjustment", "dispute", -20_000, 1_500, -21_500)
    assert client.v1.charges.retrieve(won_charge.id).disputed is True
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.refunds.create({"charge": won_charge.id})
    assert info.value.code == "charge_disputed"

    admin(server, "POST", f"/disputes/{won['id']}/close", {"outcome": "won"})
    dispute = client.v1.disputes.retrieve(won["id"])
    assert dispute.status == "won" and len(dispute.balance_transactions) == 2
    reversal = dispute.balance_transactions[1]
    assert (reversal.reporting_category, reversal.amount, reversal.fee, reversal.net) == (
        "dispute_reversal", 20_000, -1_500, 21_500)
    closed = client.v1.disputes.close(lost["id"])
    assert closed.status == "lost" and len(closed.balance_transactions) == 1
    types = [e.type for e in client.v1.events.list({"type": "charge.dispute.*", "limit": 20}).data
             if e.data.object.id in {won["id"], lost["id"]}]
    assert sorted(types) == sorted(["charge.dispute.created", "charge.dispute.funds_withdrawn"] * 2
                                   + ["charge.dispute.funds_reinstated", "charge.dispute.closed",
                                      "charge.dispute.closed"])
    assert {d.id for d in client.v1.disputes.list({"charge": lost_charge.id}).data} == {lost["id"]}


def test_ach_debits_stay_pending_then_succeed_or_fail_late(client: stripe.StripeClient,
                                                           server: StripeSandboxServer) -> None:
    ok = pay(client, 50_000, method="pm_usBankAccount", payment_method_types=["us_bank_account"])
    bad = admin(server, "POST", "/payments", {"amount": 40_000, "currency": "usd", "method": "ach"})
    assert ok.status == "processing"
    charge = client.v1.charges.retrieve(ok.latest_charge, {"expand": ["balance_transaction"]})
    assert charge.status == "pending" and charge.id.startswith("py_") and not charge.paid
    assert charge.balance_transaction.status == "pending" and charge.balance_transaction.type == "payment"

    failed = admin(server, "POST", f"/ach/{bad['charge']['id']}/fail", {"failure_code": "account_closed"})
    assert failed["status"] == "failed" and failed["failure_code"] == "account_closed"
    failure_bt = client.v1.balance_transactions.retrieve(failed["failure_balance_transaction"])
    assert (failure_bt.type, failure_bt.reporting_category, failure_bt.amount) == (
        "payment_failure_refund", "charge_failure", -40_000)
    assert client.v1.payment_intents.retrieve(bad["payment_intent"]["id"]).status == "requires_payment_method"

    # four days on the clock settle the other one by itself
    admin(server, "POST", "/clock", {"advance_seconds": 5 * DAY})
    charge = client.v1.charges.retrieve(ok.latest_charge, {"expand": ["balance_transaction"]})
    assert charge.status == "succeeded" and charge.paid
    assert client.v1.payment_intents.retrieve(ok.id).status == "succeeded"
    assert charge.balance_transaction.status == "available"
    types = {e.type for e in client.v1.events.list({"limit": 100}).auto_paging_iter() if
             getattr(e.data.object, "id", None) in {charge.id, ok.id}}
    assert {"charge.pending", "charge.succeeded", "payment_intent.processing", "payment_intent.succeeded"} <= types


def test_admin_payout_collects_available_transactions_and_gets_paid(client: stripe.StripeClient,
                                                                    server: StripeSandboxServer) -> None:
    available = client.v1.balance.retrieve().available[0].amount  # the seeded open dispute may make it negative
    pay(client, max(77_700, (10_000 - available) * 11 // 10))  # fees come off the payment
    admin(server, "POST", "/clock", {"advance_seconds": 3 * DAY})
    balance = client.v1.balance.retrieve()
    payout = admin(server, "POST", "/payouts", {"paid": False})
    assert payout["amount"] == balance.available[0].amount
    assert payout["status"] == "in_transit" and payout["reconciliation_status"] == "in_progress"
    bts = list(client.v1.balance_transactions.list({"payout": payout["id"], "limit": 100}).auto_paging_iter())
    assert sum(bt.net for bt in bts if bt.type != "payout") == payout["amount"] > 0
    assert [bt.amount for bt in bts if bt.type == "payout"] == [-payout["amount"]]
    assert all(bt.status == "available" for bt in bts)
    paid = admin(server, "POST", f"/payouts/{payout['id']}/pay")
    assert paid["status"] == "paid" and paid["reconciliation_status"] == "completed"
    events = [e.type for e in client.v1.events.list({"type": "payout.*", "limit": 10}).data
              if e.data.object.id == payout["id"]]
    assert sorted(events) == ["payout.created", "payout.paid", "payout.reconciliation_completed"]
    with pytest.raises(requests.HTTPError):
        resp = requests.post(server.admin_url + "/payouts", json={}, timeout=10,
                             headers={"Authorization": f"Bearer {server.admin_token}"})
        assert resp.json()["error"]["code"] == "balance_insufficient"
        resp.raise_for_status()
    assert client.v1.balance.retrieve().available[0].amount == 0


def test_a_failed_payout_returns_its_amount_to_the_next_payout(client: stripe.StripeClient,
                                                                server: StripeSandboxServer) -> None:
    available = client.v1.balance.retrieve().available[0].amount
    pay(client, max(50_000, (10_000 - available) * 11 // 10))
    admin(server, "POST", "/clock", {"advance_seconds": 3 * DAY})
    first = admin(server, "POST", "/payouts", {"paid": True})
    failed = admin(server, "POST", f"/payouts/{first['id']}/fail", {"failure_code": "account_closed"})
    assert failed["status"] == "failed" and failed["failure_code"] == "account_closed"
    returned = client.v1.balance_transactions.retrieve(failed["failure_balance_transaction"])
    assert (returned.type, returned.reporting_category, returned.amount) == (
        "payout_failure", "payout_reversal", first["amount"])
    again = admin(server, "POST", "/payouts", {"paid": True})
    swept = list(client.v1.balance_transactions.list({"payout": again["id"], "limit": 100}).auto_paging_iter())
    assert returned.id in {bt.id for bt in swept} and again["amount"] == first["amount"]
    assert client.v1.events.list({"type": "payout.failed", "limit": 1}).data[0].data.object.id == first["id"]


def test_admin_payment_for_netsuite_invoices(client: stripe.StripeClient, server: StripeSandboxServer,
                                             pair: tuple[SandboxServer, StripeSandboxServer]) -> None:
    netsuite = pair[0]
    row = netsuite.account.store.connect().execute(
        "SELECT id, entity, foreignamountunpaid FROM \"transaction\" WHERE type = 'CustInvc' AND status = 'A' "
        "AND intercompany = 'F' AND currency = 1 ORDER BY id LIMIT 1").fetchone()
    made = admin(server, "POST", "/payments", {"invoice_ids": [str(row["id"])]})
    charge = client.v1.charges.retrieve(made["charge"]["id"], {"expand": ["customer"]})
    assert charge.metadata["netsuite_invoice_id"] == str(row["id"])
    assert charge.amount == round(row["foreignamountunpaid"] * 100) and charge.currency == "usd"
    assert charge.customer.metadata["netsuite_customer_id"] == str(row["entity"])


class Receiver:
    """A webhook endpoint on loopback that fails its first `failures` deliveries."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.received: list[tuple[bytes, str]] = []
        self.attempts = 0
        self._httpd = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self._httpd.socket.getsockname()[1]}/stripe"
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    @Request.application
    def app(self, request: Request) -> Response:
        self.attempts += 1
        if self.attempts <= self.failures:
            return Response("not yet", status=503)
        self.received.append((request.get_data(), request.headers["Stripe-Signature"]))
        return Response("ok")

    def close(self) -> None:
        self._httpd.shutdown()


def test_webhooks_are_signed_like_stripe_and_retried(client: stripe.StripeClient, server: StripeSandboxServer) -> None:
    receiver = Receiver(failures=2)
    try:
        admin(server, "PATCH", "/settings", {"webhook_url": receiver.url, "webhook_retry_base_s": 0.05})
        pi = pay(client, 4_200, metadata={"hook": "yes"})
        wanted = [b'"payment_intent.created"', b'"charge.succeeded"', b'"payment_intent.succeeded"']
        assert wait_until(lambda: all(any(w in body for body, _ in receiver.received) for w in wanted), 15)
        assert receiver.attempts > len(receiver.received)  # the first answers were 503s, retried
        for body, header in receiver.received:
            assert stripe.WebhookSignature.verify_header(body.decode(), header, server.webhook_secret, tolerance=300)
            event = client.construct_event(body, header, server.webhook_secret)
            assert event.livemode is False
        with pytest.raises(stripe.SignatureVerificationError):
            stripe.WebhookSignature.verify_header(receiver.received[0][0].decode(), receiver.received[0][1],
                                                  "whsec_not_the_secret")
        types = [client.construct_event(b, h, server.webhook_secret).type for b, h in receiver.received]
        assert {"payment_intent.created", "charge.succeeded", "payment_intent.succeeded"} <= set(types)
        delivered = client.v1.events.list({"delivery_success": True, "limit": 100}).data
        assert pi.latest_charge in {getattr(e.data.object, "id", None) for e in delivered}

        count = len(receiver.received)
        event_id = client.construct_event(*receiver.received[0], server.webhook_secret).id
        assert admin(server, "POST", "/events/redeliver", {"event_ids": [event_id]})["queued"] == 1
        assert wait_until(lambda: len(receiver.received) > count, 10)
        assert client.construct_event(*receiver.received[-1], server.webhook_secret).id == event_id
    finally:
        admin(server, "PUT", "/webhook", {"url": None})
        receiver.close()


def test_a_restart_keeps_the_account(tmp_path: Path, pair: tuple[SandboxServer, StripeSandboxServer]) -> None:
    netsuite = pair[0]
    with StripeSandboxServer(tmp_path, netsuite=netsuite, seed=7) as first:
        key, charges = first.api_key, {c.id for c in first.client().v1.charges.list({"limit": 100}).auto_paging_iter()}
        scenarios = first.scenarios()
    with StripeSandboxServer(tmp_path, netsuite=netsuite, seed=99) as again:
        assert again.api_key == key and again.scenarios() == scenarios
        assert {c.id for c in again.client().v1.charges.list({"limit": 100}).auto_paging_iter()} == charges


def test_an_inquiry_moves_no_money_and_refund_metadata_shows_on_the_charge(client: stripe.StripeClient,
                                                                           server: StripeSandboxServer) -> None:
    charge = client.v1.charges.retrieve(pay(client, 6_000).latest_charge)
    inquiry = admin(server, "POST", "/disputes", {"charge": charge.id, "inquiry": True})
    assert inquiry["status"] == "warning_needs_response" and inquiry["balance_transactions"] == []
    closed = admin(server, "POST", f"/disputes/{inquiry['id']}/close", {"outcome": "won"})
    assert closed["status"] == "warning_closed" and closed["balance_transactions"] == []

    other = client.v1.charges.retrieve(pay(client, 8_000).latest_charge)
    refund = client.v1.refunds.create({"charge": other.id, "amount": 1_000})
    client.v1.refunds.update(refund.id, {"metadata": {"netsuite_customer_refund_id": "77"}})
    embedded = client.v1.charges.retrieve(other.id).refunds.data
    assert [r.id for r in embedded] == [refund.id]
    assert embedded[0].metadata["netsuite_customer_refund_id"] == "77"


def test_an_event_cursor_walks_oldest_to_newest_with_ending_before(client: stripe.StripeClient) -> None:
    newest_first = list(client.v1.events.list({"limit": 100}).auto_paging_iter())
    oldest = newest_first[-1]
    walked = list(client.v1.events.list({"limit": 5, "ending_before": oldest.id}).auto_paging_iter())
    assert [e.id for e in walked] == [e.id for e in reversed(newest_first[:-1])]


def test_injected_faults_are_retried_by_the_sdk_without_duplicates(client: stripe.StripeClient,
                                                                   server: StripeSandboxServer) -> None:
    try:
        admin(server, "PATCH", "/settings", {"fault_429_rate": 1.0})
        with pytest.raises(stripe.RateLimitError):
            client.v1.customers.list()
        admin(server, "PATCH", "/settings", {"fault_429_rate": 0.0, "fault_500_rate": 1.0})
        with pytest.raises(stripe.APIError) as info:
            client.v1.customers.create({"name": "Never"})
        assert info.value.http_status == 500
        admin(server, "PATCH", "/settings", {"fault_500_rate": 0.3, "fault_lost_answer_rate": 0.5})
        retrying = server.client(max_network_retries=10)
        made = [retrying.v1.customers.create({"name": f"Flaky {n}"}) for n in range(4)]
    finally:
        admin(server, "PATCH", "/settings", {"fault_500_rate": 0.0, "fault_429_rate": 0.0,
                                             "fault_lost_answer_rate": 0.0})
    assert any(c.last_response.headers.get("Idempotent-Replayed") == "true" for c in made)
    names = [c.name for c in client.v1.customers.list({"limit": 100}).auto_paging_iter()]
    assert "Never" not in names
    assert sorted(n for n in names if n.startswith("Flaky")) == sorted(c.name for c in made)
    resp = requests.patch(server.admin_url + "/settings", json={"fault_500_rate": 2}, timeout=10,
                          headers={"Authorization": f"Bearer {server.admin_token}"})
    assert resp.status_code == 400
