"""Customer resolution: which NetSuite customer a charge belongs to."""
from __future__ import annotations

from dataclasses import dataclass

from ns_pipelines.reconciliation.exceptions import ReconException
from ns_pipelines.reconciliation.inputs import Inputs
from ns_pipelines.reconciliation.models import Charge


@dataclass(frozen=True)
class ResolvedCustomer:
    customer_id: int
    source: str  # charge_metadata, stripe_customer_metadata, customer_external_id


def resolve_customer(charge: Charge, inputs: Inputs) -> ResolvedCustomer | ReconException:
    """Charge metadata, else the Stripe customer's metadata, else a NetSuite customer whose external
    id is the cus_ id; the customer must exist in NetSuite and not be intercompany."""
    if charge.netsuite_customer_id is not None:
        found = ResolvedCustomer(charge.netsuite_customer_id, "charge_metadata")
    elif charge.customer and inputs.stripe_customer_links.get(charge.customer) is not None:
        found = ResolvedCustomer(inputs.stripe_customer_links[charge.customer], "stripe_customer_metadata")
    elif charge.customer and charge.customer in inputs.customers_by_external_id:
        found = ResolvedCustomer(inputs.customers_by_external_id[charge.customer], "customer_external_id")
    else:
        who = f"Stripe customer {charge.customer}" if charge.customer else "no Stripe customer"
        return ReconException(
            "customer_unresolved", "charge", charge.id, charge_id=charge.id,
            reason=f"Charge {charge.id} ({who}) names no NetSuite customer: no netsuite_customer_id in the "
            "charge or customer metadata, and no NetSuite customer has the cus_ id as external id.",
        )
    return check_customer(charge, found, inputs)


def check_customer(charge: Charge, found: ResolvedCustomer, inputs: Inputs) -> ResolvedCustomer | ReconException:
    """The customer exists (not deleted) and is not intercompany."""
    customer = inputs.customers.get(found.customer_id)
    if customer is None or customer.is_deleted:
        state = "was deleted in NetSuite" if customer else "does not exist in NetSuite"
        return ReconException(
            "customer_not_found", "charge", charge.id, charge_id=charge.id, netsuite_customer_id=found.customer_id,
            netsuite_record_ids=(found.customer_id,),
            reason=f"Charge {charge.id}: NetSuite customer {found.customer_id} (from {found.source}) {state}.",
        )
    if customer.is_intercompany:
        return ReconException(
            "customer_intercompany", "charge", charge.id, charge_id=charge.id, netsuite_customer_id=customer.id,
            netsuite_record_ids=(customer.id,),
            reason=f"Charge {charge.id}: NetSuite customer {customer.id} is intercompany and is not reconciled.",
        )
    return found
