"""The Stripe sandbox's HTTP contract, through the official `stripe` package over loopback."""
from __future__ import annotations

from pathlib import Path

import pytest
import requests
import stripe

from ns_pipelines.sandbox.stripe.server import StripeSandboxServer


@pytest.fixture(scope="module")
def client(stripe_sandbox: StripeSandboxServer) -> stripe.StripeClient:
    return stripe_sandbox.client()


def test_a_wrong_or_missing_key_answers_401_with_stripes_error_body(stripe_sandbox: StripeSandboxServer) -> None:
    wrong = stripe.StripeClient("sk_test_wrong_key_123456789", base_addresses={"api": stripe_sandbox.base_url},
                                max_network_retries=0)
    with pytest.raises(stripe.AuthenticationError) as info:
        wrong.v1.charges.list()
    assert info.value.http_status == 401
    assert info.value.error.type == "invalid_request_error"
    assert "Invalid API Key provided: sk_test_" in info.value.error.message
    assert "wrong_key_123456789" not in info.value.error.message  # the key is masked

    resp = requests.get(stripe_sandbox.base_url + "/v1/charges", timeout=10)
    assert resp.status_code == 401
    assert "You did not provide an API key" in resp.json()["error"]["message"]
    assert resp.headers["Request-Id"].startswith("req_")


def test_every_answer_has_a_request_id_and_echoes_the_stripe_version(stripe_sandbox: StripeSandboxServer) -> None:
    headers = {"Authorization": f"Bearer {stripe_sandbox.api_key}", "Stripe-Version": "2024-06-20"}
    resp = requests.get(stripe_sandbox.base_url + "/v1/customers?limit=1", headers=headers, timeout=10)
    assert resp.status_code == 200
    assert resp.headers["Stripe-Version"] == "2024-06-20"
    assert resp.headers["Request-Id"].startswith("req_")
    body = resp.json()
    assert body["object"] == "list" and body["url"] == "/v1/customers" and len(body["data"]) == 1
    default = requests.get(stripe_sandbox.base_url + "/v1/customers?limit=1",
                           headers={"Authorization": headers["Authorization"]}, timeout=10)
    assert default.headers["Stripe-Version"] == stripe.api_version


def test_list_pages_forwards_and_backwards_newest_first(client: stripe.StripeClient) -> None:
    everything = list(client.v1.balance_transactions.list({"limit": 100}).auto_paging_iter())
    assert len(everything) > 25
    keys = [(bt.created, i) for i, bt in enumerate(everything)]
    assert [k[0] for k in keys] == sorted((k[0] for k in keys), reverse=True)

    first = client.v1.balance_transactions.list({"limit": 7})
    assert first.has_more and [bt.id for bt in first.data] == [bt.id for bt in everything[:7]]
    forwards = list(client.v1.balance_transactions.list({"limit": 7}).auto_paging_iter())
    assert [bt.id for bt in forwards] == [bt.id for bt in everything]

    # ending_before returns the `limit` objects just newer than the cursor, newest first
    page = client.v1.balance_transactions.list({"limit": 3, "ending_before": everything[10].id})
    assert [bt.id for bt in page.data] == [bt.id for bt in everything[7:10]]
    assert page.has_more
    # auto paging with ending_before walks back to the newest, oldest to newest
    backwards = list(client.v1.balance_transactions.list(
        {"limit": 4, "ending_before": everything[-1].id}).auto_paging_iter())
    assert [bt.id for bt in backwards] == [bt.id for bt in reversed(everything[:-1])]


def test_limit_must_be_between_1_and_100(client: stripe.StripeClient) -> None:
    for limit in (0, 101):
        with pytest.raises(stripe.InvalidRequestError) as info:
            client.v1.charges.list({"limit": limit})
        assert info.value.http_status == 400 and info.value.param == "limit"


def test_created_filters_exact_and_ranges(client: stripe.StripeClient) -> None:
    charges = list(client.v1.charges.list({"limit": 100}).auto_paging_iter())
    times = sorted({c.created for c in charges})
    middle = times[len(times) // 2]

    def ids(created: object) -> set[str]:
        return {c.id for c in client.v1.charges.list({"limit": 100, "created": created}).auto_paging_iter()}

    assert ids({"gte": middle}) == {c.id for c in charges if c.created >= middle}
    assert ids({"gt": middle}) == {c.id for c in charges if c.created > middle}
    assert ids({"lt": middle}) == {c.id for c in charges if c.created < middle}
    assert ids({"lte": middle, "gt": times[0]}) == {c.id for c in charges if times[0] < c.created <= middle}
    assert ids(middle) == {c.id for c in charges if c.created == middle} != set()


def test_expand_on_objects_and_lists(client: stripe.StripeClient, stripe_sandbox: StripeSandboxServer) -> None:
    charge_id = stripe_sandbox.scenarios()["invoice_ids"][0]
    charge = client.v1.charges.retrieve(charge_id, {"expand": ["balance_transaction", "customer"]})
    assert charge.balance_transaction.object == "balance_transaction"
    assert charge.balance_transaction.source == charge_id
    assert "netsuite_customer_id" in charge.customer.metadata

    page = client.v1.charges.list({"limit": 5, "expand": ["data.balance_transaction"]})
    assert all(c.balance_transaction is None or c.balance_transaction.object == "balance_transaction"
               for c in page.data)

    refund_id = stripe_sandbox.scenarios()["refund_partial"][0]
    refund = client.v1.refunds.retrieve(refund_id, {"expand": ["charge.customer"]})
    assert refund.charge.object == "charge" and refund.charge.customer.object == "customer"

    payout_id = stripe_sandbox.scenarios()["payouts_paid"][0]
    bts = client.v1.balance_transactions.list({"payout": payout_id, "limit": 100, "expand": ["data.source"]})
    assert {bt.source.object for bt in bts.data} >= {"charge", "payout"}
    deep = client.v1.balance_transactions.list({"payout": payout_id, "limit": 100,
                                                "expand": ["data.source.customer"]})
    assert any(bt.source.object == "charge" and bt.source.customer is not None
               and bt.source.customer.object == "customer" for bt in deep.data)

    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.charges.retrieve(charge_id, {"expand": ["amount"]})
    assert "cannot be expanded" in info.value.user_message


def test_missing_objects_and_unknown_parameters(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.charges.retrieve("ch_doesnotexist")
    assert info.value.http_status == 404 and info.value.code == "resource_missing"
    assert info.value.error.doc_url.startswith("https://docs.stripe.com/error-codes")
    assert info.value.param == "id"
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.charges.list({"colour": "blue"})  # type: ignore[typeddict-unknown-key]
    assert info.value.http_status == 400 and info.value.code == "parameter_unknown"


def test_payouts_list_their_balance_transactions_summing_to_the_amount(client: stripe.StripeClient,
                                                                       stripe_sandbox: StripeSandboxServer) -> None:
    scenarios = stripe_sandbox.scenarios()
    payout_ids = scenarios["payouts_paid"] + scenarios["payouts_in_transit"]
    assert len(scenarios["payouts_paid"]) >= 2
    for payout_id in payout_ids:
        payout = client.v1.payouts.retrieve(payout_id)
        assert payout.automatic is True
        bts = list(client.v1.balance_transactions.list({"payout": payout_id, "limit": 100}).auto_paging_iter())
        own = [bt for bt in bts if bt.type == "payout"]
        assert len(own) == 1 and own[0].amount == -payout.amount and own[0].source == payout_id
        assert own[0].id == payout.balance_transaction
        assert sum(bt.net for bt in bts if bt.type != "payout") == payout.amount
        for bt in bts:
            assert bt.net == bt.amount - bt.fee == bt.amount - sum(d.amount for d in bt.fee_details)
        if payout.status == "paid":
            assert payout.reconciliation_status == "completed"
        else:
            assert (payout.status, payout.reconciliation_status) == ("in_transit", "in_progress")


def test_balance_transaction_filters(client: stripe.StripeClient, stripe_sandbox: StripeSandboxServer) -> None:
    charge_id = stripe_sandbox.scenarios()["invoice_ids"][0]
    by_source = client.v1.balance_transactions.list({"source": charge_id})
    assert [bt.source for bt in by_source.data] == [charge_id]
    refunds = list(client.v1.balance_transactions.list({"type": "refund", "limit": 100}).auto_paging_iter())
    assert refunds and all(bt.type == "refund" and bt.amount < 0 and bt.reporting_category == "refund"
                           for bt in refunds)


def test_fx_charges_settle_in_usd_with_the_exchange_rate(client: stripe.StripeClient,
                                                         stripe_sandbox: StripeSandboxServer) -> None:
    from decimal import Decimal

    from ns_pipelines.money import round_money, to_major, to_minor

    fx = stripe_sandbox.scenarios()["fx"]
    assert stripe_sandbox.scenarios()["zero_decimal"] and stripe_sandbox.scenarios()["three_decimal"]
    charges = [client.v1.charges.retrieve(charge_id, {"expand": ["balance_transaction"]}) for charge_id in fx]
    settled = [charge for charge in charges if charge.balance_transaction is not None]
    assert settled, f"no FX charge of the seed has a balance transaction: {fx}"
    for charge in settled:
        bt = charge.balance_transaction
        assert charge.currency != "usd" and bt.currency == "usd"
        rate = Decimal(str(bt.exchange_rate))
        assert bt.amount == to_minor(round_money(to_major(charge.amount, charge.currency) * rate, "usd"), "usd")
    kwd = client.v1.charges.retrieve(stripe_sandbox.scenarios()["three_decimal"][0])
    assert kwd.currency == "kwd" and kwd.amount % 10 == 0
    jpy = client.v1.charges.retrieve(stripe_sandbox.scenarios()["zero_decimal"][0])
    assert jpy.currency == "jpy"


def test_events_filter_by_type_and_types_and_keep_30_days(client: stripe.StripeClient,
                                                          stripe_sandbox: StripeSandboxServer) -> None:
    events = list(client.v1.events.list({"limit": 100}).auto_paging_iter())
    now = stripe_sandbox.sandbox.clock.now()
    assert events and min(e.created for e in events) >= now - 30 * 86400
    # the seeded customers were created 60 days back: their charges exist, their events are gone
    assert not list(client.v1.events.list({"type": "customer.created"}).auto_paging_iter())
    assert client.v1.customers.list({"limit": 1}).data
    pre = stripe_sandbox.scenarios()["pre_integration"]
    old = [c for c in (client.v1.charges.retrieve(i) for i in pre) if c.created < now - 30 * 86400]
    assert old, "one seeded charge is older than the retention window"
    old_ids = {e.data.object.id for e in client.v1.events.list({"type": "charge.succeeded", "limit": 100})
               .auto_paging_iter()}
    assert old[0].id not in old_ids

    succeeded = list(client.v1.events.list({"type": "charge.succeeded", "limit": 100}).auto_paging_iter())
    assert succeeded and {e.type for e in succeeded} == {"charge.succeeded"}
    wildcard = list(client.v1.events.list({"type": "charge.dispute.*", "limit": 100}).auto_paging_iter())
    assert {e.type for e in wildcard} >= {"charge.dispute.created", "charge.dispute.funds_withdrawn",
                                          "charge.dispute.closed"}
    several = list(client.v1.events.list({"types": ["payout.paid", "refund.created"], "limit": 100})
                   .auto_paging_iter())
    assert {e.type for e in several} == {"payout.paid", "refund.created"}
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.events.list({"type": "payout.paid", "types": ["refund.created"]})

    event = client.v1.events.retrieve(succeeded[0].id)
    assert event.data.object.object == "charge" and event.api_version == stripe.api_version
    gte = list(client.v1.events.list({"created": {"gte": succeeded[-1].created}, "type": "charge.succeeded",
                                      "limit": 100}).auto_paging_iter())
    assert [e.id for e in gte] == [e.id for e in succeeded]


def test_the_module_level_api_works_too(stripe_sandbox: StripeSandboxServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stripe, "api_key", stripe_sandbox.api_key)
    monkeypatch.setattr(stripe, "api_base", stripe_sandbox.base_url)
    monkeypatch.setattr(stripe, "max_network_retries", 0)
    payout_id = stripe_sandbox.scenarios()["payouts_paid"][0]
    bts = stripe.BalanceTransaction.list(payout=payout_id, limit=100)
    assert {bt.type for bt in bts.data} >= {"payout"}
    assert stripe.Payout.retrieve(payout_id).id == payout_id


def test_unknown_urls_answer_stripes_404(stripe_sandbox: StripeSandboxServer) -> None:
    resp = requests.get(stripe_sandbox.base_url + "/v1/nothing_here",
                        headers={"Authorization": f"Bearer {stripe_sandbox.api_key}"}, timeout=10)
    assert resp.status_code == 404
    assert resp.json()["error"]["message"].startswith("Unrecognized request URL (GET: /v1/nothing_here)")


def test_concurrent_metadata_updates_of_different_keys_all_land(tmp_path: Path) -> None:
    """Stripe merges each update's metadata keys into the object's: parallel writers (the writeback
    links each part of a split payment from its own thread) must not lose one another's keys."""
    from concurrent.futures import ThreadPoolExecutor

    from ns_pipelines.sandbox.netsuite.server import SandboxServer
    from ns_pipelines.sandbox.stripe.server import StripeSandboxServer

    with SandboxServer(tmp_path / "ns", scale="tiny", seed=42) as netsuite, \
            StripeSandboxServer(tmp_path / "stripe", netsuite=netsuite, seed=42) as server:
        client = server.client()
        charge_id = server.scenarios()["invoice_id"][0]
        keys = [f"link_{i}" for i in range(24)]
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda key: server.client().v1.charges.update(charge_id, {"metadata": {key: "x"}}), keys))
        metadata = client.v1.charges.retrieve(charge_id).metadata.to_dict()
        assert set(keys) <= set(metadata)
