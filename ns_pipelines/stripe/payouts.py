"""Which payout carried each balance transaction: GET /v1/balance_transactions?payout=."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, exists, or_, select

from ns_pipelines.stripe.client import StripeAPI
from ns_pipelines.stripe.results import Progress, StripeSyncResult, decode_row
from ns_pipelines.warehouse import begin_write, upsert_rows
from ns_pipelines.warehouse.tables.stripe import balance_transactions, payouts


def link_payouts(api: StripeAPI, engine: Engine, changed: set[str], result: StripeSyncResult,
                 progress: Progress | None) -> None:
    """List the balance transactions of paid automatic payouts not linked yet, or changed now."""
    p, bt = payouts.c, balance_transactions.c
    linked = exists().where(bt.payout == p.id)
    stmt = select(p.id).where(p.status == "paid", or_(p.automatic.is_(None), p.automatic.is_(True)),
                              or_(~linked, p.id.in_(sorted(changed)) if changed else False)).order_by(p.id)
    with engine.connect() as conn:
        candidates = list(conn.execute(stmt).scalars())
    for payout_id in candidates:
        rows: dict[str, dict[str, Any]] = {}
        for page in api.payout_balance_transactions(payout_id):
            for obj in page:
                rows[obj["id"]] = decode_row("balance_transaction", obj, result, payout=payout_id)
        result.rows_read += len(rows)
        if rows:
            with begin_write(engine) as conn:
                result.rows_written += upsert_rows(conn, balance_transactions, rows.values())
            result.payouts_linked += 1
        if progress:
            progress("payout balance transactions", result.payouts_linked)
