"""Group commit: one writer thread stores the events of concurrent requests in shared transactions.

    writer = GroupCommitWriter(write_batch)        # write_batch(rows) -> {event_id: inbox id} it inserted
    result = writer.submit(row, timeout=10.0)      # blocks until the row's batch has committed

A request hands its row to the writer and waits. The writer takes every row waiting at that moment
(at most `max_batch`), writes them in one transaction, and only after its commit tells each waiter
whether its event was inserted or was already there. While one batch commits, the next one fills
up, so the number of transactions (and fsyncs, and lock hand-overs) follows the commit rate, not
the request rate. Never acknowledged before it is durable: a failed batch fails every request in
it, and a request that stops waiting (timeout) is answered as not stored even if its batch commits
later (the sender then retries and gets "duplicate").

One writer per process also keeps inbox ids in commit order without any writer waiting on another
writer's lock inside the database (SQLite's busy handler sleeps in steps of up to 100 ms).
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("ns_pipelines.webhooks")

DEFAULT_MAX_BATCH = 500

Row = dict[str, Any]
WriteBatch = Callable[[list[Row]], Mapping[str, int]]


@dataclass(frozen=True)
class Stored:
    inbox_id: int | None  # None: the event_id was stored before (or earlier in the same batch)
    duplicate: bool


class WriterClosed(RuntimeError):
    """The writer was closed before the row was written."""


class WriteTimeout(RuntimeError):
    """The row's batch did not commit within the caller's timeout (it may still commit later)."""


@dataclass
class _Pending:
    row: Row
    future: Future


class GroupCommitWriter:
    """A writer thread batching the rows of concurrent `submit` calls into one transaction each.

    `write_batch(rows)` gets rows with distinct event ids, must write them in one transaction, and
    returns the event ids it inserted with their inbox ids (conflicting ids are left out); any
    exception it raises fails the whole batch and is re-raised to every caller in it.
    """

    def __init__(self, write_batch: WriteBatch, *, max_batch: int = DEFAULT_MAX_BATCH,
                 name: str = "inbox-writer") -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._write_batch = write_batch
        self._max_batch = max_batch
        self._name = name
        self._queue: list[_Pending] = []
        self._cond = threading.Condition()
        self._closed = False
        self._thread: threading.Thread | None = None
        self.batches = 0  # statistics: transactions committed, rows in them
        self.rows = 0

    def submit(self, row: Row, *, timeout: float | None = None) -> Stored:
        """Queue `row` (it must carry "event_id") and wait until its batch has committed."""
        pending = _Pending(row, Future())
        with self._cond:
            if self._closed:
                raise WriterClosed("the inbox writer is closed")
            self._queue.append(pending)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            self._cond.notify()
        try:
            return pending.future.result(timeout)
        except FutureTimeout:
            raise WriteTimeout(f"the warehouse did not commit within {timeout:g} s") from None

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, then stop the thread."""
        with self._cond:
            self._closed = True
            self._cond.notify()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _take(self) -> list[_Pending] | None:
        with self._cond:
            while not self._queue and not self._closed:
                self._cond.wait()
            if not self._queue:
                return None  # closed and drained
            batch, self._queue = self._queue[:self._max_batch], self._queue[self._max_batch:]
            return batch

    def _run(self) -> None:
        while (batch := self._take()) is not None:
            self._write(batch)

    def _write(self, batch: list[_Pending]) -> None:
        first: dict[str, Row] = {}
        for pending in batch:
            first.setdefault(pending.row["event_id"], pending.row)
        try:
            inserted = self._write_batch(list(first.values()))
        except BaseException as exc:  # noqa: BLE001 - handed to every waiter of the batch
            for pending in batch:
                pending.future.set_exception(exc)
            return
        self.batches += 1
        self.rows += len(inserted)
        for pending in batch:
            event_id = pending.row["event_id"]
            mine = first.get(event_id) is pending.row  # later copies in the same batch are duplicates
            inbox_id = inserted.get(event_id) if mine else None
            pending.future.set_result(Stored(inbox_id=inbox_id, duplicate=inbox_id is None))
