"""Hand-built warehouse rows for the reconciliation tests (stripe_* and netsuite_* tables); no tests here."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from ns_pipelines.warehouse.tables import netsuite as ns
from ns_pipelines.warehouse.tables import reconciliation as recon
from ns_pipelines.warehouse.tables import stripe as st

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 3, 10, 18, 0, tzinfo=UTC)
D = Decimal

INPUT_TABLES = [
    st.customers, st.charges, st.refunds, st.disputes, st.payouts, st.balance_transactions,
    ns.customers, ns.invoices, ns.customer_payments, ns.customer_refunds, ns.deposits,
    ns.payment_applications, ns.credit_memos,
]
OUTPUT_TABLES = [recon.payment_matches, recon.payout_matches, recon.exceptions]


def clear(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        for table in INPUT_TABLES + OUTPUT_TABLES:
            conn.execute(sa.delete(table))


def insert(engine: sa.Engine, table: sa.Table, *rows: dict[str, Any]) -> None:
    with engine.begin() as conn:
        for row in rows:  # one by one: rows set different columns
            conn.execute(sa.insert(table).values(**row))


def _stamp(row: dict[str, Any], **defaults: Any) -> dict[str, Any]:
    return {**defaults, **row}


def customer(id_: int, **kw: Any) -> dict[str, Any]:
    return _stamp(kw, id=id_, entity_id=f"CUST{id_}", currency="USD", last_modified=T0, synced_at=T0)


def invoice(id_: int, customer_id: int, unpaid: str, *, due: dt.date | None = None, **kw: Any) -> dict[str, Any]:
    return _stamp(kw, id=id_, tran_id=f"INV{id_:05d}", customer_id=customer_id, currency="USD",
                  tran_date=dt.date(2026, 2, 1), due_date=due or dt.date(2026, 3, 1), status="A",
                  total=D(unpaid), amount_unpaid=D(unpaid), amount_paid=D(0), last_modified=T0, synced_at=T0)


def stripe_customer(id_: str, netsuite_customer_id: int | None = None) -> dict[str, Any]:
    return {"id": id_, "netsuite_customer_id": netsuite_customer_id, "created": T0, "synced_at": T0}


def charge(id_: str, amount: int, **kw: Any) -> dict[str, Any]:
    return _stamp(kw, id=id_, amount=amount, currency="usd", status="succeeded", paid=True, captured=True,
                  payment_intent=f"pi_{id_[3:]}", balance_transaction=f"txn_{id_}", created=T0, synced_at=T0)


def refund(id_: str, charge_id: str, amount: int, **kw: Any) -> dict[str, Any]:
    if isinstance(kw.get("metadata"), dict):
        kw["metadata"] = json.dumps(kw["metadata"])
    return _stamp(kw, id=id_, charge=charge_id, amount=amount, currency="usd", status="succeeded",
                  balance_transaction=f"txn_{id_}", created=T0 + dt.timedelta(days=1), synced_at=T0)


def dispute(id_: str, charge_id: str, amount: int, status: str, **kw: Any) -> dict[str, Any]:
    return _stamp(kw, id=id_, charge=charge_id, amount=amount, currency="usd", status=status,
                  created=T0 + dt.timedelta(days=2), synced_at=T0)


def payout(id_: str, amount: int, **kw: Any) -> dict[str, Any]:
    return _stamp(kw, id=id_, amount=amount, currency="usd", status="paid", automatic=True,
                  reconciliation_status="completed", arrival_date=T0 + dt.timedelta(days=3),
                  balance_transaction=f"txn_{id_}", created=T0 + dt.timedelta(days=2), synced_at=T0)


def balance_transaction(id_: str, amount: int, fee: int, source: str | None, payout_id: str | None,
                        category: str = "charge", **kw: Any) -> dict[str, Any]:
    return _stamp(kw, id=id_, amount=amount, fee=fee, net=amount - fee, currency="usd", type=category,
                  reporting_category=category, source=source, payout=payout_id, created=T0, synced_at=T0)


def netsuite_payment(id_: int, external_id: str, customer_id: int, total: str, **kw: Any) -> dict[str, Any]:
    return _stamp(kw, id=id_, tran_id=f"PYMT{id_}", external_id=external_id, customer_id=customer_id,
                  currency="USD", total=D(total), amount_used=D(total), amount_unused=D(0), status="B",
                  tran_date=dt.date(2026, 3, 10), last_modified=T0, synced_at=T0)


def application(invoice_id: int, payment_id: int, amount: str, *, next_type: str = "CustPymt") -> dict[str, Any]:
    return {"previous_doc_id": invoice_id, "previous_line": 0, "next_doc_id": payment_id, "next_line": 0,
            "previous_type": "CustInvc", "next_type": next_type, "link_type": "Payment", "amount": D(amount),
            "currency": "USD", "last_modified": T0, "synced_at": T0}


def netsuite_refund(id_: int, external_id: str | None, total: str) -> dict[str, Any]:
    return {"id": id_, "tran_id": f"RFND{id_}", "external_id": external_id, "currency": "USD", "total": D(total),
            "status": "A", "last_modified": T0, "synced_at": T0}


def netsuite_deposit(id_: int, external_id: str, total: str) -> dict[str, Any]:
    return {"id": id_, "tran_id": f"DEP{id_}", "external_id": external_id, "currency": "USD", "total": D(total),
            "status": "A", "last_modified": T0, "synced_at": T0}


def credit_memo(id_: int, customer_id: int, total: str) -> dict[str, Any]:
    return {"id": id_, "tran_id": f"CM{id_}", "customer_id": customer_id, "currency": "USD", "total": D(total),
            "amount_used": D(total), "amount_unused": D(0), "status": "B", "last_modified": T0, "synced_at": T0}


def rows(engine: sa.Engine, table: sa.Table, *where: Any) -> list[dict[str, Any]]:
    key = list(table.primary_key.columns)
    with engine.connect() as conn:
        found = [dict(r) for r in conn.execute(sa.select(table).where(*where).order_by(*key)).mappings()]
    for row in found:
        for name in ("applications", "lines", "netsuite_record_ids", "details"):
            if name in row and row[name] is not None:
                row[name] = json.loads(row[name])
    return found
