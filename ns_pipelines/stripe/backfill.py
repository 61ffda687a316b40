"""List backfills: every object of a type through its list endpoint, resumable page by page."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Engine, select

from ns_pipelines.stripe.client import StripeAPI
from ns_pipelines.stripe.results import Progress, StripeSyncResult, decode_row, utcnow
from ns_pipelines.stripe.state import Backfill, StripeState, save_state
from ns_pipelines.warehouse import begin_write, soft_delete, upsert_rows
from ns_pipelines.warehouse.tables.stripe import TABLES_BY_OBJECT, customers


def backfill_type(api: StripeAPI, engine: Engine, object_type: str, state: StripeState, result: StripeSyncResult,
                  *, since: dt.datetime | None, restart: bool, run_id: str | None, progress: Progress | None) -> None:
    """List every object of the type (created >= `since`), committing each page with its position;
    resume a backfill in progress unless `restart`. Sets the type's cursor when complete."""
    resume = None if restart else state.backfill
    params: dict[str, Any] = {}
    created_gte = resume.since if resume else since
    if created_gte is not None:
        params["created"] = {"gte": int(created_gte.timestamp())}
    if resume and resume.after:
        params["starting_after"] = resume.after
    opened_at = resume.opened_at if resume else utcnow()
    through = resume.through if resume else api.clock()  # changes from here on come as events
    table = TABLES_BY_OBJECT[object_type]
    for page in api.list_pages(object_type, params):
        # Stripe lists no deleted objects; should one appear, it is left to the deletion sweep below.
        rows = [decode_row(object_type, obj, result) for obj in page if not obj.get("deleted")]
        result.rows_read += len(page)
        position = Backfill(since=created_gte, through=through, opened_at=opened_at, after=page[-1]["id"])
        with begin_write(engine) as conn:
            result.rows_written += upsert_rows(conn, table, rows)
            save_state(conn, object_type, cursor=state.cursor, backfill=position, mode="backfill",
                       rows=len(rows), run_id=run_id)
        if progress:
            progress(f"{object_type} backfill", result.rows_written)
    with begin_write(engine) as conn:
        if object_type == "customer":
            # Stripe lists no deleted customers: those this complete listing did not rewrite are gone.
            stale = select(customers.c.id).where(customers.c.is_deleted.is_(False), customers.c.synced_at < opened_at)
            if created_gte is not None:
                stale = stale.where(customers.c.created >= created_gte)
            gone = list(conn.execute(stale).scalars())
            result.rows_soft_deleted += soft_delete(conn, customers, gone, utcnow())
        save_state(conn, object_type, cursor=through, backfill=None, mode="backfill", rows=0, run_id=run_id)
    result.cursor_after = through
