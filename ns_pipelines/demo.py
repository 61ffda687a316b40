"""`make demo`: the main job on the embedded defaults (sandbox + SQLite).

For now it proves the foundation end to end: start the sandbox with seeded data, sign SuiteQL
queries with the project's client over loopback, and print what the account holds.
"""
from __future__ import annotations

from pathlib import Path

import click

from .netsuite import NetSuiteClient, NetSuiteConfig
from .sandbox.netsuite.server import SandboxServer

COUNTS_BY_TYPE = """
SELECT t.recordtype AS record_type, BUILTIN.DF(t.type) AS type_name, COUNT(*) AS records,
       SUM(CASE WHEN t.voided = 'T' THEN 1 ELSE 0 END) AS voided
FROM transaction t
GROUP BY t.recordtype, BUILTIN.DF(t.type)
ORDER BY t.recordtype
"""
OTHER_COUNTS = {
    "customers": "SELECT COUNT(*) AS n FROM customer",
    "subsidiaries": "SELECT COUNT(*) AS n FROM subsidiary",
    "currencies": "SELECT COUNT(*) AS n FROM currency",
    "applications": "SELECT COUNT(*) AS n FROM nexttransactionlinelink WHERE linktype = 'Payment'",
    "deletions": "SELECT COUNT(*) AS n FROM deletedrecord",
}


def run_demo(data_dir: Path, scale: str | int = "small", seed: int = 42) -> None:
    click.echo(f"Starting the NetSuite sandbox ({scale} account, seed {seed}, data in {data_dir}) ...")
    with SandboxServer(data_dir, scale=scale, seed=seed) as server:
        config = NetSuiteConfig.from_env(server.environment())
        click.echo(f"Sandbox at {server.base_url}; signing SuiteQL with token-based auth "
                   f"(realm {config.realm}, HMAC-SHA256).")
        with NetSuiteClient(config) as client:
            by_type = client.suiteql.query_all(COUNTS_BY_TYPE)
            others = {label: client.suiteql.query_all(q)[0]["n"] for label, q in OTHER_COUNTS.items()}
            limits = client.records.governance_limits()
            stats = client.stats_snapshot()
        click.echo("")
        click.echo(f"{'record type':<18}{'display name':<20}{'records':>10}{'voided':>8}")
        for row in by_type:
            click.echo(f"{row['record_type']:<18}{row['type_name']:<20}{int(row['records']):>10,}"
                       f"{int(row.get('voided', 0)):>8,}")
        click.echo("")
        for label, count in others.items():
            click.echo(f"{label:<18}{int(count):>10,}")
        click.echo("")
        click.echo(f"governance limits: {limits}")
        click.echo(f"client: {stats.get('requests', 0)} signed requests, {stats.get('retries', 0)} retries")
        click.echo(f"The account's ground truth is {server.account.store.path} (SQLite, SuiteQL table names).")
