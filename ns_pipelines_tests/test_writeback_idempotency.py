"""Re-running the writeback never duplicates a NetSuite record: applying twice in a row, an apply
killed between a NetSuite write and its log row, and connections the sandbox drops."""
from __future__ import annotations

import pytest
from sqlalchemy import Engine, update

from ns_pipelines.netsuite import NetSuiteClient, RecordService
from ns_pipelines.sandbox.netsuite.server import SandboxServer
from ns_pipelines.warehouse.tables.writeback import writeback_plan
from ns_pipelines.writeback.apply import Applier
from ns_pipelines.writeback.model import PlannedWrite
from ns_pipelines.writeback.plan_store import pending_writes, save_plan
from ns_pipelines.writeback.planner import plan_writes
from ns_pipelines.writeback.references import load_references
from ns_pipelines_tests.test_writeback_scenarios import (
    USD_CUSTOMER,
    by_external_id,
    duplicate_external_ids,
    engine,  # noqa: F401 - fixture
    log_rows,
    make_client,
    make_invoice,
    payment,
    plan_rows,
    server,  # noqa: F401 - fixture
    settings,
    truth,
)

CHARGES = 12


class Killed(Exception):
    """Stands for the process dying."""


def _plan(server: SandboxServer, client: NetSuiteClient, engine: Engine) -> list[str]:
    actions = []
    for n in range(CHARGES):
        invoice = make_invoice(server, USD_CUSTOMER, f"{10 + n}.25")
        actions.append(payment(f"ch_idem{n:02d}", USD_CUSTOMER, f"{10 + n}.25", [(invoice, f"{10 + n}.25")]))
    save_plan(engine, plan_writes(actions, [], load_references(client, settings()), settings()))
    return [a.external_id for a in actions]


def _ours(server: SandboxServer) -> list[str]:
    return [r[0] for r in truth(server, "SELECT externalid FROM \"transaction\" WHERE externalid LIKE 'stripe:ch_idem%'")]


def test_applying_twice_in_a_row_writes_once(server: SandboxServer, engine: Engine) -> None:
    with make_client(server) as client:
        eids = _plan(server, client, engine)
        first = Applier(RecordService(client), engine).apply(pending_writes(engine))
        second = Applier(RecordService(client), engine).apply(pending_writes(engine))
        # a plan whose statuses were lost (every row planned again) only re-PUTs the same records
        with engine.begin() as conn:
            conn.execute(update(writeback_plan).values(status="planned"))
        third = Applier(RecordService(client), engine).apply(pending_writes(engine))
        assert duplicate_external_ids(client) == []
    assert (first.written, second.attempted, third.written) == (CHARGES, 0, CHARGES)
    assert sorted(_ours(server)) == sorted(eids)


def test_killed_between_writes_then_rerun_leaves_no_duplicate(server: SandboxServer, engine: Engine) -> None:
    written: list[str] = []

    def die_after_five(write: PlannedWrite, netsuite_id: int) -> None:
        written.append(write.external_id)
        if len(written) >= 5:
            raise Killed(f"killed after NetSuite accepted {write.external_id}, before its log row")

    with make_client(server, concurrency=2) as client:
        eids = _plan(server, client, engine)
        with pytest.raises(Killed):
            Applier(RecordService(client), engine, after_write=die_after_five).apply(pending_writes(engine))
        in_netsuite = set(_ours(server))
        logged = {r.external_id for r in log_rows(engine) if r.status == "written"}
        assert len(logged) < len(in_netsuite) <= CHARGES  # NetSuite has writes the log does not know about

        rerun = Applier(RecordService(client), engine).apply(pending_writes(engine))
        assert (rerun.refused, rerun.failed) == (0, 0)
        assert duplicate_external_ids(client) == []
    assert sorted(_ours(server)) == sorted(eids)
    assert all(row.status == "done" for row in plan_rows(engine).values())
    for eid in eids:
        [pay] = by_external_id(server, eid)
        assert truth(server, "SELECT COUNT(*) FROM nexttransactionlinelink WHERE nextdoc = ?", pay["id"])[0][0] == 1


def test_dropped_connections_are_retried_without_duplicates(server: SandboxServer, engine: Engine) -> None:
    with make_client(server) as client:
        eids = _plan(server, client, engine)
        server.settings.faults.drop_connection_rate = 0.3
        server.settings.faults.seed = 7
        report = Applier(RecordService(client), engine).apply(pending_writes(engine))
        server.settings.faults.drop_connection_rate = 0.0
        dropped = server.account.stats()["dropped"]
        rerun = Applier(RecordService(client), engine).apply(pending_writes(engine))
        assert duplicate_external_ids(client) == []
    assert dropped > 0
    assert report.written + rerun.written == CHARGES and rerun.failed == 0
    assert sorted(_ours(server)) == sorted(eids)


def test_server_errors_leave_writes_planned_for_the_next_run(server: SandboxServer, engine: Engine) -> None:
    with make_client(server) as client:
        eids = _plan(server, client, engine)
        server.settings.faults.server_error_rate = 1.0
        down = Applier(RecordService(client), engine).apply(pending_writes(engine))
        server.settings.faults.server_error_rate = 0.0
        assert (down.written, down.failed, down.refused) == (0, CHARGES, 0)
        assert {row.status for row in plan_rows(engine).values()} == {"planned"}
        assert {(r.status, "UNEXPECTED_ERROR" in r.response) for r in log_rows(engine)} == {("failed", True)}
        up = Applier(RecordService(client), engine).apply(pending_writes(engine))
        assert duplicate_external_ids(client) == []
    assert up.written == CHARGES and sorted(_ours(server)) == sorted(eids)
