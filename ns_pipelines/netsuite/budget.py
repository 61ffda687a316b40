"""One NetSuite concurrency budget shared by every process (and, on PostgreSQL, every host).

The transport's ConcurrencyLimiter bounds the requests one process has in flight; the budget here
bounds them across processes: runs, sensors, commands and webhook-triggered syncs together never
have more than NETSUITE_CONCURRENCY requests in flight (behaviour.md section 4).

- `FileSlotBudget` (one host; the default with a SQLite warehouse): N slot files, each held with
  fcntl.flock while a request is in flight. A free slot costs one non-blocking flock (a few
  microseconds); when all N are held, one waiter of all the processes polls the slots every
  millisecond at most, while the other waiters sleep in the kernel (a turnstile flock).
- `AdvisoryLockBudget` (PostgreSQL warehouse; several hosts): N session-level advisory locks, keys
  derived from the account. One round trip tries every free slot (CASE evaluates in order and
  stops at the first lock granted), one releases.

Either way a process that dies holding a slot releases it: the kernel drops its flocks, and
PostgreSQL ends its session. The budget is keyed by account id and base URL, so two sandboxes on
different ports (two "accounts") do not share one, and every process configured for the same
account does. NS_BUDGET_MODE=off turns the cross-process part off (the in-process limit stays).
"""
from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import random
import re
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

logger = logging.getLogger(__name__)

MODE_ENV = "NS_BUDGET_MODE"
DIR_ENV = "NS_BUDGET_DIR"
MODES = ("auto", "files", "postgres", "off")
BUDGET_DIR_NAME = "netsuite-budget"
_POLL_FIRST_S = 0.0005
_POLL_MAX_S = 0.01
_TURNSTILE_POLL_MAX_S = 0.001  # the one waiter at a FileSlotBudget's turnstile polls this often at least
RECONNECT_PAUSE_S = 30.0  # PostgreSQL unreachable: go without the shared budget this long, then retry


@dataclass(frozen=True)
class Lease:
    """One cross-process slot, held while one request is in flight."""

    slot: int  # -1: no slot (budget off)
    waited_s: float = 0.0  # time spent waiting because every slot was held
    generation: int = 0  # the budget's connection generation (a PostgreSQL reconnect voids leases)

    @property
    def waited(self) -> bool:
        return self.waited_s > 0.0


NO_LEASE = Lease(-1)


class SharedBudget(Protocol):
    slots: int

    def acquire(self) -> Lease: ...

    def release(self, lease: Lease) -> None: ...

    def is_full(self) -> bool:
        """Whether every slot is held now (a probe for the error path; never on the hot path)."""
        ...

    def close(self) -> None: ...


class NoBudget:
    """The cross-process limit switched off: leases are free."""

    def __init__(self, slots: int = 0) -> None:
        self.slots = slots

    def acquire(self) -> Lease:
        return NO_LEASE

    def release(self, lease: Lease) -> None:
        pass

    def is_full(self) -> bool:
        return False

    def close(self) -> None:
        pass

    def __repr__(self) -> str:
        return "NoBudget()"


# Objects holding file descriptors or connections inherited through fork() must not use them in
# the child: an inherited flock belongs to the parent's open file, and closing an inherited
# PostgreSQL connection would end the parent's session. Children start afresh.
_fork_generation = 0


def _after_fork_in_child() -> None:
    global _fork_generation
    _fork_generation += 1


os.register_at_fork(after_in_child=_after_fork_in_child)


def _poll_until(try_once: Callable[[], int | None], max_delay: float = _POLL_MAX_S) -> tuple[int, float]:
    """Call try_once() until it returns a slot; (slot, seconds waited)."""
    started = time.monotonic()
    delay = _POLL_FIRST_S
    while True:
        time.sleep(delay * (0.5 + random.random()))  # jitter: waiting processes do not poll in step
        slot = try_once()
        if slot is not None:
            return slot, max(time.monotonic() - started, 1e-9)
        delay = min(delay * 2, max_delay)


class FileSlotBudget:
    """N lock files in `directory`; a lease is an exclusive flock on one of them."""

    def __init__(self, directory: Path | str, slots: int) -> None:
        if slots < 1:
            raise ValueError("a budget needs at least one slot")
        self.directory = Path(directory)
        self.slots = slots
        self._lock = threading.Lock()
        self._waiting = threading.Lock()  # this process's waiter at the turnstile
        self._turnstile_fd = -1
        self._turnstile_generation = -1
        self._open()

    def __reduce__(self) -> tuple[Any, ...]:
        """Sent to another process, the same budget: the same slot files (the flocks held stay here)."""
        return FileSlotBudget, (self.directory, self.slots)

    def _open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        # O_CLOEXEC: a subprocess started while a slot is held must not inherit the lock.
        self._fds = [os.open(self.directory / f"slot-{i}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
                     for i in range(self.slots)]
        self._free = list(range(self.slots))  # slots this process does not hold
        self._generation = _fork_generation

    def _try(self) -> int | None:
        with self._lock:
            if self._generation != _fork_generation:
                self._open()  # the inherited descriptors stay open (closing them is harmless, unlocking is not)
            free = self._free
            start = random.randrange(len(free)) if len(free) > 1 else 0
            for k in range(len(free)):
                slot = free[(start + k) % len(free)]
                try:
                    fcntl.flock(self._fds[slot], fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue
                free.remove(slot)
                return slot
            return None

    def acquire(self) -> Lease:
        slot = self._try()
        if slot is not None:
            return Lease(slot, 0.0, self._generation)
        started = time.monotonic()
        with self._turnstile():
            slot, _ = _poll_until(self._try, _TURNSTILE_POLL_MAX_S)
        return Lease(slot, max(time.monotonic() - started, 1e-9), self._generation)

    @contextmanager
    def _turnstile(self) -> Iterator[None]:
        """One waiter of every process at a time polls the slots, often (a slot freed is taken
        within a millisecond); the other waiters sleep in the kernel: on a lock among this
        process's threads, then on an flock of `turnstile.lock` among processes."""
        with self._waiting:
            if self._turnstile_generation != _fork_generation:
                self._turnstile_fd = os.open(self.directory / "turnstile.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC,
                                             0o666)
                self._turnstile_generation = _fork_generation
            fcntl.flock(self._turnstile_fd, fcntl.LOCK_EX)  # blocks without the GIL
            try:
                yield
            finally:
                fcntl.flock(self._turnstile_fd, fcntl.LOCK_UN)

    def release(self, lease: Lease) -> None:
        if lease.slot < 0:
            return
        with self._lock:
            if lease.generation != self._generation:
                return  # a lease of the parent, seen in a forked child
            fcntl.flock(self._fds[lease.slot], fcntl.LOCK_UN)
            self._free.append(lease.slot)

    def is_full(self) -> bool:
        with self._lock:
            for slot in self._free:
                try:
                    fcntl.flock(self._fds[slot], fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue
                fcntl.flock(self._fds[slot], fcntl.LOCK_UN)
                return False
            return True

    def close(self) -> None:
        with self._lock:
            for fd in self._fds:
                os.close(fd)
            self._fds = []
            self._free = []
            if self._turnstile_fd >= 0:
                os.close(self._turnstile_fd)
                self._turnstile_fd, self._turnstile_generation = -1, -1

    def __del__(self) -> None:
        if getattr(self, "_turnstile_fd", -1) >= 0:
            try:
                os.close(self._turnstile_fd)
            except OSError:
                pass
        for fd in getattr(self, "_fds", []):  # no client uses this budget any more: give back the descriptors
            try:
                os.close(fd)
            except OSError:
                pass

    def __repr__(self) -> str:
        return f"FileSlotBudget({str(self.directory)!r}, slots={self.slots})"


def advisory_key(account_id: str, base_url: str) -> int:
    """A stable 31-bit key naming this account's budget (the first of the two advisory keys)."""
    digest = hashlib.sha256(f"ns-pipelines:netsuite-budget:{budget_name(account_id, base_url)}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


class AdvisoryLockBudget:
    """N PostgreSQL session-level advisory locks (key, 0) .. (key, N-1), on one connection per process."""

    def __init__(self, conninfo: str, key: int, slots: int) -> None:
        if slots < 1:
            raise ValueError("a budget needs at least one slot")
        self.conninfo = conninfo
        self.key = key
        self.slots = slots
        self._lock = threading.Lock()
        self._conn: Any = None
        self._generation = 0
        self._free: list[int] = []
        self._abandoned: list[Any] = []  # connections inherited through fork: never used, never closed
        self._down_until = 0.0
        self._connect()

    def __reduce__(self) -> tuple[Any, ...]:
        """Sent to another process, the same budget on a connection of its own."""
        return AdvisoryLockBudget, (self.conninfo, self.key, self.slots)

    def _connect(self) -> None:
        import psycopg

        self._conn = psycopg.connect(self.conninfo, autocommit=True)
        self._generation += 1
        self._free = list(range(self.slots))
        self._fork_generation = _fork_generation

    def _try(self) -> int | None:
        """A slot, None when all are held, or -1: PostgreSQL is unreachable, go without one."""
        with self._lock:
            if self._fork_generation != _fork_generation and self._conn is not None:
                self._abandoned.append(self._conn)
                self._conn = None
            if self._conn is None:
                if time.monotonic() < self._down_until:
                    return -1
                try:
                    self._connect()
                except Exception as exc:  # noqa: BLE001 - fail open: the in-process limit still holds
                    self._down_until = time.monotonic() + RECONNECT_PAUSE_S
                    logger.warning("NetSuite budget: PostgreSQL unreachable (%s); requests go without the shared "
                                   "budget for %.0f s", type(exc).__name__, RECONNECT_PAUSE_S)
                    return -1
            if not self._free:
                return None
            cases = " ".join(f"WHEN pg_try_advisory_lock(%(key)s, {slot}) THEN {slot}" for slot in self._free)
            try:
                row = self._conn.execute(f"SELECT CASE {cases} END", {"key": self.key}).fetchone()
            except Exception as exc:  # noqa: BLE001 - a lost session lost its locks too: start over
                self._drop_session(exc)
                return None  # the next try reconnects
            slot = row[0] if row else None
            if slot is not None:
                self._free.remove(slot)
            return slot

    def _drop_session(self, exc: BaseException) -> None:
        logger.warning("NetSuite budget: the PostgreSQL session holding the slots failed (%s); reconnecting. "
                       "Requests in flight meanwhile may exceed the budget briefly.", type(exc).__name__)
        try:
            self._conn.close()
        except Exception:  # noqa: BLE001
            pass
        self._conn = None
        self._generation += 1  # leases of the lost session are void

    def acquire(self) -> Lease:
        slot = self._try()
        if slot is None:
            slot, waited = _poll_until(self._try)
        else:
            waited = 0.0
        return NO_LEASE if slot < 0 else Lease(slot, waited, self._generation)

    def release(self, lease: Lease) -> None:
        if lease.slot < 0:
            return
        with self._lock:
            if lease.generation != self._generation or self._conn is None \
                    or self._fork_generation != _fork_generation:
                return  # the session that held it is gone, and its locks with it
            try:
                self._conn.execute("SELECT pg_advisory_unlock(%s, %s)", (self.key, lease.slot))
            except Exception as exc:  # noqa: BLE001
                self._drop_session(exc)
                return
            self._free.append(lease.slot)

    def is_full(self) -> bool:
        with self._lock:
            if self._conn is None or self._fork_generation != _fork_generation:
                return False
            try:
                held = self._conn.execute(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                    "AND classid = %s::bigint::oid AND objsubid = 2 AND objid::bigint < %s",
                    (self.key, self.slots)).fetchone()[0]
            except Exception:  # noqa: BLE001 - a probe: unknown means "not known to be full"
                return False
            return int(held) >= self.slots

    def close(self) -> None:
        with self._lock:
            if self._conn is not None and self._fork_generation == _fork_generation:
                self._conn.close()
            self._conn = None

    def __del__(self) -> None:
        conn = getattr(self, "_conn", None)
        if conn is not None and getattr(self, "_fork_generation", None) == _fork_generation:
            try:
                conn.close()
            except Exception:  # noqa: BLE001
                pass

    def __repr__(self) -> str:
        return f"AdvisoryLockBudget(key={self.key}, slots={self.slots})"


# --------------------------------------------------------------------------------------------
# Choosing the budget from the environment


@dataclass(frozen=True)
class BudgetSettings:
    """NS_BUDGET_MODE (auto, files, postgres, off) and NS_BUDGET_DIR; auto follows the warehouse."""

    mode: str = "auto"
    directory: str | None = None
    warehouse_url: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "BudgetSettings":
        env = os.environ if environ is None else environ
        mode = (env.get(MODE_ENV) or "auto").strip().lower()
        if mode not in MODES:
            raise ValueError(f"{MODE_ENV} must be one of {', '.join(MODES)}, got {mode!r}")
        return cls(mode=mode, directory=(env.get(DIR_ENV) or "").strip() or None,
                   warehouse_url=(env.get("NS_WAREHOUSE_URL") or "").strip() or None)


def budget_name(account_id: str, base_url: str) -> str:
    """`1234567_sb1-<8 hex of the base URL>`: one budget per account and address."""
    account = re.sub(r"[^a-z0-9_-]+", "_", account_id.strip().lower())
    return f"{account}-{hashlib.sha256(base_url.rstrip('/').encode()).hexdigest()[:8]}"


def _warehouse(settings: BudgetSettings) -> Any:
    from ns_pipelines.warehouse.engine import resolve_warehouse_url

    return resolve_warehouse_url(settings.warehouse_url)


def default_budget_dir(settings: BudgetSettings) -> Path:
    """NS_BUDGET_DIR, else `netsuite-budget/` beside a SQLite warehouse file, else .data/netsuite-budget.

    Beside the warehouse: processes that share a warehouse share a budget, whatever their cwd.
    """
    if settings.directory:
        return Path(settings.directory)
    url = _warehouse(settings)
    database = url.database or ""
    if url.get_backend_name() == "sqlite" and database not in ("", ":memory:") and not database.startswith("file:"):
        return Path(database).resolve().parent / BUDGET_DIR_NAME
    return (Path.cwd() / ".data" / BUDGET_DIR_NAME).resolve()


def _libpq_conninfo(url: Any) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


# Clients hold their budget; the registry only lets clients of one process share it, and forgets a
# budget no client uses any more (a test suite starts hundreds of sandboxes: descriptors add up).
_shared: "weakref.WeakValueDictionary[tuple[Any, ...], Any]" = weakref.WeakValueDictionary()
_shared_lock = threading.Lock()


def shared_budget(account_id: str, base_url: str, slots: int, settings: BudgetSettings | None = None) -> SharedBudget:
    """The process's budget for this account (one per account, address and size, shared by clients)."""
    settings = settings or BudgetSettings.from_env()
    mode = settings.mode
    if mode == "off":
        return NoBudget(slots)
    url = _warehouse(settings) if mode in ("auto", "postgres") else None
    if mode == "auto":
        mode = "postgres" if url.get_backend_name() == "postgresql" else "files"
    name = budget_name(account_id, base_url)
    if mode == "postgres":
        if url.get_backend_name() != "postgresql":
            raise ValueError(f"{MODE_ENV}=postgres needs a PostgreSQL warehouse (NS_WAREHOUSE_URL)")
        key: tuple[Any, ...] = ("postgres", _libpq_conninfo(url), name, slots, _fork_generation)
    else:
        key = ("files", str(default_budget_dir(settings) / name), name, slots, _fork_generation)
    with _shared_lock:
        budget: SharedBudget | None = _shared.get(key)
        if budget is None:
            if mode == "postgres":
                budget = AdvisoryLockBudget(key[1], advisory_key(account_id, base_url), slots)
            else:
                budget = FileSlotBudget(key[1], slots)
            _shared[key] = budget
        return budget


__all__ = ["AdvisoryLockBudget", "BudgetSettings", "FileSlotBudget", "Lease", "NO_LEASE", "NoBudget", "SharedBudget",
           "advisory_key", "budget_name", "default_budget_dir", "shared_budget"]
