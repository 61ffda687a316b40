"""Reconciliation tables (group `reconciliation`; docs/reconciliation.md), all produced by ONE step,
`reconciliation_tables`, a thin call into ns_pipelines.reconciliation.reconcile.

The three tables are recomputed together from the raw Stripe and NetSuite tables (one pass over
the inputs gives all three) and replaced in one transaction. Settings come from the environment
(NS_RECON_*, NETSUITE_TIMEZONE, NS_INTERCOMPANY_*), read when the step runs. The step calls
neither Stripe nor NetSuite.
"""

from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import dagster as dg
from sqlalchemy import Table

from ns_pipelines.defs.metadata import OWNERS, ints, markdown_table, table_metadata
from ns_pipelines.defs.netsuite.assets import (
    credit_memos,
    customer_payments,
    customer_refunds,
    customers,
    deposits,
    invoices,
    payment_applications,
)
from ns_pipelines.defs.resources import WarehouseResource
from ns_pipelines.defs.stripe.assets import STRIPE_ASSETS
from ns_pipelines.warehouse.tables import reconciliation as tables

GROUP = "reconciliation"
KINDS = {"python", "sql"}
OP_NAME = "reconciliation_tables"
PREVIEW_ROWS = 20

_STRIPE = [spec for spec, _ in STRIPE_ASSETS.values()]
_NETSUITE = [customers, invoices, customer_payments, customer_refunds, deposits, payment_applications, credit_memos]


def _spec(name: str, table: Table, description: str) -> dg.AssetSpec:
    return dg.AssetSpec(
        key=["reconciliation", name], description=" ".join(description.split()), group_name=GROUP,
        kinds=KINDS, owners=OWNERS, deps=[*_STRIPE, *_NETSUITE], metadata=table_metadata(table),
        tags={"ns/layer": "derived"}, skippable=False,
    )


payment_matches = _spec("payment_matches", tables.payment_matches, """
    What the writeback must create or change in NetSuite for each Stripe charge: the customer payment
    (gross amount, presentment currency, applied to the invoices named in the charge's metadata or
    by invoice number, else to the customer's oldest open invoices; one payment per customer when a
    charge pays several customers' invoices; overpayments left unapplied), unapplies on chargebacks
    and late failures, re-applies on won disputes, and customer refunds for refunds made in Stripe.
    state `done` when NetSuite already has the record by its external id.""")
payout_matches = _spec("payout_matches", tables.payout_matches, """
    One NetSuite deposit per paid automatic Stripe payout: the net amount, a line per payment and
    refund, fees as a negative line to the fee account, memo `Stripe payout <id>`. status `ready` only
    when every item validated (payment in NetSuite, undeposited, amount matching; sums equal).""")
exceptions = _spec("exceptions", tables.exceptions, """
    What reconciliation could not match or validate, one row each with a code, a reason naming the
    Stripe object and NetSuite records, and what a person should do: unresolved customers, unknown or
    unpayable invoices, currency mismatches, overpayments, payouts that cannot be deposited, and
    credit memos on invoices Stripe paid (info).""")


def _money(value: Decimal | None) -> float:
    return float(value or 0)


def _payment_metadata(rows: list[dict[str, Any]]) -> dict[str, Any]:
    by = Counter(f"{r['action']}_{r['state']}" for r in rows)
    planned = [r for r in rows if r["action"] == "create_payment" and r["state"] == "planned"]
    return {
        **ints(dict(sorted(by.items()))),
        **ints({"overpayments": sum(1 for r in rows if r["is_overpayment"]),
                "split_payments": sum(1 for r in rows if r["is_split"])}),
        "ns/planned_payment_amount_by_currency": dg.MetadataValue.json(
            {cur: str(sum((r["amount"] for r in planned if r["currency"] == cur), Decimal(0)))
             for cur in sorted({r["currency"] for r in planned})}),
    }


def _payout_metadata(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        **ints({f"{status}": n for status, n in sorted(Counter(r["status"] for r in rows).items())}),
        **ints({"done": sum(1 for r in rows if r["state"] == "done")}),
        "ns/preview": markdown_table(
            ["payout", "status", "state", "currency", "amount", "fees", "items"],
            [[r["payout_id"], r["status"], r["state"], r["currency"], r["amount"], r["fee_total"], r["item_count"]]
             for r in rows[:PREVIEW_ROWS]]),
    }


def _exception_metadata(rows: list[dict[str, Any]]) -> dict[str, Any]:
    by_code = Counter(r["code"] for r in rows)
    return {
        **ints({severity: n for severity, n in sorted(Counter(r["severity"] for r in rows).items())}),
        "ns/by_code": markdown_table(["code", "rows"], [[code, n] for code, n in sorted(by_code.items())]),
        "ns/preview": markdown_table(
            ["code", "object", "reason"],
            [[r["code"], r["stripe_object_id"], r["reason"]] for r in rows if r["severity"] == "error"][:PREVIEW_ROWS]),
    }


@dg.multi_asset(specs=[payment_matches, payout_matches, exceptions], name=OP_NAME, can_subset=False)
def reconciliation_tables(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> Iterator[dg.MaterializeResult]:
    """Recompute the three reconciliation tables from the synced Stripe and NetSuite tables."""
    from ns_pipelines.reconciliation import ReconSettings, reconcile

    settings = ReconSettings.from_env()
    result = reconcile(warehouse.engine, settings)
    context.log.info(
        f"{result.counts['charges']:,} charges: {len(result.payment_matches):,} payment rows, "
        f"{len(result.payout_matches):,} payouts, {len(result.exceptions):,} exceptions")
    for spec, rows, extra in (
        (payment_matches, result.payment_matches, _payment_metadata),
        (payout_matches, result.payout_matches, _payout_metadata),
        (exceptions, result.exceptions, _exception_metadata),
    ):
        yield dg.MaterializeResult(asset_key=spec.key, metadata={
            "dagster/row_count": dg.MetadataValue.int(len(rows)), **extra(rows),
            **ints({"charges_read": result.counts["charges"],
                    "charges_before_start": result.counts["charges_before_start"]}),
        })


ASSETS = [reconciliation_tables]
