"""Reading one field of a Stripe object, checked: ids, minor-unit amounts, currencies, times,
flags, metadata, exchange rates. Errors name the object id and the field."""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from ns_pipelines.money import CurrencyError, normalize_currency

Row = dict[str, Any]
Warn = Callable[[str], None]


class DecodeError(ValueError):
    """A Stripe object that cannot become a warehouse row; names the object and field."""

    def __init__(self, object_id: str | None, field: str, message: str) -> None:
        self.object_id, self.field = object_id, field
        super().__init__(f"Stripe object {object_id or '(no id)'} field {field}: {message}")


def ignore(_: str) -> None:
    return None


def read_id(obj: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> str:
    value = obj.get("id")
    if not isinstance(value, str) or not value:
        raise DecodeError(None, "id", f"missing or not a string: {value!r}")
    if prefix and not value.startswith(prefix):
        raise DecodeError(value, "id", f"expected an id starting with {' or '.join(prefix)}")
    return value


def read_int(obj: Mapping[str, Any], field: str, *, required: bool = True) -> int | None:
    value = obj.get(field)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise DecodeError(obj.get("id"), field, f"expected an integer amount in minor units, got {value!r}")
    return value


def read_currency(obj: Mapping[str, Any], *, required: bool = True) -> str | None:
    value = obj.get("currency")
    if value is None and not required:
        return None
    try:
        return normalize_currency(value)
    except CurrencyError as exc:
        raise DecodeError(obj.get("id"), "currency", str(exc)) from None


def read_time(obj: Mapping[str, Any], field: str, *, required: bool = True) -> dt.datetime | None:
    value = obj.get(field)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise DecodeError(obj.get("id"), field, f"expected unix seconds, got {value!r}")
    return dt.datetime.fromtimestamp(value, tz=dt.timezone.utc)


def read_bool(obj: Mapping[str, Any], field: str) -> bool:
    value = obj.get(field)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise DecodeError(obj.get("id"), field, f"expected true or false, got {value!r}")
    return value


def read_text(obj: Mapping[str, Any], field: str) -> str | None:
    value = obj.get(field)
    if value is None or value == "":
        return None
    return str(value)


def ref(value: Any) -> str | None:
    """An expandable reference: the id string, or the id of an expanded object."""
    if value is None or value == "":
        return None
    if isinstance(value, Mapping):
        return value.get("id")
    return str(value)


def metadata_of(obj: Mapping[str, Any]) -> dict[str, str]:
    value = obj.get("metadata") or {}
    if not isinstance(value, Mapping):
        raise DecodeError(obj.get("id"), "metadata", f"expected an object, got {type(value).__name__}")
    return {str(k): "" if v is None else str(v) for k, v in value.items()}


def json_text(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def exchange_rate(obj: Mapping[str, Any]) -> Decimal | None:
    """exchange_rate as an exact Decimal. JSON numbers arrive as floats; repr() is the shortest
    decimal that reads back as the same float, i.e. the digits Stripe sent."""
    value = obj.get("exchange_rate")
    if value is None:
        return None
    try:
        rate = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))
    except InvalidOperation:
        raise DecodeError(obj.get("id"), "exchange_rate", f"not a number: {value!r}") from None
    if not rate.is_finite() or rate <= 0:
        raise DecodeError(obj.get("id"), "exchange_rate", f"not a positive number: {value!r}")
    return rate
