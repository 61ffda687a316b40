"""`make demo`: the whole mission through Dagster against the embedded sandboxes.

NetSuite and Stripe are synced into the default SQLite warehouse, reconciled, the payments,
refunds and deposits written back into the NetSuite sandbox, synced again, and summarised.
"""
from .run import configure_sandbox_writeback, run_demo

__all__ = ["configure_sandbox_writeback", "run_demo"]
