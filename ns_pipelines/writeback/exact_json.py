"""JSON with exact decimal numbers: Decimal amounts are written as JSON numbers digit for digit
(the stdlib encoder only knows floats) and read back as Decimal."""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Any


def dumps(value: Any) -> str:
    """Compact JSON text, keys sorted (deterministic), Decimal as a plain JSON number."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not a finite amount: {value}")
        return format(value, "f")
    if isinstance(value, float):
        raise TypeError("floats are not written: use Decimal for amounts")
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{dumps(v)}" for k, v in sorted(value.items())) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    return json.dumps(value)


def loads(text: str) -> Any:
    """Parse JSON text; every number with a fraction or exponent becomes a Decimal."""
    return json.loads(text, parse_float=Decimal)
