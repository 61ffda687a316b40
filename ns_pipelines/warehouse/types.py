"""Column types that behave the same on SQLite and PostgreSQL.

- `UTCDateTime`: `TIMESTAMP WITH TIME ZONE` on PostgreSQL, `DATETIME` text on SQLite. Values must
  be aware datetimes; they are stored in UTC and always come back aware, in UTC. A naive datetime
  is refused: the warehouse never guesses a time zone.
- `ExactDecimal` (`Money`, `ExchangeRate`): `NUMERIC(p, s)` on both. Values come back as
  `Decimal` quantized to the scale. PostgreSQL's NUMERIC is exact. SQLite keeps numbers as 64-bit
  floats, which hold every decimal of up to 15 significant digits exactly (DBL_DIG); so on SQLite
  a value with more significant digits is refused instead of being rounded silently. For Money
  that still allows 99,999,999,999.9999 (or 9,999,999,999,999.99 at two decimals).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import DateTime, Numeric
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

MONEY_PRECISION, MONEY_SCALE = 18, 4
RATE_PRECISION, RATE_SCALE = 20, 10
SQLITE_EXACT_DIGITS = 15


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware datetime stored in UTC; naive values are refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sqlite.DATETIME())
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if not isinstance(value, dt.datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}: {value!r}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} refused: give it a time zone")
        value = value.astimezone(dt.timezone.utc)
        # SQLite's DATETIME text has no offset: keep UTC wall time so text order is time order.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)

    def bulk_bind_processor(self, dialect: Dialect) -> Callable[[Any], Any]:
        """What `bind_processor(dialect)` returns for a value, faster for the usual one (a
        datetime already in `timezone.utc`); anything else goes through the full processor.
        For bulk writes (warehouse/writes.py), which call it for non-null values only."""
        full = self.dialect_impl(dialect).bind_processor(dialect)
        assert full is not None
        utc, datetime_class = dt.timezone.utc, dt.datetime
        if dialect.name == "sqlite":
            def process(value: Any) -> Any:
                if value.__class__ is datetime_class and value.tzinfo is utc:
                    # astimezone(utc) is the value itself; SQLite's DATETIME text is its ISO form
                    # with microseconds (the year always four digits), without the offset
                    return value.isoformat(" ", "microseconds")[:26]
                return full(value)
        else:
            def process(value: Any) -> Any:
                if value.__class__ is datetime_class and value.tzinfo is utc:
                    return value  # astimezone(utc) returns the value itself
                return full(value)
        return _same_as(full, process, _DATETIME_PROBES)


class _SQLiteNumeric(sqlite.NUMERIC):
    """NUMERIC(p, s) DDL without SQLAlchemy's float conversions (ExactDecimal does them)."""

    def bind_processor(self, dialect):  # noqa: ANN001, ANN201
        return None

    def result_processor(self, dialect, coltype):  # noqa: ANN001, ANN201
        return None


class ExactDecimal(TypeDecorator[Decimal]):
    """NUMERIC(precision, scale) read and written as `Decimal`, never as float."""

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int, scale: int) -> None:
        super().__init__(precision=precision, scale=scale, asdecimal=True)
        self.precision, self.scale = precision, scale
        self._quantum = Decimal(1).scaleb(-scale)

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(_SQLiteNumeric(self.precision, self.scale))
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def coerce(self, value: object) -> Decimal:
        """The Decimal this column stores for `value` (Decimal, int, str or float)."""
        if isinstance(value, bool):
            raise TypeError(f"expected a number, got a bool: {value!r}")
        if isinstance(value, float):
            value = repr(value)  # the shortest decimal that round-trips, not the binary expansion
        try:
            number = value if isinstance(value, Decimal) else Decimal(value)  # type: ignore[arg-type]
        except (InvalidOperation, TypeError, ValueError):
            raise ValueError(f"not a decimal number: {value!r}") from None
        if not number.is_finite():
            raise ValueError(f"not a finite number: {value!r}")
        too_big = number.adjusted() >= self.precision - self.scale
        if not too_big:
            number = number.quantize(self._quantum, rounding=ROUND_HALF_UP)
            too_big = number.adjusted() >= self.precision - self.scale  # 9.99995 rounds up
        if too_big:
            raise ValueError(f"{value!r} does not fit NUMERIC({self.precision}, {self.scale})")
        return number

    def process_bind_param(self, value: object, dialect: Dialect) -> object:
        if value is None:
            return None
        number = self.coerce(value)
        if dialect.name != "sqlite":
            return number
        if len(number.normalize().as_tuple().digits) > SQLITE_EXACT_DIGITS:
            raise ValueError(
                f"{number} has more than {SQLITE_EXACT_DIGITS} significant digits, which SQLite "
                "cannot store exactly; use PostgreSQL for such amounts"
            )
        return int(number) if number == number.to_integral_value() else float(number)

    def process_result_value(self, value: object, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        number = value if isinstance(value, Decimal) else Decimal(str(value))
        return number.quantize(self._quantum, rounding=ROUND_HALF_UP)

    def bulk_bind_processor(self, dialect: Dialect) -> Callable[[Any], Any]:
        """What `bind_processor(dialect)` returns for a value, faster for the usual one: a finite
        Decimal that fits, with (on SQLite) at most SQLITE_EXACT_DIGITS digits whatever its
        decimals. The same operations as coerce/process_bind_param, without the checks that
        cannot fail for it; anything else (other types, values near a limit, errors) goes
        through the full processor. Called for non-null values only (warehouse/writes.py)."""
        full = self.dialect_impl(dialect).bind_processor(dialect)
        assert full is not None
        quantum, limit, decimal_class = self._quantum, self.precision - self.scale, Decimal
        if dialect.name == "sqlite":
            # below this adjusted exponent a value quantized to the scale has at most
            # SQLITE_EXACT_DIGITS digits, so the significant-digits check passes
            short = min(limit, SQLITE_EXACT_DIGITS - self.scale)

            def process(value: Any) -> Any:
                if value.__class__ is decimal_class and value.is_finite() and value.adjusted() < limit:
                    number = value.quantize(quantum, rounding=ROUND_HALF_UP)
                    if number.adjusted() < short:
                        return int(number) if number == number.to_integral_value() else float(number)
                return full(value)
        else:
            def process(value: Any) -> Any:
                if value.__class__ is decimal_class and value.is_finite() and value.adjusted() < limit:
                    number = value.quantize(quantum, rounding=ROUND_HALF_UP)
                    if number.adjusted() < limit:
                        return number
                return full(value)
        return _same_as(full, process, _DECIMAL_PROBES)


_DATETIME_PROBES = (
    dt.datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=dt.timezone.utc),
    dt.datetime(2026, 3, 1, 9, 30, 15, tzinfo=dt.timezone.utc),
    dt.datetime(999, 1, 2, 3, 4, 5, 6, tzinfo=dt.timezone.utc),
)
_DECIMAL_PROBES = (Decimal("0"), Decimal("-0.00"), Decimal("1"), Decimal("1234.5"), Decimal("-0.00005"),
                   Decimal("99999999.99995"), Decimal("0.1"), Decimal("1E+3"))


def _same_as(full: Callable[[Any], Any], fast: Callable[[Any], Any], probes: tuple[Any, ...]) -> Callable[[Any], Any]:
    """`fast` if it gives what `full` gives (value and type) for the probes, else `full`: a
    guard against a change in SQLAlchemy's own processors."""
    for probe in probes:
        try:
            expected = full(probe)
        except (TypeError, ValueError, ArithmeticError):
            continue
        got = fast(probe)
        if type(got) is not type(expected) or got != expected or str(got) != str(expected):
            return full
    return fast


def Money() -> ExactDecimal:  # noqa: N802 - reads like a type in column definitions
    """Amount in a document's currency (or the base currency where the column says so)."""
    return ExactDecimal(MONEY_PRECISION, MONEY_SCALE)


def ExchangeRate() -> ExactDecimal:  # noqa: N802
    """Units of base currency per unit of transaction currency."""
    return ExactDecimal(RATE_PRECISION, RATE_SCALE)
