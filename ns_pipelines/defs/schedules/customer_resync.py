"""Manual customer resync in Dagster: `netsuite_customer_resync_job`, launched from the launchpad
with `customer_ids: [1042, 1043]`, re-reads those customers, all their transactions and their
applications through the raw tables' step (ns_pipelines.sync.customer_resync), then rebuilds the
receivables. `ns-pipelines resync-customer 1042 1043` does the same from a shell.
"""

from collections.abc import Iterator, Sequence

import dagster as dg

from ns_pipelines.defs.metadata import RECEIVABLES_GROUP, ints
from ns_pipelines.defs.netsuite.assets import OP_NAME, RAW_ASSETS, _progress, materialization
from ns_pipelines.defs.netsuite.jobs import DRIFT_CHECKS
from ns_pipelines.defs.resources import NetSuiteResource, WarehouseResource

RESYNC_TAGS = {"ns/trigger": "customer-resync"}


class CustomerResyncConfig(dg.Config):
    """`customer_ids`: NetSuite internal ids of the customers to re-read with everything of theirs."""

    customer_ids: list[int]


def _to_step_config(config: dict) -> dict:
    return {"ops": {OP_NAME: {"config": {"customer_ids": [int(i) for i in config["customer_ids"]]}}}}


def customer_resync_materializations(
    context: dg.AssetExecutionContext, customer_ids: Sequence[int], record_types: Sequence[str],
    netsuite: NetSuiteResource, warehouse: WarehouseResource,
) -> Iterator[dg.MaterializeResult]:
    """What netsuite_raw_tables yields when given customer_ids: every selected table the resync
    wrote, in dependency order, once the whole resync is done."""
    from ns_pipelines.sync.customer_resync import CustomerNotFoundError, resync_customers
    from ns_pipelines.sync.settings import SyncSettings

    try:
        result = resync_customers(netsuite.client, warehouse.engine, customer_ids, settings=SyncSettings.from_env(),
                                  record_types=record_types, progress=_progress(context), report=context.log.info,
                                  run_id=context.run.run_id)
    except CustomerNotFoundError as exc:
        raise dg.Failure(description=str(exc), metadata={"ns/unknown_customer_ids": dg.MetadataValue.json(exc.ids)}) \
            from exc
    for record_type in (rt for rt in RAW_ASSETS if rt in result.results):
        base = materialization(context, result.results[record_type], warehouse)
        yield dg.MaterializeResult(asset_key=base.asset_key, metadata={
            **(base.metadata or {}),
            "ns/customer_ids": dg.MetadataValue.json(result.customer_ids),
            **ints({"records_resynced": len(result.documents[record_type])}),
        })


RESYNC_SELECTION = (dg.AssetSelection.assets(
    *[spec.key for rt, (spec, _) in RAW_ASSETS.items() if rt != "deletedrecord"]
) | dg.AssetSelection.groups(RECEIVABLES_GROUP)) - DRIFT_CHECKS

netsuite_customer_resync_job = dg.define_asset_job(
    "netsuite_customer_resync_job",
    selection=RESYNC_SELECTION,
    # The launchpad shows this schema (customer_ids: [Int]); the mapping fills in the raw step's config.
    config=dg.ConfigMapping(config_fn=_to_step_config, config_schema=CustomerResyncConfig.to_config_schema()),
    tags=RESYNC_TAGS,
    description="Re-read one or more customers now: the customers, their invoices, payments, credit memos, "
    "refunds, A/R journal entries, the deposits of their payments and every application of those, "
    "overwriting the warehouse rows; then rebuild the receivables. Launchpad config: "
    "`customer_ids: [1042]`. Same as `ns-pipelines resync-customer 1042`.",
)
