"""Items from several generators read in worker threads, merged as they arrive.

Used to read id ranges of one keyset query in parallel (the client's limiter still caps requests
in flight). Closing the merged iterator stops the workers after their current item; an error in
a worker is raised to the consumer.
"""
from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
Source = Callable[[threading.Event], Iterator[T]]

_DONE = object()


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def fan_in(sources: Sequence[Source[T]], *, workers: int, thread_name: str) -> Iterator[T]:
    """Run each source (given a cancel event) in at most `workers` threads; yield every item."""
    if not sources:
        return
    workers = max(1, min(workers, len(sources)))
    results: queue.Queue[object] = queue.Queue(maxsize=2 * workers)
    cancel = threading.Event()

    def put(item: object) -> bool:
        while not cancel.is_set():
            try:
                results.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work(source: Source[T]) -> None:
        try:
            for item in source(cancel):
                if not put(item):
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            put(_Failure(exc))
        finally:
            put(_DONE)

    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=thread_name)
    try:
        for source in sources:
            pool.submit(work, source)
        remaining = len(sources)
        while remaining:
            item = results.get()
            if item is _DONE:
                remaining -= 1
            elif isinstance(item, _Failure):
                raise item.exc
            else:
                yield item  # type: ignore[misc]
    finally:
        cancel.set()
        pool.shutdown(wait=True, cancel_futures=True)
