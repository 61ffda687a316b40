"""Stripe sync against the Stripe sandbox over loopback (the real stripe SDK), into SQLite and
PostgreSQL: a full backfill equals the sandbox's objects row for row; incremental passes through
events after admin actions (new charges, refund, dispute, payout paid, customer update); the
30-day events retention fallback; targeted re-fetches.

Ground truth is the sandbox's own store (DATA_DIR/stripe.sqlite3, one JSON body per object, plus
the payout that swept each balance transaction), read directly, not through the API.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import Engine, select

from ns_pipelines.sandbox.netsuite.server import SandboxServer
from ns_pipelines.sandbox.stripe.server import StripeSandboxServer
from ns_pipelines.stripe import OBJECT_TYPES, StripeAPI, StripeConfig, sync_objects, sync_stripe
from ns_pipelines.stripe.state import Backfill, StripeState, load_state, save_state
from ns_pipelines.warehouse import create_warehouse_engine, read_cursor, upgrade_warehouse
from ns_pipelines.warehouse.sync_state import PassState, PassWindow, read_pass_state, write_pass_state
from ns_pipelines.warehouse.tables.stripe import TABLES_BY_OBJECT

# Columns compared with the sandbox's JSON, per object type: (warehouse column, JSON field).
SAME = {
    "customer": ["email", "name", "currency"],
    "charge": ["amount", "amount_captured", "amount_refunded", "currency", "status", "paid", "captured", "refunded",
               "disputed", "payment_intent", "customer", "balance_transaction", "failure_code", "description"],
    "refund": ["charge", "amount", "currency", "status", "reason", "balance_transaction"],
    "dispute": ["charge", "amount", "currency", "status", "reason", "is_charge_refundable"],
    "payout": ["amount", "currency", "status", "automatic", "reconciliation_status", "balance_transaction"],
    "balance_transaction": ["amount", "fee", "net", "currency", "type", "reporting_category", "source", "status"],
}


@pytest.fixture
def stripe_account(tmp_path: Path) -> Iterator[StripeSandboxServer]:
    with SandboxServer(tmp_path / "netsuite", scale="tiny", seed=42) as netsuite, \
            StripeSandboxServer(tmp_path / "stripe", netsuite=netsuite, seed=42) as stripe_sandbox:
        yield stripe_sandbox


@pytest.fixture
def engine(fresh_warehouse_url: str) -> Iterator[Engine]:
    engine = create_warehouse_engine(fresh_warehouse_url)
    upgrade_warehouse(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def api(stripe_account: StripeSandboxServer) -> Iterator[StripeAPI]:
    client = StripeAPI(StripeConfig(api_key=stripe_account.api_key, api_base=stripe_account.base_url, max_network_retries=1))
    yield client
    client.close()


def admin(stripe_account: StripeSandboxServer, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    answer = requests.request(method, stripe_account.admin_url + path, json=body or {}, timeout=30,
                              headers={"Authorization": f"Bearer {stripe_account.admin_token}"})
    assert answer.status_code < 300, answer.text
    return answer.json()


def truth(stripe_account: StripeSandboxServer, object_type: str) -> dict[str, tuple[dict[str, Any], str | None]]:
    """id -> (JSON body, payout that swept it) of every object of a type in the sandbox's store."""
    rows = stripe_account.sandbox.store.connect().execute(
        "SELECT id, body, payout FROM stripe_object WHERE object = ?", (object_type,)).fetchall()
    return {r["id"]: (json.loads(r["body"]), r["payout"]) for r in rows}


def warehouse(engine: Engine, object_type: str) -> dict[str, dict[str, Any]]:
    table = TABLES_BY_OBJECT[object_type]
    with engine.connect() as conn:
        return {r["id"]: dict(r) for r in conn.execute(select(table)).mappings()}


def assert_equals_sandbox(stripe_account: StripeSandboxServer, engine: Engine) -> dict[str, int]:
    """Every table holds exactly the sandbox's objects, field by field; returns the counts."""
    counts = {}
    payouts = truth(stripe_account, "payout")
    for object_type in OBJECT_TYPES:
        expected, actual = truth(stripe_account, object_type), warehouse(engine, object_type)
        assert set(actual) == set(expected), object_type
        for object_id, (body, swept_by) in expected.items():
            row = actual[object_id]
            for column in SAME[object_type]:
                value = body.get(column)
                value = value.lower() if column == "currency" and value else value
                assert row[column] == value, f"{object_id}.{column}: {row[column]!r} != {value!r}"
            assert row["created"] == dt.datetime.fromtimestamp(body["created"], dt.timezone.utc), object_id
            if object_type == "customer":
                ns_id = body["metadata"].get("netsuite_customer_id")
                assert row["netsuite_customer_id"] == (int(ns_id) if ns_id else None)
                assert row["is_deleted"] is False
            if object_type == "charge":
                assert row["payment_method_type"] == body["payment_method_details"]["type"]
                assert json.loads(row["metadata"]) == body["metadata"]
            if object_type == "dispute":
                assert json.loads(row["balance_transactions"]) == [t["id"] for t in body["balance_transactions"]]
            if object_type == "balance_transaction":
                paid = swept_by is not None and payouts[swept_by][0]["status"] == "paid"
                assert row["payout"] == (swept_by if paid else None), object_id
                assert json.loads(row["fee_details"]) == [
                    {k: d.get(k) for k in ("amount", "currency", "type", "description", "application")}
                    for d in body["fee_details"]]
        counts[object_type] = len(expected)
    return counts


# --- backfill ------------------------------------------------------------------------------------


def test_full_backfill_equals_the_sandbox_row_for_row(stripe_account: StripeSandboxServer, api: StripeAPI,
                                                      engine: Engine) -> None:
    report = sync_stripe(api, engine, OBJECT_TYPES)
    counts = assert_equals_sandbox(stripe_account, engine)
    assert all(counts[t] > 0 for t in ("customer", "charge", "refund", "dispute", "payout", "balance_transaction"))
    for object_type, result in report.results.items():
        assert result.mode == "backfill" and result.fallback is None
        state = load_state(engine, object_type)
        assert state.cursor is not None and state.backfill is None  # complete: no position left
        assert result.cursor_after == state.cursor
    paid = [p for p, _ in truth(stripe_account, "payout").values() if p["status"] == "paid"]
    assert report.results["balance_transaction"].payouts_linked == len(paid) > 0
    charges = warehouse(engine, "charge")
    linked = [c for c in charges.values() if c["netsuite_invoice_ids"] or c["netsuite_customer_id"]]
    assert linked, "the seeded charges carry NetSuite links in metadata"

    again = sync_stripe(api, engine, OBJECT_TYPES)  # nothing changed: one events request, nothing written
    assert again.requests == 1 and again.events_read == 0
    assert all(r.mode == "events" and r.rows_written == 0 for r in again.results.values())
    assert_equals_sandbox(stripe_account, engine)


def test_a_subset_backfills_only_its_tables(stripe_account: StripeSandboxServer, api: StripeAPI, engine: Engine) -> None:
    report = sync_stripe(api, engine, ["payout", "charge"])
    assert list(report.results) == ["charge", "payout"]
    assert warehouse(engine, "refund") == {} and warehouse(engine, "balance_transaction") == {}
    assert set(warehouse(engine, "charge")) == set(truth(stripe_account, "charge"))
    with pytest.raises(ValueError, match="invoice"):
        sync_stripe(api, engine, ["invoice"])


# --- incremental through events -----------------------------------------------------------------


def test_incremental_after_admin_actions(stripe_account: StripeSandboxServer, api: StripeAPI, engine: Engine) -> None:
    sync_stripe(api, engine, OBJECT_TYPES)
    before = {t: load_state(engine, t).cursor for t in OBJECT_TYPES}
    customers = truth(stripe_account, "customer")
    customer_id = sorted(customers)[0]
    charges = [b for b, _ in truth(stripe_account, "charge").values()
               if b["status"] == "succeeded" and not b["refunded"] and not b["disputed"]
               and b["payment_method_details"]["type"] == "card"]
    to_refund, to_dispute = charges[0]["id"], charges[1]["id"]

    new = admin(stripe_account, "POST", "/payments", {"customer": customer_id, "amount": 12345, "currency": "usd",
                                               "method": "card", "metadata": {"netsuite_invoice_ids": "77, 78"}})
    yen = admin(stripe_account, "POST", "/payments", {"customer": customer_id, "amount": 5000, "currency": "jpy",
                                               "method": "card"})
    refund = admin(stripe_account, "POST", "/refunds", {"charge": to_refund, "amount": 100})
    dispute = admin(stripe_account, "POST", "/disputes", {"charge": to_dispute})
    # a large payment, then time for the funds to become available, so there is a balance to pay out
    admin(stripe_account, "POST", "/payments", {"customer": customer_id, "amount": 5_000_000, "currency": "usd",
                                         "method": "card"})
    admin(stripe_account, "POST", "/clock", {"advance_seconds": 3 * 86400})
    payout = admin(stripe_account, "POST", "/payouts", {"currency": "usd", "paid": False})
    admin(stripe_account, "POST", f"/payouts/{payout['id']}/pay")
    stripe_account.client().v1.customers.update(customer_id, {"metadata": {"netsuite_customer_id": "4242"}})

    report = sync_stripe(api, engine, OBJECT_TYPES)
    assert report.events_read > 0
    assert all(r.mode == "events" for r in report.results.values())
    charges_now = warehouse(engine, "charge")
    assert charges_now[new["charge"]["id"]]["amount"] == 12345
    assert charges_now[new["charge"]["id"]]["netsuite_invoice_ids"] == "77,78"
    assert (charges_now[yen["charge"]["id"]]["amount"], charges_now[yen["charge"]["id"]]["currency"]) == (5000, "jpy")
    assert charges_now[to_refund]["amount_refunded"] == 100
    assert charges_now[to_dispute]["disputed"] is True
    assert warehouse(engine, "refund")[refund["id"]]["amount"] == 100
    assert warehouse(engine, "dispute")[dispute["id"]]["charge"] == to_dispute
    assert warehouse(engine, "payout")[payout["id"]]["status"] == "paid"
    assert warehouse(engine, "customer")[customer_id]["netsuite_customer_id"] == 4242
    in_payout = [r for r in warehouse(engine, "balance_transaction").values() if r["payout"] == payout["id"]]
    assert in_payout and report.results["balance_transaction"].payouts_linked >= 1
    assert_equals_sandbox(stripe_account, engine)  # and nothing else drifted
    for object_type in OBJECT_TYPES:
        assert load_state(engine, object_type).cursor >= before[object_type]


def test_events_older_than_the_retention_fall_back_to_a_backfill(stripe_account: StripeSandboxServer, api: StripeAPI,
                                                                 engine: Engine) -> None:
    sync_stripe(api, engine, OBJECT_TYPES)
    charge = next(b for b, _ in truth(stripe_account, "charge").values()
                  if b["status"] == "succeeded" and not b["refunded"] and not b["disputed"])
    refund = admin(stripe_account, "POST", "/refunds", {"charge": charge["id"], "amount": 50})
    admin(stripe_account, "POST", "/clock", {"advance_seconds": 31 * 86400})  # the refund's events expire
    customer_id = sorted(truth(stripe_account, "customer"))[0]
    admin(stripe_account, "POST", "/payments", {"customer": customer_id, "amount": 999, "currency": "usd", "method": "card"})

    report = sync_stripe(api, engine, OBJECT_TYPES)
    for result in report.results.values():
        assert result.mode == "backfill"
        assert result.fallback and "30-day events retention" in result.fallback
    assert warehouse(engine, "refund")[refund["id"]]["amount"] == 50
    assert_equals_sandbox(stripe_account, engine)
    # the cursors are inside the retention again: back to events, no second fallback
    after = sync_stripe(api, engine, OBJECT_TYPES)
    assert all(r.mode == "events" and r.fallback is None for r in after.results.values())


# --- targeted -----------------------------------------------------------------------------------


def test_targeted_refetch_moves_no_cursor(stripe_account: StripeSandboxServer, api: StripeAPI, engine: Engine) -> None:
    sync_stripe(api, engine, OBJECT_TYPES)
    cursors = {t: load_state(engine, t).cursor for t in OBJECT_TYPES}
    charge = next(b for b, _ in truth(stripe_account, "charge").values()
                  if b["status"] == "succeeded" and not b["refunded"] and not b["disputed"])
    refund = admin(stripe_account, "POST", "/refunds", {"charge": charge["id"]})
    report = sync_objects(api, engine, {"refund": [refund["id"]]}, OBJECT_TYPES)
    assert report.results["refund"].rows_written == 1
    assert warehouse(engine, "charge")[charge["id"]]["refunded"] is True  # its charge came along
    refund_bt = truth(stripe_account, "refund")[refund["id"]][0]["balance_transaction"]
    assert refund_bt in warehouse(engine, "balance_transaction")
    assert {t: load_state(engine, t).cursor for t in OBJECT_TYPES} == cursors


# --- resilience ---------------------------------------------------------------------------------


class Crash(Exception):
    pass


def test_a_killed_backfill_resumes_where_it_stopped(stripe_account: StripeSandboxServer, engine: Engine,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import ns_pipelines.stripe.client as client_module

    monkeypatch.setattr(client_module, "PAGE_LIMIT", 4)  # small pages, so a table takes several
    api = StripeAPI(StripeConfig(api_key=stripe_account.api_key, api_base=stripe_account.base_url))
    seen: list[int] = []

    def crash_after_two_pages(stage: str, written: int) -> None:
        seen.append(written)
        if stage == "charge backfill" and len(seen) == 2:
            raise Crash()

    with pytest.raises(Crash):
        sync_stripe(api, engine, ["charge"], progress=crash_after_two_pages)
    state = load_state(engine, "charge")
    assert state.cursor is None and state.backfill is not None  # not complete, position kept
    assert len(warehouse(engine, "charge")) == 8
    assert state.backfill.after in warehouse(engine, "charge")  # the last id written: starting_after

    requests_before = api.requests
    report = sync_stripe(api, engine, ["charge"])
    total = len(truth(stripe_account, "charge"))
    assert report.results["charge"].rows_read == total - 8  # resumed after the two pages, not restarted
    assert api.requests - requests_before == -(-(total - 8) // 4)  # pages of 4 from the position on
    assert set(warehouse(engine, "charge")) == set(truth(stripe_account, "charge"))
    assert load_state(engine, "charge").backfill is None
    api.close()


def test_the_backfill_position_round_trips_through_the_shared_pass_state(engine: Engine) -> None:
    t0 = dt.datetime(2027, 1, 15, 8, 0, tzinfo=dt.timezone.utc)
    position = Backfill(since=t0 - dt.timedelta(days=3), through=t0, opened_at=t0 + dt.timedelta(seconds=5),
                        after="ch_42")
    with engine.begin() as conn:
        save_state(conn, "charge", cursor=None, backfill=position, mode="backfill", rows=4, run_id="r1")
        save_state(conn, "charge", cursor=None, backfill=position, mode="backfill", rows=4, run_id="r1")
    assert load_state(engine, "charge") == StripeState(None, position)
    with engine.connect() as conn:
        raw = read_pass_state(conn, "stripe:charge")
        cursor = read_cursor(conn, "stripe:charge")
    assert raw.window == PassWindow(mode="backfill", since=position.since, through=t0,
                                    opened_at=position.opened_at, position="ch_42")
    assert cursor is not None and (cursor.last_run_rows, cursor.rows_total) == (8, 8)  # same run: rows add up
    with engine.begin() as conn:
        save_state(conn, "charge", cursor=t0, backfill=None, mode="backfill", rows=0, run_id="r1")
        # another sync's window on the same table (mode and position are the caller's) is not a backfill
        write_pass_state(conn, "stripe:refund", cursor=t0, mode="full", rows=0, run_id="r2", window=PassWindow(
            mode="full", since=None, through=t0, opened_at=t0, position='{"stream": 1}'))
    assert load_state(engine, "charge") == StripeState(t0, None)
    assert load_state(engine, "refund") == StripeState(t0, None)
    with engine.connect() as conn:
        assert read_pass_state(conn, "stripe:charge") == PassState(t0, None)
        assert read_pass_state(conn, "stripe:refund").window.position == '{"stream": 1}'
        assert read_pass_state(conn, "stripe:never") == PassState(None, None)


def test_rate_limits_and_server_errors_are_retried(tmp_path: Path, engine: Engine) -> None:
    from ns_pipelines.sandbox.stripe.settings import StripeSandboxSettings

    faults = StripeSandboxSettings(fault_429_rate=0.25, fault_500_rate=0.15, fault_seed=7)
    with SandboxServer(tmp_path / "netsuite", scale="tiny", seed=42) as netsuite, \
            StripeSandboxServer(tmp_path / "stripe", netsuite=netsuite, settings=faults, seed=42) as account:
        api = StripeAPI(StripeConfig(api_key=account.api_key, api_base=account.base_url, max_network_retries=6),
                        rate_limit_backoff_s=0.01)
        report = sync_stripe(api, engine, OBJECT_TYPES)
        assert report.rate_limited > 0
        assert_equals_sandbox(account, engine)
        api.close()


def test_deleted_customers_are_kept_and_marked(stripe_account: StripeSandboxServer, api: StripeAPI,
                                               engine: Engine) -> None:
    """The sandbox has no DELETE /v1/customers, so a deletion is made the way Stripe shows one:
    retrieving the customer gives the stub {"id", "object", "deleted": true}, and a
    customer.deleted event carries the customer as it was."""
    sync_stripe(api, engine, OBJECT_TYPES)
    account = stripe_account.sandbox
    first, second, third = sorted(truth(stripe_account, "customer"))[:3]
    before = warehouse(engine, "customer")[first]

    def delete(customer_id: str, *, with_event: bool) -> None:
        body = account.store.get(customer_id, "customer")
        account.store.update({"id": customer_id, "object": "customer", "deleted": True})
        if with_event:
            account.events.emit("customer.deleted", body)

    delete(first, with_event=True)
    report = sync_stripe(api, engine, OBJECT_TYPES)  # incremental: the event
    assert report.results["customer"].rows_soft_deleted == 1
    row = warehouse(engine, "customer")[first]
    assert row["is_deleted"] is True and row["deleted_at"] is not None
    assert {k: row[k] for k in ("email", "name", "netsuite_customer_id", "created")} == {
        k: before[k] for k in ("email", "name", "netsuite_customer_id", "created")}  # kept as it was

    delete(second, with_event=False)  # e.g. its event expired: only a full listing notices
    assert sync_stripe(api, engine, ["customer"]).results["customer"].rows_soft_deleted == 0
    full = sync_stripe(api, engine, ["customer"], mode="full")
    assert full.results["customer"].rows_soft_deleted == 1
    customers = warehouse(engine, "customer")
    assert customers[second]["is_deleted"] is True and customers[first]["is_deleted"] is True
    assert customers[third]["is_deleted"] is False
    assert len(customers) == len(truth(stripe_account, "customer"))  # nothing hard-deleted

    delete(third, with_event=False)
    targeted = sync_objects(api, engine, {"customer": [third]}, OBJECT_TYPES)  # what a webhook run does
    assert targeted.results["customer"].rows_soft_deleted == 1
    assert warehouse(engine, "customer")[third]["is_deleted"] is True
