"""Validation of each batch before it is written: one pandera DataFrameModel per raw table.

    validate_batch(invoices, rows, record_type="invoice")   # raises SyncValidationError

A batch (one SuiteQL page, mapped to table rows) is checked as a whole: column types (ids are
integers, flags booleans, money exact Decimals that fit the column, dates `date`, timestamps aware
UTC), nullability, allowed status letters and link types, ISO 4217 currency codes, non-negative
document totals and amounts, unique primary keys. A failure raises SyncValidationError naming
each failing record (its primary key) and column; the runner then writes nothing of the batch
and leaves the cursor where it was.
"""
from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pandas as pd
import pandera.extensions as pa_ext
import pandera.pandas as pa
from pandera.typing import Series
from sqlalchemy import BigInteger, Boolean, Integer, Table

from ns_pipelines.netsuite.errors import PortableError
from ns_pipelines.warehouse import (
    credit_memos,
    customer_payments,
    customer_refunds,
    customers,
    deleted_records,
    deposits,
    invoices,
    journal_lines,
    payment_applications,
)
from ns_pipelines.warehouse.types import MONEY_PRECISION, MONEY_SCALE, RATE_PRECISION, RATE_SCALE, UTCDateTime

__all__ = ["ISO_4217", "MODELS", "SyncError", "SyncValidationError", "ValidationFailure", "to_frame", "validate_batch"]

# Active ISO 4217 codes (and funds codes NetSuite accounts may define); XXX/XTS are not currencies.
ISO_4217 = frozenset("""
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN
BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD
FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR
KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV
MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG
SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN
UYI UYU UYW UZS VED VES VND VUV WST XAF XAG XAU XBA XBB XBC XBD XCD XCG XDR XOF XPD XPF XPT XSU XUA
YER ZAR ZMW ZWG ZWL
""".split())

INVOICE_STATUSES = ("A", "B", "D", "E", "V")
PAYMENT_STATUSES = ("A", "B", "C", "V")
CREDIT_MEMO_STATUSES = ("A", "B", "V")
REFUND_STATUSES = ("A", "V")
DEPOSIT_STATUSES = ("A", "V")
JOURNAL_STATUSES = ("A", "B", "R", "V")
LINK_TYPES = ("Payment", "Deposit")
PREVIOUS_TYPES = ("CustInvc", "Journal", "CustCred", "CustPymt")
NEXT_TYPES = ("CustPymt", "CustCred", "CustRfnd", "Deposit")
DELETED_RECORD_TYPES = ("customer", "invoice", "customerpayment", "creditmemo", "customerrefund", "deposit",
                        "journalentry")


class SyncError(PortableError):
    """The sync stopped on data it cannot write; nothing of the failing batch was written."""


@dataclass(frozen=True)
class ValidationFailure:
    record: str  # e.g. "invoice 1234" or "netsuite_journal_lines (1008, 1)"
    column: str | None
    check: str
    value: Any


class SyncValidationError(SyncError):
    """A batch failed its table's validation; `record_ids` (primary keys) and `columns` say where."""

    def __init__(self, message: str, *, table: str, record_type: str | None,
                 failures: Sequence[ValidationFailure], record_ids: Sequence[Any], columns: Sequence[str]) -> None:
        super().__init__(message)
        self.table = table
        self.record_type = record_type
        self.failures = tuple(failures)
        self.record_ids = tuple(record_ids)
        self.columns = tuple(columns)


# -------------------------------------------------------------------------------------------
# Element checks (registered once; usable as Field keyword arguments)


@pa_ext.register_check_method(statistics=["precision", "scale", "minimum", "positive"], check_type="element_wise")
def ns_decimal(value: Any, *, precision: int, scale: int, minimum: str | None, positive: bool) -> bool:
    """An exact Decimal that the NUMERIC(precision, scale) column stores without rounding."""
    if isinstance(value, bool) or not isinstance(value, Decimal) or not value.is_finite():
        return False
    sign, digits, exponent = value.as_tuple()
    if isinstance(exponent, int) and exponent < -scale and value != value.quantize(Decimal(1).scaleb(-scale)):
        return False  # more decimals than the column keeps
    if value != 0 and value.adjusted() >= precision - scale:
        return False
    if minimum is not None and value < Decimal(minimum):
        return False
    return not (positive and value <= 0)


@pa_ext.register_check_method(check_type="element_wise")
def ns_date(value: Any) -> bool:
    """A calendar date (not a datetime)."""
    return isinstance(value, dt.date) and not isinstance(value, dt.datetime)


def _money(*, nullable: bool = True, minimum: str | None = None) -> Any:
    return pa.Field(nullable=nullable, ns_decimal={"precision": MONEY_PRECISION, "scale": MONEY_SCALE,
                                                   "minimum": minimum, "positive": False})


def _rate() -> Any:
    return pa.Field(nullable=False, ns_decimal={"precision": RATE_PRECISION, "scale": RATE_SCALE,
                                                "minimum": None, "positive": True})


def _id(*, nullable: bool = False) -> Any:
    return pa.Field(nullable=nullable, gt=0)


def _timestamp(*, nullable: bool = False) -> Any:
    return pa.Field(nullable=nullable, dtype_kwargs={"unit": "ns", "tz": "UTC"})


def _date(*, nullable: bool = True) -> Any:
    return pa.Field(nullable=nullable, ns_date=())


def _currency(*, nullable: bool = False) -> Any:
    return pa.Field(nullable=nullable, isin=sorted(ISO_4217))


# -------------------------------------------------------------------------------------------
# Models (one per raw table; fields are exactly the columns the sync writes)


class CustomerModel(pa.DataFrameModel):
    id: Series[pd.Int64Dtype] = _id()
    entity_id: Series[str] = pa.Field(nullable=False)
    company_name: Series[str] = pa.Field(nullable=True)
    is_person: Series[pd.BooleanDtype] = pa.Field(nullable=False)
    email: Series[str] = pa.Field(nullable=True)
    phone: Series[str] = pa.Field(nullable=True)
    currency: Series[str] = _currency()
    subsidiary_id: Series[pd.Int64Dtype] = _id()
    parent_id: Series[pd.Int64Dtype] = _id(nullable=True)
    representing_subsidiary_id: Series[pd.Int64Dtype] = _id(nullable=True)
    is_intercompany: Series[pd.BooleanDtype] = pa.Field(nullable=False)
    is_inactive: Series[pd.BooleanDtype] = pa.Field(nullable=False)
    terms_days: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=0)
    credit_limit: Series[object] = _money(minimum="0")
    balance: Series[object] = _money()
    overdue_balance: Series[object] = _money()
    external_id: Series[str] = pa.Field(nullable=True)
    created_at: Series[pd.DatetimeTZDtype] = _timestamp(nullable=True)
    last_modified: Series[pd.DatetimeTZDtype] = _timestamp()

    class Config:
        strict = True
        unique = ["id"]


class _TransactionModel(pa.DataFrameModel):
    id: Series[pd.Int64Dtype] = _id()
    tran_id: Series[str] = pa.Field(nullable=True)
    customer_id: Series[pd.Int64Dtype] = _id()
    subsidiary_id: Series[pd.Int64Dtype] = _id()
    account_id: Series[pd.Int64Dtype] = _id(nullable=True)
    posting_period_id: Series[pd.Int64Dtype] = _id(nullable=True)
    currency: Series[str] = _currency()
    exchange_rate: Series[object] = _rate()
    tran_date: Series[object] = _date(nullable=False)
    status: Series[str] = pa.Field(nullable=False)
    status_text: Series[str] = pa.Field(nullable=True)
    total: Series[object] = _money(nullable=False, minimum="0")
    is_intercompany: Series[pd.BooleanDtype] = pa.Field(nullable=False)
    is_voided: Series[pd.BooleanDtype] = pa.Field(nullable=False)
    memo: Series[str] = pa.Field(nullable=True)
    external_id: Series[str] = pa.Field(nullable=True)
    created_at: Series[pd.DatetimeTZDtype] = _timestamp(nullable=True)
    last_modified: Series[pd.DatetimeTZDtype] = _timestamp()

    class Config:
        strict = True
        unique = ["id"]


class InvoiceModel(_TransactionModel):
    status: Series[str] = pa.Field(nullable=False, isin=INVOICE_STATUSES)
    due_date: Series[object] = _date()
    amount_paid: Series[object] = _money(minimum="0")
    amount_unpaid: Series[object] = _money(minimum="0")


class CustomerPaymentModel(_TransactionModel):
    status: Series[str] = pa.Field(nullable=False, isin=PAYMENT_STATUSES)
    amount_used: Series[object] = _money(minimum="0")
    amount_unused: Series[object] = _money(minimum="0")


class CreditMemoModel(_TransactionModel):
    status: Series[str] = pa.Field(nullable=False, isin=CREDIT_MEMO_STATUSES)
    amount_used: Series[object] = _money(minimum="0")
    amount_unused: Series[object] = _money(minimum="0")


class CustomerRefundModel(_TransactionModel):
    status: Series[str] = pa.Field(nullable=False, isin=REFUND_STATUSES)


class DepositModel(_TransactionModel):
    customer_id: Series[pd.Int64Dtype] = _id(nullable=True)  # a bank deposit has no customer
    status: Series[str] = pa.Field(nullable=False, isin=DEPOSIT_STATUSES)


class JournalLineModel(pa.DataFrameModel):
    journal_entry_id: Series[pd.Int64Dtype] = _id()
    line_id: Series[pd.Int64Dtype] = pa.Field(nullable=False, ge=0)
    tran_id: Series[str] = pa.Field(nullable=True)
    customer_id: Series[pd.Int64Dtype] = _id()
    subsidiary_id: Series[pd.Int64Dtype] = _id(nullable=True)
    account_id: Series[pd.Int64Dtype] = _id()
    posting_period_id: Series[pd.Int64Dtype] = _id(nullable=True)
    currency: Series[str] = _currency()
    exchange_rate: Series[object] = _rate()
    tran_date: Series[object] = _date(nullable=False)
    status: Series[str] = pa.Field(nullable=False, isin=JOURNAL_STATUSES)
    status_text: Series[str] = pa.Field(nullable=True)
    amount: Series[object] = _money(nullable=False)  # signed: debit - credit
    debit_amount: Series[object] = _money(minimum="0")
    credit_amount: Series[object] = _money(minimum="0")
    amount_unpaid: Series[object] = _money()  # signed open amount
    is_intercompany: Series[pd.BooleanDtype] = pa.Field(nullable=False)
    is_voided: Series[pd.BooleanDtype] = pa.Field(nullable=False)
    memo: Series[str] = pa.Field(nullable=True)
    external_id: Series[str] = pa.Field(nullable=True)
    created_at: Series[pd.DatetimeTZDtype] = _timestamp(nullable=True)
    last_modified: Series[pd.DatetimeTZDtype] = _timestamp()

    class Config:
        strict = True
        unique = ["journal_entry_id", "line_id"]


class PaymentApplicationModel(pa.DataFrameModel):
    previous_doc_id: Series[pd.Int64Dtype] = _id()
    previous_line: Series[pd.Int64Dtype] = pa.Field(nullable=False, ge=0)
    next_doc_id: Series[pd.Int64Dtype] = _id()
    next_line: Series[pd.Int64Dtype] = pa.Field(nullable=False, ge=0)
    previous_type: Series[str] = pa.Field(nullable=False, isin=PREVIOUS_TYPES)
    next_type: Series[str] = pa.Field(nullable=False, isin=NEXT_TYPES)
    link_type: Series[str] = pa.Field(nullable=False, isin=LINK_TYPES)
    amount: Series[object] = _money(nullable=False, minimum="0")
    currency: Series[str] = _currency()
    customer_id: Series[pd.Int64Dtype] = _id(nullable=True)
    link_date: Series[object] = _date()
    last_modified: Series[pd.DatetimeTZDtype] = _timestamp()

    class Config:
        strict = True
        unique = ["previous_doc_id", "previous_line", "next_doc_id", "next_line"]


class DeletedRecordModel(pa.DataFrameModel):
    record_type: Series[str] = pa.Field(nullable=False, isin=DELETED_RECORD_TYPES)
    record_id: Series[pd.Int64Dtype] = _id()
    record_type_name: Series[str] = pa.Field(nullable=True)
    name: Series[str] = pa.Field(nullable=True)
    external_id: Series[str] = pa.Field(nullable=True)
    context: Series[str] = pa.Field(nullable=True)
    deleted_by_id: Series[pd.Int64Dtype] = pa.Field(nullable=True)
    deleted_at: Series[pd.DatetimeTZDtype] = _timestamp()
    last_modified: Series[pd.DatetimeTZDtype] = _timestamp()

    class Config:
        strict = True
        unique = ["record_type", "record_id"]


MODELS: dict[str, type[pa.DataFrameModel]] = {
    customers.name: CustomerModel,
    invoices.name: InvoiceModel,
    customer_payments.name: CustomerPaymentModel,
    credit_memos.name: CreditMemoModel,
    customer_refunds.name: CustomerRefundModel,
    deposits.name: DepositModel,
    journal_lines.name: JournalLineModel,
    payment_applications.name: PaymentApplicationModel,
    deleted_records.name: DeletedRecordModel,
}


# -------------------------------------------------------------------------------------------
# Frames and validation


def _column_array(table: Table, name: str, values: list[Any]) -> Any:
    """The values of one column with the pandas dtype its model expects; values of the wrong
    Python type keep an object array, so the model's dtype check reports them."""
    column = table.c[name] if name in table.c else None
    kind = column.type if column is not None else None
    try:
        if isinstance(kind, (BigInteger, Integer)) and not isinstance(kind, Boolean):
            if all(v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in values):
                return pd.array(values, dtype="Int64")
        elif isinstance(kind, Boolean):
            if all(v is None or isinstance(v, bool) for v in values):
                return pd.array(values, dtype="boolean")
        elif isinstance(kind, UTCDateTime):
            if all(v is None or (isinstance(v, dt.datetime) and v.utcoffset() is not None) for v in values):
                return pd.to_datetime(pd.Series(values, dtype=object), utc=True).astype("datetime64[ns, UTC]")
    except (TypeError, ValueError, OverflowError):
        pass
    return pd.Series(values, dtype=object)


def _names(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every key of the rows, in first-seen order."""
    names: dict[str, None] = {}
    seen: set[tuple[Any, ...]] = set()
    for row in rows:
        keys = tuple(row)
        if keys not in seen:  # the rows of a batch mostly share one key order
            seen.add(keys)
            names.update(dict.fromkeys(keys))
    return list(names)


def to_frame(table: Table, rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """The batch as a DataFrame with one column per key of the rows (the columns written)."""
    names = _names(rows)
    data = {name: _column_array(table, name, [row.get(name) for row in rows]) for name in names}
    return pd.DataFrame(data, index=pd.RangeIndex(len(rows)))


def _label(table: Table, row: Mapping[str, Any], record_type: str | None) -> tuple[str, Any]:
    key = [c.name for c in table.primary_key.columns]
    values = tuple(row.get(k) for k in key)
    ident: Any = values[0] if len(values) == 1 else values
    if record_type and len(values) == 1:
        return f"{record_type} {ident}", ident
    names = ", ".join(f"{k}={v}" for k, v in zip(key, values))
    return f"{record_type or table.name} ({names})", ident


def _check_text(check: str, column: str | None) -> str:
    """What a failed pandera check asks for, in words."""
    if check.startswith("ns_decimal"):
        minimum = re.search(r"minimum=([^,)]+)", check)
        scale = re.search(r"scale=(\d+)", check)
        text = f"must be an exact decimal with at most {scale.group(1) if scale else '?'} decimal places"
        if minimum and minimum.group(1) != "None":
            text += f", >= {minimum.group(1)}"
        if "positive=True" in check:
            text += ", > 0"
        return text
    if check.startswith("ns_date"):
        return "must be a date"
    if check == "not_nullable":
        return "must not be null"
    if check in ("multiple_fields_uniqueness", "field_uniqueness"):
        return "must be unique in the batch"
    if column == "currency" and check.startswith("isin"):
        return "must be an ISO 4217 currency code"
    if check.startswith("isin("):
        return "must be one of " + check[5:-1]
    if check.startswith("dtype("):
        return f"must be of type {check[6:-1]}"
    if check.startswith(("greater_than", "greater_than_or_equal_to", "less_than")):
        return "must be " + check.replace("_", " ")
    return "fails " + (check if len(check) <= 80 else check[:77] + "...")


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def validate_batch(table: Table, rows: Sequence[Mapping[str, Any]], *, record_type: str | None = None) -> None:
    """Validate `rows` (mapped to `table`'s columns) with the table's model, all checks at once.

    Raises SyncValidationError naming every failing record and column. An empty batch is valid.
    """
    if not rows:
        return
    model = MODELS.get(table.name)
    if model is None:
        raise KeyError(f"no validation model for {table.name}")
    if _prechecked(table, model, rows):
        return  # every check passes (see _FastCheck): the model would accept the frame
    frame = to_frame(table, rows)
    try:
        model.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        raise _error(table, rows, record_type, exc.failure_cases) from None


# -------------------------------------------------------------------------------------------
# A fast path for valid batches
#
# Building the frame and running pandera costs tens of microseconds per row, nearly all of it on
# batches that pass. `_FastCheck` runs the same checks in plain Python on the rows, each at least
# as strict as the model's: when it accepts a batch the model would accept it too, so nothing is
# built. Anything it does not accept (or a model it does not understand) goes through pandera,
# which decides and words the error exactly as before.

_INT64_MIN, _INT64_MAX = -(2 ** 63), 2 ** 63 - 1


def _is_int(value: Any) -> bool:
    return type(value) is int and _INT64_MIN <= value <= _INT64_MAX


def _is_bool(value: Any) -> bool:
    return type(value) is bool


def _is_str(value: Any) -> bool:
    return type(value) is str


def _is_utc_datetime(value: Any) -> bool:
    # datetime64[ns] holds 1677-09-21 .. 2262-04-11: keep well inside it
    return (type(value) is dt.datetime and value.tzinfo is not None and value.utcoffset() is not None
            and 1678 <= value.year <= 2261)


_OBJECT_TYPES = frozenset({Decimal, dt.date})


def _is_object(value: Any) -> bool:
    # the types the object columns hold (money, dates); anything else (NaN, pd.NA ...): the model decides
    return type(value) in _OBJECT_TYPES


def _each(predicate: Any) -> Any:
    return lambda values: all(map(predicate, values))


def _types_within(allowed: frozenset[type]) -> Any:
    return lambda values: allowed.issuperset(map(type, values))


def _ints(values: list[Any]) -> bool:
    """all(map(_is_int, values)), column at a time."""
    if not values:
        return True
    if set(map(type, values)) != {int}:
        return False
    return _INT64_MIN <= min(values) and max(values) <= _INT64_MAX


def _decimal_column(*, precision: int, scale: int, minimum: str | None, positive: bool) -> Any:
    """all(ns_decimal(v, ...) for v in values), column at a time: the same conditions with C
    methods mapped over the column; a column with anything unusual (not all finite Decimals, a
    value near the size limit) is checked value by value."""
    quantum, limit = Decimal(1).scaleb(-scale), precision - scale
    low = Decimal(minimum) if minimum is not None else None
    each = _each(lambda v: ns_decimal(v, precision=precision, scale=scale, minimum=minimum, positive=positive))

    def check(values: list[Any]) -> bool:
        if not values:
            return True
        if set(map(type, values)) != {Decimal} or not all(map(Decimal.is_finite, values)) \
                or max(map(Decimal.adjusted, values)) >= limit:  # (a zero's exponent may be large)
            return each(values)
        # more decimals than the column keeps <=> the value changes when quantized to its scale
        if list(map(Decimal.quantize, values, itertools.repeat(quantum))) != values:
            return False
        if low is not None and min(values) < low:
            return False
        return not (positive and min(values) <= 0)

    return check


_UTC = frozenset({dt.timezone.utc})


def _utc_datetimes(values: list[Any]) -> bool:
    """all(map(_is_utc_datetime, values)), column at a time."""
    if not values:
        return True
    if set(map(type, values)) != {dt.datetime}:
        return False
    if not _UTC.issuperset(v.tzinfo for v in values) and not all(
            v.tzinfo is not None and v.utcoffset() is not None for v in values):
        return False
    years = [v.year for v in values]
    return 1678 <= min(years) and max(years) <= 2261


_COLUMN_TYPE_CHECKS = {
    _is_int: _ints,
    _is_bool: _types_within(frozenset({bool})),
    _is_str: _types_within(frozenset({str})),
    _is_object: _types_within(_OBJECT_TYPES),
    _is_utc_datetime: _utc_datetimes,
}


class _Unsupported(Exception):
    pass


class _FastCheck:
    """The model's column checks as plain Python predicates (see above)."""

    def __init__(self, table: Table, model: type[pa.DataFrameModel]) -> None:
        schema = model.to_schema()
        if (schema.coerce or schema.checks or schema.ordered or schema.strict is not True
                or getattr(schema, "add_missing_columns", False) or schema.index is not None
                and getattr(schema.index, "checks", None)):
            raise _Unsupported(table.name)
        self.names = frozenset(schema.columns)
        unique = schema.unique
        self.unique: tuple[str, ...] = tuple([unique] if isinstance(unique, str) else unique or ())
        self.columns: list[tuple[str, bool, Any, tuple[Any, ...]]] = []
        for name, column in schema.columns.items():
            if column.coerce or column.regex or column.unique or not column.required or name not in table.c:
                raise _Unsupported(name)
            kind = table.c[name].type
            dtype = str(column.dtype)
            if isinstance(kind, (BigInteger, Integer)) and not isinstance(kind, Boolean) and dtype == "Int64":
                type_ok = _is_int
            elif isinstance(kind, Boolean) and dtype == "boolean":
                type_ok = _is_bool
            elif isinstance(kind, UTCDateTime) and dtype == "datetime64[ns, UTC]":
                type_ok = _is_utc_datetime
            elif not isinstance(kind, (BigInteger, Integer, Boolean, UTCDateTime)) and dtype == "str":
                type_ok = _is_str
            elif not isinstance(kind, (BigInteger, Integer, Boolean, UTCDateTime)) and dtype == "object":
                type_ok = _is_object
            else:
                raise _Unsupported(name)
            checks: list[Any] = [type_ok]
            for check in column.checks:
                stats = dict(check.statistics or {})
                if not check.ignore_na:
                    raise _Unsupported(name)
                if check.name == "greater_than" and type_ok is _is_int:
                    bound = stats["min_value"]
                    checks.append(lambda vs, b=bound: not vs or min(vs) > b)  # ints (checked first)
                elif check.name == "greater_than_or_equal_to" and type_ok is _is_int:
                    bound = stats["min_value"]
                    checks.append(lambda vs, b=bound: not vs or min(vs) >= b)
                elif check.name == "isin" and type_ok is _is_str:
                    checks.append(frozenset(stats["allowed_values"]).issuperset)
                elif check.name == "ns_decimal" and type_ok is _is_object:
                    checks.append(_decimal_column(**stats))
                elif check.name == "ns_date" and type_ok is _is_object and not stats:
                    checks.append(_each(ns_date))
                else:
                    raise _Unsupported(f"{name}: {check.name}")
            checks[0] = _COLUMN_TYPE_CHECKS[type_ok]
            self.columns.append((name, bool(column.nullable), type_ok, tuple(checks)))

    def accepts(self, rows: Sequence[Mapping[str, Any]]) -> bool:
        names: set[str] = set()
        for keys in {tuple(row) for row in rows}:
            names.update(keys)
        if names != self.names:
            return False  # a missing or an extra column: strict
        for name, nullable, _, checks in self.columns:
            values = [row.get(name) for row in rows]
            if None in values:
                if not nullable:
                    return False
                values = [v for v in values if v is not None]
            for check in checks:  # each takes the column's non-null values (the type check first)
                if not check(values):
                    return False
        if self.unique:
            if len(self.unique) == 1:
                keys = [row.get(self.unique[0]) for row in rows]
            else:
                keys = [tuple(row.get(k) for k in self.unique) for row in rows]
            try:
                if len(set(keys)) != len(keys):
                    return False
            except TypeError:
                return False
        return True


_FAST: dict[str, _FastCheck | None] = {}


def _prechecked(table: Table, model: type[pa.DataFrameModel], rows: Sequence[Mapping[str, Any]]) -> bool:
    """True when the fast checks accept the batch (so the model would); False: ask the model."""
    key = table.name
    if key not in _FAST:
        try:
            _FAST[key] = _FastCheck(table, model)
        except _Unsupported:
            _FAST[key] = None
    fast = _FAST[key]
    if fast is None:
        return False
    try:
        return fast.accepts(rows)
    except Exception:  # noqa: BLE001 - anything unexpected: the model decides
        return False


def _error(table: Table, rows: Sequence[Mapping[str, Any]], record_type: str | None,
           cases: pd.DataFrame) -> SyncValidationError:
    failures: list[ValidationFailure] = []
    record_ids: list[Any] = []
    columns: list[str] = []
    for case in cases.to_dict("records"):
        index = case.get("index")
        column = case.get("column")
        column = column if isinstance(column, str) else None
        check = _check_text(str(case.get("check")), column)
        value = case.get("failure_case")
        if index is not None and not (isinstance(index, float) and pd.isna(index)) and 0 <= int(index) < len(rows):
            label, ident = _label(table, rows[int(index)], record_type)
            if column in rows[int(index)]:
                value = rows[int(index)][column]
        else:  # a check of the whole frame or column (dtype, missing column ...)
            label, ident = f"{record_type or table.name} (batch)", None
        failure = ValidationFailure(label, column, check, value) if not isinstance(value, list) else \
            ValidationFailure(label, column, check, tuple(value))
        try:
            if failure in failures:
                continue
        except TypeError:  # unhashable / incomparable value: keep it
            pass
        failures.append(failure)
        if ident is not None and ident not in record_ids:
            record_ids.append(ident)
        if column and column not in columns:
            columns.append(column)
    shown = [f"{f.record}: {f.column or '(row)'} = {_shown(f.value)}: {f.check}" for f in failures[:20]]
    more = f"; ... and {len(failures) - 20} more" if len(failures) > 20 else ""
    message = (f"{table.name}: {len(record_ids) or len(failures)} record(s) failed validation, so nothing of "
               f"this batch was written and the sync cursor did not move: " + "; ".join(shown) + more)
    return SyncValidationError(message, table=table.name, record_type=record_type, failures=failures,
                               record_ids=record_ids, columns=columns)

