"""Authentication as NetSuite does it: OAuth 1.0a (TBA) and OAuth 2.0 client credentials.

Every failure answers the same 401 `INVALID_LOGIN` (errors.invalid_login); the real reason goes to
the login audit trail only (netsuite-api.md 1.2), readable through the admin API.

OAuth 1.0a (RFC 5849, netsuite-api.md 1.1):
- the signature base string is built with oauthlib's own helpers from the request as received:
  method, `scheme://Host-header/raw-path` (the port is kept), query parameters (`+` and `%20`
  both decode to a space), every oauth_* parameter of the Authorization header except realm and
  oauth_signature (oauth_body_hash included when a client sends one; its value is not checked),
  and the body's parameters when it is form-encoded (a JSON body is not signed);
- realm must equal the account id exactly as NetSuite writes it (upper case, underscore);
- only HMAC-SHA256; timestamp within 5 minutes; nonce of at least 6 characters, never reused for
  the same consumer and token while its timestamp is acceptable.
OAuth 2.0 (netsuite-api.md 1.3): client credentials grant with a JWT assertion (PS256/384/512 or
ES256/384/512, kid = certificate id, iss = client id, scope containing rest_webservices, aud = the
token URL, exp at most 60 minutes after iat); the access token is a PS256 JWT issued by
https://system.netsuite.com, valid one hour.
"""
from __future__ import annotations

import hmac
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from types import SimpleNamespace
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jwt
from oauthlib.oauth1.rfc5849 import signature as oauth_sig
from oauthlib.oauth1.rfc5849 import utils as oauth_utils

from .credentials import SandboxCredentials, TokenRegistry
from .errors import ApiError, invalid_login
from .settings import SandboxSettings

TIMESTAMP_WINDOW_S = 300
MIN_NONCE_LENGTH = 6
TOKEN_ISSUER = "https://system.netsuite.com"
ACCESS_TOKEN_TTL_S = 3600
ASSERTION_ALGORITHMS = ["PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]
ALLOWED_SCOPES = {"restlets", "rest_webservices", "suite_analytics"}
TOKEN_PATH = "/services/rest/auth/oauth2/v1/token"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass(frozen=True)
class Principal:
    """Who a request authenticated as."""

    method: str  # "tba" or "oauth2"
    consumer_key: str  # TBA consumer key or OAuth 2.0 client id
    token_id: str  # TBA token id or the access token's jti


class LoginAudit:
    """NetSuite's Login Audit Trail: the real reason of every failed login (and counts of successes)."""

    def __init__(self, maxlen: int = 2000) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=maxlen)
        self._lock = threading.Lock()
        self.successes = 0

    def failure(self, detail: str, *, scheme: str, path: str = "", ip: str = "",
                consumer_key: str | None = None, token_id: str | None = None, note: str = "") -> None:
        entry = {
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "status": "Failure", "detail": detail, "scheme": scheme, "path": path, "ip": ip,
            "consumer_key": consumer_key, "token_id": token_id,
        }
        if note:
            entry["note"] = note
        with self._lock:
            self._entries.append(entry)

    def success(self) -> None:
        self.successes += 1  # a racy counter is fine for a statistic

    def entries(self, limit: int | None = None) -> list[dict[str, Any]]:
        with self._lock:
            items = list(self._entries)
        items.reverse()  # newest first, as the UI lists them
        return items[:limit] if limit else items

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class NonceCache:
    """Nonces seen per (consumer, token), kept while their timestamp could still be accepted.

    A nonce only needs remembering until its timestamp leaves the 5-minute window; entries are
    64-bit hashes to keep memory small under load (a collision would refuse one request).
    """

    def __init__(self, window_s: float = TIMESTAMP_WINDOW_S) -> None:
        self._window = window_s
        self._seen: dict[int, float] = {}
        self._order: deque[tuple[float, int]] = deque()
        self._lock = threading.Lock()

    def use(self, consumer_key: str, token: str, nonce: str, timestamp: int) -> bool:
        """Record the nonce; False when it was already used.

        NetSuite's rule is a new nonce/timestamp pair per request; a nonce reused with another
        timestamp inside the window is refused too (stricter, and no client does that legitimately).
        """
        now = time.time()
        key = hash((consumer_key, token, nonce))
        expires = max(now, timestamp) + self._window + 1
        with self._lock:
            while self._order and self._order[0][0] < now:
                _, old = self._order.popleft()
                if self._seen.get(old, now + 1) <= now:
                    del self._seen[old]
            if key in self._seen:
                return False
            self._seen[key] = expires
            self._order.append((expires, key))
            return True

    def __len__(self) -> int:
        return len(self._seen)

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()
            self._order.clear()


@dataclass
class RequestView:
    """What the verifiers need from an HTTP request (kept framework-free for testing)."""

    method: str
    scheme: str
    host: str  # the Host header, port included
    raw_path: str  # as sent, percent-encoding intact
    query_string: str  # as sent
    authorization: str | None
    content_type: str
    body: bytes
    remote_addr: str = ""


class OAuth1Verifier:
    def __init__(self, settings: SandboxSettings, credentials: SandboxCredentials,
                 tokens: TokenRegistry, audit: LoginAudit) -> None:
        self.settings = settings
        self.credentials = credentials
        self.tokens = tokens
        self.audit = audit
        self.nonces = NonceCache()

    def _fail(self, reason: str, req: RequestView, consumer_key: str | None = None,
              token_id: str | None = None, note: str = "") -> ApiError:
        self.audit.failure(reason, scheme="TBA", path=req.raw_path, ip=req.remote_addr,
                           consumer_key=consumer_key, token_id=token_id, note=note)
        return invalid_login(self.settings.realm)

    def verify(self, req: RequestView) -> Principal:
        header = req.authorization or ""
        try:
            header_params = oauth_utils.parse_authorization_header(header)
        except ValueError:
            raise self._fail("MissingTokenPassportRequiredFields", req, note="malformed OAuth header") from None
        raw = dict(header_params)
        oauth = {k: oauth_utils.unescape(v) for k, v in raw.items()}
        consumer_key = oauth.get("oauth_consumer_key")
        token_id = oauth.get("oauth_token")
        required = ("oauth_consumer_key", "oauth_token", "oauth_signature_method", "oauth_timestamp",
                    "oauth_nonce", "oauth_signature")
        missing = [name for name in required if not oauth.get(name)]
        if missing:
            raise self._fail("MissingTokenPassportRequiredFields", req, consumer_key, token_id,
                             note="missing " + ", ".join(missing))
        if not hmac.compare_digest(consumer_key.encode(), self.credentials.consumer_key.encode()):
            raise self._fail("consumer_key_unknown", req, consumer_key, token_id)
        token_secret, why = self.tokens.token_secret(consumer_key, token_id)
        if token_secret is None:
            raise self._fail(why, req, consumer_key, token_id)
        realm = oauth.get("realm")
        if realm != self.settings.realm:
            raise self._fail("InvalidAccount", req, consumer_key, token_id,
                             note=f"realm {realm!r} is not the account id {self.settings.realm!r}")
        if oauth["oauth_signature_method"] != "HMAC-SHA256":
            raise self._fail("InvalidSignatureMethod", req, consumer_key, token_id,
                             note=f"{oauth['oauth_signature_method']} is not supported; use HMAC-SHA256")
        if oauth.get("oauth_version", "1.0") != "1.0":
            raise self._fail("InvalidVersion", req, consumer_key, token_id)
        try:
            stamp = int(oauth["oauth_timestamp"])
        except ValueError:
            raise self._fail("InvalidTimestamp", req, consumer_key, token_id) from None
        if abs(time.time() - stamp) > TIMESTAMP_WINDOW_S:
            raise self._fail("InvalidTimestamp", req, consumer_key, token_id,
                             note="timestamp more than 5 minutes from the account's clock")
        nonce = oauth["oauth_nonce"]
        if len(nonce) < MIN_NONCE_LENGTH:
            raise self._fail("InvalidNonce", req, consumer_key, token_id, note="nonce shorter than 6 characters")

        base_string = signature_base_string(req, header)
        expected = oauth_sig.sign_hmac_sha256_with_client(
            base_string, SimpleNamespace(client_secret=self.credentials.consumer_secret,
                                         resource_owner_secret=token_secret))
        if not hmac.compare_digest(expected.encode(), oauth["oauth_signature"].encode()):
            raise self._fail("InvalidSignature", req, consumer_key, token_id)
        if not self.nonces.use(consumer_key, token_id, nonce, stamp):
            raise self._fail("InvalidNonce", req, consumer_key, token_id, note="nonce already used")
        self.audit.success()
        return Principal("tba", consumer_key, token_id)


def _query_pairs(query_string: str) -> list[tuple[str, str]]:
    # W3C form decoding: '+' and '%20' are both a space (RFC 5849 3.4.1.3.1).
    return parse_qsl(query_string, keep_blank_values=True)


def signature_base_string(req: RequestView, authorization: str) -> str:
    """RFC 5849 3.4.1 base string of a received request, with oauthlib's helpers."""
    body_pairs: list[tuple[str, str]] = []
    if req.body and "application/x-www-form-urlencoded" in (req.content_type or "").lower():
        body_pairs = parse_qsl(req.body.decode("utf-8", "replace"), keep_blank_values=True)
    try:
        params = oauth_sig.collect_parameters(uri_query=req.query_string, body=body_pairs,
                                              headers={"Authorization": authorization},
                                              exclude_oauth_signature=True, with_realm=False)
    except ValueError:  # a query oauthlib's strict decoder refuses; decode it the W3C way ourselves
        params = oauth_sig.collect_parameters(uri_query="", body=_query_pairs(req.query_string) + body_pairs,
                                              headers={"Authorization": authorization},
                                              exclude_oauth_signature=True, with_realm=False)
    path = req.raw_path or "/"
    if "://" in path:  # absolute-form request target
        path = urlsplit(path).path or "/"
    uri = oauth_sig.base_string_uri(f"{req.scheme}://{req.host}{path}", req.host)
    return oauth_sig.signature_base_string(req.method, uri, oauth_sig.normalize_parameters(params))


class OAuthTokenError(Exception):
    """An OAuth 2.0 error answer of the token endpoint (RFC 6749 5.2 body)."""

    def __init__(self, error: str, description: str = "", status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.status = status
        self.error = error
        self.description = description

    def body(self) -> dict[str, str]:
        return {"error": self.error}


class OAuth2Service:
    """The token endpoint (client credentials with a JWT assertion) and bearer verification."""

    def __init__(self, settings: SandboxSettings, credentials: SandboxCredentials,
                 tokens: TokenRegistry, audit: LoginAudit) -> None:
        self.settings = settings
        self.credentials = credentials
        self.tokens = tokens
        self.audit = audit
        from cryptography.hazmat.primitives import serialization

        self._server_key = serialization.load_pem_private_key(credentials.server_private_key.encode(), None)
        self._server_public = self._server_key.public_key()
        self._client_keys = {credentials.certificate_id: serialization.load_pem_public_key(
            credentials.public_key.encode())}
        self._assertions_seen: dict[str, float] = {}
        self._cache: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()
        self.issued = 0

    def _token_fail(self, error: str, detail: str, note: str = "", client_id: str | None = None) -> OAuthTokenError:
        self.audit.failure(detail, scheme="OAuth 2.0", path=TOKEN_PATH, consumer_key=client_id, note=note)
        return OAuthTokenError(error, detail)

    def accepted_audiences(self, request_url_root: str) -> list[str]:
        root = request_url_root.rstrip("/")
        return [root + TOKEN_PATH,
                f"https://{self.settings.host_slug}.suitetalk.api.netsuite.com{TOKEN_PATH}"]

    def issue_token(self, form: dict[str, str], *, audiences: list[str]) -> dict[str, str]:
        grant_type = form.get("grant_type")
        if not grant_type:
            raise self._token_fail("invalid_request", "InvalidRequest", "grant_type missing")
        if grant_type != "client_credentials":
            raise self._token_fail("unsupported_grant_type", "InvalidRequest", f"grant_type {grant_type}")
        if form.get("client_assertion_type") != JWT_BEARER:
            raise self._token_fail("invalid_request", "InvalidRequest", "client_assertion_type must be jwt-bearer")
        assertion = form.get("client_assertion") or ""
        try:
            header = jwt.get_unverified_header(assertion)
            unverified = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise self._token_fail("invalid_request", "InvalidRequest", f"malformed assertion: {exc}") from None
        client_id = unverified.get("iss")
        if client_id != self.credentials.client_id:
            raise self._token_fail("invalid_client", "InvalidIntegration", "unknown client id (iss)", client_id)
        key = self._client_keys.get(header.get("kid", ""))
        if key is None:
            raise self._token_fail("invalid_client", "InvalidSignature", "unknown certificate id (kid)", client_id)
        if header.get("alg") not in ASSERTION_ALGORITHMS:
            raise self._token_fail("invalid_client", "InvalidSignature", f"algorithm {header.get('alg')}", client_id)
        try:
            claims = jwt.decode(assertion, key, algorithms=ASSERTION_ALGORITHMS, audience=audiences,
                                options={"require": ["iss", "aud", "iat", "exp"]}, leeway=60)
        except jwt.InvalidSignatureError:
            raise self._token_fail("invalid_client", "InvalidSignature", "assertion signature", client_id) from None
        except jwt.ExpiredSignatureError:
            raise self._token_fail("invalid_grant", "AccessTokenExpired", "assertion expired", client_id) from None
        except jwt.InvalidAudienceError:
            raise self._token_fail("invalid_grant", "InvalidRequest",
                                   f"aud must be the token endpoint URL ({audiences[0]})", client_id) from None
        except jwt.PyJWTError as exc:
            raise self._token_fail("invalid_grant", "InvalidRequest", str(exc), client_id) from None
        try:
            iat, exp = float(claims["iat"]), float(claims["exp"])
        except (TypeError, ValueError):
            raise self._token_fail("invalid_grant", "InvalidRequest", "iat/exp not numbers", client_id) from None
        if exp - iat > ACCESS_TOKEN_TTL_S:
            raise self._token_fail("invalid_grant", "InvalidRequest", "exp more than 60 minutes after iat", client_id)
        if iat > time.time() + 60:
            raise self._token_fail("invalid_grant", "InvalidRequest", "iat in the future", client_id)
        scope = claims.get("scope", "")
        scopes = set(scope if isinstance(scope, list) else str(scope).replace(" ", ",").split(","))
        scopes.discard("")
        if "rest_webservices" not in scopes or not scopes <= ALLOWED_SCOPES:
            raise self._token_fail("invalid_scope", "ScopeMismatched", f"scope {scope!r}", client_id)

        now = int(time.time())
        jti = str(uuid.uuid4())
        payload = {"iss": TOKEN_ISSUER, "sub": f"sandbox;{client_id}", "aud": [client_id],
                   "scope": sorted(scopes), "iat": now, "nbf": now, "exp": now + ACCESS_TOKEN_TTL_S,
                   "jti": jti, "account": self.settings.account_id, "cid": client_id}
        token = jwt.encode(payload, self._server_key, algorithm="PS256",
                           headers={"kid": self.credentials.server_key_id, "typ": "JWT"})
        self.issued += 1
        self.audit.success()
        return {"access_token": token, "expires_in": str(ACCESS_TOKEN_TTL_S), "token_type": "Bearer"}

    def verify_bearer(self, token: str, *, path: str = "", ip: str = "") -> Principal:
        now = time.time()
        cached = self._cache.get(token)
        if cached is not None and cached[0] > now:
            principal = cached[1]
            if not self.tokens.access_token_revoked(principal.token_id, principal.consumer_key, cached[0] - ACCESS_TOKEN_TTL_S):
                return principal
        try:
            claims = jwt.decode(token, self._server_public, algorithms=["PS256"], issuer=TOKEN_ISSUER,
                                options={"require": ["exp", "iat", "jti"], "verify_aud": False})
        except jwt.ExpiredSignatureError:
            raise self._bearer_fail("AccessTokenExpired", path, ip) from None
        except jwt.InvalidSignatureError:
            raise self._bearer_fail("InvalidSignature", path, ip) from None
        except jwt.PyJWTError:
            raise self._bearer_fail("TokenRejected", path, ip) from None
        client_id = claims.get("cid", "")
        if client_id != self.credentials.client_id or claims.get("account") != self.settings.account_id:
            raise self._bearer_fail("InvalidIntegration", path, ip)
        if self.tokens.access_token_revoked(claims["jti"], client_id, float(claims["iat"])):
            raise self._bearer_fail("TokenRejected", path, ip, note="access token revoked")
        principal = Principal("oauth2", client_id, claims["jti"])
        with self._lock:
            if len(self._cache) > 4096:
                self._cache.clear()
            self._cache[token] = (float(claims["exp"]), principal)
        self.audit.success()
        return principal

    def _bearer_fail(self, detail: str, path: str, ip: str, note: str = "") -> ApiError:
        self.audit.failure(detail, scheme="OAuth 2.0", path=path, ip=ip, note=note)
        return invalid_login(self.settings.realm, bearer=True)

    def decode_unverified(self, token: str) -> dict[str, Any]:
        return jwt.decode(token, options={"verify_signature": False})


class Authenticator:
    """Picks the scheme from the Authorization header and verifies it."""

    def __init__(self, settings: SandboxSettings, credentials: SandboxCredentials, tokens: TokenRegistry) -> None:
        self.settings = settings
        self.audit = LoginAudit()
        self.oauth1 = OAuth1Verifier(settings, credentials, tokens, self.audit)
        self.oauth2 = OAuth2Service(settings, credentials, tokens, self.audit)

    def authenticate(self, req: RequestView) -> Principal:
        header = req.authorization or ""
        scheme = header[:7].lower()
        if scheme.startswith("oauth "):
            return self.oauth1.verify(req)
        if scheme == "bearer ":
            return self.oauth2.verify_bearer(header[7:].strip(), path=req.raw_path, ip=req.remote_addr)
        self.audit.failure("MissingTokenPassportRequiredFields" if not header else "UnsupportedAuthScheme",
                           scheme="none", path=req.raw_path, ip=req.remote_addr)
        raise invalid_login(self.settings.realm)
