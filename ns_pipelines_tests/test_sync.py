"""The sync engine (ns_pipelines/sync) against the sandbox, on SQLite and PostgreSQL.

The expected warehouse content is built here straight from the sandbox's SQLite file with plain
SQL (an independent path from the sync's SuiteQL and mapping): after a full sync every raw table
equals it row for row, and after edits, voids, deletions, applications and unapplications an
incremental sync makes it equal again while reading few rows.
"""
from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from sqlalchemy import Engine, select

from ns_pipelines.netsuite import NetSuiteClient, NetSuiteConfig, RetryPolicy
from ns_pipelines.sandbox.netsuite.schema import STATUS_TEXT
from ns_pipelines.sandbox.netsuite.server import SandboxServer
from ns_pipelines.sync import RECORD_TYPES, SyncConfigError, SyncSettings, sync_record_type
from ns_pipelines.sync import runner as sync_runner
from ns_pipelines.sync.sources import account_timestamp
from ns_pipelines.warehouse import (
    create_warehouse_engine,
    credit_memos,
    customer_payments,
    customer_refunds,
    customers,
    deleted_records,
    deposits,
    invoices,
    journal_lines,
    payment_applications,
    sync_state,
    upgrade_warehouse,
)

UTC = dt.timezone.utc
M4 = Decimal("0.0001")
R10 = Decimal("0.0000000001")
TRANSACTION_TABLES = {"CustInvc": invoices, "CustPymt": customer_payments, "CustCred": credit_memos,
                      "CustRfnd": customer_refunds, "Deposit": deposits}
ALL_TABLES = (customers, invoices, customer_payments, credit_memos, customer_refunds, deposits, journal_lines,
              payment_applications, deleted_records)
SCRIPT_TABLES = {"customer": customers, "invoice": invoices, "customerpayment": customer_payments,
                 "creditmemo": credit_memos, "customerrefund": customer_refunds, "deposit": deposits,
                 "journalentry": journal_lines}


# -------------------------------------------------------------------------------------------
# Helpers shared with test_sync_faults.py


def make_client(server: SandboxServer, **config: Any) -> NetSuiteClient:
    config.setdefault("retry", RetryPolicy(initial_backoff_s=0.01, max_backoff_s=0.05))
    return NetSuiteClient(NetSuiteConfig.from_env(server.environment(), **config))


def make_settings(server: SandboxServer, **overrides: Any) -> SyncSettings:
    env = {**server.environment(), **{k: str(v) for k, v in overrides.pop("env", {}).items()}}
    settings = SyncSettings.from_env(env)
    if overrides:
        settings = SyncSettings(**{**settings.__dict__, **overrides})
    return settings


def make_engine(url: str) -> Engine:
    engine = create_warehouse_engine(url)
    upgrade_warehouse(engine)
    return engine


def sync_everything(client: NetSuiteClient, engine: Engine, settings: SyncSettings, mode: str = "incremental",
                    **kwargs: Any) -> dict[str, Any]:
    return {rt: sync_record_type(client, engine, rt, settings=settings, mode=mode, **kwargs) for rt in RECORD_TYPES}


def _utc(text: str | None, zone: ZoneInfo) -> dt.datetime | None:
    if text is None:
        return None
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=zone).astimezone(UTC)


def _money(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(M4)


def _rate(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(R10)


def _date(value: str | None) -> dt.date | None:
    return None if value is None else dt.date.fromisoformat(value)


def _id(value: Any) -> int | None:
    return None if value is None else int(value)


def truth(server: SandboxServer, intercompany_ids: frozenset[int] = frozenset()) -> dict[str, dict[Any, dict]]:
    """What every raw table must hold for the records NetSuite has, from the sandbox's SQLite file."""
    zone = ZoneInfo(server.settings.timezone)
    conn = sqlite3.connect(f"file:{server.account.store.path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    live = {"is_deleted": False, "deleted_at": None}
    out: dict[str, dict[Any, dict]] = {t.name: {} for t in ALL_TABLES}
    try:
        for r in conn.execute("SELECT c.*, cur.symbol AS cur_symbol FROM customer c "
                              "JOIN currency cur ON cur.id = c.currency"):
            out[customers.name][r["id"]] = dict(
                id=r["id"], entity_id=r["entityid"], company_name=r["companyname"], is_person=r["isperson"] == "T",
                email=r["email"], phone=r["phone"], currency=r["cur_symbol"], subsidiary_id=r["subsidiary"],
                parent_id=r["parent"], representing_subsidiary_id=r["representingsubsidiary"],
                is_intercompany=r["representingsubsidiary"] is not None or r["id"] in intercompany_ids,
                is_inactive=r["isinactive"] == "T", terms_days=r["terms"], credit_limit=_money(r["creditlimit"]),
                balance=_money(r["balancesearch"]), overdue_balance=_money(r["overduebalancesearch"]),
                external_id=r["externalid"], created_at=_utc(r["datecreated"], zone),
                last_modified=_utc(r["lastmodifieddate"], zone), **live)
        for r in conn.execute(
                'SELECT t.*, cur.symbol AS cur_symbol, ml.subsidiary AS ml_subsidiary, ml.expenseaccount AS ml_account, '
                'cu.representingsubsidiary AS cu_represents FROM "transaction" t JOIN currency cur ON cur.id = t.currency '
                'LEFT JOIN transactionline ml ON ml."transaction" = t.id AND ml.mainline = \'T\' '
                'LEFT JOIN customer cu ON cu.id = t.entity'):
            table = TRANSACTION_TABLES.get(r["type"])
            if table is None:
                continue
            row = dict(
                id=r["id"], tran_id=r["tranid"], customer_id=r["entity"], subsidiary_id=r["ml_subsidiary"],
                account_id=r["ml_account"], posting_period_id=r["postingperiod"], currency=r["cur_symbol"],
                exchange_rate=_rate(r["exchangerate"]), tran_date=_date(r["trandate"]), status=r["status"],
                status_text=STATUS_TEXT[r["type"]][r["status"]], total=_money(r["foreigntotal"]),
                is_intercompany=r["intercompany"] == "T" or (r["entity"] is not None and (
                    r["cu_represents"] is not None or r["entity"] in intercompany_ids)),
                is_voided=r["voided"] == "T", memo=r["memo"], external_id=r["externalid"],
                created_at=_utc(r["createddate"], zone), last_modified=_utc(r["lastmodifieddate"], zone), **live)
            if table is invoices:
                row.update(due_date=_date(r["duedate"]), amount_paid=_money(r["foreignamountpaid"]),
                           amount_unpaid=_money(r["foreignamountunpaid"]))
            elif table in (customer_payments, credit_memos):
                row.update(amount_used=_money(r["foreignpaymentamountused"]),
                           amount_unused=_money(r["foreignpaymentamountunused"]))
            out[table.name][r["id"]] = row
        for r in conn.execute(
                'SELECT tl.*, t.tranid, t.postingperiod, t.exchangerate, t.trandate, t.status, t.intercompany, '
                't.voided, t.externalid, t.createddate, t.lastmodifieddate AS t_modified, cur.symbol AS cur_symbol, '
                'cu.representingsubsidiary AS cu_represents FROM transactionline tl '
                'JOIN "transaction" t ON t.id = tl."transaction" JOIN account a ON a.id = tl.expenseaccount '
                'JOIN currency cur ON cur.id = t.currency LEFT JOIN customer cu ON cu.id = tl.entity '
                "WHERE t.type = 'Journal' AND tl.entity IS NOT NULL AND a.accttype = 'AcctRec'"):
            out[journal_lines.name][(r["transaction"], r["id"])] = dict(
                journal_entry_id=r["transaction"], line_id=r["id"], tran_id=r["tranid"], customer_id=r["entity"],
                subsidiary_id=r["subsidiary"], account_id=r["expenseaccount"], posting_period_id=r["postingperiod"],
                currency=r["cur_symbol"], exchange_rate=_rate(r["exchangerate"]), tran_date=_date(r["trandate"]),
                status=r["status"], status_text=STATUS_TEXT["Journal"][r["status"]],
                amount=_money(r["foreignamount"]), debit_amount=_money(r["debitforeignamount"]),
                credit_amount=_money(r["creditforeignamount"]), amount_unpaid=_money(r["foreignamountunpaid"]),
                is_intercompany=r["intercompany"] == "T" or r["cu_represents"] is not None
                or r["entity"] in intercompany_ids,
                is_voided=r["voided"] == "T", memo=r["memo"], external_id=r["externalid"],
                created_at=_utc(r["createddate"], zone),
                last_modified=max(_utc(r["t_modified"], zone), _utc(r["linelastmodifieddate"], zone)), **live)
        for r in conn.execute(
                'SELECT l.*, nt.entity AS nt_entity, cur.symbol AS cur_symbol FROM nexttransactionlinelink l '
                'JOIN "transaction" nt ON nt.id = l.nextdoc JOIN currency cur ON cur.id = nt.currency '
                "WHERE l.linktype IN ('Payment', 'Deposit')"):
            key = (r["previousdoc"], r["previousline"], r["nextdoc"], r["nextline"])
            out[payment_applications.name][key] = dict(
                previous_doc_id=r["previousdoc"], previous_line=r["previousline"], next_doc_id=r["nextdoc"],
                next_line=r["nextline"], previous_type=r["previoustype"], next_type=r["nexttype"],
                link_type=r["linktype"], amount=_money(r["foreignamount"]), currency=r["cur_symbol"],
                customer_id=r["nt_entity"], link_date=_date(r["linkdate"]),
                last_modified=_utc(r["lastmodifieddate"], zone), **live)
        for r in conn.execute("SELECT * FROM deletedrecord"):
            if r["scriptid"] not in SCRIPT_TABLES:
                continue
            when = _utc(r["deleteddate"], zone)
            out[deleted_records.name][(r["scriptid"], r["recordid"])] = dict(
                record_type=r["scriptid"], record_id=r["recordid"], record_type_name=r["type"], name=r["name"],
                external_id=r["externalid"], context=r["context"], deleted_by_id=r["deletedby"], deleted_at=when,
                last_modified=when)
    finally:
        conn.close()
    return out


def deletions(server: SandboxServer) -> dict[tuple[str, int], dt.datetime]:
    zone = ZoneInfo(server.settings.timezone)
    conn = sqlite3.connect(f"file:{server.account.store.path}?mode=ro", uri=True)
    try:
        return {(s, int(i)): _utc(d, zone) for s, i, d in conn.execute(
            "SELECT scriptid, recordid, deleteddate FROM deletedrecord")}
    finally:
        conn.close()


def warehouse_rows(engine: Engine) -> dict[str, dict[Any, dict]]:
    out: dict[str, dict[Any, dict]] = {}
    with engine.connect() as conn:
        for table in ALL_TABLES:
            key = [c.name for c in table.primary_key.columns]
            rows = {}
            for row in conn.execute(select(table)).mappings():
                data = {k: v for k, v in row.items() if k != "synced_at"}
                rows[data[key[0]] if len(key) == 1 else tuple(data[k] for k in key)] = data
            out[table.name] = rows
    return out


def assert_warehouse_matches(server: SandboxServer, engine: Engine,
                             intercompany_ids: frozenset[int] = frozenset()) -> dict[str, int]:
    """Every live warehouse row equals NetSuite's; every other row is soft-deleted and gone from
    NetSuite. Returns the live row count per table."""
    expected = truth(server, intercompany_ids)
    actual = warehouse_rows(engine)
    gone = deletions(server)
    problems: list[str] = []
    counts = {}
    for table in ALL_TABLES:
        want = expected[table.name]
        have = actual[table.name]
        if table is deleted_records:
            live = have
        else:
            live = {k: v for k, v in have.items() if not v["is_deleted"]}
        counts[table.name] = len(live)
        missing = sorted(set(want) - set(live), key=str)
        extra = sorted(set(live) - set(want), key=str)
        if missing:
            problems.append(f"{table.name}: missing {missing[:5]} ({len(missing)})")
        if extra:
            problems.append(f"{table.name}: not in NetSuite but live {extra[:5]} ({len(extra)})")
        for key in sorted(set(want) & set(live), key=str):
            if want[key] != live[key]:
                diff = {c: (live[key].get(c), want[key].get(c)) for c in want[key] if live[key].get(c) != want[key][c]}
                problems.append(f"{table.name} {key}: warehouse vs NetSuite {diff}")
                if len(problems) > 25:
                    break
        if table is deleted_records:
            continue
        for key, row in have.items():
            if not row["is_deleted"]:
                continue
            if key in want:
                problems.append(f"{table.name} {key}: soft-deleted but NetSuite has it")
            doc = key[0] if isinstance(key, tuple) else key
            script = next((s for s, t in SCRIPT_TABLES.items() if t is table), None)
            if script is not None and (script, doc) in gone and row["deleted_at"] != gone[(script, doc)]:
                problems.append(f"{table.name} {key}: deleted_at {row['deleted_at']} != deleteddate {gone[(script, doc)]}")
            if table is invoices and row["status"] != "CLOSED":
                problems.append(f"{table.name} {key}: deleted invoice not CLOSED ({row['status']})")
    assert not problems, "\n".join(problems[:30])
    return counts


def sandbox_rows(server: SandboxServer, sql: str, *args: Any) -> list[sqlite3.Row]:
    conn = sqlite3.connect(f"file:{server.account.store.path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def state_row(engine: Engine, record_type: str) -> dict[str, Any] | None:
    with engine.connect() as conn:
        row = conn.execute(select(sync_state).where(sync_state.c.record_type == record_type)).mappings().first()
    return dict(row) if row is not None else None


def admin(server: SandboxServer, method: str, path: str, body: dict | None = None) -> dict:
    token = server.credentials.admin_token
    response = requests.request(method, server.admin_url + path, json=body, timeout=30,
                                headers={"Authorization": f"Bearer {token}"})
    assert response.status_code < 300, response.text
    return response.json() if response.content else {}


def make_changes(server: SandboxServer) -> dict[str, Any]:
    """Edits, voids, deletions, applications, unapplications and new records, as a UI user would."""
    rec = server.account.records
    one = lambda sql, *a: sandbox_rows(server, sql, *a)[0]  # noqa: E731
    cust = one("SELECT id, subsidiary FROM customer WHERE representingsubsidiary IS NULL AND currency = 1 "
               "AND isinactive = 'F' ORDER BY id LIMIT 1")
    cid, sub = cust["id"], cust["subsidiary"]
    bank = one("SELECT id FROM account WHERE accttype = 'Bank' AND currency = 1 AND subsidiary = ? LIMIT 1", sub)["id"]
    done: dict[str, Any] = {"customer": cid}
    # new documents: an invoice, a payment and a credit memo applied to it, a JE, a deposit
    inv = rec.create("invoice", {"entity": {"id": str(cid)}, "item": {"items": [{"amount": 120.5}]}}, context="UI")
    pay = rec.create("customerPayment", {"customer": {"id": str(cid)}, "undepFunds": True, "payment": 50,
                                         "apply": {"items": [{"doc": {"id": str(inv)}, "apply": True, "amount": 40}]}},
                     context="UI")
    rec.create("creditMemo", {"entity": {"id": str(cid)}, "item": {"items": [{"amount": 20}]},
                              "apply": {"items": [{"doc": {"id": str(inv)}, "amount": 20}]}}, context="UI")
    rec.create("journalEntry", {"subsidiary": {"id": str(sub)}, "memo": "late fee", "line": {"items": [
        {"account": {"id": "1"}, "debit": 25, "entity": {"id": str(cid)}}, {"account": {"id": "7"}, "credit": 25}]}},
        context="UI")
    rec.create("deposit", {"account": {"id": str(bank)}, "payment": {"items": [{"id": str(pay)}]}}, context="UI")
    done["new_invoice"] = inv
    # unapply one application of an undeposited payment (the link disappears)
    link = one("SELECT l.previousdoc, l.nextdoc FROM nexttransactionlinelink l JOIN \"transaction\" p ON p.id = l.nextdoc "
               "WHERE p.type = 'CustPymt' AND p.status = 'B' AND p.voided = 'F' AND l.previoustype = 'CustInvc' "
               "AND p.id <> ? ORDER BY l.nextdoc LIMIT 1", pay)
    rec.update("customerPayment", str(link["nextdoc"]),
               {"apply": {"items": [{"doc": {"id": str(link["previousdoc"])}, "apply": False}]}}, context="UI")
    done["unapplied"] = (link["previousdoc"], 0, link["nextdoc"], 0)
    # delete another undeposited payment with applications (its links go; invoices reopen)
    gone = one("SELECT DISTINCT l.nextdoc FROM nexttransactionlinelink l JOIN \"transaction\" p ON p.id = l.nextdoc "
               "WHERE p.type = 'CustPymt' AND p.status = 'B' AND p.voided = 'F' AND p.id NOT IN (?, ?) "
               "ORDER BY l.nextdoc LIMIT 1", pay, link["nextdoc"])["nextdoc"]
    rec.delete("customerPayment", str(gone), context="UI")
    done["deleted_payment"] = gone
    # void a third one (voiding removes its applications too)
    voided = one("SELECT DISTINCT l.nextdoc FROM nexttransactionlinelink l JOIN \"transaction\" p ON p.id = l.nextdoc "
                 "WHERE p.type = 'CustPymt' AND p.status = 'B' AND p.voided = 'F' AND p.id NOT IN (?, ?) "
                 "ORDER BY l.nextdoc LIMIT 1", pay, link["nextdoc"])["nextdoc"]
    rec.void("customerPayment", str(voided), context="UI")
    done["voided_payment"] = voided
    # a credit memo refunded in part
    credit = rec.create("creditMemo", {"entity": {"id": str(cid)}, "item": {"items": [{"amount": 30}]}}, context="UI")
    rec.create("customerRefund", {"customer": {"id": str(cid)}, "account": {"id": str(bank)},
                                  "apply": {"items": [{"doc": {"id": str(credit)}, "apply": True, "amount": 10}]}},
               context="UI")
    # open invoices without applications: delete one (through the admin API), void one, edit one
    opens = [r["id"] for r in sandbox_rows(
        server, "SELECT t.id FROM \"transaction\" t WHERE t.type = 'CustInvc' AND t.status = 'A' AND t.voided = 'F' "
        "AND t.id <> ? AND NOT EXISTS (SELECT 1 FROM nexttransactionlinelink l WHERE l.previousdoc = t.id) "
        "ORDER BY t.id LIMIT 3", inv)]
    admin(server, "DELETE", f"/records/invoice/{opens[0]}")
    rec.void("invoice", str(opens[1]), context="UI")
    admin(server, "PATCH", f"/records/invoice/{opens[2]}", {"memo": "edited by a user"})
    done.update(deleted_invoice=opens[0], voided_invoice=opens[1], edited_invoice=opens[2])
    # delete a journal entry (its A/R lines go)
    je = one("SELECT t.id FROM \"transaction\" t WHERE t.type = 'Journal' AND t.voided = 'F' AND EXISTS ("
             "SELECT 1 FROM transactionline tl JOIN account a ON a.id = tl.expenseaccount WHERE tl.\"transaction\" = t.id "
             "AND tl.entity IS NOT NULL AND a.accttype = 'AcctRec') AND NOT EXISTS ("
             "SELECT 1 FROM nexttransactionlinelink l WHERE l.previousdoc = t.id) ORDER BY t.id LIMIT 1")["id"]
    rec.delete("journalEntry", str(je), context="UI")
    done["deleted_journal"] = je
    rec.update("customer", str(cid), {"email": "ap@changed.example"}, context="UI")
    return done


# -------------------------------------------------------------------------------------------
# Settings


def test_settings_from_env_defaults_and_parsing() -> None:
    s = SyncSettings.from_env({})
    assert s.timezone == "America/Los_Angeles" and s.overlap == dt.timedelta(minutes=10)
    assert s.parallel_ranges is None and s.ranges_for(3) == 3 and s.exclude_intercompany is True
    assert s.intercompany_customer_ids == frozenset() and s.page_size == 1000 and s.warehouse_url is None
    s = SyncSettings.from_env({"NETSUITE_TIMEZONE": "Europe/Amsterdam", "NS_SYNC_OVERLAP_MINUTES": "3",
                               "NS_SYNC_PARALLEL_RANGES": "8", "NS_INTERCOMPANY_CUSTOMER_IDS": " 101, 205 ,",
                               "NS_EXCLUDE_INTERCOMPANY": "false", "NS_WAREHOUSE_URL": "sqlite:///x.db",
                               "NS_SYNC_PAGE_SIZE": "250"})
    assert (s.timezone, s.overlap, s.parallel_ranges, s.intercompany_customer_ids) == (
        "Europe/Amsterdam", dt.timedelta(minutes=3), 8, frozenset({101, 205}))
    assert s.exclude_intercompany is False and s.warehouse_url == "sqlite:///x.db" and s.page_size == 250
    assert s.is_intercompany_customer(101, None) and s.is_intercompany_customer(7, 3)
    assert not s.is_intercompany_customer(7, None) and not s.is_intercompany_customer(None, None)
    for env, name in (({"NETSUITE_TIMEZONE": "Mars/Olympus"}, "NETSUITE_TIMEZONE"),
                      ({"NS_SYNC_OVERLAP_MINUTES": "ten"}, "NS_SYNC_OVERLAP_MINUTES"),
                      ({"NS_SYNC_PARALLEL_RANGES": "0"}, "NS_SYNC_PARALLEL_RANGES"),
                      ({"NS_INTERCOMPANY_CUSTOMER_IDS": "101,abc"}, "NS_INTERCOMPANY_CUSTOMER_IDS"),
                      ({"NS_EXCLUDE_INTERCOMPANY": "maybe"}, "NS_EXCLUDE_INTERCOMPANY"),
                      ({"NS_SYNC_PAGE_SIZE": "5000"}, "NS_SYNC_PAGE_SIZE")):
        with pytest.raises(SyncConfigError, match=name):
            SyncSettings.from_env(env)


def test_account_timestamp_is_local_and_safe_across_dst() -> None:
    la = ZoneInfo("America/Los_Angeles")
    assert account_timestamp(dt.datetime(2024, 7, 1, 19, 0, tzinfo=UTC), la) == \
        "TO_TIMESTAMP('2024-07-01 12:00:00', 'YYYY-MM-DD HH24:MI:SS')"
    # 2024-11-03 01:30 happens twice in Los Angeles; read from the earlier reading of that wall time
    assert account_timestamp(dt.datetime(2024, 11, 3, 8, 30, tzinfo=UTC), la) == \
        "TO_TIMESTAMP('2024-11-03 00:30:00', 'YYYY-MM-DD HH24:MI:SS')"
    assert account_timestamp(dt.datetime(2024, 11, 3, 9, 30, tzinfo=UTC), la) == \
        "TO_TIMESTAMP('2024-11-03 00:30:00', 'YYYY-MM-DD HH24:MI:SS')"
    with pytest.raises(ValueError):
        account_timestamp(dt.datetime(2024, 1, 1), la)


# -------------------------------------------------------------------------------------------
# Full, then incremental: every table equals NetSuite


@pytest.fixture
def small_server(tmp_path: Path) -> Iterator[SandboxServer]:
    with SandboxServer(tmp_path / "sandbox", scale="small", seed=11) as server:
        yield server


def test_full_then_incremental_equals_netsuite(small_server: SandboxServer, fresh_warehouse_url: str) -> None:
    server = small_server
    client = make_client(server)
    engine = make_engine(fresh_warehouse_url)
    settings = make_settings(server, page_size=400, env={"NS_INTERCOMPANY_CUSTOMER_IDS": "103"})
    ic = frozenset({103})
    try:
        first = sync_everything(client, engine, settings)
        assert {r.mode for r in first.values()} == {"full"}
        counts = assert_warehouse_matches(server, engine, ic)
        assert counts[invoices.name] > 500 and counts[payment_applications.name] > 1000
        assert counts[journal_lines.name] > 20 and counts[deleted_records.name] > 0
        full_read = sum(r.rows_read for r in first.values())
        # the full pass read big tables in parallel ranges, within the client's budget
        assert client.stats.peak_in_flight <= client.config.concurrency
        assert first["invoice"].pages >= 3 and first["invoice"].cursor_after is not None
        for rt, result in first.items():
            row = state_row(engine, rt)
            assert row is not None and row["window_mode"] is None and row["window_position"] is None
            assert row["cursor_last_modified"] == result.cursor_after

        # nothing changed: an incremental run reads (almost) nothing and writes the same
        again = sync_everything(client, engine, settings)
        assert {r.mode for r in again.values()} == {"incremental"}
        assert sum(r.rows_read for r in again.values()) < full_read / 50
        assert_warehouse_matches(server, engine, ic)

        done = make_changes(server)
        changed = sync_everything(client, engine, settings)
        counts_after = assert_warehouse_matches(server, engine, ic)
        incremental_read = sum(r.rows_read for r in changed.values())
        assert incremental_read < full_read / 20, (incremental_read, full_read)
        assert changed["paymentapplication"].rows_soft_deleted >= 2  # unapplied + deleted payment's links
        assert changed["deletedrecord"].rows_soft_deleted >= 3
        assert counts_after[invoices.name] == counts[invoices.name]  # one new, one deleted

        wh = warehouse_rows(engine)
        dead = wh[invoices.name][done["deleted_invoice"]]
        assert dead["is_deleted"] and dead["status"] == "CLOSED"
        assert wh[invoices.name][done["voided_invoice"]]["status"] == "V"
        assert wh[invoices.name][done["voided_invoice"]]["is_voided"] is True
        assert wh[invoices.name][done["edited_invoice"]]["memo"] == "edited by a user"
        assert wh[customer_payments.name][done["deleted_payment"]]["is_deleted"]
        voided = wh[customer_payments.name][done["voided_payment"]]
        assert voided["status"] == "V" and voided["is_voided"] and not voided["is_deleted"]
        assert not any(r["next_doc_id"] == done["voided_payment"] and not r["is_deleted"]
                       for r in wh[payment_applications.name].values())
        assert counts_after[customer_refunds.name] == counts[customer_refunds.name] + 1
        assert wh[payment_applications.name][done["unapplied"]]["is_deleted"]
        lines = [r for k, r in wh[journal_lines.name].items() if k[0] == done["deleted_journal"]]
        assert lines and all(r["is_deleted"] for r in lines)
        assert wh[customers.name][done["customer"]]["email"] == "ap@changed.example"
        assert wh[customers.name][103]["is_intercompany"] is True
        for result in changed.values():
            assert result.cursor_after >= result.cursor_before
    finally:
        client.close()
        engine.dispose()


def test_account_time_zone_and_date_preference_do_not_matter(tmp_path: Path) -> None:
    """Another account: Tokyo time, DD.MM.YYYY dates, numbers as strings, null columns present."""
    from ns_pipelines.sandbox.netsuite.settings import SandboxSettings

    account = SandboxSettings(timezone="Asia/Tokyo", date_format="DD.MM.YYYY", numbers_as_strings=True,
                              omit_null_columns=False)
    with SandboxServer(tmp_path / "sandbox", account, scale=500, seed=9) as server:
        client = make_client(server)
        engine = make_engine(f"sqlite:///{tmp_path / 'wh.sqlite3'}")
        settings = make_settings(server)
        assert settings.timezone == "Asia/Tokyo" and settings.date_format == "DD.MM.YYYY"
        try:
            sync_everything(client, engine, settings)
            assert_warehouse_matches(server, engine)
            make_changes(server)
            sync_everything(client, engine, settings)
            assert_warehouse_matches(server, engine)
        finally:
            client.close()
            engine.dispose()


def test_full_mode_marks_rows_netsuite_no_longer_has(tmp_path: Path) -> None:
    with SandboxServer(tmp_path / "sandbox", scale="tiny", seed=5) as server:
        client = make_client(server)
        engine = make_engine(f"sqlite:///{tmp_path / 'wh.sqlite3'}")
        settings = make_settings(server)
        try:
            sync_everything(client, engine, settings)
            # A record that vanished without a deletedrecord row (purged history): only a full
            # resync can notice.
            victim = sandbox_rows(server, "SELECT id FROM \"transaction\" WHERE type = 'CustInvc' "
                                  "AND NOT EXISTS (SELECT 1 FROM nexttransactionlinelink l WHERE l.previousdoc = id) "
                                  "ORDER BY id LIMIT 1")[0]["id"]
            with server.account.store.write() as conn:
                conn.execute('DELETE FROM transactionline WHERE "transaction" = ?', (victim,))
                conn.execute('DELETE FROM "transaction" WHERE id = ?', (victim,))
            incremental = sync_record_type(client, engine, "invoice", settings=settings)
            assert incremental.rows_soft_deleted == 0
            full = sync_record_type(client, engine, "invoice", settings=settings, mode="full")
            assert full.mode == "full" and full.rows_soft_deleted == 1
            row = warehouse_rows(engine)[invoices.name][victim]
            assert row["is_deleted"] and row["status"] == "CLOSED" and row["deleted_at"] is not None
            again = sync_record_type(client, engine, "invoice", settings=settings, mode="full")
            assert again.rows_soft_deleted == 0
        finally:
            client.close()
            engine.dispose()


# -------------------------------------------------------------------------------------------
# The cursor moves with the rows


class Boom(RuntimeError):
    pass


def test_cursor_atomicity_failure_between_batches(small_server: SandboxServer, fresh_warehouse_url: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    server = small_server
    client = make_client(server)
    engine = make_engine(fresh_warehouse_url)
    settings = make_settings(server, page_size=200, parallel_ranges=1)
    real_upsert = sync_runner.upsert_rows
    calls = {"n": 0}

    def failing_upsert(conn, table, rows):  # noqa: ANN001, ANN202
        written = real_upsert(conn, table, rows)
        calls["n"] += 1
        if calls["n"] == 3:  # inside the third batch's transaction, after its rows went in
            raise Boom("injected failure between the rows and the cursor")
        return written

    try:
        monkeypatch.setattr(sync_runner, "upsert_rows", failing_upsert)
        with pytest.raises(Boom):
            sync_record_type(client, engine, "invoice", settings=settings)
        monkeypatch.setattr(sync_runner, "upsert_rows", real_upsert)
        # two batches committed with their position; the third rolled back with its rows
        state = state_row(engine, "invoice")
        assert state["cursor_last_modified"] is None and state["window_mode"] == "full"
        position = json.loads(state["window_position"])
        (lower, upper, after, done), = position["intervals"]
        with engine.connect() as conn:
            ids = sorted(conn.execute(select(invoices.c.id)).scalars())
        assert len(ids) == 400 and after == [ids[-1]]
        assert state["last_run_rows"] == 400

        result = sync_record_type(client, engine, "invoice", settings=settings)
        assert result.resumed and result.mode == "full"
        assert result.rows_read == len(truth(server)[invoices.name]) - 400  # resumed after the last id
        state = state_row(engine, "invoice")
        assert state["window_mode"] is None and state["cursor_last_modified"] == result.cursor_after
        expected = truth(server)[invoices.name]
        actual = {k: v for k, v in warehouse_rows(engine)[invoices.name].items()}
        assert actual == expected
    finally:
        client.close()
        engine.dispose()


def test_rows_changed_during_a_pass_are_not_lost(tmp_path: Path) -> None:
    """A row whose id the pass already passed and that changes during the pass is read by the
    next pass, even if rows read later in the pass carry later timestamps."""
    with SandboxServer(tmp_path / "sandbox", scale="small", seed=3) as server:
        client = make_client(server)
        engine = make_engine(f"sqlite:///{tmp_path / 'wh.sqlite3'}")
        settings = make_settings(server, page_size=100, parallel_ranges=1)
        first_ids = [r["id"] for r in sandbox_rows(
            server, "SELECT id FROM \"transaction\" WHERE type = 'CustInvc' AND voided = 'F' ORDER BY id LIMIT 1")]
        last_ids = [r["id"] for r in sandbox_rows(
            server, "SELECT id FROM \"transaction\" WHERE type = 'CustInvc' AND voided = 'F' ORDER BY id DESC LIMIT 1")]
        edits = {"n": 0}

        def progress(stage: str, rows: int) -> None:
            edits["n"] += 1
            if edits["n"] == 2:  # the first invoices are written: change one of them, then a later one
                server.account.records.update("invoice", str(first_ids[0]), {"memo": "changed mid-pass"}, context="UI")
                server.account.store.clock_offset += dt.timedelta(hours=2)
                server.account.records.update("invoice", str(last_ids[0]), {"memo": "later"}, context="UI")

        try:
            sync_record_type(client, engine, "invoice", settings=settings, progress=progress)
            memo = warehouse_rows(engine)[invoices.name][first_ids[0]]["memo"]
            assert memo != "changed mid-pass"  # its id was passed before the change
            sync_record_type(client, engine, "invoice", settings=settings)
            assert warehouse_rows(engine)[invoices.name][first_ids[0]]["memo"] == "changed mid-pass"
            assert warehouse_rows(engine)[invoices.name][last_ids[0]]["memo"] == "later"
        finally:
            client.close()
            engine.dispose()


# -------------------------------------------------------------------------------------------
# Targeted mode


def test_targeted_mode_reads_exactly_those_records(small_server: SandboxServer, warehouse_url: str) -> None:
    server = small_server
    client = make_client(server)
    engine = make_engine(warehouse_url)
    settings = make_settings(server)
    try:
        for rt in ("invoice", "customerpayment", "paymentapplication"):
            sync_record_type(client, engine, rt, settings=settings, mode="full")
        before = {rt: state_row(engine, rt) for rt in ("invoice", "paymentapplication")}
        rec = server.account.records
        pair = sandbox_rows(server, "SELECT l.previousdoc, l.nextdoc FROM nexttransactionlinelink l JOIN \"transaction\" p "
                            "ON p.id = l.nextdoc WHERE p.type = 'CustPymt' AND p.status = 'B' AND l.previoustype = "
                            "'CustInvc' ORDER BY l.nextdoc LIMIT 1")[0]
        invoice_id, payment_id = pair["previousdoc"], pair["nextdoc"]
        other = sandbox_rows(server, "SELECT id FROM \"transaction\" WHERE type = 'CustInvc' AND id <> ? AND voided = 'F' "
                             "ORDER BY id LIMIT 1", invoice_id)[0]["id"]
        rec.update("customerPayment", str(payment_id),
                   {"apply": {"items": [{"doc": {"id": str(invoice_id)}, "apply": False}]}}, context="UI")
        rec.update("invoice", str(other), {"memo": "not targeted"}, context="UI")

        result = sync_record_type(client, engine, "invoice", settings=settings, record_ids=[invoice_id, 999999])
        assert result.mode == "targeted" and result.rows_read <= 3
        wh = warehouse_rows(engine)
        expected = truth(server)
        assert wh[invoices.name][invoice_id] == expected[invoices.name][invoice_id]  # reopened
        assert wh[invoices.name][other]["memo"] != "not targeted"  # not read
        assert wh[payment_applications.name][(invoice_id, 0, payment_id, 0)]["is_deleted"]  # its link vanished
        assert result.rows_soft_deleted == 1
        # the cursors and passes are untouched
        for rt, row in before.items():
            now = state_row(engine, rt)
            assert (now["cursor_last_modified"], now["window_mode"]) == (row["cursor_last_modified"], row["window_mode"])
        # a targeted payment re-read brings the payment and its remaining links
        result = sync_record_type(client, engine, "customerpayment", settings=settings, record_ids=[payment_id])
        assert warehouse_rows(engine)[customer_payments.name][payment_id] == \
            truth(server)[customer_payments.name][payment_id]
        with pytest.raises(ValueError):
            sync_record_type(client, engine, "deletedrecord", settings=settings, record_ids=[1])
        with pytest.raises(ValueError):
            sync_record_type(client, engine, "salesorder", settings=settings)
    finally:
        client.close()
        engine.dispose()
