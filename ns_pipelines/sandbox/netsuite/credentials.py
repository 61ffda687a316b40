"""The sandbox account's credentials: generated once per data directory, kept in `sandbox_meta`.

A restarted sandbox keeps its credentials (a credentials file written earlier stays valid), and
revocations survive restarts too. Secrets are random; nothing here is derived from the seed.
"""
from __future__ import annotations

import json
import os
import secrets
import threading
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from .store import Store

META_KEY = "sandbox_credentials"
TOKENS_KEY = "sandbox_tba_tokens"
OAUTH2_REVOCATIONS_KEY = "sandbox_oauth2_revocations"


def _hex(n: int) -> str:
    return secrets.token_hex(n)


def _rsa_keypair() -> tuple[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private_pem, public_pem


@dataclass
class SandboxCredentials:
    """Everything a client needs to talk to the sandbox account, plus the sandbox's own keys.

    - TBA (OAuth 1.0a): consumer key/secret (the integration record) and token id/secret (the
      access token of the integration user and role). NetSuite's values are 64 hex characters.
    - OAuth 2.0 client credentials: client id (the integration record), certificate id (the M2M
      mapping) and the client's RSA private key; the matching public key is what the account
      verifies the client's JWT assertion with.
    - The admin token for the sandbox-only admin API.
    - `server_private_key`: the sandbox's key for signing the access tokens it issues (NetSuite
      signs its access tokens PS256 too); never handed to clients.
    """

    consumer_key: str
    consumer_secret: str
    token_id: str
    token_secret: str
    admin_token: str
    client_id: str
    certificate_id: str
    private_key: str  # PEM, the client's (NETSUITE_PRIVATE_KEY)
    public_key: str  # PEM, registered with the account for the certificate id
    server_private_key: str = field(repr=False, default="")
    server_key_id: str = ""

    def __repr__(self) -> str:  # never print secrets
        return f"SandboxCredentials(consumer_key={self.consumer_key[:8]}…, token_id={self.token_id[:8]}…)"

    @classmethod
    def generate(cls) -> "SandboxCredentials":
        private_key, public_key = _rsa_keypair()
        server_private_key, _ = _rsa_keypair()
        return cls(
            consumer_key=_hex(32), consumer_secret=_hex(32),
            token_id=_hex(32), token_secret=_hex(32),
            admin_token="sbx_admin_" + secrets.token_urlsafe(24),
            client_id=_hex(32), certificate_id=secrets.token_urlsafe(32),
            private_key=private_key, public_key=public_key,
            server_private_key=server_private_key, server_key_id=_hex(16),
        )

    @classmethod
    def load_or_create(cls, store: Store) -> "SandboxCredentials":
        raw = store.get_meta(META_KEY)
        if raw is not None:
            data = json.loads(raw)
            names = {f.name for f in fields(cls)}
            return cls(**{k: v for k, v in data.items() if k in names})
        creds = cls.generate()
        creds.save(store)
        return creds

    def save(self, store: Store) -> None:
        store.set_meta(META_KEY, json.dumps(asdict(self)))


class TokenRegistry:
    """TBA access tokens of the account (id -> secret, revoked flag), persisted in sandbox_meta,
    and OAuth 2.0 revocations (access token ids, and per-client 'revoked before' times)."""

    def __init__(self, store: Store, credentials: SandboxCredentials) -> None:
        self._store = store
        self._creds = credentials
        self._lock = threading.Lock()
        raw = store.get_meta(TOKENS_KEY)
        self._tokens: dict[str, dict[str, Any]] = json.loads(raw) if raw else {}
        if credentials.token_id not in self._tokens:
            self._tokens[credentials.token_id] = {"secret": credentials.token_secret, "revoked": False,
                                                  "consumer_key": credentials.consumer_key,
                                                  "created": int(time.time())}
            self._save_tokens()
        raw = store.get_meta(OAUTH2_REVOCATIONS_KEY)
        data = json.loads(raw) if raw else {}
        self._revoked_jtis: set[str] = set(data.get("jtis", []))
        self._client_revoked_before: dict[str, float] = data.get("clients", {})

    # --- TBA tokens
    def _save_tokens(self) -> None:
        self._store.set_meta(TOKENS_KEY, json.dumps(self._tokens))

    def token_secret(self, consumer_key: str, token_id: str) -> tuple[str | None, str]:
        """(secret, reason): secret None when the token cannot be used; reason for the audit trail."""
        token = self._tokens.get(token_id)
        if token is None:
            return None, "InvalidToken"
        if token.get("revoked"):
            return None, "TokenRevoked"
        if token.get("consumer_key", consumer_key) != consumer_key:
            return None, "InvalidToken"  # token belongs to another integration
        return token["secret"], ""

    def issue(self, *, make_default: bool = True) -> tuple[str, str]:
        """A new access token for the integration user and role (what the UI's 'New Access Token' does)."""
        token_id, secret = _hex(32), _hex(32)
        with self._lock:
            self._tokens[token_id] = {"secret": secret, "revoked": False,
                                      "consumer_key": self._creds.consumer_key, "created": int(time.time())}
            self._save_tokens()
            if make_default:
                self._creds.token_id, self._creds.token_secret = token_id, secret
                self._creds.save(self._store)
        return token_id, secret

    def revoke(self, token_id: str) -> bool:
        with self._lock:
            token = self._tokens.get(token_id)
            if token is None:
                return False
            token["revoked"] = True
            self._save_tokens()
            return True

    def list(self) -> list[dict[str, Any]]:
        return [{"token_id": k, "revoked": bool(v.get("revoked")), "created": v.get("created"),
                 "consumer_key": v.get("consumer_key")} for k, v in self._tokens.items()]

    # --- OAuth 2.0 access tokens
    def _save_oauth2(self) -> None:
        self._store.set_meta(OAUTH2_REVOCATIONS_KEY, json.dumps(
            {"jtis": sorted(self._revoked_jtis), "clients": self._client_revoked_before}))

    def revoke_access_token(self, jti: str) -> None:
        with self._lock:
            self._revoked_jtis.add(jti)
            self._save_oauth2()

    def revoke_client(self, client_id: str) -> None:
        """Every access token issued to the client so far stops working."""
        with self._lock:
            self._client_revoked_before[client_id] = time.time()
            self._save_oauth2()

    def access_token_revoked(self, jti: str, client_id: str, issued_at: float) -> bool:
        if jti in self._revoked_jtis:
            return True
        before = self._client_revoked_before.get(client_id)
        return before is not None and issued_at <= before


def write_json_0600(path: Path | str, data: dict[str, str]) -> Path:
    """Write a JSON file readable by the owner only (created with mode 0600, never world-readable)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh, indent=2)
        fh.write("\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path
