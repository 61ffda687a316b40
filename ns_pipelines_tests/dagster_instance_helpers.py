"""Set-up shared by the tests of the production Dagster profile (deploy/production/dagster.yaml):
a fresh PostgreSQL database for Dagster's storage and a DAGSTER_HOME holding the profile.

Like every PostgreSQL test, these skip without NS_TEST_POSTGRES_URL and fail under CI=true
(`require_postgres`, ns_pipelines_tests/postgres.py).
"""
from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL

from ns_pipelines_tests.postgres import require_postgres

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PROFILE = PROJECT_ROOT / "deploy" / "production" / "dagster.yaml"
WORKSPACE = PROJECT_ROOT / "workspace.yaml"


@contextmanager
def fresh_dagster_database(label: str = "dagster") -> Iterator[URL]:
    """A new, empty PostgreSQL database for Dagster's storage on the test server, dropped
    (connections closed by force) on exit. Yields its URL (psycopg 3 driver)."""
    server = require_postgres()
    name = f"nstest_{label}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def dagster_pg_url(database: URL) -> str:
    """The value of DAGSTER_PG_URL for `database`: dagster-postgres connects with psycopg2, so the
    plain `postgresql://` scheme, password included."""
    return database.set(drivername="postgresql").render_as_string(hide_password=False)


def production_dagster_home(home: Path, database: URL) -> dict[str, str]:
    """Copy the production profile into `home` (as the README says to); return the variables the
    webserver, the daemon and the runs need to use it: DAGSTER_HOME and DAGSTER_PG_URL."""
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(PROFILE, home / "dagster.yaml")
    return {"DAGSTER_HOME": str(home.resolve()), "DAGSTER_PG_URL": dagster_pg_url(database)}
