"""`make demo`: the whole mission through Dagster against the embedded sandboxes.

NetSuite and Stripe are synced into the default SQLite warehouse, reconciled, the payments,
refunds and deposits written back into the NetSuite sandbox, synced again, and summarised.
"""
from .run import run_demo

__all__ = ["run_demo"]
