"""The Stripe seed: linked to the NetSuite sandbox's customers and invoices, deterministic, read-only."""
from __future__ import annotations

import hashlib
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import stripe

from ns_pipelines.money import to_minor
from ns_pipelines.sandbox.netsuite.server import SandboxAccount, SandboxServer
from ns_pipelines.sandbox.stripe.netsuite_view import NetSuiteView
from ns_pipelines.sandbox.stripe.server import StripeSandbox, StripeSandboxServer

INVOICE_KEYS = ("netsuite_invoice_id", "netsuite_invoice_ids")
REQUIRED_SCENARIOS = (
    "invoice_id", "invoice_ids", "split_customers", "invoice_number_description", "invoice_number_metadata",
    "customer_only", "overpayment", "partial_payment", "currency_mismatch", "unmatched", "refund_full",
    "refund_partial", "dispute_open", "dispute_won", "dispute_lost", "ach_pending", "ach_succeeded", "ach_failed",
    "fx", "zero_decimal", "three_decimal", "pre_integration", "payouts_paid", "payout_with_pre_integration",
    "payouts_in_transit")


@pytest.fixture(scope="module")
def client(stripe_sandbox: StripeSandboxServer) -> stripe.StripeClient:
    return stripe_sandbox.client()


@pytest.fixture(scope="module")
def invoices(sandbox: SandboxServer) -> dict[str, Any]:
    return {str(i.id): i for i in NetSuiteView(sandbox).invoices()}


def linked_invoice_ids(metadata: dict[str, str]) -> list[str]:
    ids = metadata.get("netsuite_invoice_ids") or metadata.get("netsuite_invoice_id") or ""
    return [i for i in ids.split(",") if i]


def test_every_scenario_is_seeded_even_on_a_tiny_account(stripe_sandbox: StripeSandboxServer) -> None:
    scenarios = stripe_sandbox.scenarios()
    assert [name for name in REQUIRED_SCENARIOS if not scenarios.get(name)] == []


def test_customers_are_the_netsuite_customers(client: stripe.StripeClient, sandbox: SandboxServer,
                                              stripe_sandbox: StripeSandboxServer) -> None:
    rows = sandbox.account.store.connect().execute(
        "SELECT id, companyname FROM customer WHERE isinactive = 'F' AND representingsubsidiary IS NULL").fetchall()
    linked = {c.metadata["netsuite_customer_id"]: c for c in client.v1.customers.list({"limit": 100}).auto_paging_iter()
              if "netsuite_customer_id" in c.metadata}
    assert set(linked) == {str(r["id"]) for r in rows}
    assert {linked[str(r["id"])].name for r in rows} == {r["companyname"] for r in rows}
    assert stripe_sandbox.sandbox.catalogue()["customers"] == {k: c.id for k, c in linked.items()}


def test_charges_name_invoices_of_their_customers(client: stripe.StripeClient, stripe_sandbox: StripeSandboxServer,
                                                  invoices: dict[str, Any]) -> None:
    scenarios = stripe_sandbox.scenarios()
    customers = {c.id: c for c in client.v1.customers.list({"limit": 100}).auto_paging_iter()}
    checked = 0
    for charge in client.v1.charges.list({"limit": 100}).auto_paging_iter():
        metadata = charge.metadata.to_dict()
        ids = linked_invoice_ids(metadata)
        if not ids:
            continue
        assert all(i in invoices for i in ids), f"{charge.id} names invoices NetSuite does not have: {ids}"
        owners = {invoices[i].customer for i in ids}
        stripe_customer = customers[charge.customer]
        assert str(invoices[ids[0]].customer) == stripe_customer.metadata["netsuite_customer_id"]
        if charge.id in scenarios["split_customers"]:
            assert len(owners) >= 2
        else:
            assert len(owners) == 1
        if charge.id in scenarios["currency_mismatch"]:
            assert charge.currency != invoices[ids[0]].currency
        else:
            assert {invoices[i].currency for i in ids} == {charge.currency}
        checked += 1
    assert checked >= 8


def test_each_scenario_has_its_defining_shape(client: stripe.StripeClient, stripe_sandbox: StripeSandboxServer,
                                              invoices: dict[str, Any]) -> None:
    s = stripe_sandbox.scenarios()
    get = client.v1.charges.retrieve

    def only(name: str) -> stripe.Charge:
        return get(s[name][0])

    over = only("overpayment")
    assert over.amount > invoices[over.metadata["netsuite_invoice_id"]].unpaid
    assert all(get(c).amount < invoices[get(c).metadata["netsuite_invoice_id"]].unpaid for c in s["partial_payment"])
    described = only("invoice_number_description")
    assert not linked_invoice_ids(described.metadata.to_dict())
    assert any(inv.tranid in described.description for inv in invoices.values())
    by_number = only("invoice_number_metadata")
    assert by_number.metadata["netsuite_invoice_number"] in {i.tranid for i in invoices.values()}
    assert not linked_invoice_ids(by_number.metadata.to_dict())
    for charge_id in s["customer_only"] + s["unmatched"]:
        charge = get(charge_id, {"expand": ["customer"]})
        assert not linked_invoice_ids(charge.metadata.to_dict()) and "netsuite_invoice_number" not in charge.metadata
        assert not any(inv.tranid in (charge.description or "") for inv in invoices.values())
        linked = charge.customer is not None and "netsuite_customer_id" in charge.customer.metadata
        assert linked == (charge_id in s["customer_only"])
    assert {get(c).status for c in s["ach_pending"]} == {"pending"}
    assert {get(c).status for c in s["ach_succeeded"]} == {"succeeded"}
    failed = only("ach_failed")
    assert failed.status == "failed" and failed.failure_balance_transaction
    assert linked_invoice_ids(failed.metadata.to_dict()) or failed.id in s["on_account"]
    for name, status in (("dispute_open", "needs_response"), ("dispute_won", "won"), ("dispute_lost", "lost")):
        assert client.v1.disputes.retrieve(s[name][0]).status == status
    assert client.v1.refunds.retrieve(s["refund_full"][0]).amount == get(
        client.v1.refunds.retrieve(s["refund_full"][0]).charge).amount
    partial = client.v1.refunds.retrieve(s["refund_partial"][0])
    assert partial.amount < get(partial.charge).amount


def test_charges_sharing_an_open_invoice_add_up_to_its_open_amount(stripe_sandbox: StripeSandboxServer,
                                                                   invoices: dict[str, Any]) -> None:
    catalogue = stripe_sandbox.sandbox.catalogue()
    skip = set(catalogue["scenarios"]["overpayment"] + catalogue["scenarios"]["currency_mismatch"]
               + catalogue["scenarios"]["pre_integration"] + catalogue["scenarios"]["paid_after_ach_failure"])
    paid: dict[str, int] = defaultdict(int)
    for charge_id, detail in catalogue["details"].items():
        if charge_id in skip or not charge_id.startswith(("ch_", "py_")) or len(detail["netsuite_invoice_ids"]) != 1:
            continue
        paid[detail["netsuite_invoice_ids"][0]] += detail["amount"]
    shared = [i for i in paid if sum(1 for d in catalogue["details"].values()
                                    if d.get("netsuite_invoice_ids") == [i]) > 1]
    assert shared
    for invoice_id, amount in paid.items():
        assert amount == invoices[invoice_id].unpaid, invoice_id


def test_a_payout_mixes_payments_from_before_and_after_the_integration_start(
        client: stripe.StripeClient, stripe_sandbox: StripeSandboxServer) -> None:
    catalogue = stripe_sandbox.sandbox.catalogue()
    start = catalogue["integration_start"]
    payout_id = catalogue["scenarios"]["payout_with_pre_integration"][0]
    sources = [bt.source for bt in client.v1.balance_transactions.list({"payout": payout_id, "limit": 100})
               .auto_paging_iter() if bt.type == "charge"]
    created = {client.v1.charges.retrieve(s).created for s in sources}
    assert min(created) < start < max(created)
    for charge_id in catalogue["scenarios"]["pre_integration"]:
        assert client.v1.charges.retrieve(charge_id).created < start


def netsuite_fingerprint(account: SandboxAccount) -> str:
    conn = account.store.connect()
    digest = hashlib.sha256()
    for table in ("customer", "transaction", "transactionline", "nexttransactionlinelink", "deletedrecord"):
        for row in conn.execute(f'SELECT * FROM "{table}" ORDER BY 1, 2'):
            digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def bodies(sandbox: StripeSandbox) -> list[tuple[str, str]]:
    return [tuple(r) for r in sandbox.store.connect().execute("SELECT id, body FROM stripe_object ORDER BY seq")]


def test_the_seed_is_deterministic_and_never_writes_to_netsuite(tmp_path: Path) -> None:
    netsuite = SandboxAccount(tmp_path / "ns", scale="tiny", seed=42)
    netsuite.ensure_seeded()
    before = netsuite_fingerprint(netsuite)
    first = StripeSandbox(tmp_path / "a", netsuite, seed=5)
    second = StripeSandbox(tmp_path / "b", netsuite.store, seed=5)
    other = StripeSandbox(tmp_path / "c", tmp_path / "ns", seed=6)
    for stripe_sandbox in (first, second, other):
        stripe_sandbox.ensure_seeded()
    assert netsuite_fingerprint(netsuite) == before
    assert bodies(first) == bodies(second) and len(bodies(first)) > 100
    assert first.scenarios() == second.scenarios()
    assert {i for i, _ in bodies(first)} != {i for i, _ in bodies(other)}
    assert [name for name in REQUIRED_SCENARIOS if not other.scenarios().get(name)] == []


def test_reset_reseeds_the_same_account(tmp_path: Path, sandbox: SandboxServer) -> None:
    stripe_sandbox = StripeSandbox(tmp_path, sandbox, seed=3)
    stripe_sandbox.ensure_seeded()
    seeded = bodies(stripe_sandbox)
    stripe_sandbox.ledger.create_customer(name="extra")
    stripe_sandbox.advance_clock(86400)
    stripe_sandbox.reset()
    assert bodies(stripe_sandbox) == seeded and stripe_sandbox.clock.offset == 0


def test_open_amounts_convert_exactly(invoices: dict[str, Any], sandbox: SandboxServer) -> None:
    from decimal import Decimal

    row = sandbox.account.store.connect().execute(
        "SELECT t.id, t.foreignamountunpaid, lower(c.symbol) FROM \"transaction\" t JOIN currency c ON c.id = t.currency "
        "WHERE t.type = 'CustInvc' AND t.status = 'A' AND t.intercompany = 'F' AND c.symbol = 'JPY' LIMIT 1").fetchone()
    assert row is not None, "the seed has no open JPY invoice to convert"
    assert invoices[str(row[0])].unpaid == to_minor(Decimal(str(row[1])), "jpy")


def test_admin_reset_and_a_restart_keep_keys_webhook_url_and_clock(tmp_path: Path, sandbox: SandboxServer) -> None:
    import requests

    with StripeSandboxServer(tmp_path, netsuite=sandbox, seed=11, webhook_url="http://127.0.0.1:9/hook") as server:
        headers = {"Authorization": f"Bearer {server.admin_token}"}
        seeded = server.scenarios()
        client = server.client()
        client.v1.customers.create({"name": "Added later"})
        moved = requests.post(server.admin_url + "/clock", json={"advance_seconds": 3600}, headers=headers,
                              timeout=10).json()
        assert moved["offset_seconds"] == 3600
        key = server.api_key
    with StripeSandboxServer(tmp_path, netsuite=sandbox, seed=11) as again:
        assert again.api_key == key
        assert again.sandbox.settings.webhook_url == "http://127.0.0.1:9/hook"
        assert again.sandbox.clock.offset == 3600
        headers = {"Authorization": f"Bearer {again.admin_token}"}
        reset = requests.post(again.admin_url + "/reset", json={}, headers=headers, timeout=30).json()
        assert reset["scenarios"] == seeded
        names = [c.name for c in again.client().v1.customers.list({"limit": 100}).auto_paging_iter()]
        assert "Added later" not in names and again.sandbox.clock.offset == 0


def sdk_fields(model: type) -> set[str]:
    """The fields the stripe package's model class declares (its annotations, private ones left out)."""
    names: set[str] = set()
    for klass in model.__mro__:
        names |= {n for n in getattr(klass, "__annotations__", {}) if not n.startswith("_") and n != "OBJECT_NAME"}
    return names


def test_objects_carry_only_fields_the_stripe_package_knows(stripe_sandbox: StripeSandboxServer) -> None:
    models = {"charge": stripe.Charge, "customer": stripe.Customer, "payment_intent": stripe.PaymentIntent,
              "refund": stripe.Refund, "dispute": stripe.Dispute, "balance_transaction": stripe.BalanceTransaction,
              "payout": stripe.Payout, "event": stripe.Event}
    store = stripe_sandbox.sandbox.store
    for kind, model in models.items():
        known = sdk_fields(model)
        bodies = store.select(kind)
        assert bodies, kind
        for body in bodies:
            assert set(body) <= known, (kind, set(body) - known)
        if kind in {"balance_transaction", "payout"}:
            assert all(set(body) == known for body in bodies), kind
