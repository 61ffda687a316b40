"""Checks on the reconciliation tables, as CheckOutcome(passed, description, metadata).

- every_charge_accounted_for: each succeeded Stripe charge from the integration start date on is in
  reconciliation_payment_matches or has an exception; none silently dropped.
- deposits_balance: each payout ready to deposit has lines that add up to its amount, in minor units
  of its currency, so a deposit NetSuite takes equals what Stripe paid out.
"""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from sqlalchemy import Engine, select

from ns_pipelines.ar.checks import CheckOutcome
from ns_pipelines.money import round_money
from ns_pipelines.reconciliation.settings import ReconSettings
from ns_pipelines.warehouse.tables import reconciliation as recon
from ns_pipelines.warehouse.tables import stripe

SAMPLE = 20


def every_charge_accounted_for(engine: Engine, settings: ReconSettings) -> CheckOutcome:
    start = settings.start_date
    since = None if start is None else dt.datetime(start.year, start.month, start.day, tzinfo=dt.timezone.utc)
    c = stripe.charges.c
    with engine.connect() as conn:
        query = select(c.id).where(c.status == "succeeded")
        if since is not None:
            query = query.where(c.created >= since)
        charges = set(conn.execute(query).scalars())
        matched = set(conn.execute(select(recon.payment_matches.c.charge_id)).scalars())
        excepted = set(conn.execute(select(recon.exceptions.c.charge_id).where(
            recon.exceptions.c.charge_id.is_not(None))).scalars())
    missing = sorted(charges - matched - excepted)
    if missing:
        return CheckOutcome(False, f"{len(missing)} succeeded charge(s) are neither matched nor an exception: "
                            f"{', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}.",
                            {"missing": len(missing), "charges": len(charges), "sample": missing[:SAMPLE]})
    return CheckOutcome(True, f"All {len(charges)} succeeded charges from the start date on are matched or "
                        "have an exception.", {"missing": 0, "charges": len(charges)})


def deposits_balance(engine: Engine) -> CheckOutcome:
    p = recon.payout_matches.c
    with engine.connect() as conn:
        rows = conn.execute(select(p.payout_id, p.amount, p.currency, p.lines).where(p.status == "ready")).all()
    off = []
    for payout_id, amount, currency, lines in rows:
        total = sum((Decimal(line["amount"]) for line in json.loads(lines)), Decimal(0))
        if total != Decimal(amount):
            off.append({"payout_id": payout_id, "amount": str(round_money(Decimal(amount), currency)),
                        "lines_total": str(round_money(total, currency)),
                        "currency": currency})
    if off:
        return CheckOutcome(False, f"{len(off)} payout(s) ready to deposit have lines that do not add up to "
                            f"the payout: {', '.join(o['payout_id'] for o in off[:5])}.",
                            {"unbalanced": len(off), "payouts": len(rows), "sample": off[:SAMPLE]})
    return CheckOutcome(True, f"All {len(rows)} payouts ready to deposit have lines adding up to the payout.",
                        {"unbalanced": 0, "payouts": len(rows)})
