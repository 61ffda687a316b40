"""Data checks on the warehouse, as plain functions (the Dagster asset checks call them).

Each returns CheckOutcome(passed, description, metadata). Metadata is JSON-ready (ids as ints,
money as strings, lists capped at `limit` entries with the full count beside them), so it can
become Dagster check metadata as is.

- unique_keys(engine, table): primary key and natural keys (external id per record type and
  tran_id per transaction type, among non-deleted rows) are unique.
- references(engine): every transaction's customer exists in netsuite_customers; every live
  payment application's previous document (invoice, journal line, credit memo, payment) and next
  document (payment, credit memo, refund, deposit) exist in the warehouse and are not deleted.
- balances_match(engine, tolerance): every derived customer balance equals NetSuite's (the
  `difference` column of ar_customer_balances, which adds back excluded intercompany amounts).
- freshness(engine, record_type, max_age): the record type's sync state was written recently.
- row_count(engine, table, min_rows=1): the table has rows.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Engine,
    Table,
    and_,
    exists,
    func,
    literal,
    or_,
    select,
)

from ns_pipelines.warehouse.tables import (
    credit_memos,
    customer_balances,
    customer_payments,
    customer_refunds,
    customers,
    deposits,
    invoices,
    journal_lines,
    metadata as warehouse_metadata,
    payment_applications,
    sync_state,
)

__all__ = [
    "DEFAULT_LIMIT",
    "CheckOutcome",
    "balances_match",
    "freshness",
    "references",
    "row_count",
    "unique_keys",
]

DEFAULT_LIMIT = 50  # entries listed per finding in metadata


@dataclass(frozen=True)
class CheckOutcome:
    passed: bool
    description: str
    metadata: dict[str, Any] = field(default_factory=dict)


def _table(table: Table | str) -> Table:
    if isinstance(table, Table):
        return table
    try:
        return warehouse_metadata.tables[table]
    except KeyError:
        raise ValueError(f"unknown warehouse table {table!r}") from None


def _money(value: Decimal | None) -> str | None:
    """Money as text, with 2 decimals unless the value has more (stored values carry 4)."""
    if value is None:
        return None
    cents = value.quantize(Decimal("0.01"))
    return str(cents if cents == value else value.normalize())


def _json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return _money(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


# --------------------------------------------------------------------------------------------
# unique keys
# --------------------------------------------------------------------------------------------

def _natural_keys(table: Table) -> list[tuple[str, ColumnElement[Any], ColumnElement[Any]]]:
    """(name, key column, identity of the record) for the natural keys of a raw NetSuite table.

    The identity is what one record is: the id, or the journal entry for journal lines (whose
    lines share the entry's tran_id and external id).
    """
    if table is payment_applications or "is_deleted" not in table.c:
        return []
    identity = table.c.journal_entry_id if "journal_entry_id" in table.c else table.c.id
    keys = []
    if "external_id" in table.c:
        keys.append(("external_id", table.c.external_id, identity))
    if "tran_id" in table.c:
        keys.append(("tran_id", table.c.tran_id, identity))
    return keys


def unique_keys(engine: Engine, table: Table | str, *, limit: int = DEFAULT_LIMIT) -> CheckOutcome:
    """Primary key values are unique; so are external ids and document numbers (tran_id) of
    non-deleted records of a NetSuite record type (one table per type; journal lines: one entry
    per external id / tran_id)."""
    table = _table(table)
    key = list(table.primary_key.columns)
    findings: dict[str, Any] = {}
    failed = False
    with engine.connect() as conn:
        count = func.count().label("n")
        dup = select(*key, count).group_by(*key).having(func.count() > 1).subquery()
        total = conn.execute(select(func.count()).select_from(dup)).scalar_one()
        listed = conn.execute(select(dup).order_by(*dup.c).limit(limit)).all()
        findings["primary_key"] = {
            "columns": [c.name for c in key],
            "duplicate_count": total,
            "duplicates": [{**{c.name: _json(v) for c, v in zip(key, r[:-1])}, "rows": r[-1]} for r in listed],
        }
        failed |= total > 0
        for name, column, identity in _natural_keys(table):
            records = func.count(identity.distinct())
            dup = (
                select(column.label("value"), records.label("records"))
                .where(table.c.is_deleted.is_(False), column.is_not(None), column != "")
                .group_by(column)
                .having(records > 1)
                .subquery()
            )
            total = conn.execute(select(func.count()).select_from(dup)).scalar_one()
            listed = conn.execute(select(dup).order_by(dup.c.value).limit(limit)).all()
            ids: dict[str, list[int]] = {}
            for value, _n in listed:
                ids[value] = list(conn.execute(
                    select(identity.distinct())
                    .where(table.c.is_deleted.is_(False), column == value)
                    .order_by(identity).limit(limit)
                ).scalars())
            findings[name] = {
                "duplicate_count": total,
                "duplicates": [{"value": v, "records": n, "ids": ids[v]} for v, n in listed],
            }
            failed |= total > 0
    problems = [f"{n}: {f['duplicate_count']} duplicated" for n, f in findings.items() if f["duplicate_count"]]
    description = (
        f"{table.name}: duplicate keys ({'; '.join(problems)})" if failed
        else f"{table.name}: keys unique ({', '.join(findings)})"
    )
    return CheckOutcome(not failed, description, {"table": table.name, **findings})


# --------------------------------------------------------------------------------------------
# references
# --------------------------------------------------------------------------------------------

# nexttransactionlinelink document types -> (table, id column) holding them.
DOCUMENT_TABLES: dict[str, tuple[Table, str]] = {
    "CustInvc": (invoices, "id"),
    "CustPymt": (customer_payments, "id"),
    "CustCred": (credit_memos, "id"),
    "CustRfnd": (customer_refunds, "id"),
    "Deposit": (deposits, "id"),
    "Journal": (journal_lines, "journal_entry_id"),
}
# Tables whose customer_id must exist in netsuite_customers (deposits rarely have a customer).
CUSTOMER_TABLES = (invoices, customer_payments, credit_memos, customer_refunds, deposits, journal_lines)


def _missing(conn: Any, stmt: Any, limit: int) -> tuple[int, list[Any]]:
    sub = stmt.subquery()
    total = conn.execute(select(func.count()).select_from(sub)).scalar_one()
    listed = list(conn.execute(select(sub).order_by(*sub.c).limit(limit)).scalars()) if total else []
    return total, listed


def references(engine: Engine, *, limit: int = DEFAULT_LIMIT) -> CheckOutcome:
    """Every transaction's customer exists; every live application's documents exist, undeleted.

    metadata: per finding the count and the first `limit` ids:
    `missing_customers.<table>` (customer ids referenced by non-deleted rows but absent from
    netsuite_customers), `missing_previous_docs.<type>` / `missing_next_docs.<type>` (document
    ids of live applications absent from their table), `deleted_previous_docs.<type>` /
    `deleted_next_docs.<type>` (present but deleted: the application should have been deleted
    too), `unknown_types` (document types the check cannot resolve).
    """
    a = payment_applications.c
    findings: dict[str, dict[str, Any]] = {}
    failures = 0

    def record(group: str, name: str, total: int, ids: list[Any]) -> None:
        nonlocal failures
        if total:
            findings.setdefault(group, {})[name] = {"count": total, "ids": ids}
            failures += total

    with engine.connect() as conn:
        for table in CUSTOMER_TABLES:
            t = table.c
            stmt = (
                select(t.customer_id).distinct()
                .where(t.is_deleted.is_(False), t.customer_id.is_not(None),
                       ~exists().where(customers.c.id == t.customer_id))
            )
            record("missing_customers", table.name, *_missing(conn, stmt, limit))

        live = a.is_deleted.is_(False)
        for side, doc_col, type_col in (
            ("previous", a.previous_doc_id, a.previous_type),
            ("next", a.next_doc_id, a.next_type),
        ):
            for doc_type, (table, id_name) in DOCUMENT_TABLES.items():
                target = table.c[id_name]
                missing = (
                    select(doc_col).distinct()
                    .where(live, type_col == doc_type, ~exists().where(target == doc_col))
                )
                record(f"missing_{side}_docs", doc_type, *_missing(conn, missing, limit))
                deleted = (
                    select(doc_col).distinct()
                    .where(live, type_col == doc_type,
                           exists().where(target == doc_col, table.c.is_deleted.is_(True)),
                           ~exists().where(target == doc_col, table.c.is_deleted.is_(False)))
                )
                record(f"deleted_{side}_docs", doc_type, *_missing(conn, deleted, limit))
        unknown = (
            select(func.coalesce(a.previous_type, "(none)") + "->" + func.coalesce(a.next_type, "(none)"))
            .distinct()
            .where(live, or_(a.previous_type.is_(None), a.previous_type.not_in(DOCUMENT_TABLES),
                             a.next_type.is_(None), a.next_type.not_in(DOCUMENT_TABLES)))
        )
        total, kinds = _missing(conn, unknown, limit)
        if total:
            findings["unknown_types"] = {"count": total, "ids": kinds}
            failures += total

    if not failures:
        return CheckOutcome(True, "Every customer and application document referenced exists", {})
    summary = "; ".join(
        f"{group} {name}: {f['count']} ({', '.join(map(str, f['ids'][:5]))}{', ...' if f['count'] > 5 else ''})"
        for group, per in findings.items() if group != "unknown_types" for name, f in per.items()
    )
    if "unknown_types" in findings:
        summary = "; ".join(filter(None, [summary, f"unknown document types: {findings['unknown_types']['ids']}"]))
    return CheckOutcome(False, f"Dangling references: {summary}", {"failure_count": failures, **findings})


# --------------------------------------------------------------------------------------------
# balances
# --------------------------------------------------------------------------------------------

def balances_match(
    engine: Engine, tolerance: Decimal = Decimal("0.00"), *, limit: int = DEFAULT_LIMIT
) -> CheckOutcome:
    """Derived customer balances equal NetSuite's, within `tolerance` (absolute, base currency).

    Reads ar_customer_balances: a customer fails when |difference| > tolerance, where
    difference = balance_base + excluded intercompany open amounts - netsuite_balance (see
    ar/balances.py), or when NetSuite reports no balance for a customer whose derived balance is
    not zero. metadata: `mismatch_count`, `mismatches` (largest first: customer_id, entity_id,
    balance_base, netsuite_balance, difference), `total_abs_difference`, `unreported_count`,
    `unreported` (customer_id, balance_base), `customers_compared`.
    """
    tolerance = Decimal(tolerance)
    b = customer_balances.c
    if tolerance < 0:
        raise ValueError(f"tolerance must not be negative: {tolerance}")
    # Bound as Money, so SQLite compares it the way it stores the column (a float).
    money = b.difference.type
    mismatch = and_(
        b.difference.is_not(None),
        or_(b.difference > literal(tolerance, money), b.difference < literal(-tolerance, money)),
    )
    unreported = and_(b.netsuite_balance.is_(None), b.balance_base != 0)
    with engine.connect() as conn:
        compared = conn.execute(
            select(func.count()).where(b.netsuite_balance.is_not(None))
        ).scalar_one()
        rows = conn.execute(
            select(b.customer_id, b.entity_id, b.balance_base, b.netsuite_balance, b.difference).where(mismatch)
        ).all()
        missing = conn.execute(
            select(b.customer_id, b.balance_base).where(unreported).order_by(b.customer_id)
        ).all()
    rows.sort(key=lambda r: (-abs(r.difference), r.customer_id))
    total_abs = _money(sum((abs(r.difference) for r in rows), Decimal("0.00")))
    meta: dict[str, Any] = {
        "customers_compared": compared,
        "tolerance": str(tolerance),
        "mismatch_count": len(rows),
        "total_abs_difference": total_abs,
        "mismatches": [
            {"customer_id": r.customer_id, "entity_id": r.entity_id, "balance_base": _money(r.balance_base),
             "netsuite_balance": _money(r.netsuite_balance), "difference": _money(r.difference)}
            for r in rows[:limit]
        ],
        "unreported_count": len(missing),
        "unreported": [{"customer_id": r.customer_id, "balance_base": _money(r.balance_base)} for r in missing[:limit]],
    }
    if not rows and not missing:
        return CheckOutcome(True, f"{compared} customer balances match NetSuite (tolerance {tolerance})", meta)
    parts = []
    if rows:
        listed = ", ".join(f"{r.customer_id}: {_money(r.difference)}" for r in rows[:10])
        more = f", and {len(rows) - 10} more" if len(rows) > 10 else ""
        parts.append(f"{len(rows)} customer balance(s) differ from NetSuite by {total_abs} in all ({listed}{more})")
    if missing:
        listed = ", ".join(str(r.customer_id) for r in missing[:10])
        more = f", and {len(missing) - 10} more" if len(missing) > 10 else ""
        parts.append(f"{len(missing)} customer(s) with open items have no NetSuite balance ({listed}{more})")
    return CheckOutcome(False, "; ".join(parts), meta)


# --------------------------------------------------------------------------------------------
# freshness, row counts
# --------------------------------------------------------------------------------------------

def freshness(
    engine: Engine, record_type: str, max_age: dt.timedelta, *, now: dt.datetime | None = None
) -> CheckOutcome:
    """The sync state of `record_type` was written within `max_age` (ns_sync_state.updated_at)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    s = sync_state.c
    with engine.connect() as conn:
        row = conn.execute(
            select(s.updated_at, s.cursor_last_modified, s.last_run_mode).where(s.record_type == record_type)
        ).first()
    meta: dict[str, Any] = {"record_type": record_type, "max_age_seconds": max_age.total_seconds()}
    if row is None:
        return CheckOutcome(False, f"{record_type} has never been synced", meta)
    age = now - row.updated_at
    meta.update(
        updated_at=row.updated_at.isoformat(),
        age_seconds=round(age.total_seconds(), 3),
        cursor_last_modified=_json(row.cursor_last_modified),
        last_run_mode=row.last_run_mode,
    )
    if age > max_age:
        return CheckOutcome(False, f"{record_type} last synced {age} ago, more than {max_age}", meta)
    return CheckOutcome(True, f"{record_type} synced {age} ago (limit {max_age})", meta)


def row_count(engine: Engine, table: Table | str, *, min_rows: int = 1) -> CheckOutcome:
    """The table has at least `min_rows` rows (metadata: row_count, and live_row_count for
    tables with is_deleted)."""
    table = _table(table)
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(table)).scalar_one()
        meta: dict[str, Any] = {"table": table.name, "row_count": n, "min_rows": min_rows}
        if "is_deleted" in table.c:
            meta["live_row_count"] = conn.execute(
                select(func.count()).select_from(table).where(table.c.is_deleted.is_(False))
            ).scalar_one()
    passed = n >= min_rows
    return CheckOutcome(passed, f"{table.name} has {n} rows ({'at least' if passed else 'fewer than'} {min_rows})", meta)
