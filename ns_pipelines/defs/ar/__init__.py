"""Derived receivables tables (group `receivables`) and their checks."""
import dagster as dg

from ns_pipelines.defs.ar.assets import AR_ASSETS, ReceivablesConfig
from ns_pipelines.defs.ar.checks import CHECKS

defs = dg.Definitions(assets=AR_ASSETS, asset_checks=CHECKS)

__all__ = ["AR_ASSETS", "ReceivablesConfig", "defs"]
