"""Sandbox accounts for the sync benchmark: seeded once into a cache, copied for each use, and
served by `ns-pipelines sandbox` in a process of its own, so that neither its CPU nor its memory
counts as the measured process's.
"""
from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import requests

from ..sandbox.netsuite.seed import seed
from ..sandbox.netsuite.store import DB_FILENAME, Store
from .child import process_cpu_seconds, stop_process

SEED = 42
SEEDED_MARKER = "seeded.json"
START_TIMEOUT_S = 120.0

Echo = Callable[[str], None]
SeedProgress = Callable[[str, int, int], None]


def cached_account(cache_dir: Path, transactions: int, echo: Echo, progress: SeedProgress | None = None) -> Path:
    """The directory of a pristine seeded account of `transactions`, seeding it on first use."""
    directory = cache_dir / f"account-{transactions}-seed{SEED}"
    if (directory / SEEDED_MARKER).exists():
        return directory
    shutil.rmtree(directory, ignore_errors=True)
    echo(f"  seeding {transactions:,} transactions into {directory} (cached for later runs) ...")
    store = Store(directory)
    started = time.perf_counter()
    counts = seed(store, scale=transactions, seed=SEED, progress=progress)
    store.close()
    seconds = time.perf_counter() - started
    with sqlite3.connect(directory / DB_FILENAME) as conn:  # a copy of the file alone must be complete
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    (directory / SEEDED_MARKER).write_text(json.dumps({"transactions": transactions, "seed": SEED,
                                                       "seconds": round(seconds, 1), "counts": counts}))
    echo(f"  seeded in {seconds:.1f} s")
    return directory


def account_counts(directory: Path) -> dict[str, int]:
    """Rows per table (and documents per transaction type) of a cached account."""
    return dict(json.loads((directory / SEEDED_MARKER).read_text())["counts"])


def working_copy(pristine: Path, into: Path) -> Path:
    """A copy of a cached account that a benchmark may change (the cache stays pristine)."""
    into.mkdir(parents=True, exist_ok=False)
    shutil.copyfile(pristine / DB_FILENAME, into / DB_FILENAME)
    return into


class SandboxProcess:
    """`ns-pipelines sandbox` serving `data_dir` on a free loopback port, in a child process.

    `environment` holds the NETSUITE_* variables (with NETSUITE_CONCURRENCY set to `budget`);
    `admin()` calls the sandbox's admin API, which plays the NetSuite UI and the administrator.
    """

    def __init__(self, data_dir: Path, *, latency_ms: float, concurrency_limit: int, budget: int,
                 latency_mode: str = "response") -> None:
        self.data_dir = data_dir
        self.latency_ms = latency_ms
        self.latency_mode = latency_mode
        self.concurrency_limit = concurrency_limit
        self.budget = budget
        self.environment: dict[str, str] = {}
        self._process: subprocess.Popen[bytes] | None = None
        self._http = requests.Session()

    def __enter__(self) -> "SandboxProcess":
        credentials = self.data_dir / "credentials.json"
        credentials.unlink(missing_ok=True)
        self._process = subprocess.Popen(
            [sys.executable, "-m", "ns_pipelines.cli", "sandbox", "--data-dir", str(self.data_dir), "--port", "0",
             "--credentials-out", str(credentials), "--latency-ms", str(self.latency_ms),
             "--latency-mode", self.latency_mode,
             "--concurrency-limit", str(self.concurrency_limit)],
            stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"the sandbox process exited with status {self._process.returncode}")
            if time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise RuntimeError(f"the sandbox did not start within {START_TIMEOUT_S:.0f} s")
            try:
                self.environment = {**json.loads(credentials.read_text()), "NETSUITE_CONCURRENCY": str(self.budget)}
                self.admin("GET", "/health")
                return self
            except (OSError, ValueError, requests.RequestException):
                time.sleep(0.1)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        process, self._process = self._process, None
        self._http.close()
        stop_process(process)

    def admin(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """One admin API call; raises on an error answer."""
        response = self._http.request(
            method, self.environment["NETSUITE_SANDBOX_ADMIN_URL"] + path, json=body, timeout=120,
            headers={"Authorization": f"Bearer {self.environment['NETSUITE_SANDBOX_ADMIN_TOKEN']}"})
        if response.status_code >= 300:
            raise RuntimeError(f"sandbox admin {method} {path} answered {response.status_code}: {response.text[:500]}")
        return response.json() if response.content else {}

    def cpu_seconds(self) -> float:
        """User + system CPU time of the sandbox's process so far (Linux /proc; 0.0 elsewhere)."""
        return process_cpu_seconds(self._process.pid) if self._process is not None else 0.0

    def set_latency(self, latency_ms: float) -> None:
        self.admin("PATCH", "/settings", {"latency_ms": latency_ms})
        self.latency_ms = latency_ms
