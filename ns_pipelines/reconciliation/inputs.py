"""Everything reconciliation reads, loaded in bulk: one streaming query per warehouse table.

NetSuite records of ours are found by external id (`stripe:...`); invoices are read whole (the
columns matching needs), so matching never goes back to the database per charge.
"""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select

from ns_pipelines.reconciliation.models import (
    BalanceTransaction,
    Charge,
    Dispute,
    Invoice,
    NetSuiteCustomer,
    NetSuitePayment,
    NetSuiteRecord,
    Payout,
    Refund,
)
from ns_pipelines.reconciliation.settings import ReconSettings
from ns_pipelines.warehouse.tables import netsuite as ns
from ns_pipelines.warehouse.tables import stripe as st

BATCH_ROWS = 5000
OUR_EXTERNAL_IDS = "stripe:%"
TARGET_INVOICE_STATUSES = frozenset({"A", "B"})  # Open, Paid In Full (nothing left to apply)
INVOICE_STATUS_NAMES = {"V": "voided", "CLOSED": "closed (deleted in NetSuite)", "D": "pending approval",
                        "E": "rejected"}


class InvalidInputError(ValueError):
    """A warehouse row reconciliation cannot read; the message names the record and the field."""


@dataclass
class Inputs:
    charges: list[Charge] = field(default_factory=list)
    refunds: list[Refund] = field(default_factory=list)
    disputes: list[Dispute] = field(default_factory=list)
    disputes_by_charge: dict[str, list[Dispute]] = field(default_factory=dict)
    payouts: list[Payout] = field(default_factory=list)
    balance_transactions: dict[str, BalanceTransaction] = field(default_factory=dict)
    transactions_by_payout: dict[str, list[BalanceTransaction]] = field(default_factory=dict)
    stripe_customer_links: dict[str, int | None] = field(default_factory=dict)  # cus_ -> netsuite id
    customers: dict[int, NetSuiteCustomer] = field(default_factory=dict)
    customers_by_external_id: dict[str, int] = field(default_factory=dict)
    invoices: dict[int, Invoice] = field(default_factory=dict)
    payments: dict[str, NetSuitePayment] = field(default_factory=dict)  # by external id
    customer_refunds: dict[str, NetSuiteRecord] = field(default_factory=dict)  # by external id
    customer_refunds_by_id: dict[int, NetSuiteRecord] = field(default_factory=dict)
    deposits: dict[str, NetSuiteRecord] = field(default_factory=dict)  # by external id
    credit_memo_links: dict[int, list[int]] = field(default_factory=dict)  # invoice id -> credit memo ids


def _rows(conn: Connection, stmt: Any) -> Any:
    result = conn.execute(stmt.execution_options(yield_per=BATCH_ROWS))
    for chunk in result.partitions(BATCH_ROWS):
        yield from chunk


def _metadata(raw: str | None, record: str) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise InvalidInputError(f"{record}: metadata is not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise InvalidInputError(f"{record}: metadata is not a JSON object")
    return value


def _optional_int(value: Any, record: str, name: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        raise InvalidInputError(f"{record}: {name} must be a NetSuite internal id, got {value!r}") from None


def load_inputs(conn: Connection, settings: ReconSettings) -> Inputs:
    inputs = Inputs()
    _load_stripe(conn, inputs)
    _load_customers(conn, inputs)
    _load_invoices(conn, inputs, settings)
    _load_netsuite_records(conn, inputs)
    return inputs


def _load_stripe(conn: Connection, inputs: Inputs) -> None:
    c = st.charges.c
    for r in _rows(conn, select(
        c.id, c.payment_intent, c.customer, c.amount, c.currency, c.status, c.balance_transaction,
        c.failure_message, c.description, c.netsuite_invoice_ids, c.netsuite_invoice_number,
        c.netsuite_customer_id, c.created,
    ).order_by(c.created, c.id)):
        inputs.charges.append(Charge(
            r.id, r.payment_intent, r.customer, r.amount, (r.currency or "").lower(), r.status,
            r.balance_transaction, r.failure_message, r.description, r.netsuite_invoice_ids,
            r.netsuite_invoice_number, r.netsuite_customer_id, r.created,
        ))
    rf = st.refunds.c
    for r in _rows(conn, select(
        rf.id, rf.charge, rf.amount, rf.currency, rf.status, rf.balance_transaction, rf.metadata, rf.created,
    ).order_by(rf.created, rf.id)):
        meta = _metadata(r.metadata, f"Stripe refund {r.id}")
        inputs.refunds.append(Refund(
            r.id, r.charge, r.amount, (r.currency or "").lower(), r.status, r.balance_transaction,
            (str(meta["netsuite_credit_memo_id"]) if meta.get("netsuite_credit_memo_id") else None),
            _optional_int(meta.get("netsuite_customer_refund_id"), f"Stripe refund {r.id}",
                          "metadata.netsuite_customer_refund_id"),
            r.created,
        ))
    d = st.disputes.c
    for r in _rows(conn, select(d.id, d.charge, d.amount, d.currency, d.status, d.created).order_by(d.created, d.id)):
        dispute = Dispute(r.id, r.charge, r.amount, (r.currency or "").lower(), r.status, r.created)
        inputs.disputes.append(dispute)
        if dispute.charge:
            inputs.disputes_by_charge.setdefault(dispute.charge, []).append(dispute)
    p = st.payouts.c
    for r in _rows(conn, select(
        p.id, p.amount, p.currency, p.status, p.automatic, p.reconciliation_status, p.arrival_date,
        p.balance_transaction,
    ).order_by(p.created, p.id)):
        inputs.payouts.append(Payout(
            r.id, r.amount, (r.currency or "").lower(), r.status, r.automatic, r.reconciliation_status,
            r.arrival_date, r.balance_transaction,
        ))
    b = st.balance_transactions.c
    by_payout: dict[str, list[BalanceTransaction]] = defaultdict(list)
    for r in _rows(conn, select(
        b.id, b.amount, b.fee, b.net, b.currency, b.type, b.reporting_category, b.source, b.payout,
    ).order_by(b.created, b.id)):
        bt = BalanceTransaction(r.id, r.amount, r.fee, r.net, (r.currency or "").lower(), r.type,
                                r.reporting_category, r.source, r.payout)
        inputs.balance_transactions[bt.id] = bt
        if bt.payout:
            by_payout[bt.payout].append(bt)
    inputs.transactions_by_payout = dict(by_payout)
    sc = st.customers.c
    for r in _rows(conn, select(sc.id, sc.netsuite_customer_id, sc.is_deleted)):
        inputs.stripe_customer_links[r.id] = r.netsuite_customer_id


def _load_customers(conn: Connection, inputs: Inputs) -> None:
    c = ns.customers.c
    for r in _rows(conn, select(c.id, c.external_id, c.is_deleted, c.is_intercompany, c.representing_subsidiary_id)):
        inputs.customers[r.id] = NetSuiteCustomer(
            r.id, r.external_id, bool(r.is_deleted),
            bool(r.is_intercompany) or r.representing_subsidiary_id is not None,
        )
        if r.external_id and not r.is_deleted:
            inputs.customers_by_external_id[r.external_id] = r.id


def _not_target(r: Any, customer: NetSuiteCustomer | None, settings: ReconSettings) -> str | None:
    if r.is_deleted:
        return "deleted in NetSuite"
    if r.is_voided:
        return "voided"
    if r.status not in TARGET_INVOICE_STATUSES:
        return INVOICE_STATUS_NAMES.get(r.status, f"in status {r.status!r}")
    if settings.exclude_intercompany and (
        r.is_intercompany
        or (customer is not None and customer.is_intercompany)
        or r.customer_id in settings.intercompany_customer_ids
    ):
        return "intercompany"
    return None


def _load_invoices(conn: Connection, inputs: Inputs, settings: ReconSettings) -> None:
    i = ns.invoices.c
    for r in _rows(conn, select(
        i.id, i.tran_id, i.customer_id, i.currency, i.due_date, i.tran_date, i.status, i.amount_unpaid,
        i.is_intercompany, i.is_voided, i.is_deleted,
    )):
        unpaid = r.amount_unpaid if r.amount_unpaid is not None else Decimal(0)
        inputs.invoices[r.id] = Invoice(
            r.id, r.tran_id, r.customer_id, (r.currency or "").upper(), r.due_date, r.tran_date,
            max(unpaid, Decimal(0)), _not_target(r, inputs.customers.get(r.customer_id), settings),
        )


def _load_netsuite_records(conn: Connection, inputs: Inputs) -> None:
    p = ns.customer_payments.c
    by_id: dict[int, NetSuitePayment] = {}
    for r in _rows(conn, select(
        p.id, p.external_id, p.customer_id, p.currency, p.total, p.amount_unused, p.status,
    ).where(p.external_id.like(OUR_EXTERNAL_IDS), p.is_deleted.is_(False))):
        payment = NetSuitePayment(r.id, r.external_id, r.customer_id, (r.currency or "").upper() or None,
                                  r.total or Decimal(0), r.amount_unused or Decimal(0), r.status)
        inputs.payments[r.external_id] = by_id[r.id] = payment
    a = ns.payment_applications.c
    for r in _rows(conn, select(a.next_doc_id, a.previous_doc_id, a.amount).select_from(
        ns.payment_applications.join(ns.customer_payments, ns.customer_payments.c.id == a.next_doc_id)
    ).where(
        p.external_id.like(OUR_EXTERNAL_IDS), a.previous_type == "CustInvc", a.is_deleted.is_(False),
    ).order_by(a.next_doc_id, a.previous_doc_id)):
        if r.next_doc_id in by_id and r.amount:
            by_id[r.next_doc_id].applications.append((r.previous_doc_id, abs(r.amount)))
    links: dict[int, list[int]] = defaultdict(list)
    for r in _rows(conn, select(a.previous_doc_id, a.next_doc_id).where(
        a.previous_type == "CustInvc", a.next_type == "CustCred", a.is_deleted.is_(False),
    ).order_by(a.previous_doc_id, a.next_doc_id)):
        links[r.previous_doc_id].append(r.next_doc_id)
    inputs.credit_memo_links = dict(links)
    rf = ns.customer_refunds.c
    for r in _rows(conn, select(rf.id, rf.external_id, rf.total).where(rf.is_deleted.is_(False), rf.is_voided.is_(False))):
        record = NetSuiteRecord(r.id, r.external_id, r.total)
        inputs.customer_refunds_by_id[r.id] = record
        if r.external_id:
            inputs.customer_refunds[r.external_id] = record
    d = ns.deposits.c
    for r in _rows(conn, select(d.id, d.external_id, d.total).where(
        d.external_id.like(OUR_EXTERNAL_IDS), d.is_deleted.is_(False), d.is_voided.is_(False),
    )):
        inputs.deposits[r.external_id] = NetSuiteRecord(r.id, r.external_id, r.total)
