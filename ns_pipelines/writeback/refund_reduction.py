"""Before a Customer Refund against a payment, the payment must hold the refund's amount unapplied.

Computed from NetSuite's live state, so it is repeatable: if an earlier attempt already took the
amount off the invoices (or the payment was overpaid), nothing more is taken off.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from .model import Application


def current_applications(payment: dict[str, Any]) -> dict[int, Decimal]:
    """invoice id -> amount applied, from an expanded customerPayment record."""
    out: dict[int, Decimal] = {}
    for item in (payment.get("apply") or {}).get("items") or []:
        if item.get("apply"):
            out[int(item["doc"]["id"])] = Decimal(str(item["amount"]))
    return out


def reduced_apply_items(payment: dict[str, Any], refund_amount: Decimal,
                        plan: tuple[Application, ...]) -> list[dict[str, Any]]:
    """Apply lines (absolute amounts) that leave `refund_amount` unapplied on the payment, taking
    from the planned invoices in the reconciliation's order (last applied first), each by at most
    its planned amount; [] when the payment already has enough unapplied. Raises ValueError when
    the plan cannot free enough."""
    unapplied = Decimal(str(payment.get("unapplied") or 0))
    missing = refund_amount - unapplied
    if missing <= 0:
        return []
    applied = current_applications(payment)
    items: list[dict[str, Any]] = []
    for application in plan:
        if missing <= 0:
            break
        current = applied.get(application.invoice_id, Decimal(0))
        take = min(missing, application.amount, current)
        if take <= 0:
            continue
        left = current - take
        item: dict[str, Any] = {"doc": {"id": str(application.invoice_id)}}
        item.update({"apply": True, "amount": left} if left > 0 else {"apply": False})
        items.append(item)
        missing -= take
    if missing > 0:
        raise ValueError(f"the payment has {unapplied} unapplied and its planned invoices free only "
                         f"{refund_amount - unapplied - missing}; {refund_amount} is needed for the refund")
    return items
