"""Stripe → NetSuite reconciliation (docs/reconciliation.md), plain Python over the warehouse.

    result = reconcile(engine)            # settings from the environment (NS_RECON_*)
    result = reconcile(engine, ReconSettings(fee_account_id=601))

Reads the stripe_* and netsuite_* tables in bulk, applies the rules (customers.py, invoices.py,
payments.py, reversals.py, payouts.py) and replaces reconciliation_payment_matches,
reconciliation_payout_matches and reconciliation_exceptions in one transaction.
"""
from ns_pipelines.reconciliation.exceptions import RESOLUTIONS, ReconException
from ns_pipelines.reconciliation.inputs import InvalidInputError, Inputs, load_inputs
from ns_pipelines.reconciliation.run import ReconResult, reconcile, reconcile_inputs
from ns_pipelines.reconciliation.settings import ReconSettings, ReconSettingsError

__all__ = [
    "RESOLUTIONS",
    "Inputs",
    "InvalidInputError",
    "ReconException",
    "ReconResult",
    "ReconSettings",
    "ReconSettingsError",
    "load_inputs",
    "reconcile",
    "reconcile_inputs",
]
