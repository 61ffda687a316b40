"""Stripe-looking object ids (`ch_3Pgafu...`): random at run time, from a seeded generator in the seed."""
from __future__ import annotations

import random
import secrets
import string

ALPHABET = string.digits + string.ascii_letters
ID_LENGTH = 24


class IdFactory:
    """Makes ids like `ch_1PgafuB7WZ01zgkWXYmPNZs8`; with an rng the sequence is reproducible."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng

    def new(self, prefix: str) -> str:
        if self._rng is None:
            tail = "".join(secrets.choice(ALPHABET) for _ in range(ID_LENGTH))
        else:
            tail = "".join(self._rng.choice(ALPHABET) for _ in range(ID_LENGTH))
        return f"{prefix}_{tail}"

    def secret(self, prefix: str, length: int = 32) -> str:
        return prefix + "".join(secrets.choice(ALPHABET) for _ in range(length))
