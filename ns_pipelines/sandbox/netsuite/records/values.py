"""Value conversions between the store, JSON request bodies and JSON responses.

Money is Decimal everywhere; floats appear only in the JSON written out.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from ..errors import user_error

RECORD_PATH = "/services/rest/record/v1"
ZERO = Decimal("0")


# ---- money -------------------------------------------------------------------------------------

def dec(value: Any) -> Decimal:
    """A store value (NUMERIC may come back as int/float/str/None) as a Decimal."""
    if value is None or value == "":
        return ZERO
    return Decimal(str(value))


def quantum(precision: int) -> Decimal:
    return Decimal(1).scaleb(-int(precision))


def q(amount: Decimal, precision: int) -> Decimal:
    return amount.quantize(quantum(precision), rounding=ROUND_HALF_UP)


def store_money(amount: Decimal, precision: int) -> str:
    return str(q(amount, precision))


def money_out(value: Any, precision: int | None = None) -> float | None:
    if value is None:
        return None
    amount = dec(value)
    if precision is not None:
        amount = q(amount, precision)
    return float(amount)


def parse_money(value: Any, path: str, precision: int, *, allow_negative: bool = False) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise user_error(f"Invalid number for field {path}: {value!r}.", error_path=path)
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise user_error(f"Invalid number for field {path}: {value!r}.", error_path=path) from None
    if not amount.is_finite():
        raise user_error(f"Invalid number for field {path}: {value!r}.", error_path=path)
    if amount < 0 and not allow_negative:
        raise user_error(f"Invalid number (must be positive) for field {path}: {value}.", error_path=path)
    return q(amount, precision)


def parse_rate(value: Any, path: str) -> Decimal:
    amount = parse_money(value, path, 8)
    if amount <= 0:
        raise user_error(f"Invalid number (must be positive) for field {path}: {value}.", error_path=path)
    return amount


def rate_text(rate: Decimal) -> str:
    """An exchange rate as stored: plain digits, no trailing zeros ('1', '1.0842')."""
    return format(rate.normalize(), "f")


# ---- scalars -----------------------------------------------------------------------------------

def parse_bool(value: Any, path: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "t", "f"):
        return value.lower() in ("true", "t")
    raise user_error(f"Invalid boolean value for field {path}: {value!r}.", error_path=path)


def parse_text(value: Any, path: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, (dict, list, bool)):
        raise user_error(f"Invalid value for field {path}: expected a string.", error_path=path)
    return str(value)


def parse_int(value: Any, path: str) -> int:
    if isinstance(value, bool):
        raise user_error(f"Invalid integer for field {path}: {value!r}.", error_path=path)
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        raise user_error(f"Invalid integer for field {path}: {value!r}.", error_path=path) from None


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_date(value: Any, path: str) -> str:
    """The REST record service takes dates as ISO 'YYYY-MM-DD' (a datetime's date part is accepted)."""
    text = str(value).strip() if value is not None else ""
    if len(text) > 10 and text[10] == "T":
        text = text[:10]
    if _ISO_DATE.match(text):
        try:
            date.fromisoformat(text)
            return text
        except ValueError:
            pass
    raise user_error(f"Invalid date value for field {path}: {value!r}. Use the format YYYY-MM-DD.",
                     error_path=path)


def parse_ref(value: Any, path: str) -> tuple[str, str]:
    """A reference `{"id": "4"}` or `{"externalId": "x"}` (a bare id is accepted too)."""
    if isinstance(value, dict):
        if value.get("id") not in (None, ""):
            return "id", str(value["id"]).strip()
        if value.get("externalId") not in (None, ""):
            return "eid", str(value["externalId"])
    elif isinstance(value, (int, str)) and not isinstance(value, bool) and str(value).strip():
        return "id", str(value).strip()
    raise user_error(f"Invalid reference for field {path}: {value!r}. "
                     f"Provide an object with an id.", error_path=path)


def is_int_id(text: str) -> bool:
    return text.isdigit() and len(text) < 19


# ---- datetimes ---------------------------------------------------------------------------------

def iso_utc(local: str | None, zone: ZoneInfo) -> str | None:
    """Store datetime (account-local 'YYYY-MM-DD HH:MM:SS') -> ISO-8601 UTC '...Z'."""
    if not local:
        return None
    text = str(local)
    fmt = "%Y-%m-%d %H:%M:%S" if len(text) > 10 else "%Y-%m-%d"
    stamp = datetime.strptime(text[:19], fmt).replace(tzinfo=zone)
    return stamp.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---- links and references ----------------------------------------------------------------------

def record_href(base_url: str, key: str, record_id: Any | None = None, *rest: str) -> str:
    href = f"{base_url.rstrip('/')}{RECORD_PATH}/{key}"
    if record_id is not None:
        href += f"/{record_id}"
    for part in rest:
        href += f"/{part}"
    return href


def self_links(href: str) -> list[dict[str, str]]:
    return [{"rel": "self", "href": href}]


def ref(base_url: str, key: str, record_id: Any, ref_name: Any = None) -> dict[str, Any] | None:
    """A reference field as the REST record service writes it."""
    if record_id is None or record_id == "":
        return None
    out: dict[str, Any] = {"links": self_links(record_href(base_url, key, record_id)), "id": str(record_id)}
    if ref_name is not None:
        out["refName"] = str(ref_name)
    return out


def tf(value: Any) -> bool:
    return value == "T"


def drop_none(data: dict[str, Any]) -> dict[str, Any]:
    """NetSuite leaves empty fields out of a record."""
    return {k: v for k, v in data.items() if v is not None}
