"""Checks on the receivables tables (ns_pipelines.ar.checks does the work)."""

from decimal import Decimal

import dagster as dg

from ns_pipelines.defs.ar.assets import AR_ASSETS, customer_balances
from ns_pipelines.defs.checks import check_result
from ns_pipelines.defs.resources import WarehouseResource


class BalancesConfig(dg.Config):
    """`tolerance`: the absolute difference (base currency) still counted as a match."""

    tolerance: str = "0.00"


@dg.asset_check(
    asset=customer_balances,
    name="balances_match_netsuite",
    description="Every derived customer balance equals the balance NetSuite reports for the customer "
    "(intercompany amounts added back); the customers that differ are listed, largest first, with "
    "the amounts.",
)
def balances_match_netsuite(config: BalancesConfig, warehouse: WarehouseResource) -> dg.AssetCheckResult:
    from ns_pipelines.ar.checks import balances_match

    return check_result(balances_match(warehouse.engine, Decimal(config.tolerance)))


def _has_rows_check(asset: dg.AssetsDefinition) -> dg.AssetChecksDefinition:
    table = asset.metadata_by_key[asset.key]["dagster/table_name"]

    @dg.asset_check(
        asset=asset, name="has_rows",
        description=f"{table} is not empty after the rebuild (an empty table usually means the raw "
        "tables are empty or the selection went wrong). Warns only.",
    )
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        from ns_pipelines.ar.checks import row_count

        return check_result(row_count(warehouse.engine, table), severity=dg.AssetCheckSeverity.WARN)

    return _check


CHECKS = [balances_match_netsuite, *[_has_rows_check(asset) for asset in AR_ASSETS]]
