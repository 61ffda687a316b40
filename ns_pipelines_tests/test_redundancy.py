"""The daily redundancy sync (ns_pipelines/sync/redundancy.py) against the sandbox, on SQLite and
PostgreSQL: drift made behind the warehouse's back is found, counted and repaired, and the
warehouse ends equal to the ground truth (test_sync.assert_warehouse_matches)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, update

from ns_pipelines.sandbox.netsuite.balances import recompute_customer_balances
from ns_pipelines.sandbox.netsuite.server import SandboxServer
from ns_pipelines.sync.redundancy import reconcile_all, reconcile_record_type
from ns_pipelines.warehouse import (
    begin_write,
    credit_memos,
    customers,
    deleted_records,
    invoices,
    journal_lines,
    payment_applications,
)
from ns_pipelines_tests.sync_helpers import (
    assert_warehouse_matches,
    make_client,
    make_engine,
    make_settings,
    sandbox_rows,
    sync_everything,
    truth,
    warehouse_rows,
)

@pytest.fixture
def server(tmp_path: Path) -> Iterator[SandboxServer]:
    with SandboxServer(tmp_path / "sandbox", scale="tiny", seed=21) as running:
        yield running


def first(server: SandboxServer, sql: str, *args: Any) -> Any:
    return sandbox_rows(server, sql, *args)[0][0]


def make_drift(server: SandboxServer, engine: Engine) -> dict[str, Any]:
    """Rows deleted from the warehouse, stale rows, rows soft-deleted by mistake, and records
    removed from NetSuite's own tables without a deletedrecord row (purged history)."""
    stale = dt.datetime(2001, 1, 1, tzinfo=dt.timezone.utc)
    wh = warehouse_rows(engine)
    live_invoices = sorted(k for k, r in wh[invoices.name].items() if not r["is_deleted"])
    no_links = {r[0] for r in sandbox_rows(
        server, "SELECT id FROM \"transaction\" t WHERE type = 'CustInvc' AND NOT EXISTS ("
        "SELECT 1 FROM nexttransactionlinelink l WHERE l.previousdoc = t.id)")}
    vanished_invoice = max(i for i in live_invoices if i in no_links)
    missing_invoice, stale_invoice = [i for i in live_invoices if i != vanished_invoice][:2]
    line = sorted(k for k, r in wh[journal_lines.name].items() if not r["is_deleted"])[0]
    customer = sorted(wh[customers.name])[1]
    credit = sorted(k for k, r in wh[credit_memos.name].items() if not r["is_deleted"])[0]
    # links of documents repaired earlier in the run are re-read with them: take others
    repaired = {missing_invoice, stale_invoice, vanished_invoice, credit, line[0]}
    links = sorted(k for k, r in wh[payment_applications.name].items()
                   if not r["is_deleted"] and not {k[0], k[2]} & repaired)
    missing_link, stale_link, vanished_link = links[0], links[len(links) // 2], links[-1]
    deletion = sorted(wh[deleted_records.name])[0]

    with begin_write(engine) as conn:
        conn.execute(delete(invoices).where(invoices.c.id == missing_invoice))
        conn.execute(update(invoices).where(invoices.c.id == stale_invoice).values(memo="wrong", last_modified=stale))
        pk = [c for c in payment_applications.primary_key.columns]
        conn.execute(delete(payment_applications).where(*[c == v for c, v in zip(pk, missing_link)]))
        conn.execute(update(payment_applications).where(*[c == v for c, v in zip(pk, stale_link)])
                     .values(amount=0, last_modified=stale))
        conn.execute(delete(journal_lines).where(journal_lines.c.journal_entry_id == line[0],
                                                 journal_lines.c.line_id == line[1]))
        conn.execute(delete(customers).where(customers.c.id == customer))
        conn.execute(update(credit_memos).where(credit_memos.c.id == credit).values(is_deleted=True, deleted_at=stale))
        conn.execute(delete(deleted_records).where(deleted_records.c.record_type == deletion[0],
                                                   deleted_records.c.record_id == deletion[1]))
    owner = first(server, 'SELECT entity FROM "transaction" WHERE id = ?', vanished_invoice)
    with server.account.store.write() as conn:
        conn.execute('DELETE FROM transactionline WHERE "transaction" = ?', (vanished_invoice,))
        conn.execute('DELETE FROM "transaction" WHERE id = ?', (vanished_invoice,))
        # NetSuite's balance follows (its lastmodifieddate does not: the redundancy re-reads the
        # customers of the documents it repairs)
        recompute_customer_balances(conn, [owner], today=server.account.store.today())
        conn.execute("DELETE FROM nexttransactionlinelink WHERE previousdoc = ? AND previousline = ? "
                     "AND nextdoc = ? AND nextline = ?", vanished_link)
    return dict(missing_invoice=missing_invoice, stale_invoice=stale_invoice, vanished_invoice=vanished_invoice,
                missing_link=missing_link, stale_link=stale_link, vanished_link=vanished_link, line=line,
                customer=customer, credit=credit, deletion=deletion)


def test_redundancy_repairs_drift_to_the_ground_truth(server: SandboxServer, fresh_warehouse_url: str) -> None:
    client = make_client(server)
    engine = make_engine(fresh_warehouse_url)
    # small pages and several ranges: drift falls on page and range boundaries too
    settings = make_settings(server, page_size=7, parallel_ranges=3)
    try:
        sync_everything(client, engine, settings)
        clean = {r.record_type: r for r in reconcile_all(client, engine, settings=settings)}
        assert {rt: r.drift.total for rt, r in clean.items()} == {rt: 0 for rt in clean}
        assert clean["invoice"].netsuite_rows == clean["invoice"].warehouse_rows > 10
        assert all(r.rows_written == 0 and r.repaired_ids == 0 for r in clean.values())

        drift = make_drift(server, engine)
        results = {r.record_type: r for r in reconcile_all(client, engine, settings=settings)}
        counts = {rt: (r.drift.missing, r.drift.stale, r.drift.vanished) for rt, r in results.items()}
        assert counts == {
            "customer": (1, 0, 0), "invoice": (1, 1, 1), "customerpayment": (0, 0, 0), "creditmemo": (1, 0, 0),
            "customerrefund": (0, 0, 0), "deposit": (0, 0, 0), "journalentry": (1, 0, 0),
            "paymentapplication": (1, 1, 1), "deletedrecord": (1, 0, 0),
        }
        inv = results["invoice"].drift.samples
        assert inv == {"missing": [drift["missing_invoice"]], "stale": [drift["stale_invoice"]],
                       "vanished": [drift["vanished_invoice"]]}
        assert results["paymentapplication"].drift.samples["vanished"] == [list(drift["vanished_link"])]
        assert results["journalentry"].drift.samples["missing"] == [list(drift["line"])]
        assert results["deletedrecord"].drift.samples["missing"] == [list(drift["deletion"])]
        assert results["invoice"].rows_soft_deleted >= 1 and results["invoice"].customers_refreshed >= 1
        assert all(r.mode == "redundancy" for r in results.values())

        assert_warehouse_matches(server, engine)
        wh = warehouse_rows(engine)
        gone = wh[invoices.name][drift["vanished_invoice"]]
        assert gone["is_deleted"] and gone["status"] == "CLOSED" and gone["deleted_at"] is not None
        assert wh[payment_applications.name][drift["vanished_link"]]["is_deleted"]
        assert wh[invoices.name][drift["stale_invoice"]]["memo"] != "wrong"

        again = reconcile_all(client, engine, settings=settings)
        assert [r.drift.total for r in again] == [0] * len(again)
        assert client.stats.peak_in_flight <= client.config.concurrency
    finally:
        client.close()
        engine.dispose()


def test_everything_gone_from_netsuite_and_unknown_type(tmp_path: Path, server: SandboxServer) -> None:
    """A record type NetSuite lists nothing of: every live warehouse row vanished (and is marked)."""
    client = make_client(server)
    engine = make_engine(f"sqlite:///{tmp_path / 'wh.sqlite3'}")
    settings = make_settings(server)
    try:
        sync_everything(client, engine, settings)
        live = [k for k, r in warehouse_rows(engine)[credit_memos.name].items() if not r["is_deleted"]]
        assert live
        with server.account.store.write() as conn:
            ids = ", ".join(str(i) for i in live)
            conn.execute(f"DELETE FROM nexttransactionlinelink WHERE previousdoc IN ({ids}) OR nextdoc IN ({ids})")
            conn.execute(f'DELETE FROM transactionline WHERE "transaction" IN ({ids})')
            conn.execute(f'DELETE FROM "transaction" WHERE id IN ({ids})')
        result = reconcile_record_type(client, engine, "creditmemo", settings=settings)
        assert (result.netsuite_rows, result.drift.vanished, result.drift.missing) == (0, len(live), 0)
        rows = warehouse_rows(engine)[credit_memos.name]
        assert all(rows[k]["is_deleted"] for k in live)
        with pytest.raises(ValueError, match="unknown record type 'salesorder'"):
            reconcile_record_type(client, engine, "salesorder", settings=settings)
    finally:
        client.close()
        engine.dispose()


def test_a_record_type_never_synced_gets_its_first_pass(tmp_path: Path, server: SandboxServer) -> None:
    client = make_client(server)
    engine = make_engine(f"sqlite:///{tmp_path / 'wh.sqlite3'}")
    settings = make_settings(server)
    try:
        invoice = reconcile_record_type(client, engine, "invoice", settings=settings)
        deletions = reconcile_record_type(client, engine, "deletedrecord", settings=settings)
        assert [r.mode for r in invoice.repair] == ["full"] and invoice.cursor_before is None
        assert invoice.cursor_after is not None and invoice.drift.total == 0
        assert invoice.netsuite_rows == invoice.warehouse_rows == len(truth(server)[invoices.name]) > 0
        assert [r.mode for r in deletions.repair] == ["full"] and deletions.drift.total == 0
        assert len(warehouse_rows(engine)[deleted_records.name]) == len(truth(server)[deleted_records.name])
    finally:
        client.close()
        engine.dispose()
