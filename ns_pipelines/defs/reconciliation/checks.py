"""Checks on the reconciliation tables (ns_pipelines.reconciliation.checks).

- `every_charge_accounted_for` on reconciliation/payment_matches: no succeeded charge is dropped.
- `deposits_balance` on reconciliation/payout_matches: a ready deposit adds up to its payout.
"""
import dagster as dg

from ns_pipelines.defs.checks import check_result
from ns_pipelines.defs.reconciliation.assets import payment_matches, payout_matches
from ns_pipelines.defs.resources import WarehouseResource


@dg.asset_check(asset=payment_matches.key, name="every_charge_accounted_for",
                description="Every succeeded Stripe charge from NS_RECON_START_DATE on is in the payment matches "
                "or has an exception: none is silently dropped.")
def every_charge_accounted_for(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    from ns_pipelines.reconciliation.checks import every_charge_accounted_for as check
    from ns_pipelines.reconciliation.settings import ReconSettings

    return check_result(check(warehouse.engine, ReconSettings.from_env()))


@dg.asset_check(asset=payout_matches.key, name="deposits_balance",
                description="Every payout ready to deposit has lines (payments, refunds, fees, adjustments) "
                "adding up exactly to the payout amount.")
def deposits_balance(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    from ns_pipelines.reconciliation.checks import deposits_balance as check

    return check_result(check(warehouse.engine))


CHECKS = [every_charge_accounted_for, deposits_balance]
