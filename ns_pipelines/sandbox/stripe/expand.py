"""`expand`: replace an id field by the object it names, along dotted paths up to four levels deep."""
from __future__ import annotations

from typing import Any, Callable

from .errors import invalid

MAX_DEPTH = 4
# Fields each object type lets a client expand (a subset of Stripe's, the ones the sandbox links).
EXPANDABLE: dict[str, set[str]] = {
    "charge": {"customer", "payment_intent", "balance_transaction", "failure_balance_transaction"},
    "refund": {"charge", "payment_intent", "balance_transaction", "failure_balance_transaction"},
    "dispute": {"charge", "payment_intent"},
    "balance_transaction": {"source"},
    "payout": {"balance_transaction", "failure_balance_transaction"},
    "payment_intent": {"customer", "latest_charge"},
    "customer": set(),
    "event": set(),
}

Lookup = Callable[[str], dict[str, Any] | None]


def expand(body: dict[str, Any], paths: list[str], lookup: Lookup) -> dict[str, Any]:
    """Expand `paths` in place on an object or a list object (whose paths start with `data.`)."""
    for path in paths:
        parts = path.split(".")
        if len(parts) > MAX_DEPTH:
            raise invalid(f"You cannot expand more than {MAX_DEPTH} levels of a property. Property: {path}",
                          param="expand")
        _expand(body, parts, path, lookup)
    return body


def _expand(node: Any, parts: list[str], path: str, lookup: Lookup) -> None:
    if not parts or node is None:
        return
    if isinstance(node, list):
        for item in node:
            _expand(item, parts, path, lookup)
        return
    if not isinstance(node, dict):
        raise invalid(f"This property cannot be expanded ({path}).", param="expand")
    field, rest = parts[0], parts[1:]
    kind = node.get("object")
    if kind == "list" and field == "data":
        _expand(node["data"], rest, path, lookup)
        return
    if field not in node and kind in EXPANDABLE:
        return  # a polymorphic source (refund, payout ...) without the field: nothing to expand
    if field not in EXPANDABLE.get(kind, set()):
        raise invalid(f"This property cannot be expanded ({path}).", param="expand")
    value = node.get(field)
    if isinstance(value, str):
        target = lookup(value)
        if target is None:
            return
        node[field] = target
        value = target
    _expand(value, rest, path, lookup)
