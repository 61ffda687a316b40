"""Alembic environment, driven by ns_pipelines.warehouse.migrate (no alembic.ini)."""
from __future__ import annotations

from alembic import context

from ns_pipelines.warehouse.engine import create_warehouse_engine
from ns_pipelines.warehouse.migrate import CONTEXT_OPTIONS


def run_offline() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    context.configure(url=url, literal_binds=True, **CONTEXT_OPTIONS)
    with context.begin_transaction():
        context.run_migrations()


def run_on(connection) -> None:  # noqa: ANN001
    context.configure(connection=connection, **CONTEXT_OPTIONS)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run_on(connection)
        return
    engine = create_warehouse_engine(context.config.get_main_option("sqlalchemy.url") or None)
    try:
        with engine.begin() as conn:
            run_on(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
