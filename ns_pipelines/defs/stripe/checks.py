"""Checks on the raw Stripe tables.

- `unique_keys` on every table, blocking (ns_pipelines.ar.checks.unique_keys).
- `balance_transactions_present` on stripe/charges: each charge's balance transaction is synced.
- `freshness` on every table, WARN: its sync state (ns_sync_state "stripe:<object>") is recent.
"""

import datetime as dt

import dagster as dg
from sqlalchemy import Table

from ns_pipelines.defs.checks import check_result
from ns_pipelines.defs.resources import WarehouseResource
from ns_pipelines.defs.stripe.assets import STRIPE_ASSETS, charges
from ns_pipelines.stripe.state import state_key

DEFAULT_MAX_AGE_HOURS = 26.0


class StripeFreshnessConfig(dg.Config):
    """`max_age_hours`: how long ago a Stripe table's last sync may be before the check warns."""

    max_age_hours: float = DEFAULT_MAX_AGE_HOURS


def _unique_keys_check(asset: dg.AssetSpec, table: Table) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=asset.key, name="unique_keys", blocking=True,
                    description=f"{table.name}: Stripe ids are unique. Blocking.")
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        from ns_pipelines.ar.checks import unique_keys

        return check_result(unique_keys(warehouse.engine, table))

    return _check


def _freshness_check(asset: dg.AssetSpec, object_type: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=asset.key, name="freshness",
                    description=f"The Stripe {object_type} sync state ({state_key(object_type)} in ns_sync_state) "
                    f"was written within max_age_hours (default {DEFAULT_MAX_AGE_HOURS:g}). Warns only.")
    def _check(config: StripeFreshnessConfig, warehouse: WarehouseResource) -> dg.AssetCheckResult:
        from ns_pipelines.ar.checks import freshness

        outcome = freshness(warehouse.engine, state_key(object_type), dt.timedelta(hours=config.max_age_hours))
        return check_result(outcome, severity=dg.AssetCheckSeverity.WARN)

    return _check


@dg.asset_check(asset=charges.key, name="balance_transactions_present",
                description="Every charge with a balance transaction finds it in stripe_balance_transactions "
                "(with the charge as its source). Fails until stripe/balance_transactions is synced.")
def balance_transactions_present(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    from ns_pipelines.stripe.checks import charge_balance_transactions

    return check_result(charge_balance_transactions(warehouse.engine))


CHECKS = [
    *[_unique_keys_check(spec, table) for spec, table in STRIPE_ASSETS.values()],
    *[_freshness_check(spec, object_type) for object_type, (spec, _) in STRIPE_ASSETS.items()],
    balance_transactions_present,
]
