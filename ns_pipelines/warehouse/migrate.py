"""Alembic migrations, configured in code: no alembic.ini, works from an installed package.

    upgrade_warehouse()                      # $NS_WAREHOUSE_URL or the default SQLite file
    upgrade_warehouse("postgresql://...")    # or an Engine

Command line: `python -m ns_pipelines.warehouse upgrade|current|check|revision -m MSG` (see
__main__.py); `revision` autogenerates a new revision against $NS_WAREHOUSE_URL (upgrade first).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, MetaData, text
from sqlalchemy.engine import URL

from ns_pipelines.warehouse.engine import begin_write, create_warehouse_engine
from ns_pipelines.warehouse.tables import metadata
from ns_pipelines.warehouse.types import ExactDecimal, UTCDateTime

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Not "alembic_version": Dagster's own PostgreSQL storage uses that name, and the warehouse may
# share a database (or schema) with it.
VERSION_TABLE = "ns_warehouse_alembic_version"
MIGRATION_LOCK_KEY = 0x6E735F7768  # "ns_wh": pg_advisory_xact_lock key held while migrating


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Compare only the warehouse's own tables: leave other tables in the database alone."""
    if type_ == "table" and reflected and compare_to is None:
        return False
    return True


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Write plain SQL types into revisions, not our TypeDecorators: a revision stays valid when
    the Python-side types change, and the database columns are the same."""
    if type_ == "type" and isinstance(obj, ExactDecimal):
        return f"sa.Numeric(precision={obj.precision}, scale={obj.scale})"
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


# Options for context.configure, shared by env.py and schema_diffs.
CONTEXT_OPTIONS: dict[str, Any] = {
    "target_metadata": metadata,
    "version_table": VERSION_TABLE,
    "render_as_batch": True,  # SQLite cannot ALTER most things; batch mode copies the table
    "compare_type": True,
    "compare_server_default": True,
    "include_object": include_object,
    "render_item": render_item,
}


def alembic_config(connection: Connection | None = None, url: str | URL | None = None) -> Config:
    """An Alembic Config pointing at the packaged migrations (and at `connection`, if given)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if url is not None:
        config.set_main_option(
            "sqlalchemy.url",
            (url.render_as_string(hide_password=False) if isinstance(url, URL) else url).replace("%", "%%"),
        )
    config.attributes["connection"] = connection
    return config


def _engine(engine_or_url: Engine | str | URL | None) -> tuple[Engine, bool]:
    if isinstance(engine_or_url, Engine):
        return engine_or_url, False
    return create_warehouse_engine(engine_or_url), True


def upgrade_warehouse(engine_or_url: Engine | str | URL | None = None, revision: str = "head") -> None:
    """Bring the warehouse schema to `revision` (default: the newest); a no-op when it is there."""
    engine, owned = _engine(engine_or_url)
    try:
        # One migrator at a time (Dagster may start several steps that each upgrade): SQLite
        # takes the write lock at BEGIN, PostgreSQL a transaction-scoped advisory lock.
        with begin_write(engine) as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            command.upgrade(alembic_config(conn), revision)
    finally:
        if owned:
            engine.dispose()


def current_revision(engine_or_url: Engine | str | URL | None = None) -> str | None:
    """The revision the warehouse is at (None for an empty database)."""
    engine, owned = _engine(engine_or_url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).get_current_revision()
    finally:
        if owned:
            engine.dispose()


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def schema_diffs(engine_or_url: Engine | str | URL | None = None, target: MetaData = metadata) -> list[Any]:
    """Differences between the database and the table definitions (like `alembic check`).

    Empty when the migrations create exactly what `target` (the warehouse metadata) describes.
    """
    engine, owned = _engine(engine_or_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={**CONTEXT_OPTIONS, "target_metadata": target})
            return compare_metadata(context, target)
    finally:
        if owned:
            engine.dispose()
