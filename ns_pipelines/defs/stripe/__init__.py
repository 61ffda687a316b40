"""Raw Stripe tables (group `stripe_raw`): the StripeResource, the assets, their checks, the sync
job, and the sensor over Stripe webhook events."""
import dagster as dg

from ns_pipelines.defs.stripe.assets import ASSETS, STRIPE_ASSETS, StripeSyncConfig, stripe_raw_tables
from ns_pipelines.defs.stripe.checks import CHECKS
from ns_pipelines.defs.stripe.jobs import JOBS, stripe_sync_job
from ns_pipelines.defs.stripe.resources import StripeResource
from ns_pipelines.defs.stripe.sensors import stripe_events_job, stripe_events_sensor

defs = dg.Definitions(
    assets=ASSETS,
    asset_checks=CHECKS,
    jobs=[*JOBS, stripe_events_job],
    sensors=[stripe_events_sensor],
    resources={"stripe": StripeResource.from_env_vars()},
)

__all__ = ["ASSETS", "STRIPE_ASSETS", "StripeResource", "StripeSyncConfig", "defs", "stripe_events_job",
           "stripe_events_sensor", "stripe_raw_tables", "stripe_sync_job"]
