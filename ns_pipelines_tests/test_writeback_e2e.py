"""The whole chain on the two sandboxes' seeded scenarios: NetSuite and Stripe synced into the
warehouse, reconciled, planned and written back, then synced and reconciled again: what was
written is `done` and never planned twice, no external id is duplicated, refusals carry NetSuite's
text, and every written payment's id is on its Stripe charge."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from ns_pipelines.netsuite import NetSuiteClient
from ns_pipelines.reconciliation import ReconSettings, reconcile
from ns_pipelines.sandbox.netsuite.server import SandboxServer
from ns_pipelines.sandbox.stripe.server import StripeSandboxServer
from ns_pipelines.stripe.client import StripeAPI
from ns_pipelines.stripe.config import StripeConfig
from ns_pipelines.stripe.sync import OBJECT_TYPES, sync_stripe
from ns_pipelines.sync import RECORD_TYPES, SyncSettings, sync_record_type
from ns_pipelines.writeback.apply import ApplyReport
from ns_pipelines.writeback.model import PlannedWrite
from ns_pipelines.writeback.run import apply, plan
from ns_pipelines.writeback.settings import WritebackSettings
from ns_pipelines.writeback.stripe_links import StripeLinker, stripe_client
from ns_pipelines_tests.test_writeback_scenarios import US_BANK_USD, by_external_id, duplicate_external_ids, \
    make_client, make_engine


@pytest.fixture
def chain(tmp_path: Path, fresh_warehouse_url: str) -> Iterator[tuple[SandboxServer, StripeSandboxServer, Engine]]:
    with SandboxServer(tmp_path / "ns", scale="tiny", seed=42) as ns, \
            StripeSandboxServer(tmp_path / "stripe", netsuite=ns, seed=42) as st:
        engine = make_engine(fresh_warehouse_url)
        yield ns, st, engine
        engine.dispose()


def _round(ns: SandboxServer, st: StripeSandboxServer, engine: Engine, client: NetSuiteClient,
           run: str) -> tuple[list[PlannedWrite], ApplyReport]:
    settings = SyncSettings.from_env(ns.environment())
    for record_type in RECORD_TYPES:
        sync_record_type(client, engine, record_type, settings=settings, mode="incremental")
    config = StripeConfig(api_key=st.api_key, api_base=st.base_url)
    sync_stripe(StripeAPI(config), engine, OBJECT_TYPES)
    reconcile(engine, ReconSettings(timezone=ns.settings.timezone, fee_account_id=9, adjustment_account_id=10))
    writes, _ = plan(engine, client, WritebackSettings(enabled=True, bank_account_ids={"USD": US_BANK_USD}))
    return writes, apply(engine, client, run_id=run, linker=StripeLinker(stripe_client(config)))


def test_sync_reconcile_write_back_and_again(chain: tuple[SandboxServer, StripeSandboxServer, Engine]) -> None:
    ns, st, engine = chain
    with make_client(ns) as client:
        first_plan, first = _round(ns, st, engine, client, "round-1")
        actions = Counter(w.action for w in first_plan)
        assert actions["create_payment"] >= 5 and actions["customer_refund"] >= 1, actions
        assert (first.refused, first.failed, first.blocked, first.skipped) == (0, 0, 0, 0), first.problems
        assert first.written == len(first_plan) and first.stripe_linked == first.written

        second_plan, second = _round(ns, st, engine, client, "round-2")
        third_plan, third = _round(ns, st, engine, client, "round-3")
        assert duplicate_external_ids(client) == []

    written_first = {w.key for w in first_plan}
    assert not written_first & {w.key for w in second_plan}, "a write made in round 1 was planned again"
    assert not {w.key for w in second_plan if w.action != "deposit"} & {w.key for w in third_plan}
    for report in (second, third):
        assert report.failed == 0 and report.blocked == 0
        for external_id, action, text in report.problems:  # only deposits NetSuite refused, with its reason
            assert action == "deposit" and "NetSuite answered 400" in text and by_external_id(ns, external_id) == []

    charges = st.client()
    for w in first_plan:
        [record] = by_external_id(ns, w.external_id)
        if w.action == "create_payment":
            metadata = charges.v1.charges.retrieve(w.stripe_object_id).metadata.to_dict()
            assert metadata[w.stripe_metadata_key] == str(record["id"])
        if w.action == "customer_refund":
            assert record["type"] == "CustRfnd"
            metadata = charges.v1.refunds.retrieve(w.stripe_object_id).metadata.to_dict()
            assert metadata["netsuite_customer_refund_id"] == str(record["id"])
