"""PostgreSQL (and SQLite) warehouses for tests.

The server is the one at $NS_TEST_POSTGRES_URL (CI's .ci/run sets it, e.g.
postgresql://ns:ns@127.0.0.1:5432/ns_test). Each user gets a schema of its own, named
`nstest_<module>_<random>`, created on the fly and dropped afterwards; the URL handed out sets
`search_path` to it (libpq `options=-csearch_path=...`), so code under test sees an empty
database and needs nothing but the URL. The role only needs CREATE on the database.

Server unset or unreachable: the test is skipped with the reason, except when CI=true, where it
fails: CI must never pass by skipping the PostgreSQL half.

Fixtures (register with `from ns_pipelines_tests.postgres import *` in conftest.py):
- `postgres_url`: a fresh schema per test module.
- `warehouse_url`: parametrized ["sqlite", "postgres"], one empty warehouse per test module.
- `warehouse_engine`: an Engine on `warehouse_url`, migrated to head.
- `fresh_warehouse_url`: like `warehouse_url`, but a new empty database for every test.
"""
from __future__ import annotations

import functools
import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL, make_url

POSTGRES_URL_ENV = "NS_TEST_POSTGRES_URL"
CONNECT_TIMEOUT_SECONDS = 5

__all__ = [
    "POSTGRES_URL_ENV",
    "fresh_warehouse_url",
    "postgres_schema",
    "postgres_unavailable",
    "postgres_url",
    "require_postgres",
    "warehouse_engine",
    "warehouse_url",
]


def postgres_unavailable(reason: str) -> NoReturn:
    """Skip the test, or fail it when CI=true."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"PostgreSQL tests cannot run under CI=true: {reason}", pytrace=False)
    pytest.skip(reason)


def _psycopg_url(raw: str) -> URL:
    url = make_url(raw)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url


@functools.cache
def _probe(raw: str) -> str | None:
    """None when the server answers, else why not (checked once per session)."""
    try:
        engine = create_engine(_psycopg_url(raw), connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS})
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        finally:
            engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure means "not available", with its text
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"PostgreSQL at {make_url(raw).render_as_string(hide_password=True)} cannot be used: {first_line}"
    return None


def require_postgres() -> URL:
    """The server URL (psycopg 3 driver), or skip / fail the calling test."""
    raw = os.environ.get(POSTGRES_URL_ENV, "").strip()
    if not raw:
        postgres_unavailable(f"{POSTGRES_URL_ENV} is not set")
    problem = _probe(raw)
    if problem:
        postgres_unavailable(problem)
    return _psycopg_url(raw)


def _schema_name(label: str) -> str:
    label = re.sub(r"[^a-z0-9_]+", "_", label.lower()).strip("_")[:24] or "t"
    return f"nstest_{label}_{uuid.uuid4().hex[:10]}"


@contextmanager
def postgres_schema(label: str = "t") -> Iterator[str]:
    """A new, empty schema; yields a URL whose connections use it. Dropped on exit."""
    server = require_postgres()
    schema = _schema_name(label)
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        options = server.query.get("options")
        options = f"{options} -csearch_path={schema}" if options else f"-csearch_path={schema}"
        yield server.update_query_dict({"options": options}).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text("SET lock_timeout = '30s'"))
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def _label(request: pytest.FixtureRequest) -> str:
    return getattr(request.module, "__name__", "t").rsplit(".", 1)[-1].removeprefix("test_")


def _sqlite_url(directory: Path) -> str:
    return f"sqlite:///{directory / 'warehouse.sqlite3'}"


WAREHOUSE_PARAMS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="module")
def postgres_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """URL of an empty PostgreSQL schema for this test module."""
    with postgres_schema(_label(request)) as url:
        yield url


@pytest.fixture(scope="module", params=WAREHOUSE_PARAMS)
def warehouse_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """URL of an empty warehouse for this test module: SQLite file, then PostgreSQL schema."""
    if request.param == "sqlite":
        return _sqlite_url(tmp_path_factory.mktemp("warehouse"))
    return request.getfixturevalue("postgres_url")


@pytest.fixture(scope="module")
def warehouse_engine(warehouse_url: str) -> Iterator[Engine]:
    """Engine on `warehouse_url`, migrated to the newest revision."""
    from ns_pipelines.warehouse import create_warehouse_engine, upgrade_warehouse

    engine = create_warehouse_engine(warehouse_url)
    upgrade_warehouse(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=WAREHOUSE_PARAMS)
def fresh_warehouse_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of an empty warehouse, new for every test: SQLite file, then PostgreSQL schema."""
    if request.param == "sqlite":
        yield _sqlite_url(tmp_path)
        return
    with postgres_schema(_label(request)) as url:
        yield url
