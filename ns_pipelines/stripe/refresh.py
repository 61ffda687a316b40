"""Re-fetching changed objects (named by events or webhooks) and what they lead to."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select

from ns_pipelines.stripe import decode
from ns_pipelines.stripe.client import StripeAPI
from ns_pipelines.stripe.results import OBJECT_TYPES, StripeSyncError, StripeSyncResult, decode_row, utcnow
from ns_pipelines.warehouse import soft_delete, upsert_rows
from ns_pipelines.warehouse.tables.stripe import TABLES_BY_OBJECT, balance_transactions, customers

# Objects whose changes reach the charge that carries them (refund totals, the disputed flag).
CHARGE_OF = {"refund": "charge", "dispute": "charge", "payment_intent": "latest_charge"}


def charge_of(object_type: str, obj: Mapping[str, Any]) -> str | None:
    """The charge behind a refund, dispute or payment intent (None for other objects)."""
    field_name = CHARGE_OF.get(object_type)
    return decode.ref(obj.get(field_name)) if field_name else None


@dataclass
class Fetched:
    rows: dict[str, dict[str, dict[str, Any]]] = field(default_factory=lambda: {t: {} for t in OBJECT_TYPES})
    deleted_customers: set[str] = field(default_factory=set)
    changed_payouts: set[str] = field(default_factory=set)


def targets_of_event(event: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(object type, id) pairs an event asks to re-fetch: its object, and the charge behind it."""
    obj = (event.get("data") or {}).get("object") or {}
    object_type, object_id = obj.get("object"), obj.get("id")
    targets: list[tuple[str, str]] = []
    if object_type in TABLES_BY_OBJECT and object_id:
        targets.append((object_type, object_id))
    charge = charge_of(object_type, obj)
    if charge:
        targets.append(("charge", charge))
    return targets


def bt_refs(object_type: str, obj: Mapping[str, Any]) -> set[str]:
    refs = {decode.ref(obj.get("balance_transaction")), decode.ref(obj.get("failure_balance_transaction"))}
    if object_type == "dispute":
        refs.update(decode.ref(t) for t in obj.get("balance_transactions") or [])
    return {r for r in refs if r}


# Charges last: a re-fetched refund or dispute adds its charge (refund totals, the disputed flag).
FETCH_ORDER = ("customer", "refund", "dispute", "payout", "charge")


def fetch_objects(api: StripeAPI, engine: Engine, wanted: Mapping[str, Iterable[str]], selected: Sequence[str],
                  results: Mapping[str, StripeSyncResult]) -> Fetched:
    """Re-fetch the wanted objects of the selected types, the charges of refunds and disputes,
    and the balance transactions they reference that the warehouse lacks."""
    fetched = Fetched()
    queue = {t: set(wanted.get(t, ())) for t in OBJECT_TYPES}
    bt_ids: set[str] = set(queue["balance_transaction"])
    for object_type in (t for t in FETCH_ORDER if t in selected):
        result = results[object_type]
        for object_id in sorted(queue[object_type]):
            obj = api.retrieve(object_type, object_id)
            result.rows_read += 1
            if object_type == "customer" and (obj is None or obj.get("deleted")):
                fetched.deleted_customers.add(object_id)
                continue
            if obj is None:
                raise StripeSyncError(f"{object_type} {object_id}: asked for, but Stripe answers 404")
            fetched.rows[object_type][object_id] = decode_row(object_type, obj, result)
            bt_ids |= bt_refs(object_type, obj)
            charge = charge_of(object_type, obj)  # payment intents are not fetched: refunds and disputes
            if charge:
                queue["charge"].add(charge)
            if object_type == "payout":
                fetched.changed_payouts.add(object_id)
            if object_type == "dispute" and "balance_transaction" in selected:
                for bt in decode.dispute_balance_transactions(obj):  # full objects: no request needed
                    fetched.rows["balance_transaction"][bt["id"]] = decode_row(
                        "balance_transaction", bt, results["balance_transaction"])
    if "balance_transaction" in selected:
        result = results["balance_transaction"]
        due = missing_or_due(engine, bt_ids, api.stripe_time()) - set(fetched.rows["balance_transaction"])
        for bt_id in sorted(due):
            obj = api.retrieve("balance_transaction", bt_id)
            result.rows_read += 1
            if obj is None:
                raise StripeSyncError(f"balance_transaction {bt_id}: referenced, but Stripe answers 404")
            fetched.rows["balance_transaction"][bt_id] = decode_row("balance_transaction", obj, result)
    return fetched


def missing_or_due(engine: Engine, ids: set[str], now: dt.datetime) -> set[str]:
    """Of `ids`, those not in the warehouse; plus pending balance transactions now due (their
    status moves to available without an event)."""
    bt = balance_transactions.c
    have: set[str] = set()
    listed = sorted(ids)
    with engine.connect() as conn:
        for start in range(0, len(listed), 500):
            have.update(conn.execute(select(bt.id).where(bt.id.in_(listed[start:start + 500]))).scalars())
        due = set(conn.execute(select(bt.id).where(bt.status == "pending", bt.available_on <= now)).scalars())
    return (ids - have) | due


def write_fetched(conn: Any, fetched: Fetched, results: Mapping[str, StripeSyncResult]) -> None:
    for object_type, rows in fetched.rows.items():
        if rows:
            results[object_type].rows_written += upsert_rows(conn, TABLES_BY_OBJECT[object_type], rows.values())
    if fetched.deleted_customers:
        results["customer"].rows_soft_deleted += soft_delete(conn, customers, fetched.deleted_customers, utcnow())
