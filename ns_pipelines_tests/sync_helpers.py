"""Helpers of the sync tests (test_sync.py, test_sync_faults.py, test_redundancy*.py,
test_customer_resync.py, test_sync_concurrent.py): sandbox and warehouse set-up, the ground truth
built straight from the sandbox's SQLite file, and the comparison of the warehouse with it."""
from __future__ import annotations

import datetime as dt
import sqlite3
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import requests
from sqlalchemy import Engine, select

from ns_pipelines.netsuite import NetSuiteClient, NetSuiteConfig, RetryPolicy
from ns_pipelines.sandbox.netsuite.schema import STATUS_TEXT
from ns_pipelines.sandbox.netsuite.server import SandboxServer
from ns_pipelines.sync import RECORD_TYPES, SyncSettings, sync_record_type
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
