"""Shared fixtures: a seeded NetSuite sandbox on a loopback port."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from ns_pipelines_tests.postgres import *  # noqa: F401,F403  (postgres_url, warehouse_url, warehouse_engine fixtures)


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator["SandboxServer"]:
    """A tiny seeded sandbox shared by tests that only read; tests that change data make their own."""
    from ns_pipelines.sandbox.netsuite.server import SandboxServer

    with SandboxServer(tmp_path_factory.mktemp("sandbox"), scale="tiny", seed=42) as server:
        yield server
