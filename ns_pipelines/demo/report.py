"""What the demo prints: per-asset row counts, the checks, the ageing, and the reconciliation summary."""
from __future__ import annotations

from collections import Counter
from typing import Any

import click
from sqlalchemy import Engine, func, select



def _meta_value(metadata: dict[str, Any], key: str, default: Any = None) -> Any:
    value = metadata.get(key)
    return default if value is None else getattr(value, "value", value)


def sync_report(result: Any, order: list[str], engine: Engine, warehouse: Any, seconds: float, *,
                incremental: bool) -> None:
    from ..defs.ar.assets import BUCKETS, bucket_totals

    events = {e.asset_key.to_user_string(): dict(e.materialization.metadata)
              for e in result.get_asset_materialization_events()}
    materialized = {key: events[key] for key in order if key in events}
    click.echo("")
    click.echo(f"{'asset':<34}{'table':<36}{'rows':>9}{'read':>8}{'written':>9}{'deleted':>9}  mode")
    read = written = requests_made = 0
    for key, meta in materialized.items():
        table = _table_name(key)
        rows = _meta_value(meta, "dagster/row_count", 0)
        if key.startswith(("netsuite/", "stripe/")):
            r, w = _meta_value(meta, "ns/rows_read", 0), _meta_value(meta, "ns/rows_written", 0)
            d = _meta_value(meta, "ns/rows_soft_deleted", 0)
            if key.startswith("netsuite/"):
                read, written = read + r, written + w
                requests_made += _meta_value(meta, "ns/requests", 0)
            click.echo(f"{key:<34}{table:<36}{rows:>9,}{r:>8,}{w:>9,}{d:>9,}  {_meta_value(meta, 'ns/mode', '')}")
        else:
            click.echo(f"{key:<34}{table:<36}{rows:>9,}{'':>8}{'':>9}{'':>9}  rebuilt")
    for event in result.get_step_failure_events():
        error = event.event_specific_data.error
        click.echo(f"FAILED {event.step_key}: {error.message.strip() if error else 'see the run in the UI'}")
    for event in result.get_step_skipped_events():
        click.echo(f"skipped {event.step_key} (an upstream step failed or a blocking check did)")
    click.echo("")
    if incremental:
        click.echo(f"incremental run (round 1): {written:,} rows changed since the last sync ({read:,} read, the overlap "
                   f"window included; {requests_made:,} NetSuite requests; {seconds:.1f}s).")
    else:
        click.echo(f"full load (round 1): {written:,} rows written from {requests_made:,} NetSuite requests in {seconds:.1f}s.")

    evaluations = result.get_asset_check_evaluations()
    failed = [e for e in evaluations if not e.passed]
    click.echo(f"checks: {len(evaluations) - len(failed)} passed, {len(failed)} failed")
    for e in failed:
        click.echo(f"  {e.severity.value}: {e.asset_check_key.asset_key.to_user_string()}:{e.asset_check_key.name}"
                   f" - {e.description}")

    click.echo("")
    click.echo("Ageing of open receivables (amounts in each currency, by days past due):")
    header = f"{'currency':<10}{'customers':>10}" + "".join(f"{label:>15}" for label, _ in BUCKETS) + f"{'total':>16}"
    click.echo(header)
    for r in bucket_totals(engine):
        click.echo(f"{r['currency']:<10}{r['customers']:>10,}" + "".join(f"{r[col]:>15,.2f}" for _, col in BUCKETS)
                   + f"{r['total']:>16,.2f}")
    click.echo("")
    where = engine.url.database if warehouse.dialect == "sqlite" else warehouse.display_url
    click.echo(f"Warehouse: {where} ({warehouse.dialect}); tables netsuite_* and stripe_* (raw), ar_* "
               "(receivables), reconciliation_* and writeback_*.")


def _table_name(asset_key: str) -> str:
    """netsuite/invoices -> netsuite_invoices, ar/aging -> ar_aging (the warehouse table)."""
    return TABLE_NAMES.get(asset_key, asset_key.replace("/", "_", 1))


TABLE_NAMES = {"monitoring/netsuite_api_usage": "ns_netsuite_api_usage"}


def round_report(number: int, result: Any, engine: Engine, run_id: str, seconds: float) -> int:
    """One line per kind of write this round made in NetSuite; returns how many were written."""
    from ..warehouse.tables.writeback import writeback_log

    log = writeback_log.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(log.action, log.status, func.count()).where(log.run_id == run_id)
            .group_by(log.action, log.status).order_by(log.action, log.status)
        ).all()
    failed_steps = [e.step_key for e in result.get_step_failure_events()]
    written = sum(n for _, status, n in rows if status == "written")
    parts = [f"{n} {action} {status}" for action, status, n in rows]
    click.echo(f"round {number} ({seconds:.1f}s): {', '.join(parts) if parts else 'nothing to write'}"
               + (f"; FAILED steps: {', '.join(failed_steps)}" if failed_steps else ""))
    return written


def reconciliation_summary(engine: Engine, run_ids: list[str]) -> None:
    """Matched, written and exceptions by reason, from the final reconciliation and the demo's writes."""
    from ..warehouse.tables.reconciliation import exceptions, payment_matches, payout_matches
    from ..warehouse.tables.writeback import writeback_log

    m, p, e, log = payment_matches.c, payout_matches.c, exceptions.c, writeback_log.c
    with engine.connect() as conn:
        matches = conn.execute(select(m.action, m.state, func.count()).group_by(m.action, m.state)).all()
        payouts = conn.execute(select(p.status, p.state, func.count()).group_by(p.status, p.state)).all()
        by_code = conn.execute(
            select(e.code, e.severity, func.count(), func.min(e.resolution))
            .group_by(e.code, e.severity).order_by(e.severity, func.count().desc())
        ).all()
        writes = conn.execute(
            select(log.record_type, log.status, func.count()).where(log.run_id.in_(run_ids))
            .group_by(log.record_type, log.status).order_by(log.record_type)
        ).all()
        refusals = conn.execute(
            select(log.external_id, log.response).where(log.run_id.in_(run_ids), log.status != "written")
            .order_by(log.id).limit(5)
        ).all()
    click.echo("")
    click.echo("Reconciliation of Stripe into NetSuite:")
    done = Counter({action: n for action, state, n in matches if state == "done"})
    planned = Counter({action: n for action, state, n in matches if state != "done"})
    for action in sorted(set(done) | set(planned)):
        click.echo(f"  {action:<22} matched and in NetSuite: {done[action]:>5,}   still planned: {planned[action]:>5,}")
    deposits = Counter()
    for status, state, n in payouts:
        deposits["in NetSuite" if state == "done" else status] += n
    click.echo("  payouts -> deposits     " + ", ".join(f"{k}: {v:,}" for k, v in sorted(deposits.items())))
    netsuite_writes = [(t, st, n) for t, st, n in writes if not t.startswith("stripe")]
    links = sum(n for t, st, n in writes if t.startswith("stripe") and st == "written")
    click.echo("Written to NetSuite by this demo: " + (", ".join(
        f"{n:,} {record_type} {status}" for record_type, status, n in netsuite_writes) or "nothing")
        + f"; {links:,} NetSuite ids written back onto Stripe objects' metadata")
    for external_id, response in refusals:
        click.echo(f"  not written {external_id}: {(response or '').strip()[:160]}")
    click.echo("Exceptions by reason (reconciliation_exceptions; each row says what a person should do):")
    if not by_code:
        click.echo("  none")
    for code, severity, n, resolution in by_code:
        click.echo(f"  {severity:<8}{code:<36}{n:>5,}  {resolution[:90]}{'...' if len(resolution) > 90 else ''}")
