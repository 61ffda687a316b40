"""One reconciliation run: load the warehouse, apply the rules in order, replace the three tables."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import Engine, delete, insert

from ns_pipelines.reconciliation.context import Context
from ns_pipelines.reconciliation.exceptions import ReconException
from ns_pipelines.reconciliation.inputs import Inputs, load_inputs
from ns_pipelines.reconciliation.matches import exception_row
from ns_pipelines.reconciliation.payments import reconcile_charge
from ns_pipelines.reconciliation.payouts import reconcile_payout
from ns_pipelines.reconciliation.reversals import PaymentBalance, reconcile_dispute, reconcile_late_failure, reconcile_refund
from ns_pipelines.reconciliation.settings import ReconSettings
from ns_pipelines.warehouse import begin_write
from ns_pipelines.warehouse.tables.reconciliation import exceptions, payment_matches, payout_matches

INSERT_BATCH_ROWS = 5000


@dataclass
class ReconResult:
    payment_matches: list[dict] = field(default_factory=list)
    payout_matches: list[dict] = field(default_factory=list)
    exceptions: list[dict] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)


def credit_memos_on_paid_invoices(context: Context) -> None:
    """Credit memos NetSuite applied to invoices a Stripe payment paid: left alone, listed as info."""
    for charge_id, payments in sorted(context.payments.items()):
        for payment in payments:
            for invoice_id, _ in payment.applications:
                for memo_id in context.inputs.credit_memo_links.get(invoice_id, []):
                    context.add_exception(ReconException(
                        "credit_memo_on_stripe_paid_invoice", "charge", charge_id, charge_id=charge_id,
                        key_suffix=f"{memo_id}:{invoice_id}", netsuite_customer_id=payment.netsuite_customer_id,
                        netsuite_record_ids=(memo_id, invoice_id),
                        reason=f"Credit memo {memo_id} was applied to invoice {invoice_id}, which charge "
                        f"{charge_id} pays ({payment.external_id}); the pipeline leaves it as it is."))


def reconcile_inputs(inputs: Inputs, settings: ReconSettings) -> ReconResult:
    """The three tables' rows from loaded inputs (no database): charges oldest first, then
    chargebacks and failures, refunds, credit memo notes and payouts."""
    context = Context.build(inputs, settings)
    for charge in inputs.charges:
        reconcile_charge(charge, context)
    for charge in inputs.charges:
        reconcile_late_failure(charge, context)
    for dispute in inputs.disputes:
        reconcile_dispute(dispute, context)
    balances: dict[str, PaymentBalance] = {}
    for refund in inputs.refunds:
        reconcile_refund(refund, context, balances)
    credit_memos_on_paid_invoices(context)
    for payout in inputs.payouts:
        reconcile_payout(payout, context)
    context.counts["charges"] = len(inputs.charges)
    context.counts["charges_before_start"] = len(context.pre_start)
    return ReconResult(
        payment_matches=sorted((m.row() for m in context.payment_matches), key=lambda r: (r["external_id"], r["action"])),
        payout_matches=sorted((m.row() for m in context.payout_matches), key=lambda r: r["payout_id"]),
        exceptions=sorted((exception_row(e) for e in context.exceptions.values()), key=lambda r: r["exception_id"]),
        counts=context.counts,
    )


def load(engine: Engine, settings: ReconSettings) -> Inputs:
    with engine.connect() as conn:
        return load_inputs(conn, settings)


def write_results(engine: Engine, result: ReconResult) -> None:
    """Replace the three tables' rows in one transaction."""
    with begin_write(engine) as conn:
        for table, rows in ((payment_matches, result.payment_matches), (payout_matches, result.payout_matches),
                            (exceptions, result.exceptions)):
            conn.execute(delete(table))
            for start in range(0, len(rows), INSERT_BATCH_ROWS):
                conn.execute(insert(table), rows[start:start + INSERT_BATCH_ROWS])


def reconcile(engine: Engine, settings: ReconSettings | None = None) -> ReconResult:
    """Recompute the reconciliation tables from the warehouse and replace them in one transaction."""
    settings = settings or ReconSettings.from_env()
    result = reconcile_inputs(load(engine, settings), settings)
    write_results(engine, result)
    return result
