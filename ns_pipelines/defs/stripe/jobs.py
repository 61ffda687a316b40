"""stripe_sync_job: every Stripe table (backfill first, then events), and its checks."""

import dagster as dg

from ns_pipelines.defs.stripe.assets import GROUP

STRIPE_SELECTION = dg.AssetSelection.groups(GROUP)

stripe_sync_job = dg.define_asset_job(
    "stripe_sync_job",
    selection=STRIPE_SELECTION,
    description="Sync every Stripe object type into the warehouse: a list backfill the first time, then "
    "incremental passes through Stripe events; paid payouts' balance transactions linked; the checks "
    "run after. `ops: {stripe_raw_tables: {config: {mode: full}}}` re-lists everything selected.",
)

JOBS = [stripe_sync_job]
