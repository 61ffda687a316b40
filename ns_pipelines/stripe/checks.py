"""Plain check functions on the Stripe tables (Dagster wraps them in ns_pipelines.defs.stripe.checks)."""
from __future__ import annotations

from sqlalchemy import Engine, func, select

from ns_pipelines.ar.checks import CheckOutcome
from ns_pipelines.warehouse.tables.stripe import balance_transactions, charges

DEFAULT_LIMIT = 20


def charge_balance_transactions(engine: Engine, *, limit: int = DEFAULT_LIMIT) -> CheckOutcome:
    """Every charge that has a balance transaction finds it in stripe_balance_transactions, with
    the charge as its source. (The primary key makes each present at most once.)"""
    c, bt = charges.c, balance_transactions.c
    joined = charges.outerjoin(balance_transactions, bt.id == c.balance_transaction)
    missing = select(c.id, c.balance_transaction).select_from(joined).where(
        c.balance_transaction.is_not(None), bt.id.is_(None))
    wrong_source = select(c.id, c.balance_transaction, bt.source).select_from(joined).where(
        bt.id.is_not(None), bt.source.is_not(None), bt.source != c.id)
    with engine.connect() as conn:
        with_bt = conn.execute(select(func.count()).where(c.balance_transaction.is_not(None))).scalar_one()
        missing_count = conn.execute(select(func.count()).select_from(missing.subquery())).scalar_one()
        missing_rows = conn.execute(missing.order_by(c.id).limit(limit)).all()
        wrong_count = conn.execute(select(func.count()).select_from(wrong_source.subquery())).scalar_one()
        wrong_rows = conn.execute(wrong_source.order_by(c.id).limit(limit)).all()
    metadata = {
        "charges_with_balance_transaction": with_bt,
        "missing_count": missing_count,
        "missing": [{"charge": r[0], "balance_transaction": r[1]} for r in missing_rows],
        "wrong_source_count": wrong_count,
        "wrong_source": [{"charge": r[0], "balance_transaction": r[1], "source": r[2]} for r in wrong_rows],
    }
    if missing_count or wrong_count:
        return CheckOutcome(False, f"{missing_count} charge(s) lack their balance transaction, {wrong_count} point "
                            "to one whose source is another object", metadata)
    return CheckOutcome(True, f"all {with_bt} charge(s) with a balance transaction have it", metadata)
