"""Typed decoding of SuiteQL rows.

SuiteQL answers strings and numbers: ids as strings ("107"), booleans 'T'/'F', DATE columns in the
user's date preference ("10/7/2026"), datetimes (selected with TO_CHAR 'YYYY-MM-DD HH24:MI:SS') in
the account's time zone, money as JSON numbers or strings; null columns are left out of the item
(netsuite-api.md section 3.2). A `RowDecoder` turns a row into Python values by a column spec:

    decoder = RowDecoder({"id": "id", "tranid": "text", "trandate": "date", "isinactive": "bool",
                          "foreigntotal": "decimal", "lastmodified": "datetime"},
                         date_format="M/D/YYYY", timezone="America/Los_Angeles", record_type="invoice")
    decoder.decode(row)  # {"id": 104, "trandate": date(2026, 10, 7), ...}

A value that cannot be decoded raises DecodeError naming the record, the column and the value.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone as dt_timezone, tzinfo
from decimal import Decimal, InvalidOperation
from enum import Enum
from functools import cached_property
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import DecodeError

Row = Mapping[str, Any]


class Kind(str, Enum):
    ID = "id"  # "107" -> 107
    INT = "int"  # any integer column (linesequencenumber ...)
    BOOL = "bool"  # 'T'/'F' -> True/False
    DATE = "date"  # account date format -> datetime.date
    DATETIME = "datetime"  # 'YYYY-MM-DD HH:MM:SS' account-local -> aware datetime
    DECIMAL = "decimal"  # number or string -> Decimal (never through float arithmetic)
    TEXT = "text"


# NetSuite's date preferences (Set Preferences > Date Format). English month names.
DATE_FORMATS = ("M/D/YYYY", "D/M/YYYY", "MM/DD/YYYY", "DD/MM/YYYY", "D.M.YYYY", "DD.MM.YYYY",
                "D-Mon-YYYY", "DD-Mon-YYYY", "D MONTH, YYYY", "DD MONTH, YYYY", "DD-MONTH-YYYY",
                "YYYY/M/D", "YYYY/MM/DD", "YYYY-M-D", "YYYY-MM-DD")
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
           "october", "november", "december")
_TOKEN = re.compile(r"YYYY|MONTH|Mon|MM|M|DD|D")


@dataclass(frozen=True)
class DateFormat:
    """A NetSuite date preference such as `M/D/YYYY` or `DD.MM.YYYY`."""

    pattern: str = "M/D/YYYY"

    @cached_property
    def _regex(self) -> tuple[re.Pattern[str], tuple[str, ...]]:
        parts: list[str] = []
        groups: list[str] = []
        pos = 0
        for match in _TOKEN.finditer(self.pattern):
            parts.append(re.escape(self.pattern[pos:match.start()]))
            token = match.group()
            if token == "YYYY":
                parts.append(r"(\d{4})")
                groups.append("year")
            elif token in ("MM", "M"):
                parts.append(r"(\d{1,2})")
                groups.append("month")
            elif token in ("DD", "D"):
                parts.append(r"(\d{1,2})")
                groups.append("day")
            else:  # Mon, MONTH
                parts.append(r"([A-Za-z]{3,9})")
                groups.append("month_name")
            pos = match.end()
        parts.append(re.escape(self.pattern[pos:]))
        if sorted(g.replace("month_name", "month") for g in groups) != ["day", "month", "year"]:
            raise ValueError(f"unsupported date format {self.pattern!r}")
        return re.compile("".join(parts) + r"\Z", re.IGNORECASE), tuple(groups)

    def validate(self) -> "DateFormat":
        self._regex  # noqa: B018 - compiles or raises
        return self

    def parse(self, text: str) -> date:
        regex, groups = self._regex
        match = regex.match(text.strip())
        if not match:
            raise ValueError(f"does not match the date format {self.pattern}")
        values: dict[str, int] = {}
        for name, value in zip(groups, match.groups()):
            if name == "month_name":
                lowered = value.lower()
                month = next((i + 1 for i, m in enumerate(_MONTHS)
                              if m == lowered or (len(lowered) == 3 and m.startswith(lowered))), None)
                if month is None:
                    raise ValueError(f"unknown month name {value!r}")
                values["month"] = month
            else:
                values[name] = int(value)
        return date(values["year"], values["month"], values["day"])

    def format(self, value: date) -> str:
        """The inverse of `parse` (for building filters in the account's format)."""
        def repl(match: re.Match[str]) -> str:
            token = match.group()
            return {
                "YYYY": f"{value.year:04d}", "MM": f"{value.month:02d}", "M": str(value.month),
                "DD": f"{value.day:02d}", "D": str(value.day),
                "Mon": _MONTHS[value.month - 1][:3].capitalize(), "MONTH": _MONTHS[value.month - 1].capitalize(),
            }[token]
        return _TOKEN.sub(repl, self.pattern)


def _zone(value: str | tzinfo) -> tzinfo:
    if isinstance(value, tzinfo):
        return value
    if value.upper() == "UTC":
        return dt_timezone.utc
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}") from None


class _Invalid(Exception):
    """A value that cannot be decoded (the reason)."""


def decode_id(value: Any) -> int:
    if isinstance(value, bool):
        raise _Invalid("a boolean is not an id")
    if isinstance(value, int):
        return value
    if isinstance(value, (Decimal, float)):
        if value != int(value):
            raise _Invalid("not an integer")
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"-?\d+", text):
            return int(text)
        if re.fullmatch(r"-?\d+\.0*", text):
            return int(text.split(".")[0])
    raise _Invalid("not an integer")


def decode_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().upper()
        if text in ("T", "TRUE"):
            return True
        if text in ("F", "FALSE"):
            return False
    raise _Invalid("not 'T' or 'F'")


def decode_decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise _Invalid("a boolean is not a number")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, (int, float, str)):
        # str() of a float is its shortest round-trip form: 0.1 -> "0.1", never 0.1000000000000000055...
        try:
            result = Decimal(str(value).strip())
        except InvalidOperation:
            raise _Invalid("not a number") from None
    else:
        raise _Invalid("not a number")
    if not result.is_finite():
        raise _Invalid("not a finite number")
    return result


def decode_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        raise _Invalid("a boolean is not text")
    if isinstance(value, (int, float, Decimal)):
        return str(value)
    raise _Invalid("not text")


_DATETIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S")


def _looks_iso_datetime(text: str) -> bool:
    """'YYYY-MM-DD HH:MM:SS' exactly, ASCII digits, hour below 24: the shape TO_CHAR gives, which
    strptime("%Y-%m-%d %H:%M:%S") and datetime.fromisoformat read alike (or both reject)."""
    return (len(text) == 19 and text[4] == "-" and text[7] == "-" and text[10] == " " and text[13] == ":"
            and text[16] == ":" and text.isascii() and text[11:13] < "24"
            and (text[:4] + text[5:7] + text[8:10] + text[11:13] + text[14:16] + text[17:]).isdigit())


# The same shape as _looks_iso_datetime (ASCII digits; the hour is checked apart), in one C call.
_ISO_DATETIME_SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\Z").match
_ISO_DATE_SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z").match  # = _looks_iso_date


def _looks_iso_date(text: str) -> bool:
    """'YYYY-MM-DD' exactly, ASCII digits."""
    return (len(text) == 10 and text[4] == "-" and text[7] == "-" and text.isascii()
            and (text[:4] + text[5:7] + text[8:]).isdigit())


def _parse_datetime(text: str) -> datetime:
    """The naive or aware datetime of a stripped string (see decode_datetime)."""
    parsed: datetime | None = None
    for fmt in _DATETIME_FORMATS:
        try:
            parsed = datetime.strptime(text, fmt)
            break
        except ValueError:
            continue
    if parsed is None:
        try:  # ISO 8601 with an offset, as the REST record service answers (2017-07-21T17:32:28Z)
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise _Invalid("not 'YYYY-MM-DD HH24:MI:SS' (select datetimes with "
                           "TO_CHAR(col, 'YYYY-MM-DD HH24:MI:SS') to keep the time)") from None
        if parsed.tzinfo is None and len(text) <= 10:
            raise _Invalid("a date without a time (select datetimes with "
                           "TO_CHAR(col, 'YYYY-MM-DD HH24:MI:SS') to keep the time)")
    return parsed


def decode_datetime(value: Any, zone: tzinfo, to_utc: bool) -> datetime:
    if not isinstance(value, str):
        raise _Invalid("not a date-time string")
    text = value.strip()
    parsed: datetime | None = None
    if _looks_iso_datetime(text):
        try:  # the usual shape: 30x faster than strptime, same result
            parsed = datetime.fromisoformat(text)
        except ValueError:
            parsed = None  # out-of-range fields: the general path says why
    if parsed is None:
        parsed = _parse_datetime(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)  # account-local wall time
    return parsed.astimezone(dt_timezone.utc) if to_utc else parsed


class _UTCOffsets:
    """Account-local wall time -> UTC, with the zone's offset cached per wall-clock hour.

    An hour is cached only when the offset (fold=0, as parsed values have) is the same at its
    first and its last second, so the hours of a DST change (or any other transition) are
    always converted by the zone itself; the result equals `naive.replace(tzinfo=zone)
    .astimezone(timezone.utc)`."""

    MAX_HOURS = 50_000

    def __init__(self, zone: tzinfo) -> None:
        self.zone = zone
        self.hours: dict[tuple[int, int, int, int], Any] = {}

    def to_utc(self, naive: datetime, key: Any = None) -> datetime:
        """`key`: anything naming the wall-clock hour of `naive` one to one (the parsed text's
        'YYYY-MM-DD HH' prefix); default (year, month, day, hour)."""
        if key is None:
            key = (naive.year, naive.month, naive.day, naive.hour)
        offset = self.hours.get(key)
        if offset is None:
            start = naive.replace(minute=0, second=0, microsecond=0, fold=0)
            end = naive.replace(minute=59, second=59, microsecond=999_999, fold=0)
            first, last = self.zone.utcoffset(start), self.zone.utcoffset(end)
            if first is None or first != last or naive.fold:
                return naive.replace(tzinfo=self.zone).astimezone(dt_timezone.utc)
            if len(self.hours) >= self.MAX_HOURS:
                self.hours.clear()
            self.hours[key] = offset = first
        return (naive - offset).replace(tzinfo=dt_timezone.utc)


@dataclass(frozen=True)
class Column:
    kind: Kind
    source: str  # the key in the SuiteQL row (lower case)


@dataclass
class RowDecoder:
    """Decode SuiteQL rows by a column spec {output name: kind} (or {name: (kind, source key)}).

    Missing keys and nulls decode to None (NetSuite omits null columns); an empty string is None
    for every kind but text. `extra` says what to do with row keys not in the spec: keep them as
    they are, drop them, or raise.
    """

    columns: Mapping[str, Kind | str | tuple[Kind | str, str]]
    date_format: str | DateFormat = "M/D/YYYY"
    timezone: str | tzinfo | None = None  # the account's time zone; required for datetime columns
    to_utc: bool = False
    record_type: str | None = None  # for error messages
    id_column: str = "id"  # names the record in error messages
    extra: Literal["keep", "drop", "error"] = "keep"
    _spec: dict[str, Column] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        spec: dict[str, Column] = {}
        for name, value in self.columns.items():
            kind, source = (value if isinstance(value, tuple) else (value, name))
            try:
                spec[name] = Column(Kind(kind), source.lower())
            except ValueError:
                raise ValueError(f"unknown column kind {kind!r} for {name!r}; use one of "
                                 f"{', '.join(k.value for k in Kind)}") from None
        self._spec = spec
        if not isinstance(self.date_format, DateFormat):
            self.date_format = DateFormat(self.date_format)
        self.date_format.validate()
        self._zone: tzinfo | None = None
        if self.timezone is not None:
            self._zone = _zone(self.timezone)
        elif any(c.kind is Kind.DATETIME for c in spec.values()):
            raise ValueError("datetime columns need the account's time zone (timezone=...)")
        self._sources = {c.source for c in spec.values()}
        self._utc = _UTCOffsets(self._zone) if (
            self.to_utc and isinstance(self._zone, (ZoneInfo, dt_timezone))) else None
        self._plan = [(name, column.source, self._converter(column.kind), column) for name, column in spec.items()]
        self._fast = self._compile() if self.extra == "drop" else None
        self._clean_keys: set[tuple[Any, ...]] = set()  # key tuples already lower case (see _lowered)
        # 'YYYY-MM-DD' may be read as ISO before the account's format when that format cannot read it
        # otherwise: no '-' in it, or a month name (letters), or the ISO order itself.
        pattern = self.date_format.pattern  # type: ignore[union-attr]
        self._iso_first = ("-" not in pattern or "Mon" in pattern or "MONTH" in pattern
                           or pattern in ("YYYY-MM-DD", "YYYY-M-D"))

    def _converter(self, kind: Kind) -> Any:
        """value (not None) -> decoded value, raising _Invalid/ValueError/OverflowError; an empty
        string is None for every kind but text."""
        if kind is Kind.TEXT:
            return decode_text
        if kind in (Kind.ID, Kind.INT):
            def convert_id(value: Any) -> Any:
                if type(value) is str:
                    if value.isdigit() and value.isascii():  # the usual "107"
                        return int(value)
                    if not value.strip():
                        return None
                elif type(value) is int:
                    return value
                return decode_id(value)
            return convert_id
        if kind is Kind.BOOL:
            def convert_bool(value: Any) -> Any:
                if type(value) is str:
                    if value == "T":
                        return True
                    if value == "F":
                        return False
                if isinstance(value, str) and not value.strip():
                    return None
                return decode_bool(value)
            return convert_bool
        if kind is Kind.DECIMAL:
            decimal_class = Decimal

            def convert_decimal(value: Any) -> Any:
                kind_of = value.__class__
                if kind_of is decimal_class:  # the usual: JSON numbers are parsed as Decimal
                    if value.is_finite():
                        return value
                elif kind_of is int:
                    return decimal_class(value)  # the same Decimal as Decimal(str(value))
                elif isinstance(value, str) and not value.strip():
                    return None
                return decode_decimal(value)
            return convert_decimal
        if kind is Kind.DATE:
            return self._decode_date
        if kind is Kind.DATETIME:
            return self._decode_datetime
        raise AssertionError(kind)  # pragma: no cover

    def _decode_date(self, value: Any) -> Any:
        if not isinstance(value, str):
            raise _Invalid("not a date string")
        text = value.strip()
        if not text:
            return None
        if self._iso_first and _ISO_DATE_SHAPE(text):  # = _looks_iso_date
            # No account date format reads 'YYYY-MM-DD' as another date (the YYYY-first ones read
            # it alike), and ISO is accepted after the account's format anyway: take it first.
            try:
                return date.fromisoformat(text)
            except ValueError:
                pass  # out of range: the account's format says why
        try:
            return self.date_format.parse(value)  # type: ignore[union-attr]
        except ValueError as exc:
            if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", text):  # ISO is unambiguous: accept it too
                try:
                    return date.fromisoformat("-".join(p.zfill(2) for p in text.split("-")))
                except ValueError:
                    pass
            raise _Invalid(str(exc)) from None

    def _decode_datetime(self, value: Any) -> Any:
        if not isinstance(value, str):
            raise _Invalid("not a date-time string")
        text = value.strip()
        if not text:
            return None
        assert self._zone is not None
        utc = self._utc
        if utc is not None and _ISO_DATETIME_SHAPE(text) and text[11:13] < "24":  # = _looks_iso_datetime
            try:
                parsed = datetime.fromisoformat(text)
            except ValueError:
                pass  # out-of-range fields: the general path says why
            else:
                # the hour's cache key: the text's 'YYYY-MM-DD HH' (fixed shape: one text per hour)
                return utc.to_utc(parsed, text[:13])
        return decode_datetime(value, self._zone, self.to_utc)

    def _lowered(self, row: Row) -> Mapping[str, Any]:
        keys = tuple(row)
        if keys in self._clean_keys:
            return row
        lowered = {str(k).lower(): v for k, v in row.items() if k != "links"}
        if len(lowered) == len(keys) and all(type(k) is str for k in keys) and tuple(lowered) == keys:
            # lower-case str keys, no "links": such a row is its own lowered form. NetSuite leaves
            # null columns out, so a query gives a few key sets; remember a bounded number.
            if len(self._clean_keys) >= 256:
                self._clean_keys = set()
            self._clean_keys.add(keys)
        return lowered

    def _compile(self) -> Any:
        """`decode` for extra="drop" as one generated function: the usual values (an int id, a
        str text, a finite Decimal) are taken inline, without a converter call per column. Any
        value it cannot take raises inside it, and the row is decoded again the general way,
        which gives the same values and the same errors (the tests compare both on every kind)."""
        inline = {Kind.ID: "{v} if {v}.__class__ is _int else {c}({v})",
                  Kind.INT: "{v} if {v}.__class__ is _int else {c}({v})",
                  Kind.TEXT: "{v} if {v}.__class__ is _str else {c}({v})",
                  Kind.DECIMAL: "{v} if {v}.__class__ is _Decimal and {v}.is_finite() else {c}({v})"}
        namespace: dict[str, Any] = {"_int": int, "_str": str, "_Decimal": Decimal, "_lowered": self._lowered,
                                     "_slow": self._decode_general, "_Invalid": _Invalid}
        reads, values = [], []
        for i, (name, source, convert, column) in enumerate(self._plan):
            v, c = f"v{i}", f"c{i}"
            namespace[c] = convert
            reads.append(f"        {v} = get({source!r})")
            taken = inline.get(column.kind, "{c}({v})").format(v=v, c=c)
            values.append(f"            {name!r}: None if {v} is None else ({taken}),")
        code = "\n".join([
            "def decode(row):",
            "    get = _lowered(row).get",
            "    try:",
            *reads,
            "        return {",
            *values,
            "        }",
            "    except (_Invalid, ValueError, OverflowError, TypeError, AttributeError):",
            "        return _slow(row)",
        ])
        # the text is our own, built from the column spec above
        exec(compile(code, f"<RowDecoder {self.record_type or 'rows'}>", "exec"), namespace)  # noqa: S102
        return namespace["decode"]

    def decode(self, row: Row) -> dict[str, Any]:
        fast = self._fast
        if fast is not None:
            return fast(row)
        return self._decode_general(row)

    def _decode_general(self, row: Row) -> dict[str, Any]:
        lowered = self._lowered(row)
        out: dict[str, Any] = {}
        get = lowered.get
        for name, source, convert, column in self._plan:
            value = get(source)
            if value is None:
                out[name] = None
                continue
            try:
                out[name] = convert(value)
            except (_Invalid, ValueError, OverflowError) as exc:
                raise self._error(lowered, name, column, value, str(exc)) from None
        if self.extra != "drop":
            unknown = [k for k in lowered if k not in self._sources]
            if unknown and self.extra == "error":
                record = lowered.get(self.id_column)
                raise DecodeError(
                    f"{self._record_label(record)}: unexpected column(s) {', '.join(sorted(unknown))}",
                    record_id=record, record_type=self.record_type, column=unknown[0])
            for key in unknown:
                out.setdefault(key, lowered[key])
        return out

    def decode_all(self, rows: Iterable[Row]) -> Iterator[dict[str, Any]]:
        for row in rows:
            yield self.decode(row)

    __call__ = decode

    def _record_label(self, record_id: Any) -> str:
        kind = self.record_type or "record"
        return f"{kind} {record_id}" if record_id is not None else f"{kind} (no {self.id_column})"

    def _error(self, row: Mapping[str, Any], name: str, column: Column, value: Any, reason: str) -> DecodeError:
        record_id = row.get(self.id_column)
        shown = repr(value)
        if len(shown) > 100:
            shown = shown[:100] + "..."
        pattern = self.date_format.pattern if isinstance(self.date_format, DateFormat) else self.date_format
        hint = f" (account date format {pattern})" if column.kind is Kind.DATE else ""
        return DecodeError(
            f"cannot decode {self._record_label(record_id)}: column {name!r} as {column.kind.value}{hint}: "
            f"{shown} ({reason})",
            record_id=record_id, record_type=self.record_type, column=name, value=value, kind=column.kind.value)


def decode_rows(rows: Iterable[Row], columns: Mapping[str, Kind | str], **options: Any) -> Iterator[dict[str, Any]]:
    """Shorthand for `RowDecoder(columns, **options).decode_all(rows)`."""
    return RowDecoder(columns, **options).decode_all(rows)
