"""JSON with exact decimal numbers: Decimal amounts are written as JSON numbers digit for digit
(the standard library encoder only knows floats) and read back as Decimal.

The client sends every `json=` request body through `dumps`, so an amount held as Decimal reaches
NetSuite exactly as it is."""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Any


def dumps(value: Any, *, floats: bool = True, sort_keys: bool = False) -> str:
    """Compact JSON text with Decimal as a plain JSON number. `floats=False` refuses floats (for
    money that must never have been one); `sort_keys` makes the text deterministic."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not a finite amount: {value}")
        return format(value, "f")
    if isinstance(value, float) and not floats:
        raise TypeError("floats are not written: use Decimal for amounts")
    if isinstance(value, dict):
        items = sorted(value.items()) if sort_keys else value.items()
        return "{" + ",".join(f"{json.dumps(str(k))}:{dumps(v, floats=floats, sort_keys=sort_keys)}"
                              for k, v in items) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(dumps(v, floats=floats, sort_keys=sort_keys) for v in value) + "]"
    return json.dumps(value)


def loads(text: str) -> Any:
    """Parse JSON text; every number with a fraction or exponent becomes a Decimal."""
    return json.loads(text, parse_float=Decimal)
