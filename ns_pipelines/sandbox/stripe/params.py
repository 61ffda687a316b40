"""Stripe's form encoding: `key[sub]=v` for dicts, `key[0]=v` (or `key[]=v`) for lists.

The stripe package encodes every request this way, for GET query strings and POST bodies alike
(booleans as "true"/"false", None values dropped). `decode` turns the pairs back into nested
dicts and lists; the coercion helpers raise Stripe's invalid_request_error naming the parameter.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from .errors import invalid, unknown_parameter

_SEGMENT = re.compile(r"\[([^\[\]]*)\]")


def _split_key(key: str) -> list[str]:
    head, _, rest = key.partition("[")
    parts = [head]
    if rest:
        parts.extend(_SEGMENT.findall("[" + rest))
    return parts


def decode(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Nested params from form pairs; dicts whose keys are all digits become lists in index order."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = _split_key(key)
        node = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if part == "":  # key[] appends
                part = str(len(node))
            if last:
                node[part] = value
            else:
                child = node.get(part)
                if not isinstance(child, dict):
                    child = {}
                    node[part] = child
                node = child
    return _listify(root)


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {k: _listify(v) for k, v in node.items()}
    if converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted


def reject_unknown(params: dict[str, Any], allowed: Iterable[str]) -> None:
    allowed_set = set(allowed)
    for name in params:
        if name not in allowed_set:
            raise unknown_parameter(name)


def as_int(params: dict[str, Any], name: str, *, default: int | None = None, low: int | None = None,
           high: int | None = None) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(str(raw))
    except ValueError:
        raise invalid(f"Invalid integer: {raw}", param=name) from None
    if (low is not None and value < low) or (high is not None and value > high):
        raise invalid(f"Invalid {name}: must be between {low} and {high}" if high is not None
                      else f"Invalid {name}: must be at least {low}", param=name)
    return value


def as_bool(params: dict[str, Any], name: str, default: bool = False) -> bool:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    text = str(raw).lower()
    if text in {"true", "1"}:
        return True
    if text in {"false", "0"}:
        return False
    raise invalid(f"Invalid boolean: {raw}", param=name)


def as_str_list(params: dict[str, Any], name: str) -> list[str]:
    raw = params.get(name)
    if raw is None or raw == "":
        return []
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, list) and all(isinstance(v, str) for v in raw):
        return raw
    raise invalid(f"Invalid array: {name}", param=name)


def as_metadata(params: dict[str, Any], current: dict[str, str] | None = None) -> dict[str, str]:
    """Stripe's metadata update: keys set, a key set to "" removed, metadata="" clears everything."""
    result = dict(current or {})
    raw = params.get("metadata")
    if raw is None:
        return result
    if raw == "":
        return {}
    if not isinstance(raw, dict):
        raise invalid("Invalid metadata: must be an object", param="metadata")
    for key, value in raw.items():
        if not isinstance(value, str):
            raise invalid(f"Invalid metadata[{key}]: must be a string", param=f"metadata[{key}]")
        if len(key) > 40:
            raise invalid("Metadata keys can be at most 40 characters", param=f"metadata[{key}]")
        if len(value) > 500:
            raise invalid("Metadata values can be at most 500 characters", param=f"metadata[{key}]")
        if value == "":
            result.pop(key, None)
        else:
            result[key] = value
    if len(result) > 50:
        raise invalid("Metadata can have at most 50 keys", param="metadata")
    return result


def range_filter(params: dict[str, Any], name: str) -> dict[str, int]:
    """A `created`-style filter: an exact integer or {gt, gte, lt, lte}; returns operator -> value."""
    raw = params.get(name)
    if raw is None or raw == "":
        return {}
    if isinstance(raw, str):
        return {"eq": _int_or_error(raw, name)}
    if isinstance(raw, dict):
        result = {}
        for op, value in raw.items():
            if op not in {"gt", "gte", "lt", "lte"}:
                raise unknown_parameter(f"{name}[{op}]")
            result[op] = _int_or_error(value, f"{name}[{op}]")
        return result
    raise invalid(f"Invalid {name}", param=name)


def _int_or_error(value: Any, name: str) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise invalid(f"Invalid integer: {value}", param=name) from None
