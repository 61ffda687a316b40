"""The code location: loads, and every asset, check, job and resource is declared as designed."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

import ns_pipelines.warehouse as wh
from ns_pipelines.warehouse.tables import monitoring as monitoring_tables
from ns_pipelines.warehouse.tables import reconciliation as recon_tables
from ns_pipelines.warehouse.tables import stripe as stripe_tables
from ns_pipelines.warehouse.tables import writeback as writeback_tables
from ns_pipelines.definitions import defs
from ns_pipelines.defs.netsuite.jobs import full_resync_config
from ns_pipelines.defs.resources import NetSuiteResource, WarehouseResource

RAW = {
    "netsuite/customers": wh.customers,
    "netsuite/invoices": wh.invoices,
    "netsuite/customer_payments": wh.customer_payments,
    "netsuite/credit_memos": wh.credit_memos,
    "netsuite/customer_refunds": wh.customer_refunds,
    "netsuite/deposits": wh.deposits,
    "netsuite/journal_lines": wh.journal_lines,
    "netsuite/payment_applications": wh.payment_applications,
    "netsuite/deleted_records": wh.deleted_records,
}
DERIVED = {"ar/open_items": wh.open_items, "ar/customer_balances": wh.customer_balances, "ar/aging": wh.aging}
STRIPE = {f"stripe/{name}": getattr(stripe_tables, name) for name in (
    "customers", "charges", "refunds", "disputes", "payouts", "balance_transactions")}
RECONCILIATION = {"reconciliation/payment_matches": recon_tables.payment_matches,
                  "reconciliation/payout_matches": recon_tables.payout_matches,
                  "reconciliation/exceptions": recon_tables.exceptions}
WRITEBACK = {"writeback/plan": writeback_tables.writeback_plan, "writeback/log": writeback_tables.writeback_log}
MONITORING = {"monitoring/netsuite_api_usage": monitoring_tables.api_usage}
TABLES = {**RAW, **DERIVED, **STRIPE, **RECONCILIATION, **WRITEBACK, **MONITORING}
TRANSACTIONS = ["invoices", "customer_payments", "credit_memos", "customer_refunds", "deposits", "journal_lines"]

# key prefix -> (group, kinds, pool of the step)
DOMAINS = {
    "netsuite": ("netsuite_raw", {"netsuite", "python"}, "netsuite_api"),
    "ar": ("receivables", {"python", "sql"}, None),
    "stripe": ("stripe_raw", {"stripe", "python"}, "stripe_api"),
    "reconciliation": ("reconciliation", {"python", "sql"}, None),
    "writeback": ("writeback", {"netsuite", "python"}, "netsuite_api"),
    "monitoring": ("monitoring", {"python", "sql"}, None),
}

EXPECTED_CHECKS = (
    {f"{key}:unique_keys" for key in {**RAW, **STRIPE}}
    | {f"{key}:freshness" for key in {**RAW, **STRIPE}}
    | {f"netsuite/{name}:customer_references" for name in TRANSACTIONS}
    | {"netsuite/payment_applications:document_references"}
    | {"ar/customer_balances:balances_match_netsuite"}
    | {f"{key}:has_rows" for key in DERIVED}
    | {"stripe/charges:balance_transactions_present"}
    | {"reconciliation/payment_matches:every_charge_accounted_for",
       "reconciliation/payout_matches:deposits_balance"}
    | {"writeback/log:no_duplicate_external_ids_in_netsuite", "writeback/plan:refused_writes_reported"}
    | {"monitoring/netsuite_api_usage:within_budget"}
)


@pytest.fixture(scope="module")
def repo() -> dg.RepositoryDefinition:
    return defs.get_repository_def()


@pytest.fixture(scope="module")
def specs() -> dict[str, dg.AssetSpec]:
    return {spec.key.to_user_string(): spec for spec in defs.resolve_all_asset_specs()}


def test_definitions_load() -> None:
    dg.Definitions.validate_loadable(defs)


def test_one_asset_per_table(specs: dict[str, dg.AssetSpec]) -> None:
    assert set(specs) == set(TABLES)


def test_assets_are_described_grouped_owned_and_kinded(specs: dict[str, dg.AssetSpec]) -> None:
    for key, spec in specs.items():
        assert spec.description and len(spec.description) > 40, key
        group, kinds, _ = DOMAINS[key.split("/", 1)[0]]
        assert spec.group_name == group, key
        assert spec.owners == ["team:accounts-receivable"], key
        assert spec.kinds == kinds, key
        assert spec.metadata["dagster/table_name"] == TABLES[key].name


def test_column_schema_comes_from_the_warehouse_tables(specs: dict[str, dg.AssetSpec]) -> None:
    for key, spec in specs.items():
        schema = _schema(spec)
        table = TABLES[key]
        assert [c.name for c in schema.columns] == [c.name for c in table.columns], key
        for column in schema.columns:
            assert column.description == table.c[column.name].comment and column.description, (key, column.name)
            assert column.type and column.type != "string"
    invoice_columns = {c.name: c for c in _schema(specs["netsuite/invoices"]).columns}
    assert invoice_columns["id"].type == "bigint" and invoice_columns["id"].constraints.unique
    assert not invoice_columns["id"].constraints.nullable
    assert invoice_columns["total"].type == "numeric(18, 4)"


def _schema(spec: dg.AssetSpec) -> dg.TableSchema:
    value = spec.metadata["dagster/column_schema"]
    return getattr(value, "schema", value)


def test_steps_calling_an_api_take_its_pool(repo: dg.RepositoryDefinition) -> None:
    for key, assets_def in repo.assets_defs_by_key.items():
        assert assets_def.op.pool == DOMAINS[key.path[0]][2], key


def test_raw_tables_are_one_subsettable_step(repo: dg.RepositoryDefinition) -> None:
    """One step syncs every raw table (one NetSuite client, one budget, one pool slot), and a
    selection of tables runs that step for those tables only."""
    raw = {key: assets_def for key, assets_def in repo.assets_defs_by_key.items() if key.path[0] == "netsuite"}
    (step,) = {assets_def for assets_def in raw.values()}
    assert step.op.name == "netsuite_raw_tables" and step.can_subset
    assert {key.to_user_string() for key in step.keys} == set(RAW)
    sync = repo.get_job("netsuite_sync_job")
    one = sync.get_subset(asset_selection={dg.AssetKey(["netsuite", "invoices"])})
    assert {key.to_user_string() for key in one.asset_layer.executable_asset_keys} == {"netsuite/invoices"}


def test_dependencies(specs: dict[str, dg.AssetSpec]) -> None:
    def deps(key: str) -> set[str]:
        return {dep.asset_key.to_user_string() for dep in specs[key].deps}

    assert deps("netsuite/customers") == set()
    assert deps("netsuite/invoices") == {"netsuite/customers"}
    assert deps("netsuite/payment_applications") == {f"netsuite/{name}" for name in TRANSACTIONS}
    assert deps("netsuite/deleted_records") == set(RAW) - {"netsuite/deleted_records"}
    assert {"netsuite/invoices", "netsuite/payment_applications", "netsuite/deleted_records"} <= deps("ar/open_items")
    assert "ar/open_items" in deps("ar/customer_balances") and deps("ar/aging") == {"ar/open_items"}


def test_checks(repo: dg.RepositoryDefinition) -> None:
    specs = {
        f"{spec.asset_key.to_user_string()}:{spec.name}": spec
        for checks_def in set(repo.asset_checks_defs_by_key.values()) for spec in checks_def.check_specs
    }
    assert set(specs) == EXPECTED_CHECKS
    assert {name for name, spec in specs.items() if spec.blocking} == {
        f"{key}:unique_keys" for key in {**RAW, **STRIPE}}
    assert all(spec.description for spec in specs.values())


def test_jobs(repo: dg.RepositoryDefinition) -> None:
    assert {job.name for job in repo.get_all_jobs()} >= {
        "netsuite_sync_job", "netsuite_full_resync_job", "warehouse_checks_job", "netsuite_redundancy_job",
        "netsuite_customer_resync_job", "netsuite_change_events_job", "stripe_sync_job", "stripe_events_job",
        "writeback_apply_job", "credit_memo_refund_job", "netsuite_api_usage_job", "sync_reconcile_writeback_job"}
    netsuite_tables = set(RAW) | set(DERIVED)
    sync = repo.get_job("netsuite_sync_job")
    assert {key.to_user_string() for key in sync.asset_layer.executable_asset_keys} == netsuite_tables
    resync = repo.get_job("netsuite_full_resync_job")
    assert {key.to_user_string() for key in resync.asset_layer.executable_asset_keys} == netsuite_tables
    cycle = repo.get_job("sync_reconcile_writeback_job")
    assert {key.to_user_string() for key in cycle.asset_layer.executable_asset_keys} == set(TABLES) - set(MONITORING)
    ops = full_resync_config()["ops"]
    assert ops == {"netsuite_raw_tables": {"config": {"mode": "full"}}}  # the one step of every raw table


def test_resources_bind_environment_variables() -> None:
    env = {"NETSUITE_ACCOUNT_ID": "123_SB1", "NETSUITE_BASE_URL": "http://127.0.0.1:1", "NETSUITE_CONCURRENCY": "2"}
    resource = NetSuiteResource.from_env_vars(env)
    fields = resource._get_non_default_public_field_values()  # noqa: SLF001 - the configured values
    env_var_types = (dg.EnvVar, type(dg.EnvVar.int("X")))
    assert all(isinstance(value, env_var_types) for value in fields.values())
    # required for token-based auth even when unset (a run then fails naming the variable) ...
    assert {"account_id", "consumer_key", "consumer_secret", "token_id", "token_secret"} <= set(fields)
    # ... optional ones only when set
    assert "base_url" in fields and "concurrency" in fields and "client_id" not in fields
    oauth2 = NetSuiteResource.from_env_vars({"NETSUITE_AUTH_METHOD": "oauth2"})
    assert {"account_id", "client_id", "certificate_id", "auth_method"} <= set(
        oauth2._get_non_default_public_field_values())  # noqa: SLF001
    assert WarehouseResource.from_env_vars({}).url is None
    bound = WarehouseResource.from_env_vars({"NS_WAREHOUSE_URL": "sqlite://"})
    assert isinstance(bound._get_non_default_public_field_values()["url"], dg.EnvVar)  # noqa: SLF001
    assert "s3cr3t-value" not in repr(NetSuiteResource.from_env_vars({"NETSUITE_TOKEN_SECRET": "s3cr3t-value"}))


def test_workspace_loads_the_module() -> None:
    root = Path(__file__).resolve().parents[1]
    assert "module_name: ns_pipelines.definitions" in (root / "workspace.yaml").read_text()
    dagster = Path(sys.executable).with_name("dagster")
    done = subprocess.run(
        [str(dagster), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=root, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
