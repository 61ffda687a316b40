"""The planner's inputs read from the reconciliation tables (docs/reconciliation.md)."""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select

from ns_pipelines.warehouse.tables.reconciliation import payment_matches, payout_matches

from .model import DepositLine, PayoutAction, PaymentAction, applications


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def payment_action(row: Any) -> PaymentAction:
    return PaymentAction(
        external_id=row.external_id, action=row.action, state=row.state, stripe_object_id=row.stripe_object_id,
        charge_id=row.charge_id, payment_external_id=row.payment_external_id,
        netsuite_customer_id=_int(row.netsuite_customer_id), currency=row.currency, amount=Decimal(row.amount),
        applications=applications(json.loads(row.applications or "[]")),
        unapplied_amount=Decimal(row.unapplied_amount or 0),
        is_split=bool(row.is_split), is_overpayment=bool(row.is_overpayment),
        netsuite_payment_id=_int(row.netsuite_payment_id), memo=row.memo, tran_date=row.tran_date,
        payout_id=row.payout_id, reason=row.reason,
    )


def _line(item: dict[str, Any]) -> DepositLine:
    return DepositLine(kind=item["kind"], amount=Decimal(str(item["amount"])),
                       stripe_object_id=item.get("stripe_object_id"), external_id=item.get("external_id"),
                       netsuite_id=_int(item.get("netsuite_id")), account_id=_int(item.get("account_id")))


def payout_action(row: Any) -> PayoutAction:
    return PayoutAction(
        payout_id=row.payout_id, external_id=row.external_id, state=row.state, status=row.status,
        currency=row.currency, amount=Decimal(row.amount), lines=tuple(_line(i) for i in json.loads(row.lines)),
        fee_total=Decimal(row.fee_total or 0), tran_date=row.tran_date, memo=row.memo, reason=row.reason,
    )


def read_actions(engine: Engine) -> tuple[list[PaymentAction], list[PayoutAction]]:
    """Every planned row of the two match tables (done rows are NetSuite's already)."""
    with engine.connect() as conn:
        pays = conn.execute(select(payment_matches).where(payment_matches.c.state == "planned")
                            .order_by(payment_matches.c.external_id, payment_matches.c.action)).all()
        outs = conn.execute(select(payout_matches).where(payout_matches.c.state == "planned")
                            .order_by(payout_matches.c.payout_id)).all()
    return [payment_action(r) for r in pays], [payout_action(r) for r in outs]
