"""The whole cycle as one job: what `make demo` runs, launchable from the UI.

NetSuite and Stripe are synced, the receivables rebuilt, Stripe reconciled against NetSuite, the
writes planned and, when writing is on (NS_WRITEBACK_ENABLED=true or the run's `enabled`), made.
Writes made in one run are seen as done by the next run's sync, which then plans the deposits of
payouts whose payments are in NetSuite: a scheduled cadence converges on its own.
"""
import dagster as dg

from ns_pipelines.defs.metadata import RAW_GROUP, RECEIVABLES_GROUP
from ns_pipelines.defs.reconciliation.assets import GROUP as RECONCILIATION_GROUP
from ns_pipelines.defs.stripe.assets import GROUP as STRIPE_GROUP
from ns_pipelines.defs.writeback.assets import GROUP as WRITEBACK_GROUP

CYCLE_GROUPS = (RAW_GROUP, RECEIVABLES_GROUP, STRIPE_GROUP, RECONCILIATION_GROUP, WRITEBACK_GROUP)

sync_reconcile_writeback_job = dg.define_asset_job(
    "sync_reconcile_writeback_job",
    selection=dg.AssetSelection.groups(*CYCLE_GROUPS),
    description="Sync NetSuite and Stripe, rebuild the receivables, reconcile Stripe against NetSuite, plan the "
    "NetSuite writes and make them when writing is on (NS_WRITEBACK_ENABLED=true, or "
    "`ops: {writeback__log: {config: {enabled: true}}}`); every asset check runs after its asset.",
)

defs = dg.Definitions(jobs=[sync_reconcile_writeback_job])
