"""The sync's fast paths give exactly what the general code gives.

- upsert_rows binds values with the column types' processors outside SQLAlchemy's per-row
  handling (warehouse/writes.py) and faster equivalents of UTCDateTime's, ExactDecimal's,
  Boolean's and Date's processors (warehouse/types.py): same DBAPI values, same stored values;
- the validation's column-at-a-time checks (sync/validation.py) accept exactly the columns whose
  every value passes the per-value check;
- the decoder's one-regex shape checks (netsuite/decoding.py) match the per-character ones.
"""
from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ns_pipelines import warehouse as wh
from ns_pipelines.netsuite import decoding
from ns_pipelines.sync import validation
from ns_pipelines.warehouse import writes
from ns_pipelines.warehouse.types import ExactDecimal, UTCDateTime
from ns_pipelines_tests.postgres import fresh_warehouse_url  # noqa: F401 - fixture

UTC = dt.timezone.utc
DIALECTS = [sqlite.pysqlite.dialect(), postgresql.psycopg.dialect()]


def _outcome(process, value):  # noqa: ANN001, ANN202
    try:
        result = process(value)
    except Exception as exc:  # noqa: BLE001 - the error is the outcome
        return ("error", type(exc))
    return (type(result), result, str(result))


def _decimals() -> list[object]:
    rng = random.Random(7)
    values: list[object] = [
        Decimal("0"), Decimal("-0"), Decimal("0.00"), Decimal("-0.0000"), Decimal("0E+30"), Decimal("0E-30"),
        Decimal("1"), Decimal("-1"), Decimal("0.1"), Decimal("1234.5"), Decimal("1E+3"), Decimal("1.23E+5"),
        Decimal("0.00005"), Decimal("-0.00005"), Decimal("0.00004999"), Decimal("9.99995"), Decimal("1.23456789"),
        Decimal("99999999999.9999"), Decimal("99999999999.99995"), Decimal("9999999999.99995"),
        Decimal("100000000000"), Decimal("100000000000000"), Decimal("123456789012.3456"),
        Decimal("99999999999999.9999"), Decimal("-99999999999999.99995"), Decimal("1E+13"), Decimal("1E+14"),
        Decimal("0.0068123457"), Decimal("12345.1234567891"), Decimal("99999.99999999995"), Decimal("1E-11"),
        Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity"), Decimal("sNaN"),
        5, -7, 0, 10 ** 20, 0.1, 1.5, "12.34", "abc", True, None, dt.date(2026, 1, 1),
    ]
    for _ in range(3000):
        digits = rng.randint(1, 19)
        coefficient = rng.randrange(10 ** digits) * rng.choice((1, -1))
        values.append(Decimal(coefficient).scaleb(-rng.randint(0, 12)))
    return values


def _datetimes() -> list[object]:
    la = ZoneInfo("America/Los_Angeles")
    values: list[object] = [
        dt.datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC), dt.datetime(2026, 3, 1, tzinfo=UTC),
        dt.datetime(999, 1, 2, 3, 4, 5, 6, tzinfo=UTC), dt.datetime(1, 1, 1, tzinfo=UTC),
        dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        dt.datetime(2026, 3, 1, 18, 30, tzinfo=dt.timezone(dt.timedelta(hours=9))),
        dt.datetime(2026, 11, 1, 1, 30, tzinfo=la), dt.datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=la),
        dt.datetime(2026, 3, 1, 9, 30), dt.date(2026, 3, 1), "2026-03-01 09:30:00", 5,
    ]
    rng = random.Random(11)
    for _ in range(500):
        values.append(dt.datetime(rng.randint(1, 9999), rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23),
                                  rng.randint(0, 59), rng.randint(0, 59), rng.choice((0, rng.randint(0, 999999))),
                                  tzinfo=UTC))
    return values


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)
@pytest.mark.parametrize("type_", [wh.Money(), wh.ExchangeRate(), ExactDecimal(12, 3), ExactDecimal(28, 14)],
                         ids=repr)
def test_exact_decimal_bulk_processor_equals_the_full_one(dialect: sa.Dialect, type_: ExactDecimal) -> None:
    full = type_.dialect_impl(dialect).bind_processor(dialect)
    fast = type_.bulk_bind_processor(dialect)
    assert fast is not full  # the fast path is in use (its probes agreed)
    for value in _decimals():
        if value is None:
            continue  # bulk processors are called for non-null values only
        assert _outcome(fast, value) == _outcome(full, value), value


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)
def test_utc_datetime_bulk_processor_equals_the_full_one(dialect: sa.Dialect) -> None:
    type_ = UTCDateTime()
    full = type_.dialect_impl(dialect).bind_processor(dialect)
    fast = type_.bulk_bind_processor(dialect)
    assert fast is not full
    for value in _datetimes():
        assert _outcome(fast, value) == _outcome(full, value), value


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)
def test_boolean_and_date_processors_equal_the_full_ones(dialect: sa.Dialect) -> None:
    for type_, values in ((sa.Boolean(), [True, False, 1, 0, "T", 2]),
                          (sa.Date(), [dt.date(2026, 1, 31), dt.date(999, 1, 2), dt.date(1, 1, 1),
                                       dt.datetime(2026, 1, 31, 10, 0), "2026-01-31", 5])):
        full = type_.dialect_impl(dialect).bind_processor(dialect)
        fast = writes._bind_processor(type_, dialect)
        for value in values:
            assert _outcome(fast, value) == _outcome(full, value) if full else fast is None


def _rows(n: int) -> list[dict[str, object]]:
    rng = random.Random(3)
    la = ZoneInfo("America/Los_Angeles")
    rows = []
    for i in range(1, n + 1):
        total = Decimal(rng.randrange(10 ** 9)).scaleb(-rng.choice((0, 2, 4, 6)))
        rows.append({
            "id": i, "tran_id": f"INV{i}", "customer_id": rng.randint(1, 50), "subsidiary_id": 1,
            "account_id": None if i % 7 == 0 else 120, "posting_period_id": 3, "currency": "USD",
            "exchange_rate": Decimal("1.0000000000") if i % 2 else Decimal("0.00681234575"),
            "tran_date": dt.date(2026, 1, 1) + dt.timedelta(days=i % 300),
            "due_date": None if i % 5 == 0 else dt.date(2026, 2, 1), "status": "A", "status_text": "Open",
            "total": total, "amount_paid": Decimal(0), "amount_unpaid": total if i % 3 else 7,
            "is_intercompany": bool(i % 11 == 0), "is_voided": False, "memo": None if i % 2 else "m",
            "external_id": None,
            "created_at": dt.datetime(2026, 1, 1, tzinfo=UTC) + dt.timedelta(seconds=i * 977, microseconds=i),
            "last_modified": (dt.datetime(2026, 3, 8, 1, 30, tzinfo=la) + dt.timedelta(minutes=i)) if i % 4 == 0
            else dt.datetime(2026, 3, 8, 10, 0, tzinfo=UTC) + dt.timedelta(minutes=i),
        })
    return rows


@pytest.fixture
def engine(fresh_warehouse_url: str) -> Iterator[sa.Engine]:  # noqa: F811
    engine = wh.create_warehouse_engine(fresh_warehouse_url)
    wh.upgrade_warehouse(engine)
    yield engine
    engine.dispose()


def test_upsert_stores_what_the_statement_path_stores(engine: sa.Engine) -> None:
    """The same rows through upsert_rows and through SQLAlchemy's own executemany of the same
    statement: the raw stored values (read without type processing) are identical."""
    rows = _rows(600)
    stamp = dt.datetime(2026, 3, 9, 12, 0, 0, 5, tzinfo=UTC)
    table = wh.invoices
    with wh.begin_write(engine) as conn:
        assert wh.upsert_rows(conn, table, rows) == len(rows)
        conn.execute(sa.update(table).values(synced_at=stamp))
    columns = ", ".join(table.c.keys())
    with engine.connect() as conn:
        fast = conn.exec_driver_sql(f"SELECT {columns} FROM {table.name} ORDER BY id").all()
    with wh.begin_write(engine) as conn:
        conn.execute(sa.delete(table))
        full = [{**row, "synced_at": stamp, "is_deleted": False, "deleted_at": None} for row in rows]
        plan = writes._upsert_plan(conn.dialect, table, ("id",), tuple(sorted(full[0])))
        assert len(plan.parameters(full)) == len(rows)  # upsert_rows took the fast path (no fallback)
        conn.execute(plan.statement, full)  # SQLAlchemy's per-row parameter processing
    with engine.connect() as conn:
        slow = conn.exec_driver_sql(f"SELECT {columns} FROM {table.name} ORDER BY id").all()
    assert len(fast) == len(rows)
    assert [tuple(map(repr, r)) for r in fast] == [tuple(map(repr, r)) for r in slow]


def test_upsert_refused_values_raise_as_before(engine: sa.Engine) -> None:
    rows = _rows(3)
    rows[1]["total"] = Decimal("100000000000000")
    with wh.begin_write(engine) as conn, pytest.raises(sa.exc.StatementError, match="does not fit"):
        wh.upsert_rows(conn, wh.invoices, rows)
    rows = _rows(3)
    rows[2]["last_modified"] = dt.datetime(2026, 3, 1)
    with wh.begin_write(engine) as conn, pytest.raises(sa.exc.StatementError, match="naive"):
        wh.upsert_rows(conn, wh.invoices, rows)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(wh.invoices)).scalar_one() == 0


def test_column_checks_equal_per_value_checks() -> None:
    rng = random.Random(5)
    decimals = [v for v in _decimals() if v is not None]
    stats = [dict(precision=18, scale=4, minimum=None, positive=False), dict(precision=18, scale=4, minimum="0",
             positive=False), dict(precision=20, scale=10, minimum=None, positive=True)]
    for kw in stats:
        column = validation._decimal_column(**kw)
        singles = 0
        for _ in range(3000):
            values = rng.sample(decimals, rng.randint(0, 4))
            expected = all(validation.ns_decimal(v, **kw) for v in values)
            singles += expected
            assert column(values) == expected, (values, kw)
        assert 0 < singles < 3000
    ints = [0, 1, -1, 2 ** 63 - 1, 2 ** 63, -(2 ** 63), -(2 ** 63) - 1, True, 1.0, Decimal(1), "1"]
    stamps = [v for v in _datetimes() if v is not None] + [
        dt.datetime(1677, 1, 1, tzinfo=UTC), dt.datetime(2262, 1, 1, tzinfo=UTC)]
    for pool, column, single in ((ints, validation._ints, validation._is_int),
                                 (stamps, validation._utc_datetimes, validation._is_utc_datetime)):
        for _ in range(3000):
            values = rng.sample(pool, rng.randint(0, 3))
            assert column(values) == all(map(single, values)), values


def test_decoder_shape_checks_match() -> None:
    texts = ["2026-01-02", "2026-1-02", "2026-01-02 ", " 2026-01-02", "２０２６-01-02", "2026-01-02\n", "2026/01/02",
             "2026-01-02 10:11:12", "2026-01-02 24:11:12", "2026-01-02 23:59:59", "2026-01-02 10:11:12\n",
             "2026-01-02T10:11:12", "2026-01-02 1０:11:12", "2026-01-02 10:11", "", "x" * 19, "2026-01-02 10:11:1x"]
    for text in texts:
        assert bool(decoding._ISO_DATE_SHAPE(text)) == decoding._looks_iso_date(text), text
        assert (bool(decoding._ISO_DATETIME_SHAPE(text)) and text[11:13] < "24") == \
            decoding._looks_iso_datetime(text), text


def test_database_errors_on_the_copy_path_are_sqlalchemy_errors(postgres_url: str) -> None:
    """COPY is PostgreSQL's path only (SQLite does not enforce VARCHAR lengths either)."""
    engine = wh.create_warehouse_engine(postgres_url)
    wh.upgrade_warehouse(engine)
    rows = _rows(writes.COPY_MIN_ROWS + 5)
    rows[-1]["currency"] = "USDX"  # VARCHAR(3)
    with wh.begin_write(engine) as conn, pytest.raises(sa.exc.DataError):
        wh.upsert_rows(conn, wh.invoices, rows)
    with wh.begin_write(engine) as conn:  # the connection is usable again, and the rows write
        assert wh.upsert_rows(conn, wh.invoices, rows[:-1]) == len(rows) - 1
        assert wh.upsert_rows(conn, wh.invoices, rows[:-1]) == len(rows) - 1  # twice in one transaction
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(wh.invoices)).scalar_one() == len(rows) - 1
    engine.dispose()


_ODD_VALUES: dict[str, list[object]] = {
    "id": [7, "7", " 7 ", "", "x7", True, 7.0, 7.5, Decimal("7"), Decimal("7.5"), -3, "٣"],
    "int": [0, "12", "", "1e3", False, 2**70, Decimal("2")],
    "text": ["a", "", 5, Decimal("1.10"), True, 1.5, ["x"]],
    "decimal": [Decimal("1.50"), Decimal("NaN"), Decimal("Infinity"), 3, "2.5", " ", "abc", True, 1.25, "1e400"],
    "bool": ["T", "F", "", "t", True, 0, "yes"],
    "date": ["2026-01-02", "1/2/2026", "2026-02-30", "", 20260102, "13/1/2026"],
    "datetime": ["2026-01-02 10:00:00", "2026-03-08 02:30:00", "1/2/2026 10:00 am", "", "2026-13-01 00:00:00", 5],
}


def _decoded_or_error(decode: Any, row: dict[str, object]) -> object:
    try:
        return decode(row)
    except Exception as exc:  # noqa: BLE001 - compared as (type, text)
        return (type(exc).__name__, str(exc))


def test_generated_decoder_equals_the_general_one() -> None:
    """RowDecoder's generated fast path (extra="drop") gives the same values and the same errors
    as the general path, for the usual values and odd ones of every kind, and for the sync's own
    column specs."""
    import itertools

    from ns_pipelines.netsuite.decoding import RowDecoder
    from ns_pipelines.sync import SOURCES, SyncSettings

    columns = {f"c_{kind}": kind for kind in _ODD_VALUES}
    decoder = RowDecoder(columns, timezone="America/Los_Angeles", to_utc=True, extra="drop", record_type="invoice")
    assert decoder._fast is not None
    compared = 0
    for kind, values in _ODD_VALUES.items():
        for value, other in itertools.product(values, [None, "absent"]):
            row: dict[str, object] = {"ID": 1, f"C_{kind}".upper(): value, "links": []}
            if other != "absent":
                row["c_text"] = other
            assert _decoded_or_error(decoder.decode, row) == _decoded_or_error(decoder._decode_general, row)
            compared += 1
    assert compared == 2 * sum(len(v) for v in _ODD_VALUES.values())
    settings = SyncSettings()
    for name, source in SOURCES.items():
        spec = source.decoder(settings)
        assert spec._fast is not None, name
        row = {column.name: _ODD_VALUES[str(column.kind.value)][0] for column in source.columns}
        assert _decoded_or_error(spec.decode, row) == _decoded_or_error(spec._decode_general, row)
