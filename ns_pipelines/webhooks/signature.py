"""The change events' signature (behaviour.md 3), checked the way Stripe checks its webhooks.

    X-NS-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" keyed by the secret>

Several `v1` values may be present (the sender signs with every secret it holds while a secret is
being rotated) and the receiver may hold several secrets (NETSUITE_WEBHOOK_SECRET, comma list):
the body is authentic if any v1 matches any secret. Every candidate is compared with
hmac.compare_digest and the loop does not stop at the first match, so the time taken says nothing
about which part matched. A timestamp more than TOLERANCE_SECONDS from the receiver's clock, in
the past (a replay) or in the future, is refused.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import time
from collections.abc import Mapping, Sequence

SIGNATURE_HEADER = "X-NS-Signature"
SECRET_ENV = "NETSUITE_WEBHOOK_SECRET"
TOLERANCE_SECONDS = 300
SCHEME = "v1"
_MAX_HEADER = 4096  # a header with a handful of v1 values is ~70 bytes each


class SignatureError(ValueError):
    """The signature is missing, malformed, stale or does not match. The message says which,
    never what was expected."""


class SecretConfigError(ValueError):
    """NETSUITE_WEBHOOK_SECRET is unset or empty."""


def secrets_from_env(environ: Mapping[str, str] | None = None) -> list[str]:
    """The shared secrets, from NETSUITE_WEBHOOK_SECRET (comma-separated while rotating: current
    first, then the old one(s) until every sender has the new one)."""
    env = os.environ if environ is None else environ
    secrets = [s.strip() for s in (env.get(SECRET_ENV) or "").split(",") if s.strip()]
    if not secrets:
        raise SecretConfigError(
            f"{SECRET_ENV} is not set: set it to the secret the SuiteScript signs with "
            f"(comma-separated to accept several while rotating)")
    return secrets


def compute(body: bytes, secret: str, timestamp: int) -> str:
    """The hex v1 value for `body` signed at `timestamp` with `secret`."""
    return hmac.new(secret.encode(), f"{int(timestamp)}.".encode() + body, hashlib.sha256).hexdigest()


def sign(body: bytes | str, *secrets: str, timestamp: int | None = None) -> str:
    """A header value with one v1 per secret (what a sender holding several secrets sends)."""
    if not secrets:
        raise ValueError("sign() needs at least one secret")
    raw = body.encode() if isinstance(body, str) else body
    t = int(time.time()) if timestamp is None else int(timestamp)
    return ",".join([f"t={t}", *[f"{SCHEME}={compute(raw, s, t)}" for s in secrets]])


def parse_header(header: str | None) -> tuple[int, list[str]]:
    """(timestamp, v1 values) of a header value; SignatureError when it is not usable. Unknown
    schemes (v0, a future v2) are ignored, as Stripe's receivers do."""
    if header is None or not header.strip():
        raise SignatureError(f"missing {SIGNATURE_HEADER} header")
    if len(header) > _MAX_HEADER:
        raise SignatureError(f"{SIGNATURE_HEADER} header is too long")
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            continue
        key, value = key.strip(), value.strip()
        if key == "t":
            if not value.isascii() or not value.isdigit():
                raise SignatureError(f"{SIGNATURE_HEADER} timestamp t must be unix seconds")
            timestamp = int(value)
        elif key == SCHEME and value:
            signatures.append(value.lower())
    if timestamp is None:
        raise SignatureError(f"{SIGNATURE_HEADER} header has no timestamp (t=...)")
    if not signatures:
        raise SignatureError(f"{SIGNATURE_HEADER} header has no {SCHEME} signature")
    return timestamp, signatures


def verify(body: bytes, header: str | None, secrets: Sequence[str], *, tolerance: int = TOLERANCE_SECONDS,
           now: float | None = None) -> int:
    """Check `header` against the raw `body`; return the signed timestamp, or raise SignatureError.

    Every HMAC is computed for every well-formed header, stale or not, and a stale or future
    timestamp is reported before a mismatch: neither the time taken nor the message tells a
    caller whether its signature was right.
    """
    if not secrets:
        raise SecretConfigError(f"no webhook secret configured ({SECRET_ENV})")
    timestamp, signatures = parse_header(header)
    current = time.time() if now is None else now
    age = current - timestamp
    matched = False
    candidates = [c.encode("utf-8", "replace") for c in signatures]  # bytes: any header text compares
    for secret in secrets:
        expected = compute(body, secret, timestamp).encode()
        for candidate in candidates:
            matched |= hmac.compare_digest(expected, candidate)  # no early exit: every pair is compared
    if age > tolerance:
        raise SignatureError(f"timestamp too old: signed {int(age)} s ago, more than {tolerance} s (replay refused)")
    if -age > tolerance:
        raise SignatureError(f"timestamp in the future: {int(-age)} s ahead, more than {tolerance} s (check the clocks)")
    if not matched:
        raise SignatureError(f"no {SCHEME} signature matches the body and the configured secret(s)")
    return timestamp
