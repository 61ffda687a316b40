"""Checks on the raw NetSuite tables (ns_pipelines.ar.checks does the work).

- `unique_keys` on every raw table, blocking: duplicate keys stop the receivables rebuild.
- `customer_references` on every transaction table and `document_references` on payment
  applications (one step computes both, see `references`).
- `freshness` on every raw table, WARN: the table's sync state was written recently.
"""

import datetime as dt
from collections.abc import Iterator

import dagster as dg
from sqlalchemy import Table

import ns_pipelines.warehouse as wh
from ns_pipelines.defs.checks import check_result
from ns_pipelines.defs.netsuite.assets import RAW_ASSETS, payment_applications
from ns_pipelines.defs.resources import WarehouseResource

DEFAULT_MAX_AGE_HOURS = 26.0  # a daily sync, with two hours of slack


class FreshnessConfig(dg.Config):
    """`max_age_hours`: how long ago a table's last sync may be before the check warns."""

    max_age_hours: float = DEFAULT_MAX_AGE_HOURS


def _unique_keys_check(asset: dg.AssetSpec, table: Table) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=asset.key,
        name="unique_keys",
        blocking=True,
        description=f"{table.name}: the primary key, and external ids and document numbers of live "
        "records, are unique. Blocking: a duplicate stops downstream assets in the run.",
    )
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        from ns_pipelines.ar.checks import unique_keys

        return check_result(unique_keys(warehouse.engine, table))

    return _check


def _freshness_check(asset: dg.AssetSpec, record_type: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=asset.key,
        name="freshness",
        description=f"The {record_type} sync state (ns_sync_state) was written within max_age_hours "
        f"(default {DEFAULT_MAX_AGE_HOURS:g}). Warns only.",
    )
    def _check(config: FreshnessConfig, warehouse: WarehouseResource) -> dg.AssetCheckResult:
        from ns_pipelines.ar.checks import freshness

        outcome = freshness(warehouse.engine, record_type, dt.timedelta(hours=config.max_age_hours))
        return check_result(outcome, severity=dg.AssetCheckSeverity.WARN)

    return _check


# Transaction tables whose customer must exist (ar.checks.references, "missing_customers").
CUSTOMER_REFERENCING = ["invoice", "customerpayment", "creditmemo", "customerrefund", "deposit", "journalentry"]
REFERENCE_SPECS = [
    *[
        dg.AssetCheckSpec(
            "customer_references", asset=RAW_ASSETS[rt][0].key,
            description=f"Every live row's customer_id exists in netsuite_customers ({RAW_ASSETS[rt][1].name}).",
        )
        for rt in CUSTOMER_REFERENCING
    ],
    dg.AssetCheckSpec(
        "document_references", asset=payment_applications.key,
        description="Both documents of every live application exist in their tables and are not deleted "
        "(invoices, journal entries, credit memos, payments, refunds, deposits).",
    ),
]


@dg.multi_asset_check(specs=REFERENCE_SPECS, can_subset=True, name="netsuite_references")
def references(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> Iterator[dg.AssetCheckResult]:
    """Referential integrity of the raw tables, computed once and reported per table."""
    from ns_pipelines.ar.checks import CheckOutcome
    from ns_pipelines.ar.checks import references as check_references

    outcome = check_references(warehouse.engine)
    findings = outcome.metadata
    selected = context.selected_asset_check_keys
    for spec in REFERENCE_SPECS:
        if spec.key not in selected:
            continue
        if spec.name == "customer_references":
            table = next(t for a, t in RAW_ASSETS.values() if a.key == spec.asset_key).name
            missing = findings.get("missing_customers", {}).get(table)
            part = CheckOutcome(
                missing is None,
                f"{table}: {missing['count']} customer id(s) not in netsuite_customers" if missing
                else f"{table}: every customer referenced exists",
                {"missing_customer_count": missing["count"] if missing else 0,
                 "missing_customer_ids": missing["ids"] if missing else []},
            )
        else:
            groups = {g: v for g, v in findings.items() if g.endswith("_docs") or g == "unknown_types"}
            count = sum(v["count"] for g, v in groups.items() if g == "unknown_types") + sum(
                f["count"] for g, v in groups.items() if g != "unknown_types" for f in v.values())
            part = CheckOutcome(
                count == 0,
                "Every application's documents exist and are live" if count == 0
                else f"{wh.payment_applications.name}: {count} dangling document reference(s)",
                {"dangling_count": count, **groups},
            )
        yield check_result(part, asset_key=spec.asset_key, check_name=spec.name)


CHECKS = [
    *[_unique_keys_check(asset, table) for asset, table in RAW_ASSETS.values()],
    *[_freshness_check(asset, record_type) for record_type, (asset, _) in RAW_ASSETS.items()],
    references,
]
