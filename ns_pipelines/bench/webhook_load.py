"""The load of `ns-pipelines bench webhooks`: sender processes posting signed change events over
keep-alive connections at bounded concurrency, each event retried until it is acknowledged.

    figures = run_load("127.0.0.1", port, "bench-1234-", events=20_000, duplicate_every=10, processes=2,
                       concurrency=32, secret=SECRET)

Each sender process runs `concurrency / processes` threads with one http.client connection each
(every thread waits for its answer: at most `concurrency` requests in flight). Events are signed
when sent. A duplicate follows its original in the sending order, so the two go to different
processes (or threads) and are in flight together. A 503 or a dropped connection is retried
(backoff 50 ms doubling to 1 s: faster than the receiver's Retry-After of 5 s, so that a run stays
short); any other answer is counted and not retried.
"""
from __future__ import annotations

import http.client
import json
import multiprocessing
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection

from ..webhooks.signature import SIGNATURE_HEADER, sign

ACCOUNT = "1234567_SB1"
PATH = "/netsuite/events"
RECORD_TYPES = ("invoice", "customerpayment", "customer", "creditmemo", "deposit", "journalentry")
START_TIMEOUT_S = 120.0
GIVE_UP_AFTER_S = 120.0  # a sender stops retrying one event after this long (reported, never hidden)
READY = "ready"


@dataclass(frozen=True)
class SenderJob:
    host: str
    port: int
    prefix: str
    secret: str
    sends: tuple[int, ...]  # event numbers to send, in order (a duplicate appears in two jobs)
    threads: int


@dataclass
class SenderFigures:
    acknowledged: set[str] = field(default_factory=set)  # event ids answered 202
    acknowledged_duplicate: int = 0  # 202 {"duplicate": true}
    requests: int = 0
    unavailable: int = 0  # 503 answers
    dropped: int = 0  # connection errors and timeouts
    other: Counter[int] = field(default_factory=Counter)  # any other status (should stay empty)
    gave_up: int = 0
    latencies: list[float] = field(default_factory=list)  # seconds per 202 (its last attempt)
    unavailable_at: list[float] = field(default_factory=list)  # wall clock of each 503
    started: float = 0.0
    finished: float = 0.0

    def merge(self, other: "SenderFigures") -> None:
        self.acknowledged |= other.acknowledged
        self.acknowledged_duplicate += other.acknowledged_duplicate
        self.requests += other.requests
        self.unavailable += other.unavailable
        self.dropped += other.dropped
        self.other.update(other.other)
        self.gave_up += other.gave_up
        self.latencies.extend(other.latencies)
        self.unavailable_at.extend(other.unavailable_at)
        self.started = min(self.started or other.started, other.started)
        self.finished = max(self.finished, other.finished)


def event_body(prefix: str, number: int) -> bytes:
    """The change event number `number` of a run, as the SuiteScript sends it."""
    body = {"event_id": f"{prefix}{number}", "account": ACCOUNT, "record_type": RECORD_TYPES[number % len(RECORD_TYPES)],
            "record_id": str(1000 + number % 997), "event": "edit",
            "occurred_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    return json.dumps(body, separators=(",", ":")).encode()


class _Sender:
    """One thread's keep-alive connection; sends an event until it is acknowledged."""

    def __init__(self, job: SenderJob, figures: SenderFigures, lock: threading.Lock) -> None:
        self.job, self.figures, self.lock = job, figures, lock
        self.conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.job.host, self.job.port, timeout=60)
        return self.conn

    def _reset(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.conn = None

    def send(self, number: int) -> None:
        body = event_body(self.job.prefix, number)
        deadline = time.monotonic() + GIVE_UP_AFTER_S
        backoff = 0.05
        while True:
            started = time.perf_counter()
            status, answer = self._post(body)
            elapsed = time.perf_counter() - started
            with self.lock:
                f = self.figures
                f.requests += 1
                if status == 202:
                    f.acknowledged.add(f"{self.job.prefix}{number}")
                    f.acknowledged_duplicate += bool(json.loads(answer).get("duplicate"))
                    f.latencies.append(elapsed)
                    return
                if status == 503:
                    f.unavailable += 1
                    f.unavailable_at.append(time.time())
                elif status == 0:
                    f.dropped += 1
                else:
                    f.other[status] += 1
                    return  # 400/401/413: retrying would not help
                if time.monotonic() > deadline:
                    f.gave_up += 1
                    return
            time.sleep(backoff)
            backoff = min(1.0, backoff * 2)

    def _post(self, body: bytes) -> tuple[int, bytes]:
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(body, self.job.secret)}
        try:
            conn = self._connection()
            conn.request("POST", PATH, body=body, headers=headers)
            response = conn.getresponse()
            answer = response.read()
            if response.will_close:
                self._reset()
            return response.status, answer
        except (OSError, http.client.HTTPException):
            self._reset()
            return 0, b""


def _send_all(job: SenderJob) -> SenderFigures:
    figures = SenderFigures()
    lock = threading.Lock()
    queue = iter(job.sends)

    def work() -> None:
        sender = _Sender(job, figures, lock)
        while True:
            with lock:
                number = next(queue, None)
            if number is None:
                break
            sender.send(number)
        sender._reset()  # noqa: SLF001

    threads = [threading.Thread(target=work, name=f"sender-{i}") for i in range(job.threads)]
    figures.started = time.time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    figures.finished = time.time()
    return figures


def _sender_process(job: SenderJob, go: "multiprocessing.synchronize.Event", out: Connection) -> None:
    try:
        out.send(READY)  # imported and ready: the parent starts the clock once every sender is
        go.wait(300)
        out.send(_send_all(job))
    except BaseException:  # noqa: BLE001 - reported by the parent
        out.send(traceback.format_exc())
    finally:
        out.close()


def plan_sends(events: int, duplicate_every: int, processes: int) -> list[tuple[int, ...]]:
    """Event numbers per sender process. A duplicate follows its original in the global order, so
    the two are dealt to different processes (or, with one process, to different threads) and are
    in flight together."""
    order: list[int] = []
    for number in range(events):
        order.append(number)
        if duplicate_every and number % duplicate_every == 0:
            order.append(number)
    return [tuple(order[p::processes]) for p in range(processes)]


def run_load(host: str, port: int, prefix: str, *, events: int, duplicate_every: int, processes: int,
             concurrency: int, secret: str, on_ready: Callable[[], None] | None = None) -> SenderFigures:
    """Send `events` events from `processes` sender processes; `on_ready()` runs once every sender
    has started, just before they are let go (the outage starts there). The merged figures."""
    context = multiprocessing.get_context("spawn")
    go = context.Event()
    threads_each = max(1, concurrency // processes)
    pipes, children = [], []
    for number, sends in enumerate(plan_sends(events, duplicate_every, processes)):
        receiver, sender = context.Pipe(duplex=False)
        job = SenderJob(host, port, prefix, secret, sends, threads_each)
        child = context.Process(target=_sender_process, args=(job, go, sender), name=f"bench-sender-{number}")
        child.start()
        sender.close()
        pipes.append(receiver)
        children.append(child)
    for receiver in pipes:  # spawned interpreters take a while to import: wait for each one
        if not receiver.poll(START_TIMEOUT_S) or receiver.recv() != READY:
            raise RuntimeError("a sender process did not start")
    if on_ready is not None:
        on_ready()
    started = time.time()
    go.set()
    merged = SenderFigures()
    for receiver, child in zip(pipes, children):
        try:
            outcome = receiver.recv() if receiver.poll(GIVE_UP_AFTER_S * 5) else "no answer from the sender process"
        except EOFError:
            outcome = "the sender process died"
        child.join()
        if isinstance(outcome, str):
            raise RuntimeError(f"a sender process failed: {outcome}")
        merged.merge(outcome)
    merged.started = started
    return merged
