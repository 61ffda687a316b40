"""Attaching API usage monitoring to a NetSuite client, and flushing it to the warehouse.

    monitor = monitor_client(client)    # None when NS_API_USAGE=off

The client's requests are aggregated per minute in memory (UsageRecorder, a request hook) and
merged into ns_netsuite_api_usage every NS_API_USAGE_FLUSH_SECONDS (a daemon thread), when the
client closes, and when the process exits. The warehouse is the `url` given (the Dagster
NetSuiteResource passes its usage_warehouse's), else NS_WAREHOUSE_URL, else the default SQLite
file. Monitoring never breaks a sync: a failed flush keeps its minutes for the next one, and a
warehouse without the table (never upgraded) or a SQLite file that does not exist yet is left alone.
"""
from __future__ import annotations

import atexit
import logging
import os
import socket
import sys
import threading
import time
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, inspect

from ns_pipelines.monitoring.store import merge_usage
from ns_pipelines.monitoring.usage import UsageRecorder
from ns_pipelines.netsuite.transport import NetSuiteClient, on_every_new_client, stop_calling_on_new_clients
from ns_pipelines.warehouse.engine import create_warehouse_engine, resolve_warehouse_url
from ns_pipelines.warehouse.tables.monitoring import api_usage

logger = logging.getLogger(__name__)

ENABLED_ENV = "NS_API_USAGE"
FLUSH_ENV = "NS_API_USAGE_FLUSH_SECONDS"
SOURCE_ENV = "NS_API_USAGE_SOURCE"
DEFAULT_FLUSH_SECONDS = 60.0


@dataclass(frozen=True)
class UsageSettings:
    enabled: bool = True
    flush_seconds: float = DEFAULT_FLUSH_SECONDS
    label: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "UsageSettings":
        env = os.environ if environ is None else environ
        flag = (env.get(ENABLED_ENV) or "on").strip().lower()
        if flag not in ("on", "off", "true", "false", "1", "0"):
            raise ValueError(f"{ENABLED_ENV} must be on or off, got {flag!r}")
        raw = (env.get(FLUSH_ENV) or "").strip()
        try:
            seconds = float(raw) if raw else DEFAULT_FLUSH_SECONDS
        except ValueError:
            raise ValueError(f"{FLUSH_ENV} must be a number of seconds, got {raw!r}") from None
        if seconds <= 0:
            raise ValueError(f"{FLUSH_ENV} must be positive, got {raw!r}")
        return cls(enabled=flag in ("on", "true", "1"), flush_seconds=seconds,
                   label=(env.get(SOURCE_ENV) or "").strip() or None)


def source_name(label: str | None = None) -> str:
    """`<label>@<host>:<pid>`; the label defaults to the program's name."""
    program = label or Path(sys.argv[0] if sys.argv and sys.argv[0] else "python").name or "python"
    return f"{program}@{socket.gethostname()}:{os.getpid()}"


_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()
_flush_lock = threading.Lock()  # one process's flushes never race on the same (minute, source) row


def _engine(url: str | None) -> Engine | None:
    """The warehouse engine, or None when there is no warehouse (yet) to write to."""
    resolved = resolve_warehouse_url(url)
    key = resolved.render_as_string(hide_password=False)
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            database = resolved.database or ""
            if resolved.get_backend_name() == "sqlite" and database and not database.startswith("file:") \
                    and database != ":memory:" and not Path(database).exists():
                return None  # do not create a warehouse just to monitor
            engine = _engines[key] = create_warehouse_engine(resolved)
        return engine


class UsageMonitor:
    """One client's recorder and where its minutes go."""

    def __init__(self, recorder: UsageRecorder, url: str | None, flush_seconds: float) -> None:
        self.recorder = recorder
        self.url = url
        self.flush_seconds = flush_seconds
        self.flushed_rows = 0
        self._missing_table_logged = False

    def flush(self) -> int:
        """Write what was recorded since the last flush; the number of rows written (0 on failure)."""
        with _flush_lock:
            minutes = self.recorder.drain()
            if not minutes:
                return 0
            try:
                engine = _engine(self.url)
                if engine is None or not inspect(engine).has_table(api_usage.name):
                    if not self._missing_table_logged:
                        logger.warning("NetSuite API usage is not written: the warehouse has no %s table yet "
                                       "(run `python -m ns_pipelines.warehouse upgrade`, or any Dagster run)",
                                       api_usage.name)
                        self._missing_table_logged = True
                    return 0
                written = merge_usage(engine, minutes)
            except Exception:  # noqa: BLE001 - keep the minutes for the next flush
                self.recorder.restore(minutes)
                logger.warning("writing NetSuite API usage failed; will retry", exc_info=True)
                return 0
            self.flushed_rows += written
            return written

    def close(self) -> None:
        _Flusher.instance().remove(self)
        self.flush()


class _Flusher:
    """The process's one daemon thread flushing every monitor on its interval."""

    _instance: "_Flusher | None" = None
    _lock = threading.Lock()
    TICK_S = 1.0

    def __init__(self) -> None:
        self._monitors: dict[UsageMonitor, float] = {}  # monitor -> when its next flush is due
        self._guard = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="netsuite-api-usage", daemon=True)
        self._thread.start()

    @classmethod
    def instance(cls) -> "_Flusher":
        with cls._lock:
            if cls._instance is None or not cls._instance._thread.is_alive():  # new after fork too
                cls._instance = cls()
            return cls._instance

    def add(self, monitor: UsageMonitor, now: float) -> None:
        with self._guard:
            self._monitors[monitor] = now + monitor.flush_seconds

    def remove(self, monitor: UsageMonitor) -> None:
        with self._guard:
            self._monitors.pop(monitor, None)

    def monitors(self) -> list[UsageMonitor]:
        with self._guard:
            return list(self._monitors)

    def _run(self) -> None:
        while True:
            time.sleep(self.TICK_S)
            now = time.monotonic()
            with self._guard:
                due = [m for m, at in self._monitors.items() if at <= now]
                for monitor in due:
                    self._monitors[monitor] = now + monitor.flush_seconds
            for monitor in due:
                monitor.flush()


@atexit.register
def _flush_at_exit() -> None:
    flusher = _Flusher._instance
    if flusher is not None:
        for monitor in flusher.monitors():
            monitor.flush()


def monitor_client(client: NetSuiteClient, *, url: str | None = None, label: str | None = None,
                   settings: UsageSettings | None = None) -> UsageMonitor | None:
    """Record every request of `client` and write it to the warehouse (None when NS_API_USAGE=off).

    `url`: the warehouse (default NS_WAREHOUSE_URL); `label`: who is calling (default
    NS_API_USAGE_SOURCE, else the program's name), completed with host and process id.
    """
    settings = settings or UsageSettings.from_env()
    if not settings.enabled:
        return None
    recorder = UsageRecorder(client.config.account_id, source_name(label or settings.label))
    monitor = UsageMonitor(recorder, url, settings.flush_seconds)
    client.add_request_hook(recorder)
    client.add_close_callback(monitor.close)
    weakref.finalize(client, monitor.close)  # a client dropped without close() still writes its last minutes
    _Flusher.instance().add(monitor, time.monotonic())
    return monitor


@contextmanager
def monitoring_new_clients(label: str | None = None) -> Iterator[None]:
    """Monitor every NetSuite client created inside the block (a command's invocation); clients
    created after it are left alone, so a test process running commands is not monitored for good."""
    def attach(client: NetSuiteClient) -> None:
        monitor_client(client, label=label)

    on_every_new_client(attach)
    try:
        yield
    finally:
        stop_calling_on_new_clients(attach)


def dispose_engines() -> None:
    """Close the cached warehouse engines (tests; a process about to fork)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


__all__ = ["UsageMonitor", "UsageSettings", "dispose_engines", "monitor_client", "monitoring_new_clients",
           "source_name"]
