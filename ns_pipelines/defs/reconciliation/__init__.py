"""Reconciliation tables (group `reconciliation`): payment matches, payout matches, exceptions, and
their checks."""
import dagster as dg

from ns_pipelines.defs.reconciliation.assets import (
    ASSETS,
    exceptions,
    payment_matches,
    payout_matches,
    reconciliation_tables,
)
from ns_pipelines.defs.reconciliation.checks import CHECKS

defs = dg.Definitions(assets=ASSETS, asset_checks=CHECKS)

__all__ = ["ASSETS", "CHECKS", "defs", "exceptions", "payment_matches", "payout_matches", "reconciliation_tables"]
