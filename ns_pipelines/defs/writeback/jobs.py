"""Writeback jobs: plan and apply, and the credit-memo refund (launchpad config: credit_memo_id)."""
from typing import Optional

import dagster as dg

from ns_pipelines.defs.metadata import NETSUITE_POOL
from ns_pipelines.defs.resources import NetSuiteResource, WarehouseResource
from ns_pipelines.defs.stripe.resources import StripeResource
from ns_pipelines.defs.writeback.assets import GROUP

writeback_apply_job = dg.define_asset_job(
    "writeback_apply_job",
    selection=dg.AssetSelection.groups(GROUP),
    description="Plan the NetSuite writes from the reconciliation, then apply them (only when writing is on: "
    "NS_WRITEBACK_ENABLED=true, or `ops: {writeback__log: {config: {enabled: true}}}`); the checks run after.",
)


class CreditMemoRefundConfig(dg.Config):
    """`credit_memo_id`: NetSuite internal id of the credit memo to pay back through Stripe.
    `invoice_id`: the invoice it is for, when the credit memo is not applied to exactly one invoice."""

    credit_memo_id: int
    invoice_id: Optional[int] = None


@dg.op(pool=NETSUITE_POOL, tags={"ns/layer": "writeback"})
def refund_credit_memo_op(context: dg.OpExecutionContext, config: CreditMemoRefundConfig,
                          netsuite: NetSuiteResource, warehouse: WarehouseResource,
                          stripe: StripeResource) -> None:
    """Create the Stripe refund for the credit memo on the charge that paid its invoice, and the NetSuite
    Customer Refund applied to the credit memo; each side's id goes onto the other."""
    from ns_pipelines.writeback.credit_memo_refund import refund_credit_memo

    result = refund_credit_memo(netsuite.client, warehouse.engine, stripe.api.client, config.credit_memo_id,
                                invoice_id=config.invoice_id, run_id=context.run.run_id)
    context.log.info(f"credit memo {result.credit_memo_id}: Stripe refund {result.stripe_refund_id} of "
                     f"{result.amount} {result.currency} on {result.charge_id}; NetSuite customer refund "
                     f"{result.netsuite_refund_id}{' (existing refund reused)' if result.reused_stripe_refund else ''}")
    context.add_output_metadata({"stripe_refund_id": result.stripe_refund_id,
                                 "netsuite_refund_id": result.netsuite_refund_id,
                                 "amount": str(result.amount), "currency": result.currency})


@dg.job(tags={"ns/layer": "writeback"},
        description="Refund a NetSuite credit memo through Stripe (config: credit_memo_id).")
def credit_memo_refund_job() -> None:
    refund_credit_memo_op()


JOBS = [writeback_apply_job, credit_memo_refund_job]
