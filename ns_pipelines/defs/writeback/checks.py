"""Checks on the writeback: no duplicate of our records in NetSuite, and every refused write reported."""
import dagster as dg

from ns_pipelines.defs.checks import check_result
from ns_pipelines.defs.metadata import NETSUITE_POOL
from ns_pipelines.defs.resources import NetSuiteResource, WarehouseResource
from ns_pipelines.defs.writeback.assets import log, plan


@dg.asset_check(
    asset=log, name="no_duplicate_external_ids_in_netsuite", pool=NETSUITE_POOL,
    description="No external id of ours (stripe:...) is held by more than one NetSuite transaction "
    "(SuiteQL: GROUP BY externalid HAVING COUNT(*) > 1); the duplicated ids are listed.",
)
def no_duplicate_external_ids_in_netsuite(netsuite: NetSuiteResource) -> dg.AssetCheckResult:
    from ns_pipelines.writeback.checks import no_duplicate_external_ids

    return check_result(no_duplicate_external_ids(netsuite.client))


@dg.asset_check(
    asset=plan, name="refused_writes_reported",
    description="Every write NetSuite refused (locked record, closed period, invoice already paid ...) or that "
    "could not be planned, listed with NetSuite's error text. Warns while any is left.",
)
def refused_writes_reported(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    from ns_pipelines.writeback.checks import refused_writes

    return check_result(refused_writes(warehouse.engine), severity=dg.AssetCheckSeverity.WARN)


CHECKS = [no_duplicate_external_ids_in_netsuite, refused_writes_reported]
