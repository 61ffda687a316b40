"""One RecordSource per record type: its SuiteQL, how its values decode, how rows map to the table.

Conventions of every query (netsuite-api.md sections 3-4, docs/sync-design.md):
- datetimes are selected with `TO_CHAR(x, 'YYYY-MM-DD HH24:MI:SS')` (SuiteQL datetimes are
  account-local; the decoder makes them aware UTC) and dates with `TO_CHAR(d, 'YYYY-MM-DD')`, so
  the integration user's date preference never matters;
- columns are aliased to the warehouse column names, plus a few helper columns the mapping uses
  (`currency_id`, `intercompany`, `customer_represents`, ...);
- the currency is the ISO code from `currency.symbol` (join), the subsidiary and the posting
  account of a transaction come from its main line (`transactionline.mainline = 'T'`), status
  text is `BUILTIN.DF(status)` without its "<type> : " prefix ("Invoice : Open" -> "Open");
- rows are read by keyset (KeysetQuery, ordered by the key) and filtered on the record's
  modification time with `>= TO_TIMESTAMP('<account-local>', 'YYYY-MM-DD HH24:MI:SS')`.

    source = SOURCES["invoice"]
    query = source.query(since=account_timestamp(cursor - overlap, zone))   # a KeysetQuery
    rows = source.rows(page.items, decoder)                                 # warehouse rows
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone, tzinfo
from typing import Any

from sqlalchemy import Table

from ns_pipelines.netsuite import DecodeError, KeysetQuery, Kind, RowDecoder
from ns_pipelines.sync.settings import SyncSettings
from ns_pipelines.sync.validation import ISO_4217, LINK_TYPES, NEXT_TYPES, PREVIOUS_TYPES
from ns_pipelines.warehouse import TABLES_BY_RECORD_TYPE, customers, deleted_records, journal_lines, payment_applications

__all__ = [
    "DOCUMENT_TYPES", "SOURCES", "TRANSACTION_TYPE_CODES", "Col", "DocumentSource", "RecordSource",
    "account_timestamp", "date_sql", "datetime_sql", "deleted_record_sources", "documents_source",
    "id_list", "links_source", "status_text",
]

SUITEQL_DATETIME = "YYYY-MM-DD HH24:MI:SS"
_PY_DATETIME = "%Y-%m-%d %H:%M:%S"

# record type -> transaction.type
TRANSACTION_TYPE_CODES: dict[str, str] = {
    "invoice": "CustInvc",
    "customerpayment": "CustPymt",
    "creditmemo": "CustCred",
    "customerrefund": "CustRfnd",
    "deposit": "Deposit",
    "journalentry": "Journal",
}
# Transaction types that take part in A/R applications (either side of a link).
DOCUMENT_TYPES: tuple[str, ...] = ("CustInvc", "CustPymt", "CustCred", "CustRfnd", "Deposit", "Journal")


def datetime_sql(column: str) -> str:
    return f"TO_CHAR({column}, '{SUITEQL_DATETIME}')"


def date_sql(column: str) -> str:
    return f"TO_CHAR({column}, 'YYYY-MM-DD')"


def account_timestamp(when: datetime, zone: tzinfo) -> str:
    """`TO_TIMESTAMP('<when as account-local wall time>', ...)` for an aware instant.

    SuiteQL compares account-local wall times. In the hour a DST fall-back repeats, a wall time
    stands for two instants; the literal then goes back by the shift, so no row modified at or
    after `when` is left out (a few earlier ones are read again, which is harmless).
    """
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("account_timestamp needs an aware datetime")
    local = when.astimezone(zone)
    wall = local.replace(tzinfo=None)
    first = wall.replace(fold=0, tzinfo=zone).utcoffset()
    second = wall.replace(fold=1, tzinfo=zone).utcoffset()
    if first is not None and second is not None and first != second:
        wall -= abs(first - second)  # ambiguous wall time: take the earlier reading
    return f"TO_TIMESTAMP('{wall.strftime(_PY_DATETIME)}', '{SUITEQL_DATETIME}')"


def parse_account_datetime(text: str | None, zone: tzinfo) -> datetime | None:
    """'YYYY-MM-DD HH:MM:SS' account-local -> aware UTC (None for None/empty)."""
    if text is None or not str(text).strip():
        return None
    return datetime.strptime(str(text).strip(), _PY_DATETIME).replace(tzinfo=zone).astimezone(timezone.utc)


def id_list(ids: Iterable[int]) -> str:
    """`1, 2, 3` for an IN list (ints only: nothing else reaches SQL text)."""
    values = [int(i) for i in ids]
    if not values:
        raise ValueError("an id list needs at least one id")
    return ", ".join(str(v) for v in values)


def status_text(value: str | None) -> str | None:
    """BUILTIN.DF(status) without its record type: 'Invoice : Open' -> 'Open'."""
    if value is None:
        return None
    return value.split(" : ", 1)[-1].strip() or None


@dataclass(frozen=True)
class Col:
    """One selected column: its alias (warehouse column or helper), SQL expression and kind."""

    name: str
    sql: str
    kind: Kind


Mapper = Callable[[dict[str, Any], SyncSettings], dict[str, Any]]


@dataclass(frozen=True)
class RecordSource:
    """How one record type (or one part of it) is read from SuiteQL and mapped to its table."""

    record_type: str  # names the records in messages (e.g. "invoice")
    table: Table
    columns: tuple[Col, ...]
    from_: str
    where: str
    key: tuple[str, ...]  # SQL key columns (keyset order)
    key_names: tuple[str, ...]  # their aliases in the rows
    modified_since: Callable[[str], str]  # TO_TIMESTAMP literal -> SQL condition (rows changed since)
    of_documents: Callable[[str], str]  # "1, 2, 3" -> SQL condition (rows of those records / documents)
    mapper: Mapper
    # Queries giving a NetSuite timestamp (alias m) written before a pass starts; the newest is
    # the pass's `through` (see runner).
    clock: tuple[str, ...] = ()
    parallel: bool = True  # a full pass may read id ranges in parallel
    id_name: str = field(default="")

    def __post_init__(self) -> None:
        if not self.id_name:
            object.__setattr__(self, "id_name", self.key_names[0])

    @property
    def select(self) -> str:
        return ", ".join(f"{c.sql} AS {c.name}" for c in self.columns)

    def query(self, *, since: str | None = None, documents: Sequence[int] | None = None,
              extra: str | None = None) -> KeysetQuery:
        """The keyset query: every row, or rows changed since a TO_TIMESTAMP literal, or rows of
        the given records / documents."""
        conditions = [self.where] if self.where else []
        if since is not None:
            conditions.append(f"({self.modified_since(since)})")
        if documents is not None:
            conditions.append(f"({self.of_documents(id_list(documents))})")
        if extra:
            conditions.append(f"({extra})")
        return KeysetQuery(select=self.select, from_=self.from_, where=" AND ".join(conditions) or None,
                           key=self.key, key_names=self.key_names)

    def decoder(self, settings: SyncSettings) -> RowDecoder:
        return RowDecoder({c.name: c.kind for c in self.columns}, date_format=settings.date_format,
                          timezone=settings.zone, to_utc=True, record_type=self.record_type,
                          id_column=self.id_name, extra="drop")

    def rows(self, items: Iterable[Mapping[str, Any]], decoder: RowDecoder, settings: SyncSettings) -> list[dict[str, Any]]:
        """Decode and map SuiteQL rows; DecodeError names the record."""
        return [self.mapper(decoder.decode(item), settings) for item in items]

    def key_of(self, item: Mapping[str, Any]) -> tuple[int, ...]:
        return tuple(int(item[name]) for name in self.key_names)


# -------------------------------------------------------------------------------------------
# Mapping helpers


def _currency(row: dict[str, Any], record_type: str, id_name: str) -> None:
    """Keep the ISO code; a currency id without a known ISO code is a DecodeError."""
    currency_id = row.pop("currency_id", None)
    code = row.get("currency")
    if code is None and currency_id is None:
        return  # no currency at all: the table's validation decides
    if isinstance(code, str) and code.strip().upper() in ISO_4217:
        row["currency"] = code.strip().upper()
        return
    record = row.get(id_name)
    raise DecodeError(
        f"cannot decode {record_type} {record}: column 'currency': currency {currency_id} has "
        f"{'no ISO 4217 code' if code is None else f'symbol {code!r}, not an ISO 4217 code'} "
        f"(currency.symbol)",
        record_id=record, record_type=record_type, column="currency", value=code if code is not None else currency_id,
        kind="currency")


def _map_customer(row: dict[str, Any], settings: SyncSettings) -> dict[str, Any]:
    _currency(row, "customer", "id")
    row["is_intercompany"] = settings.is_intercompany_customer(row["id"], row.get("representing_subsidiary_id"))
    return row


def _transaction_mapper(record_type: str, id_name: str = "id") -> Mapper:
    def mapper(row: dict[str, Any], settings: SyncSettings) -> dict[str, Any]:
        _currency(row, record_type, id_name)
        flagged = bool(row.pop("intercompany", False))
        represents = row.pop("customer_represents", None)
        row["is_intercompany"] = flagged or settings.is_intercompany_customer(row.get("customer_id"), represents)
        row["status_text"] = status_text(row.get("status_text"))
        return row

    return mapper


_map_journal_transaction = _transaction_mapper("journalentry", "journal_entry_id")


def _map_journal_line(row: dict[str, Any], settings: SyncSettings) -> dict[str, Any]:
    row = _map_journal_transaction(row, settings)
    entry, line = row.pop("tran_last_modified", None), row.pop("line_last_modified", None)
    stamps = [s for s in (entry, line) if s is not None]
    row["last_modified"] = max(stamps) if stamps else None
    return row


def _map_link(row: dict[str, Any], settings: SyncSettings) -> dict[str, Any]:
    _currency(row, "paymentapplication", "previous_doc_id")
    return row


def _map_deleted(row: dict[str, Any], settings: SyncSettings) -> dict[str, Any]:
    if isinstance(row.get("record_type"), str):
        row["record_type"] = row["record_type"].strip().lower()
    row["last_modified"] = row.get("deleted_at")
    return row


def _since(*columns: str) -> Callable[[str], str]:
    return lambda literal: " OR ".join(f"{c} >= {literal}" for c in columns)


def _in(column: str) -> Callable[[str], str]:
    return lambda ids: f"{column} IN ({ids})"


CLOCK_TRANSACTION = f"SELECT {datetime_sql('MAX(t.lastmodifieddate)')} AS m FROM transaction t"
CLOCK_CUSTOMER = f"SELECT {datetime_sql('MAX(c.lastmodifieddate)')} AS m FROM customer c"
CLOCK_DELETED = f"SELECT {datetime_sql('MAX(d.deleteddate)')} AS m FROM deletedrecord d"

# -------------------------------------------------------------------------------------------
# customer


def _customer_since(literal: str) -> str:
    # A customer's balance changes with its transactions, not its lastmodifieddate: read again the
    # customers of transactions (header entity or line entity) changed since the cursor too.
    return (f"c.lastmodifieddate >= {literal}"
            f" OR c.id IN (SELECT tc.entity FROM transaction tc WHERE tc.lastmodifieddate >= {literal})"
            f" OR c.id IN (SELECT tlc.entity FROM transactionline tlc JOIN transaction tc2 ON tc2.id = tlc.transaction"
            f" WHERE tc2.lastmodifieddate >= {literal} AND tlc.entity IS NOT NULL)")


CUSTOMER = RecordSource(
    record_type="customer",
    table=customers,
    columns=(
        Col("id", "c.id", Kind.ID),
        Col("entity_id", "c.entityid", Kind.TEXT),
        Col("company_name", "c.companyname", Kind.TEXT),
        Col("is_person", "c.isperson", Kind.BOOL),
        Col("email", "c.email", Kind.TEXT),
        Col("phone", "c.phone", Kind.TEXT),
        Col("currency_id", "c.currency", Kind.ID),
        Col("currency", "cur.symbol", Kind.TEXT),
        Col("subsidiary_id", "c.subsidiary", Kind.ID),
        Col("parent_id", "c.parent", Kind.ID),
        Col("representing_subsidiary_id", "c.representingsubsidiary", Kind.ID),
        Col("is_inactive", "c.isinactive", Kind.BOOL),
        Col("terms_days", "c.terms", Kind.INT),
        Col("credit_limit", "c.creditlimit", Kind.DECIMAL),
        Col("balance", "c.balancesearch", Kind.DECIMAL),
        Col("overdue_balance", "c.overduebalancesearch", Kind.DECIMAL),
        Col("external_id", "c.externalid", Kind.TEXT),
        Col("created_at", datetime_sql("c.datecreated"), Kind.DATETIME),
        Col("last_modified", datetime_sql("c.lastmodifieddate"), Kind.DATETIME),
    ),
    from_="customer c LEFT JOIN currency cur ON cur.id = c.currency",
    where="",
    key=("c.id",),
    key_names=("id",),
    modified_since=_customer_since,
    of_documents=_in("c.id"),
    mapper=_map_customer,
    clock=(CLOCK_CUSTOMER, CLOCK_TRANSACTION),
)

# -------------------------------------------------------------------------------------------
# transactions (one table per type)

_TRANSACTION_FROM = (
    "transaction t"
    " LEFT JOIN transactionline ml ON ml.transaction = t.id AND ml.mainline = 'T'"
    " LEFT JOIN currency cur ON cur.id = t.currency"
    " LEFT JOIN customer cust ON cust.id = t.entity"
)


def _transaction_source(record_type: str, extra: tuple[Col, ...]) -> RecordSource:
    code = TRANSACTION_TYPE_CODES[record_type]
    columns = (
        Col("id", "t.id", Kind.ID),
        Col("tran_id", "t.tranid", Kind.TEXT),
        Col("customer_id", "t.entity", Kind.ID),
        Col("subsidiary_id", "ml.subsidiary", Kind.ID),
        Col("account_id", "ml.expenseaccount", Kind.ID),
        Col("posting_period_id", "t.postingperiod", Kind.ID),
        Col("currency_id", "t.currency", Kind.ID),
        Col("currency", "cur.symbol", Kind.TEXT),
        Col("exchange_rate", "t.exchangerate", Kind.DECIMAL),
        Col("tran_date", date_sql("t.trandate"), Kind.DATE),
        Col("status", "t.status", Kind.TEXT),
        Col("status_text", "BUILTIN.DF(t.status)", Kind.TEXT),
        Col("total", "t.foreigntotal", Kind.DECIMAL),
        *extra,
        Col("intercompany", "t.intercompany", Kind.BOOL),
        Col("customer_represents", "cust.representingsubsidiary", Kind.ID),
        Col("is_voided", "t.voided", Kind.BOOL),
        Col("memo", "t.memo", Kind.TEXT),
        Col("external_id", "t.externalid", Kind.TEXT),
        Col("created_at", datetime_sql("t.createddate"), Kind.DATETIME),
        Col("last_modified", datetime_sql("t.lastmodifieddate"), Kind.DATETIME),
    )
    return RecordSource(
        record_type=record_type,
        table=TABLES_BY_RECORD_TYPE[record_type],
        columns=columns,
        from_=_TRANSACTION_FROM,
        where=f"t.type = '{code}'",
        key=("t.id",),
        key_names=("id",),
        modified_since=_since("t.lastmodifieddate"),
        of_documents=_in("t.id"),
        mapper=_transaction_mapper(record_type),
        clock=(CLOCK_TRANSACTION,),
    )


_USED_UNUSED = (
    Col("amount_used", "t.foreignpaymentamountused", Kind.DECIMAL),
    Col("amount_unused", "t.foreignpaymentamountunused", Kind.DECIMAL),
)

INVOICE = _transaction_source("invoice", (
    Col("due_date", date_sql("t.duedate"), Kind.DATE),
    Col("amount_paid", "t.foreignamountpaid", Kind.DECIMAL),
    Col("amount_unpaid", "t.foreignamountunpaid", Kind.DECIMAL),
))
CUSTOMER_PAYMENT = _transaction_source("customerpayment", _USED_UNUSED)
CREDIT_MEMO = _transaction_source("creditmemo", _USED_UNUSED)
CUSTOMER_REFUND = _transaction_source("customerrefund", ())
DEPOSIT = _transaction_source("deposit", ())

# -------------------------------------------------------------------------------------------
# journal entries: their A/R lines

JOURNAL_LINES = RecordSource(
    record_type="journalentry",
    table=journal_lines,
    columns=(
        Col("journal_entry_id", "tl.transaction", Kind.ID),
        Col("line_id", "tl.id", Kind.INT),
        Col("tran_id", "t.tranid", Kind.TEXT),
        Col("customer_id", "tl.entity", Kind.ID),
        Col("subsidiary_id", "tl.subsidiary", Kind.ID),
        Col("account_id", "tl.expenseaccount", Kind.ID),
        Col("posting_period_id", "t.postingperiod", Kind.ID),
        Col("currency_id", "t.currency", Kind.ID),
        Col("currency", "cur.symbol", Kind.TEXT),
        Col("exchange_rate", "t.exchangerate", Kind.DECIMAL),
        Col("tran_date", date_sql("t.trandate"), Kind.DATE),
        Col("status", "t.status", Kind.TEXT),
        Col("status_text", "BUILTIN.DF(t.status)", Kind.TEXT),
        Col("amount", "tl.foreignamount", Kind.DECIMAL),
        Col("debit_amount", "tl.debitforeignamount", Kind.DECIMAL),
        Col("credit_amount", "tl.creditforeignamount", Kind.DECIMAL),
        Col("amount_unpaid", "tl.foreignamountunpaid", Kind.DECIMAL),
        Col("intercompany", "t.intercompany", Kind.BOOL),
        Col("customer_represents", "cust.representingsubsidiary", Kind.ID),
        Col("is_voided", "t.voided", Kind.BOOL),
        Col("memo", "tl.memo", Kind.TEXT),
        Col("external_id", "t.externalid", Kind.TEXT),
        Col("created_at", datetime_sql("t.createddate"), Kind.DATETIME),
        Col("tran_last_modified", datetime_sql("t.lastmodifieddate"), Kind.DATETIME),
        Col("line_last_modified", datetime_sql("tl.linelastmodifieddate"), Kind.DATETIME),
    ),
    from_=("transactionline tl"
           " JOIN transaction t ON t.id = tl.transaction"
           " JOIN account a ON a.id = tl.expenseaccount"
           " LEFT JOIN currency cur ON cur.id = t.currency"
           " LEFT JOIN customer cust ON cust.id = tl.entity"),
    where="t.type = 'Journal' AND tl.entity IS NOT NULL AND a.accttype = 'AcctRec'",
    key=("tl.transaction", "tl.id"),
    key_names=("journal_entry_id", "line_id"),
    modified_since=_since("t.lastmodifieddate", "tl.linelastmodifieddate"),
    of_documents=_in("tl.transaction"),
    mapper=_map_journal_line,
    clock=(CLOCK_TRANSACTION,),
)

# -------------------------------------------------------------------------------------------
# payment applications (nexttransactionlinelink)


def _quoted(values: Iterable[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


LINKS = RecordSource(
    record_type="paymentapplication",
    table=payment_applications,
    columns=(
        Col("previous_doc_id", "l.previousdoc", Kind.ID),
        Col("previous_line", "l.previousline", Kind.INT),
        Col("next_doc_id", "l.nextdoc", Kind.ID),
        Col("next_line", "l.nextline", Kind.INT),
        Col("previous_type", "l.previoustype", Kind.TEXT),
        Col("next_type", "l.nexttype", Kind.TEXT),
        Col("link_type", "l.linktype", Kind.TEXT),
        Col("amount", "l.foreignamount", Kind.DECIMAL),
        Col("currency_id", "nt.currency", Kind.ID),
        Col("currency", "cur.symbol", Kind.TEXT),
        Col("customer_id", "nt.entity", Kind.ID),
        Col("link_date", date_sql("l.linkdate"), Kind.DATE),
        Col("last_modified", datetime_sql("l.lastmodifieddate"), Kind.DATETIME),
    ),
    from_=("nexttransactionlinelink l"
           " JOIN transaction nt ON nt.id = l.nextdoc"
           " LEFT JOIN currency cur ON cur.id = nt.currency"),
    where=(f"l.linktype IN ({_quoted(LINK_TYPES)}) AND l.previoustype IN ({_quoted(PREVIOUS_TYPES)})"
           f" AND l.nexttype IN ({_quoted(NEXT_TYPES)})"),
    key=("l.previousdoc", "l.previousline", "l.nextdoc", "l.nextline"),
    key_names=("previous_doc_id", "previous_line", "next_doc_id", "next_line"),
    modified_since=_since("l.lastmodifieddate"),
    of_documents=lambda ids: f"l.previousdoc IN ({ids}) OR l.nextdoc IN ({ids})",
    mapper=_map_link,
    clock=(CLOCK_TRANSACTION,),
)


def links_source() -> RecordSource:
    return LINKS


# -------------------------------------------------------------------------------------------
# documents changed since the cursor (drive the journal-line and link re-reads)


@dataclass(frozen=True)
class DocumentSource:
    """Transactions of some types, id and lastmodifieddate only: the documents whose lines or links
    are read again (and whose vanished lines or links are soft-deleted)."""

    types: tuple[str, ...]

    def query(self, *, since: str | None = None, documents: Sequence[int] | None = None) -> KeysetQuery:
        conditions = [f"t.type IN ({_quoted(self.types)})"]
        if since is not None:
            conditions.append(f"t.lastmodifieddate >= {since}")
        if documents is not None:
            conditions.append(f"t.id IN ({id_list(documents)})")
        return KeysetQuery(select=f"t.id AS id, {datetime_sql('t.lastmodifieddate')} AS last_modified",
                           from_="transaction t", where=" AND ".join(conditions), key="t.id", key_names=("id",))

    def decoder(self, settings: SyncSettings) -> RowDecoder:
        return RowDecoder({"id": Kind.ID, "last_modified": Kind.DATETIME}, timezone=settings.zone, to_utc=True,
                          record_type="transaction", extra="drop")


def documents_source(types: Sequence[str] = DOCUMENT_TYPES) -> DocumentSource:
    return DocumentSource(tuple(types))


# -------------------------------------------------------------------------------------------
# deletedrecord: two id spaces (entities, transactions), each read by recordid


def _deleted_source(scriptids: Sequence[str]) -> RecordSource:
    return RecordSource(
        record_type="deletedrecord",
        table=deleted_records,
        columns=(
            Col("record_type", "d.scriptid", Kind.TEXT),
            Col("record_id", "d.recordid", Kind.ID),
            Col("record_type_name", "d.type", Kind.TEXT),
            Col("name", "d.name", Kind.TEXT),
            Col("external_id", "d.externalid", Kind.TEXT),
            Col("context", "d.context", Kind.TEXT),
            Col("deleted_by_id", "d.deletedby", Kind.ID),
            Col("deleted_at", datetime_sql("d.deleteddate"), Kind.DATETIME),
        ),
        from_="deletedrecord d",
        where=f"d.scriptid IN ({_quoted(scriptids)})",
        key=("d.recordid",),
        key_names=("record_id",),
        modified_since=_since("d.deleteddate"),
        of_documents=_in("d.recordid"),
        mapper=_map_deleted,
        clock=(CLOCK_DELETED, CLOCK_TRANSACTION),
        parallel=False,
    )


DELETED_CUSTOMERS = _deleted_source(("customer",))
DELETED_TRANSACTIONS = _deleted_source(tuple(TRANSACTION_TYPE_CODES))


def deleted_record_sources() -> tuple[RecordSource, RecordSource]:
    return DELETED_CUSTOMERS, DELETED_TRANSACTIONS


# record type -> its main source (deletedrecord: see deleted_record_sources)
SOURCES: dict[str, RecordSource] = {
    "customer": CUSTOMER,
    "invoice": INVOICE,
    "customerpayment": CUSTOMER_PAYMENT,
    "creditmemo": CREDIT_MEMO,
    "customerrefund": CUSTOMER_REFUND,
    "deposit": DEPOSIT,
    "journalentry": JOURNAL_LINES,
    "paymentapplication": LINKS,
}


def newest_timestamp(values: Iterable[str | None], zone: tzinfo) -> datetime | None:
    """The newest of some account-local 'YYYY-MM-DD HH:MM:SS' texts, as aware UTC."""
    parsed = [p for p in (parse_account_datetime(v, zone) for v in values) if p is not None]
    return max(parsed) if parsed else None

