"""The Stripe sandbox's clock: wall time plus an offset an admin can move (kept across restarts).

The seed pins it to past instants so objects, balance transactions and events carry their
historical times; `advance` moves it forward so balances become available, payouts arrive and
pending ACH debits settle (the account runs those transitions after every move).
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from .store import StripeStore

OFFSET_KEY = "clock_offset_seconds"


class Clock:
    def __init__(self, store: StripeStore) -> None:
        self._store = store
        self._offset = float(store.get_meta(OFFSET_KEY, "0") or 0)
        self._local = threading.local()

    @property
    def offset(self) -> float:
        return self._offset

    def set_offset(self, seconds: float) -> None:
        self._offset = float(seconds)
        self._store.set_meta(OFFSET_KEY, repr(self._offset))

    def now(self) -> int:
        """Unix seconds: the pinned instant while seeding, else wall time plus the offset."""
        pinned = getattr(self._local, "pinned", None)
        if pinned is not None:
            return pinned
        return int(time.time() + self._offset)

    @contextmanager
    def pinned(self, instant: int) -> Iterator[None]:
        """Make `now()` return `instant` in this thread (the seed replays history this way)."""
        previous = getattr(self._local, "pinned", None)
        self._local.pinned = int(instant)
        try:
            yield
        finally:
            self._local.pinned = previous
