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


@pytest.fixture(scope="session")
def stripe_sandbox(sandbox: "SandboxServer", tmp_path_factory: pytest.TempPathFactory) -> Iterator["StripeSandboxServer"]:
    """A Stripe sandbox seeded from the `sandbox` NetSuite account (read-only), shared by tests that only read.

    `.scenarios()` names the seeded cases; tests that change Stripe data make their own server.
    """
    from ns_pipelines.sandbox.stripe.server import StripeSandboxServer

    with StripeSandboxServer(tmp_path_factory.mktemp("stripe_sandbox"), netsuite=sandbox, seed=42) as server:
        yield server
