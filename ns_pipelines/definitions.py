"""The code location (workspace.yaml loads `ns_pipelines.definitions`).

Every connection setting comes from the environment: NETSUITE_* for the account (bound as
dg.EnvVar, read when a run launches), NS_WAREHOUSE_URL for the warehouse (default: SQLite file
.data/warehouse.sqlite3 under the working directory), NS_* sync settings read by the steps.

Runs use the in-process executor: one NetSuite client, so one concurrency limiter holding
NETSUITE_CONCURRENCY, per run; each sync parallelises its reads inside the step, and the
`netsuite_api` pool limits NetSuite steps across runs. Every client also draws on the budget
shared by all processes (ns_pipelines/netsuite/budget.py, docs/concurrency-budget.md).
"""
import dagster as dg

from ns_pipelines.defs import ar, cycle, health, monitoring, netsuite, reconciliation, resources, schedules, webhooks
from ns_pipelines.defs import stripe as stripe_defs
from ns_pipelines.defs import writeback

defs = dg.Definitions.merge(
    resources.defs,
    netsuite.defs,
    ar.defs,
    stripe_defs.defs,
    reconciliation.defs,
    writeback.defs,
    cycle.defs,
    webhooks.defs,
    schedules.defs,
    health.defs,
    monitoring.defs,
    dg.Definitions(executor=dg.in_process_executor),
)
