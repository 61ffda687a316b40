"""Manual resync of one or more customers: the customers, all their transactions and their
applications re-read from NetSuite and written over the warehouse rows (behaviour.md section 3).

    result = resync_customers(client, engine, [1042, 1043], settings=settings, report=print)

What belongs to a customer:
- invoices, customer payments, credit memos and customer refunds whose entity is the customer;
- journal entries with an A/R line whose entity is the customer (the whole entry's A/R lines);
- deposits (decision): deposits have no customer, so a deposit is re-read when it deposits one
  of the customer's payments (a `Deposit` link from the payment); deposits of other customers'
  payments only are left alone;
- applications: every link of those documents (read again with each document by the runner's
  targeted mode, and once more as the applications table's own step, which also soft-deletes
  links NetSuite no longer has);
- documents the warehouse files under the customer are re-read too, so one NetSuite deleted
  (or moved to another customer) is soft-deleted (or moved) here as well.
The customers themselves are read last, so their balances are NetSuite's after the documents.
Everything goes through the runner's targeted mode: the same reads, validation and writes as
the sync, and no cursor moves. A customer id neither NetSuite nor the warehouse knows stops the
resync before anything is read or written (CustomerNotFoundError names it).
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine, select

from ns_pipelines.netsuite import KeysetQuery, NetSuiteClient
from ns_pipelines.sync.runner import Progress, SyncResult, sync_record_type
from ns_pipelines.sync.settings import SyncSettings
from ns_pipelines.sync.sources import JOURNAL_LINES, TRANSACTION_TYPE_CODES, id_list
from ns_pipelines.warehouse import TABLES_BY_RECORD_TYPE, customers, journal_lines, payment_applications

__all__ = ["RESYNC_ORDER", "CustomerNotFoundError", "CustomerResyncResult", "customer_documents", "resync_customers"]

# Documents whose entity is the customer.
ENTITY_TYPES = ("invoice", "customerpayment", "creditmemo", "customerrefund")
# Record types in the order the resync writes them (customers last: their balances).
RESYNC_ORDER = (*ENTITY_TYPES, "deposit", "journalentry", "paymentapplication", "customer")
_CHUNK = 500  # ids per SuiteQL IN list (NetSuite allows 1000)
_WAREHOUSE_CHUNK = 400  # SQLite's bind-variable limit
_CODE_TO_TYPE = {code: rt for rt, code in TRANSACTION_TYPE_CODES.items()}


class CustomerNotFoundError(ValueError):
    """Customer ids that neither NetSuite nor the warehouse has."""

    def __init__(self, ids: Sequence[int]) -> None:
        self.ids = list(ids)
        super().__init__(f"customer(s) {', '.join(map(str, self.ids))} not found in NetSuite or in the warehouse: "
                         "check the internal id (Lists > Relationships > Customers, the id column)")


@dataclass
class CustomerResyncResult:
    customer_ids: list[int]
    documents: dict[str, list[int]]  # record type -> ids re-read
    results: dict[str, SyncResult] = field(default_factory=dict)  # record type -> its targeted read
    seconds: float = 0.0

    @property
    def rows_written(self) -> int:
        return sum(r.rows_written for r in self.results.values())


def _chunks(values: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _netsuite_ids(client: NetSuiteClient, query: KeysetQuery, column: str, page_size: int) -> set[int]:
    return {int(row[column]) for row in client.suiteql.query_keyset(query, page_size=page_size)}


def customer_documents(client: NetSuiteClient, engine: Engine, customer_ids: Sequence[int], *,
                       settings: SyncSettings) -> dict[str, set[int]]:
    """Record type -> ids of the documents of these customers, in NetSuite or in the warehouse."""
    found: dict[str, set[int]] = {rt: set() for rt in (*ENTITY_TYPES, "deposit", "journalentry")}
    codes = ", ".join(f"'{TRANSACTION_TYPE_CODES[rt]}'" for rt in ENTITY_TYPES)
    for chunk in _chunks(sorted(customer_ids), _CHUNK):
        ids = id_list(chunk)
        for row in client.suiteql.query_keyset(KeysetQuery(
                select="t.id AS id, t.type AS type", from_="transaction t",
                where=f"t.entity IN ({ids}) AND t.type IN ({codes})", key="t.id", key_names=("id",)),
                page_size=settings.page_size):
            found[_CODE_TO_TYPE[row["type"]]].add(int(row["id"]))
        found["journalentry"] |= _netsuite_ids(client, KeysetQuery(
            select="tl.transaction AS journal_entry_id, tl.id AS line_id", from_=JOURNAL_LINES.from_,
            where=f"{JOURNAL_LINES.where} AND tl.entity IN ({ids})", key=JOURNAL_LINES.key,
            key_names=JOURNAL_LINES.key_names), "journal_entry_id", settings.page_size)
    with engine.connect() as conn:
        for chunk in _chunks(sorted(customer_ids), _WAREHOUSE_CHUNK):
            for record_type in (*ENTITY_TYPES, "journalentry"):
                table = TABLES_BY_RECORD_TYPE[record_type]
                doc = table.c.journal_entry_id if table is journal_lines else table.c.id
                found[record_type].update(int(v) for v in conn.execute(
                    select(doc).where(table.c.customer_id.in_(chunk)).distinct()).scalars())
    payments = sorted(found["customerpayment"])
    for chunk in _chunks(payments, _CHUNK):
        found["deposit"] |= _netsuite_ids(client, KeysetQuery(
            select="l.previousdoc AS previousdoc, l.previousline AS previousline, l.nextdoc AS nextdoc, "
                   "l.nextline AS nextline", from_="nexttransactionlinelink l",
            where=f"l.nexttype = 'Deposit' AND l.previousdoc IN ({id_list(chunk)})",
            key=("l.previousdoc", "l.previousline", "l.nextdoc", "l.nextline")), "nextdoc", settings.page_size)
    with engine.connect() as conn:
        t = payment_applications.c
        for chunk in _chunks(payments, _WAREHOUSE_CHUNK):
            found["deposit"].update(int(v) for v in conn.execute(
                select(t.next_doc_id).where(t.next_type == "Deposit", t.previous_doc_id.in_(chunk)).distinct()
            ).scalars())
    return found


def _unknown(client: NetSuiteClient, engine: Engine, customer_ids: Sequence[int]) -> list[int]:
    known: set[int] = set()
    for chunk in _chunks(sorted(customer_ids), _CHUNK):
        known |= {int(r["id"]) for r in client.suiteql.query(f"SELECT c.id AS id FROM customer c "
                                                             f"WHERE c.id IN ({id_list(chunk)})")}
    with engine.connect() as conn:
        for chunk in _chunks(sorted(customer_ids), _WAREHOUSE_CHUNK):
            stmt = select(customers.c.id).where(customers.c.id.in_(chunk))
            known.update(int(v) for v in conn.execute(stmt).scalars())
    return sorted(set(customer_ids) - known)


def resync_customers(client: NetSuiteClient, engine: Engine, customer_ids: Sequence[int], *,
                     settings: SyncSettings, record_types: Sequence[str] = RESYNC_ORDER,
                     progress: Progress | None = None, report: Callable[[str], None] | None = None,
                     run_id: str | None = None) -> CustomerResyncResult:
    """Re-read the customers and everything of theirs (module docstring), overwriting the
    warehouse rows; `record_types` limits which tables are written (a Dagster subset)."""
    started = time.monotonic()
    ids = sorted({int(i) for i in customer_ids})
    if not ids:
        raise ValueError("give at least one customer id")
    say = report or (lambda message: None)
    unknown = _unknown(client, engine, ids)
    if unknown:
        raise CustomerNotFoundError(unknown)
    documents = customer_documents(client, engine, ids, settings=settings)
    documents["paymentapplication"] = set().union(*documents.values())
    documents["customer"] = set(ids)
    say("customers " + ", ".join(map(str, ids)) + ": " + ", ".join(
        f"{len(documents[rt])} {rt}" for rt in RESYNC_ORDER if rt not in ("customer", "paymentapplication")))
    result = CustomerResyncResult(ids, {rt: sorted(documents[rt]) for rt in RESYNC_ORDER})
    for record_type in RESYNC_ORDER:
        if record_type not in record_types or not documents[record_type]:
            continue
        done = sync_record_type(client, engine, record_type, settings=settings,
                                record_ids=sorted(documents[record_type]), progress=progress, run_id=run_id)
        result.results[record_type] = done
        say(f"{record_type}: {len(documents[record_type])} id(s), {done.rows_read} rows read, "
            f"{done.rows_written} written, {done.rows_soft_deleted} soft-deleted")
    result.seconds = round(time.monotonic() - started, 3)
    return result
