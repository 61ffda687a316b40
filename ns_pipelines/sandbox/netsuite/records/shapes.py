"""Store rows -> the JSON the REST record service returns for a record.

Datetimes are ISO-8601 UTC, dates ISO, references {"links","id","refName"}, money numbers,
booleans true/false, and a record carries `links: [{"rel": "self"}]`. Sublists are links only
unless `expandSubResources=true`, then `{"links","items","totalResults","count","hasMore","offset"}`.
Empty fields are left out, as NetSuite does.
"""
from __future__ import annotations

import sqlite3
from typing import Any
from zoneinfo import ZoneInfo

from ..schema import STATUS_TEXT
from ..settings import MONEY_QUANT
from . import ledger
from .types import BY_TRANTYPE, CREDIT_MEMO, CUSTOMER, DEPOSIT, INVOICE, JOURNAL, PAYMENT, REFUND, RecordType
from .values import dec, drop_none, iso_utc, money_out, record_href, ref, self_links, tf

BALANCE_PRECISION = -MONEY_QUANT.as_tuple().exponent  # customer balances: base currency, 0.01


class Shaper:
    """Builds record JSON from one consistent read of the store."""

    def __init__(self, conn: sqlite3.Connection, zone: ZoneInfo, base_url: str) -> None:
        self.conn = conn
        self.zone = zone
        self.base = base_url.rstrip("/")
        self._names: dict[tuple[str, Any], Any] = {}

    # ---- references ----
    def _name(self, table: str, record_id: Any) -> Any:
        key = (table, record_id)
        if key not in self._names:
            if table == "currency":
                row = ledger.currency(self.conn, record_id)
                self._names[key] = row["name"] if row else None
            elif table == "subsidiary":
                row = ledger.subsidiary(self.conn, record_id)
                self._names[key] = row["name"] if row else None
            elif table == "account":
                row = ledger.account(self.conn, record_id)
                self._names[key] = row["fullname"] if row else None
            elif table == "customer":
                self._names[key] = ledger.customer_name(ledger.customer(self.conn, record_id))
            elif table == "transaction":
                row = ledger.tran(self.conn, record_id)
                self._names[key] = (ledger.tran_ref_name(row), row["recordtype"]) if row else (None, "transaction")
        return self._names[key]

    def ref(self, table: str, record_id: Any) -> dict[str, Any] | None:
        if record_id is None:
            return None
        if table == "transaction":
            name, key = self._name(table, record_id)
            return ref(self.base, key, record_id, name)
        return ref(self.base, table, record_id, self._name(table, record_id))

    def dt(self, value: Any) -> str | None:
        return iso_utc(value, self.zone)

    def sublist(self, rt: RecordType, record_id: int, name: str, items: list[dict[str, Any]] | None,
                expand: bool) -> dict[str, Any]:
        href = record_href(self.base, rt.key, record_id, name)
        if not expand:
            return {"links": self_links(href)}
        return {"links": self_links(href), "items": items or [], "totalResults": len(items or []),
                "count": len(items or []), "hasMore": False, "offset": 0}

    # ---- entry point ----
    def record(self, rt: RecordType, record_id: int, *, expand: bool) -> dict[str, Any]:
        if rt is CUSTOMER:
            return self.customer(record_id, expand)
        row = ledger.tran(self.conn, record_id)
        return getattr(self, rt.key)(row, expand)

    # ---- customer ----
    def customer(self, customer_id: int, expand: bool) -> dict[str, Any]:
        c = ledger.customer(self.conn, customer_id)
        rt = CUSTOMER
        currencies = self.conn.execute(
            "SELECT currency FROM customercurrency WHERE entity = ? ORDER BY currency", (customer_id,)).fetchall()
        items = [{"currency": self.ref("currency", r[0])} for r in currencies] if expand else None
        out = {
            "links": self_links(record_href(self.base, rt.key, customer_id)),
            "id": str(customer_id),
            "entityId": c["entityid"],
            "companyName": c["companyname"],
            "isPerson": tf(c["isperson"]),
            "email": c["email"],
            "phone": c["phone"],
            "currency": self.ref("currency", c["currency"]),
            "subsidiary": self.ref("subsidiary", c["subsidiary"]),
            "parent": self.ref("customer", c["parent"]),
            "representingSubsidiary": self.ref("subsidiary", c["representingsubsidiary"]),
            "terms": _terms(c["terms"]),
            "creditLimit": money_out(c["creditlimit"]),
            "balance": money_out(c["balancesearch"], BALANCE_PRECISION),
            "overdueBalance": money_out(c["overduebalancesearch"], BALANCE_PRECISION),
            "consolBalance": money_out(c["consolbalancesearch"], BALANCE_PRECISION),
            "isInactive": tf(c["isinactive"]),
            "externalId": c["externalid"],
            "dateCreated": self.dt(c["datecreated"]),
            "lastModifiedDate": self.dt(c["lastmodifieddate"]),
            "currencyList": self.sublist(rt, customer_id, "currencyList", items, expand),
        }
        return drop_none(out)

    # ---- transactions: common header ----
    def _header(self, row: sqlite3.Row, rt: RecordType) -> dict[str, Any]:
        main = ledger.main_line(self.conn, row["id"])
        status_text = STATUS_TEXT.get(row["type"], {}).get(row["status"] or "", row["status"])
        out: dict[str, Any] = {
            "links": self_links(record_href(self.base, rt.key, row["id"])),
            "id": str(row["id"]),
            "tranId": row["tranid"],
            "tranDate": row["trandate"],
            "currency": self.ref("currency", row["currency"]),
            "exchangeRate": money_out(row["exchangerate"]),
            "subsidiary": self.ref("subsidiary", main["subsidiary"]) if main is not None else None,
            "memo": row["memo"],
            "externalId": row["externalid"],
            "status": {"id": status_text, "refName": status_text} if status_text else None,
            "createdDate": self.dt(row["createddate"]),
            "lastModifiedDate": self.dt(row["lastmodifieddate"]),
        }
        return out

    def _transaction(self, row: sqlite3.Row, rt: RecordType, fields: dict[str, Any]) -> dict[str, Any]:
        """The common header, then the type's own fields."""
        return drop_none({**self._header(row, rt), **fields})

    def _prec(self, row: sqlite3.Row) -> int:
        return ledger.precision(self.conn, row["currency"])

    def _items(self, row: sqlite3.Row, rt: RecordType) -> list[dict[str, Any]]:
        p = self._prec(row)
        out = []
        for line in ledger.lines(self.conn, row["id"]):
            out.append(drop_none({
                "links": self_links(record_href(self.base, rt.key, row["id"], "item", str(line["id"]))),
                "line": int(line["id"]),
                "amount": money_out(line["foreignamount"], p),
                "description": line["memo"],
                "memo": line["memo"],
                "account": self.ref("account", line["expenseaccount"]),
            }))
        return out

    # ---- invoice ----
    def invoice(self, row: sqlite3.Row, expand: bool) -> dict[str, Any]:
        rt = INVOICE
        p = self._prec(row)
        return self._transaction(row, rt, {
            "entity": self.ref("customer", row["entity"]),
            "dueDate": row["duedate"],
            "account": self._main_account(row),
            "total": money_out(row["foreigntotal"], p),
            "amountPaid": money_out(row["foreignamountpaid"] or 0, p),
            "amountRemaining": money_out(row["foreignamountunpaid"] or 0, p),
            "intercompany": tf(row["intercompany"]),
            "terms": _terms(row["terms"]),
            "item": self._item_sublist(row, rt, expand),
        })

    # ---- credit memo ----
    def creditmemo(self, row: sqlite3.Row, expand: bool) -> dict[str, Any]:
        rt = CREDIT_MEMO
        p = self._prec(row)
        return self._transaction(row, rt, {
            "entity": self.ref("customer", row["entity"]),
            "account": self._main_account(row),
            "total": money_out(row["foreigntotal"], p),
            **self._credit_used(row, p),
            "intercompany": tf(row["intercompany"]),
            "item": self._item_sublist(row, rt, expand),
            "apply": self._apply_to_debits_sublist(row, rt, expand),
        })

    # ---- customer payment ----
    def customerpayment(self, row: sqlite3.Row, expand: bool) -> dict[str, Any]:
        rt = PAYMENT
        p = self._prec(row)
        return self._transaction(row, rt, {
            "customer": self.ref("customer", row["entity"]),
            "payment": money_out(row["foreigntotal"], p),
            "total": money_out(row["foreigntotal"], p),
            **self._credit_used(row, p),
            **self._cash_account(row),
            "apply": self._apply_to_debits_sublist(row, rt, expand),
        })

    # ---- fields several transaction types share ----
    def _main_account(self, row: sqlite3.Row) -> dict[str, Any] | None:
        main = ledger.main_line(self.conn, row["id"])
        return self.ref("account", main["expenseaccount"]) if main is not None else None

    def _cash_account(self, row: sqlite3.Row) -> dict[str, Any]:
        """A payment's or refund's account, and whether it is undeposited funds."""
        main = ledger.main_line(self.conn, row["id"])
        acct = ledger.account(self.conn, main["expenseaccount"]) if main is not None else None
        return {"account": self.ref("account", acct["id"]) if acct is not None else None,
                "undepFunds": bool(acct is not None and acct["accttype"] == "UnDepFunds")}

    @staticmethod
    def _credit_used(row: sqlite3.Row, p: int) -> dict[str, Any]:
        return {"applied": money_out(row["foreignpaymentamountused"] or 0, p),
                "unapplied": money_out(row["foreignpaymentamountunused"] or 0, p)}

    def _item_sublist(self, row: sqlite3.Row, rt: RecordType, expand: bool) -> dict[str, Any]:
        return self.sublist(rt, row["id"], "item", self._items(row, rt) if expand else None, expand)

    def _apply_to_debits_sublist(self, row: sqlite3.Row, rt: RecordType, expand: bool) -> dict[str, Any]:
        return self.sublist(rt, row["id"], "apply", self._apply_to_debits(row, rt) if expand else None, expand)

    def _apply_item(self, rt: RecordType, owner_id: int, doc: sqlite3.Row, line: int, applied: Any,
                    due: Any, total: Any, p: int) -> dict[str, Any]:
        return drop_none({
            "links": self_links(record_href(self.base, rt.key, owner_id, "apply", f"doc={doc['id']},line={line}")),
            "apply": applied is not None,
            "amount": money_out(applied if applied is not None else 0, p),
            "doc": self.ref("transaction", doc["id"]),
            "line": line,
            "due": money_out(due, p),
            "total": money_out(total, p),
            "refNum": doc["tranid"],
            "type": _type_display(doc),
            "applyDate": doc["trandate"],
            "currency": self._currency_name(doc),
        })

    def _currency_name(self, doc: sqlite3.Row) -> str | None:
        currency = ledger.currency(self.conn, doc["currency"])
        return currency["name"] if currency is not None else None

    def _apply_to_debits(self, row: sqlite3.Row, rt: RecordType) -> list[dict[str, Any]]:
        """A payment's or credit memo's apply sublist: what it applies, then the customer's other
        open invoices and open A/R journal debit lines in the same currency."""
        p = self._prec(row)
        applied: dict[tuple[int, int], Any] = {}
        for link in self.conn.execute(
                "SELECT previousdoc, previousline, foreignamount FROM nexttransactionlinelink "
                "WHERE nextdoc = ? AND linktype = 'Payment'", (row["id"],)):
            applied[(int(link[0]), int(link[1]))] = dec(link[2])
        items: list[tuple[str, int, int, dict[str, Any]]] = []
        seen: set[tuple[int, int]] = set()
        for (doc_id, line_id), amount in applied.items():
            doc = ledger.tran(self.conn, doc_id)
            if doc is None:
                continue
            open_amount, total = self._debit_open(doc, line_id)
            items.append((doc["trandate"], doc_id, line_id,
                          self._apply_item(rt, row["id"], doc, line_id, amount, open_amount + amount, total, p)))
            seen.add((doc_id, line_id))
        if row["voided"] != "T" and row["entity"] is not None:
            for doc in self.conn.execute(
                    'SELECT * FROM "transaction" WHERE entity = ? AND type = \'CustInvc\' AND currency = ? '
                    "AND voided = 'F' AND foreignamountunpaid > 0 ORDER BY trandate, id",
                    (row["entity"], row["currency"])):
                if (int(doc["id"]), 0) in seen:
                    continue
                items.append((doc["trandate"], int(doc["id"]), 0, self._apply_item(
                    rt, row["id"], doc, 0, None, dec(doc["foreignamountunpaid"]), doc["foreigntotal"], p)))
            for jl in self.conn.execute(
                    "SELECT tl.\"transaction\" AS tid, tl.id AS lid, tl.foreignamount, tl.foreignamountunpaid "
                    "FROM transactionline tl JOIN \"transaction\" t ON t.id = tl.\"transaction\" "
                    "JOIN account a ON a.id = tl.expenseaccount "
                    "WHERE t.type = 'Journal' AND t.voided = 'F' AND tl.entity = ? AND t.currency = ? "
                    "AND a.accttype = 'AcctRec' AND tl.foreignamount > 0 AND tl.foreignamountunpaid > 0",
                    (row["entity"], row["currency"])):
                key = (int(jl["tid"]), int(jl["lid"]))
                if key in seen:
                    continue
                doc = ledger.tran(self.conn, key[0])
                items.append((doc["trandate"], key[0], key[1], self._apply_item(
                    rt, row["id"], doc, key[1], None, dec(jl["foreignamountunpaid"]), jl["foreignamount"], p)))
        items.sort(key=lambda it: (it[0] or "", it[1], it[2]))
        return [it[3] for it in items]

    def _debit_open(self, doc: sqlite3.Row, line_id: int) -> tuple[Any, Any]:
        if doc["type"] == "Journal":
            line = self.conn.execute("SELECT * FROM transactionline WHERE \"transaction\" = ? AND id = ?",
                                     (doc["id"], line_id)).fetchone()
            if line is None:
                return dec(0), dec(0)
            return dec(line["foreignamountunpaid"]), dec(line["foreignamount"])
        return dec(doc["foreignamountunpaid"]), dec(doc["foreigntotal"])

    # ---- customer refund ----
    def customerrefund(self, row: sqlite3.Row, expand: bool) -> dict[str, Any]:
        rt = REFUND
        p = self._prec(row)
        items = None
        if expand:
            items = []
            seen: set[int] = set()
            for link in self.conn.execute(
                    "SELECT previousdoc, foreignamount FROM nexttransactionlinelink WHERE nextdoc = ? "
                    "AND linktype = 'Payment' ORDER BY previousdoc", (row["id"],)):
                doc = ledger.tran(self.conn, link[0])
                if doc is None:
                    continue
                seen.add(int(doc["id"]))
                amount = dec(link[1])
                items.append(self._apply_item(rt, row["id"], doc, 0, amount,
                                              dec(doc["foreignpaymentamountunused"]) + amount, doc["foreigntotal"], p))
            if row["voided"] != "T":
                for doc in self.conn.execute(
                        'SELECT * FROM "transaction" WHERE entity = ? AND type IN (\'CustCred\', \'CustPymt\') '
                        "AND currency = ? AND voided = 'F' AND foreignpaymentamountunused > 0 ORDER BY trandate, id",
                        (row["entity"], row["currency"])):
                    if int(doc["id"]) in seen:
                        continue
                    items.append(self._apply_item(rt, row["id"], doc, 0, None, doc["foreignpaymentamountunused"],
                                                  doc["foreigntotal"], p))
        return self._transaction(row, rt, {
            "customer": self.ref("customer", row["entity"]),
            "total": money_out(row["foreigntotal"], p),
            **self._cash_account(row),
            "apply": self.sublist(rt, row["id"], "apply", items, expand),
        })

    # ---- deposit ----
    def deposit(self, row: sqlite3.Row, expand: bool) -> dict[str, Any]:
        rt = DEPOSIT
        p = self._prec(row)
        payments = other = None
        if expand:
            payments = []
            for link in self.conn.execute(
                    "SELECT previousdoc, foreignamount FROM nexttransactionlinelink WHERE nextdoc = ? "
                    "AND linktype = 'Deposit' ORDER BY previousdoc", (row["id"],)):
                doc = ledger.tran(self.conn, link[0])
                if doc is None:
                    continue
                payments.append(drop_none({
                    "links": self_links(record_href(self.base, rt.key, row["id"], "payment", str(doc["id"]))),
                    "id": str(doc["id"]),
                    "doc": self.ref("transaction", doc["id"]),
                    "deposit": True,
                    "paymentAmount": money_out(dec(link[1]) * (-1 if doc["type"] == "CustRfnd" else 1), p),
                    "type": _type_display(doc),
                    "docNumber": doc["tranid"],
                    "refNum": doc["tranid"],
                    "entity": self.ref("customer", doc["entity"]),
                    "currency": self._currency_name(doc),
                    "tranDate": doc["trandate"],
                    "memo": doc["memo"],
                }))
            other = []
            payment_lines = ledger.payment_line_ids(self.conn, row["id"])
            for line in ledger.lines(self.conn, row["id"]):
                if int(line["id"]) in payment_lines:
                    continue
                other.append(drop_none({
                    "links": self_links(record_href(self.base, rt.key, row["id"], "other", str(line["id"]))),
                    "line": int(line["id"]),
                    "account": self.ref("account", line["expenseaccount"]),
                    "amount": money_out(line["foreignamount"], p),
                    "memo": line["memo"],
                    "entity": self.ref("customer", line["entity"]),
                }))
        return self._transaction(row, rt, {
            "account": self._main_account(row),
            "total": money_out(row["foreigntotal"], p),
            "payment": self.sublist(rt, row["id"], "payment", payments, expand),
            "other": self.sublist(rt, row["id"], "other", other, expand),
            "cashBack": self.sublist(rt, row["id"], "cashBack", [] if expand else None, expand),
        })

    # ---- journal entry ----
    def journalentry(self, row: sqlite3.Row, expand: bool) -> dict[str, Any]:
        rt = JOURNAL
        p = self._prec(row)
        items = None
        if expand:
            items = []
            for line in self.conn.execute(
                    "SELECT * FROM transactionline WHERE \"transaction\" = ? AND (mainline = 'F' OR "
                    "expenseaccount IS NOT NULL) ORDER BY linesequencenumber, id", (row["id"],)):
                debit = dec(line["debitforeignamount"])
                credit = dec(line["creditforeignamount"])
                items.append(drop_none({
                    "links": self_links(record_href(self.base, rt.key, row["id"], "line", str(line["id"]))),
                    "line": int(line["id"]),
                    "account": self.ref("account", line["expenseaccount"]),
                    "debit": money_out(debit, p) if debit else None,
                    "credit": money_out(credit, p) if credit else None,
                    "entity": self.ref("customer", line["entity"]),
                    "memo": line["memo"],
                }))
        return self._transaction(row, rt, {
            "approved": row["status"] == "B",
            "line": self.sublist(rt, row["id"], "line", items, expand),
        })


def _terms(terms: int | None) -> dict[str, Any] | None:
    return {"links": [], "id": str(terms), "refName": f"Net {terms}"} if terms is not None else None


def _type_display(doc: sqlite3.Row) -> str:
    return BY_TRANTYPE[doc["type"]].display if doc["type"] in BY_TRANTYPE else doc["type"]
