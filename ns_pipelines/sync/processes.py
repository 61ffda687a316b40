"""A full sync of several record types in worker processes, on one concurrency budget.

Why: the client spends about 50 us of CPU per row decoding, validating and writing a page. One
Python process runs that on one core at a time (the GIL), which caps it near 18,000 rows/s,
below what the API allows with five requests in flight (25,000 rows/s at 200 ms a page). A full
(or first) sync of several record types therefore splits them into groups, one per spawned
worker process, and each worker syncs its group with threads exactly as `iter_sync_concurrently`
does in one process (the same passes, batches, cursors and soft deletes).

When (`use_processes`): mode "full", or a record type without a cursor (a first sync or an
interrupted full pass); more than one record type to sync; `settings.worker_processes` > 1
(NS_SYNC_PROCESSES, default the CPUs, at most 4); a warehouse other processes can open (a SQLite
file or PostgreSQL); a client whose budget is shared across processes (netsuite/budget.py) and
that has no injected session. Otherwise threads, in this process. Incremental syncs stay in the
calling process: they read little, and a worker costs one to two seconds of imports to start.

Budget: each worker's client takes its slots from the calling client's shared budget (the same
slot files, or advisory locks on a connection of its own), so all the processes together never
have more than NETSUITE_CONCURRENCY requests in flight.

The calling process forwards every worker request event to its own client's request hooks (API
usage monitoring sees every request), adds the workers' client statistics to its client's,
calls `progress` for the workers' batches (one call at a time, in the calling thread) and yields
each result as it arrives. Errors: a record type that fails lets the others finish, as with
threads; a worker that dies fails the record types it had not finished, naming its exit code.
Stopping (the iterator closed, an exception from `progress`, the run terminated): every worker
stops after its current batch (committed batches stay, the next run resumes), and is killed if
it has not stopped within STOP_TIMEOUT_S. A worker whose parent has gone stops too.
"""
from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import os
import pickle
import queue
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event
from typing import Any

from sqlalchemy import Engine, select

from ns_pipelines.netsuite import NetSuiteClient, NetSuiteConfig
from ns_pipelines.netsuite.budget import NoBudget, SharedBudget
from ns_pipelines.sync.runner import Progress, SyncResult
from ns_pipelines.sync.settings import SyncSettings

logger = logging.getLogger(__name__)

__all__ = ["STOP_TIMEOUT_S", "WEIGHTS", "LocalGroup", "plan_groups", "run_in_processes", "use_processes"]

STOP_TIMEOUT_S = 60.0
_POLL_S = 0.5
# Relative sizes of the record types in a typical A/R account (an application per payment and
# invoice pair outnumbers every document), to balance the groups: the largest group bounds the run.
WEIGHTS = {"paymentapplication": 4.0, "invoice": 2.0, "customerpayment": 2.0, "journalentry": 1.0,
           "creditmemo": 0.5, "customer": 0.5, "deposit": 0.3, "customerrefund": 0.2}


@dataclasses.dataclass(frozen=True)
class _WorkerSpec:
    """What a worker needs to rebuild the caller's client and engine: all of it picklable."""

    config: NetSuiteConfig
    budget: SharedBudget
    warehouse_url: str
    settings: SyncSettings
    mode: str
    run_id: str
    record_types: tuple[str, ...]


# -------------------------------------------------------------------------------------------
# Deciding


def _needs_full_pass(engine: Engine, record_types: Sequence[str]) -> bool:
    from ns_pipelines.warehouse import sync_state

    c = sync_state.c
    with engine.connect() as conn:
        rows = conn.execute(select(c.record_type, c.cursor_last_modified, c.window_mode)
                            .where(c.record_type.in_(list(record_types)))).all()
    cursors = {row.record_type: row for row in rows}
    return any(rt not in cursors or cursors[rt].cursor_last_modified is None or cursors[rt].window_mode == "full"
               for rt in record_types)


def use_processes(client: NetSuiteClient, engine: Engine, record_types: Sequence[str], *, settings: SyncSettings,
                  mode: str) -> int:
    """Worker processes for this sync (module docstring, "When"); 0: sync in this process."""
    processes = min(settings.worker_processes, len(record_types))
    if processes < 2 or multiprocessing.current_process().daemon:
        return 0
    if engine.url.get_backend_name() == "sqlite" and engine.url.database in (None, "", ":memory:"):
        return 0
    if isinstance(client.budget, NoBudget) or not client.rebuildable:
        return 0  # the workers could not share the budget, or would not use the caller's transport
    if mode != "full" and not _needs_full_pass(engine, record_types):
        return 0
    return processes


def plan_groups(record_types: Sequence[str], processes: int) -> list[list[str]]:
    """Split the record types into at most `processes` groups of about equal WEIGHTS (largest
    first, each to the lightest group), each group in its given order."""
    groups: list[list[str]] = [[] for _ in range(max(1, processes))]
    loads = [0.0] * len(groups)
    for rt in sorted(record_types, key=lambda r: -WEIGHTS.get(r, 0.5)):
        lightest = loads.index(min(loads))
        groups[lightest].append(rt)
        loads[lightest] += WEIGHTS.get(rt, 0.5)
    order = {rt: i for i, rt in enumerate(record_types)}
    return [sorted(group, key=order.__getitem__) for group in groups if group]


# -------------------------------------------------------------------------------------------
# A worker


def _portable(exc: BaseException) -> BaseException:
    """The exception itself if it survives pickling, else a RuntimeError carrying its text; with
    the worker's traceback as a note either way."""
    detail = "".join(traceback.format_exception(exc)).rstrip()
    try:
        copy = pickle.loads(pickle.dumps(exc))
    except Exception:  # noqa: BLE001 - e.g. an exception class whose __init__ takes other arguments
        copy = RuntimeError(f"{type(exc).__name__}: {exc}")
    copy.add_note(f"in sync worker process {os.getpid()}:\n{detail}")
    return copy


def _work(spec: _WorkerSpec, messages: Any, stop: Event) -> None:
    """A worker's life: sync its record types with threads, reporting everything to the parent."""
    from ns_pipelines.sync.concurrent import ConcurrentSyncError, Stopped, iter_sync_concurrently
    from ns_pipelines.warehouse import create_warehouse_engine

    parent, pid = os.getppid(), os.getpid()
    client = engine = None

    def send(*message: Any) -> None:
        messages.put((pid, message))

    try:
        client = NetSuiteClient(spec.config, budget=spec.budget)
        client.add_request_hook(lambda event: send("request", event))
        engine = create_warehouse_engine(spec.warehouse_url)

        def progress(stage: str, rows: int) -> None:
            if stop.is_set() or os.getppid() != parent:
                raise Stopped(stage)
            send("progress", stage, rows)

        settings = dataclasses.replace(spec.settings, processes=1)
        for result in iter_sync_concurrently(client, engine, spec.record_types, settings=settings, mode=spec.mode,
                                             progress=progress, run_id=spec.run_id):
            send("result", result)
    except ConcurrentSyncError as exc:
        for record_type, error in exc.errors.items():
            send("error", record_type, _portable(error))
    except BaseException as exc:  # noqa: BLE001 - reported by the parent for every unfinished record type
        send("failed", _portable(exc))
    finally:
        if client is not None:
            send("stats", client.stats.snapshot())
            client.close()
        if engine is not None:
            engine.dispose()
        send("done")
    # Everything is said and in the pipe once the queue's feeder has flushed. The interpreter's
    # own teardown (a spawned process exits through sys.exit) took 0.3 s on a busy 2-core machine,
    # and the parent waits for this process to exit: leave now.
    messages.close()
    messages.join_thread()
    logging.shutdown()
    os._exit(0)


# -------------------------------------------------------------------------------------------
# The parent

LOCAL = 0  # the message key of the group synced in this process (a pid is never 0)


@dataclasses.dataclass(frozen=True)
class LocalGroup:
    """The group synced in this process, in a thread, while the workers start: `run()` yields its
    results (its failures are the caller's to record), `stop()` makes it stop after its batches."""

    record_types: Sequence[str]
    run: Callable[[], Iterator[SyncResult]]
    stop: Callable[[], None]


class _Worker:
    """A group of record types being synced: in a worker process, or in a thread of this one."""

    def __init__(self, record_types: Sequence[str], process: BaseProcess | None = None,
                 thread: threading.Thread | None = None) -> None:
        self.process = process
        runner = process if process is not None else thread
        assert runner is not None, "a group runs in a process or in a thread"
        self.runner: BaseProcess | threading.Thread = runner
        self.key = process.pid if process is not None else LOCAL
        self.unfinished = list(record_types)
        self.done = False

    def finish(self, record_type: str) -> None:
        if record_type in self.unfinished:
            self.unfinished.remove(record_type)


class _Parent:
    def __init__(self, client: NetSuiteClient, progress: Progress | None) -> None:
        self.client = client
        self.progress = progress
        self.workers: dict[int | None, _Worker] = {}
        self.errors: dict[str, BaseException] = {}

    def handle(self, key: int | None, message: tuple[Any, ...]) -> SyncResult | None:
        worker, kind = self.workers[key], message[0]
        if kind == "request":
            self.client.emit_request_event(message[1])
        elif kind == "progress":
            if self.progress is not None:
                self.progress(message[1], message[2])
        elif kind == "result":
            worker.finish(message[1].record_type)
            return message[1]
        elif kind == "error":
            worker.finish(message[1])
            self.errors[message[1]] = message[2]
        elif kind == "failed":
            for record_type in worker.unfinished:
                self.errors.setdefault(record_type, message[1])
            worker.unfinished.clear()
        elif kind == "stats":
            self.client.stats.merge(message[1])
        elif kind == "done":
            worker.done = True
        return None

    def lost(self, worker: _Worker) -> None:
        """A worker process that exited without saying it was done (killed, or crashed)."""
        worker.done = True
        code = worker.process.exitcode if worker.process is not None else None
        for record_type in worker.unfinished:
            self.errors.setdefault(record_type, RuntimeError(
                f"the sync worker process for {record_type} exited with code {code} before finishing it"))
        worker.unfinished.clear()


def _run_local(local: LocalGroup, messages: Any) -> None:
    def send(*message: Any) -> None:
        messages.put((LOCAL, message))

    try:
        for result in local.run():
            send("result", result)
    except BaseException as exc:  # noqa: BLE001 - reported like a worker's
        send("failed", _portable(exc))
    finally:
        send("done")


def run_in_processes(client: NetSuiteClient, engine: Engine, groups: Sequence[Sequence[str]], *,
                     settings: SyncSettings, mode: str, progress: Progress | None, run_id: str,
                     errors: dict[str, BaseException], local: LocalGroup | None = None,
                     on_all_done: Callable[[dict[str, BaseException]], None] | None = None) -> Iterator[SyncResult]:
    """Sync each group of record types in a worker process (and `local` in a thread here); yield
    each SyncResult as it arrives, and put the failed record types' exceptions into `errors`.
    `on_all_done(errors)` is called as soon as every group has finished, before the worker
    processes are waited for (they take a moment to exit)."""
    context = multiprocessing.get_context("spawn")
    from_workers = context.Queue()
    # Everything reaches this thread through one in-process queue: the workers' messages through
    # a pump thread, the local group's directly. This process never puts into the multiprocessing
    # queue: its feeder thread would close the queue's pipes while the queue is being freed here.
    messages: queue.Queue[tuple[int | None, tuple[Any, ...]]] = queue.Queue()
    pumping = threading.Event()
    pump = threading.Thread(target=_pump, args=(from_workers, messages, pumping, len(groups)), name="ns-sync-pump",
                            daemon=True)
    stop = context.Event()
    url = engine.url.render_as_string(hide_password=False)
    parent = _Parent(client, progress)
    try:
        for index, group in enumerate(groups):
            spec = _WorkerSpec(config=client.config, budget=client.budget, warehouse_url=url, settings=settings,
                               mode=mode, run_id=run_id, record_types=tuple(group))
            process = context.Process(target=_work, args=(spec, from_workers, stop), name=f"ns-sync-worker-{index}",
                                      daemon=True)
            process.start()
            worker = _Worker(group, process=process)
            parent.workers[worker.key] = worker
        pumping.set()
        pump.start()
        if local is not None:
            thread = threading.Thread(target=_run_local, args=(local, messages), name="ns-sync-local", daemon=True)
            parent.workers[LOCAL] = _Worker(local.record_types, thread=thread)
            thread.start()
        logger.info("full sync in %d processes: %s", len(parent.workers),
                    "; ".join(", ".join(w.unfinished) for w in parent.workers.values()))
        yield from _drain(parent, messages)
        if on_all_done is not None:
            on_all_done(dict(parent.errors))
    finally:
        try:
            _stop(parent, stop, messages, local)
        finally:
            errors.update(parent.errors)
            pumping.clear()
            if pump.is_alive():
                pump.join()
            from_workers.close()


def _pump(source: Any, into: queue.Queue[Any], pumping: threading.Event, workers: int) -> None:
    """Move the workers' messages into this process's queue until every worker has said "done"
    (the last thing a worker sends), or until told to stop."""
    done = 0
    while pumping.is_set() and done < workers:
        try:
            message = source.get(timeout=0.1)
        except queue.Empty:
            continue
        except (EOFError, OSError):  # the queue's pipe is gone: nothing more will come
            return
        into.put(message)
        if message[1][0] == "done":
            done += 1


def _drain(parent: _Parent, messages: Any) -> Iterator[SyncResult]:
    """Handle the messages until every group is done (or its process dead)."""
    while any(not w.done for w in parent.workers.values()):
        try:
            key, message = messages.get(timeout=_POLL_S)
        except queue.Empty:
            for worker in parent.workers.values():
                if not worker.done and not worker.runner.is_alive():
                    _drain_dead(parent, worker, messages)
            continue
        result = parent.handle(key, message)
        if result is not None:
            yield result


def _drain_dead(parent: _Parent, worker: _Worker, messages: Any) -> None:
    """Read what a dead worker sent before it died, then fail what it did not finish."""
    while not worker.done:
        try:
            key, message = messages.get(timeout=_POLL_S)
        except queue.Empty:
            break
        parent.handle(key, message)
    if not worker.done:
        parent.lost(worker)


def _stop(parent: _Parent, stop: Event, messages: Any, local: LocalGroup | None) -> None:
    """Stop every group after its current batch, reading the messages meanwhile (a worker cannot
    exit before its queue is read); kill the workers that have not stopped in time."""
    runners = [w.runner for w in parent.workers.values()]
    if any(not w.done for w in parent.workers.values()):
        stop.set()
        if local is not None:
            local.stop()
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while any(r.is_alive() for r in runners) and time.monotonic() < deadline:
        try:
            key, message = messages.get(timeout=0.01)
        except queue.Empty:
            continue
        if message[0] != "result":  # nobody reads results any more; errors, stats and requests still count
            parent.handle(key, message)
    for worker in parent.workers.values():
        if worker.process is not None:
            if worker.process.is_alive():
                logger.warning("sync worker %s did not stop within %.0f s: killing it", worker.key, STOP_TIMEOUT_S)
                worker.process.kill()
            worker.process.join()
