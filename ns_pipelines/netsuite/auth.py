"""Signing requests: token-based authentication (OAuth 1.0a) and OAuth 2.0 client credentials.

Both are `requests` auth objects. Signing happens when a request is *prepared*, so the transport
prepares every attempt anew: each retry carries a fresh nonce and timestamp (a resent OAuth 1.0a
signature is a replay NetSuite rejects, netsuite-api.md section 1.1).
"""
from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from typing import Any

import jwt
import requests
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256
from requests.auth import AuthBase
from requests_oauthlib import OAuth1

from .config import NetSuiteConfig
from .errors import (
    AuthenticationError,
    ConcurrencyLimitError,
    NetSuiteConfigError,
    NetSuiteError,
    ServerError,
    TransportError,
    error_from_response,
)

logger = logging.getLogger(__name__)

TOKEN_PATH = "/services/rest/auth/oauth2/v1/token"
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


class NetSuiteAuth(AuthBase):
    """A requests auth object the transport knows how to recover with."""

    method: str = ""

    def handle_unauthorized(self, request: requests.PreparedRequest) -> bool:
        """Called on a 401. True when resending once with refreshed credentials may succeed."""
        return False


class TokenBasedAuth(NetSuiteAuth):
    """OAuth 1.0a, HMAC-SHA256, realm = account id upper case (`1234567_SB1`)."""

    method = "tba"

    def __init__(self, config: NetSuiteConfig) -> None:
        if config.missing_credentials() or config.auth_method != "tba":
            raise NetSuiteConfigError("token-based authentication needs the consumer key/secret and token id/secret")
        self.realm = config.realm
        _FILTER.register(config.secret_values())
        self._oauth1 = OAuth1(
            client_key=config.consumer_key,
            client_secret=config.consumer_secret,
            resource_owner_key=config.token_id,
            resource_owner_secret=config.token_secret,
            realm=config.realm,
            signature_method=SIGNATURE_HMAC_SHA256,
        )

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        # oauthlib draws a new nonce and timestamp on every call.
        signed: requests.PreparedRequest = self._oauth1(r)
        return signed

    def __repr__(self) -> str:
        return f"TokenBasedAuth(realm={self.realm!r})"


class OAuth2ClientCredentials(NetSuiteAuth):
    """OAuth 2.0 client credentials with a JWT assertion (PS256, kid = certificate id).

    The access token is cached (thread-safe) until `refresh_margin_s` before it expires; on a
    401 the transport calls `handle_unauthorized`, which drops the token so the resend fetches a
    new one.
    """

    method = "oauth2"

    def __init__(
        self,
        config: NetSuiteConfig,
        session: requests.Session | None = None,
        *,
        clock: Callable[[], float] = time.time,
        refresh_margin_s: float = 60.0,
        assertion_lifetime_s: int = 300,
        algorithm: str = "PS256",
    ) -> None:
        if config.auth_method != "oauth2" or config.missing_credentials():
            raise NetSuiteConfigError("OAuth 2.0 needs the client id, certificate id and private key")
        if not 0 < assertion_lifetime_s < 3600:
            raise NetSuiteConfigError("the JWT assertion must expire less than 60 minutes after it is issued")
        self._config = config
        _FILTER.register(config.secret_values())
        self._session = session or requests.Session()
        self._clock = clock
        self._refresh_margin_s = refresh_margin_s
        self._assertion_lifetime_s = assertion_lifetime_s
        self._algorithm = algorithm
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0
        self._private_key: str | None = None
        self.token_url = config.token_url
        self.token_requests = 0

    def __repr__(self) -> str:
        return f"OAuth2ClientCredentials(token_url={self.token_url!r})"

    # -- requests.auth protocol ------------------------------------------------------------

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.access_token()}"
        return r

    def handle_unauthorized(self, request: requests.PreparedRequest) -> bool:
        raw: str | bytes = request.headers.get("Authorization", "")
        header = raw.decode("latin-1") if isinstance(raw, bytes) else raw
        used = header[7:] if header.startswith("Bearer ") else None
        with self._lock:
            if used is not None and used == self._token:
                self._token = None
                self._expires_at = 0.0
        return True

    # -- tokens ------------------------------------------------------------------------------

    def access_token(self, *, force_refresh: bool = False) -> str:
        with self._lock:
            if not force_refresh and self._token and self._clock() < self._expires_at:
                return self._token
            token, lifetime = self._fetch_token()
            margin = min(self._refresh_margin_s, lifetime / 10)
            self._token = token
            self._expires_at = self._clock() + max(0.0, lifetime - margin)
            return token

    def invalidate(self) -> None:
        with self._lock:
            self._token = None
            self._expires_at = 0.0

    def client_assertion(self) -> str:
        """A freshly signed JWT for the token request."""
        now = int(self._clock())
        payload = {
            "iss": self._config.client_id,
            "scope": self._config.oauth2_scope,
            "aud": self.token_url,
            "iat": now,
            "exp": now + self._assertion_lifetime_s,
        }
        headers = {"typ": "JWT", "alg": self._algorithm, "kid": self._config.certificate_id}
        if self._private_key is None:
            self._private_key = self._config.private_key()
        try:
            return jwt.encode(payload, self._private_key, algorithm=self._algorithm, headers=headers)
        except (ValueError, TypeError, jwt.exceptions.PyJWTError) as exc:
            raise NetSuiteConfigError(
                f"the OAuth 2.0 private key cannot sign a {self._algorithm} assertion "
                f"({type(exc).__name__}); check NETSUITE_PRIVATE_KEY / NETSUITE_PRIVATE_KEY_FILE") from None

    def _fetch_token(self) -> tuple[str, float]:
        data = {
            "grant_type": "client_credentials",
            "client_assertion_type": CLIENT_ASSERTION_TYPE,
            "client_assertion": self.client_assertion(),
        }
        self.token_requests += 1
        logger.debug("requesting an OAuth 2.0 access token from %s", TOKEN_PATH)
        try:
            response = self._session.post(
                self.token_url, data=data, headers={"Accept": "application/json"},
                timeout=self._config.timeout, allow_redirects=False)
        except requests.exceptions.RequestException as exc:
            raise TransportError(
                f"OAuth 2.0 token request failed: {type(exc).__name__}", method="POST", path=TOKEN_PATH,
                sent=not isinstance(exc, requests.exceptions.ConnectTimeout)) from None
        if response.status_code != 200:
            status = response.status_code
            cls: type[NetSuiteError]
            if status == 429:
                cls = ConcurrencyLimitError
            elif status >= 500:
                cls = ServerError
            else:  # 400 invalid_client / invalid_grant, 401, 403: the credentials are refused
                cls = AuthenticationError
            raise error_from_response(response, method="POST", path=TOKEN_PATH,
                                      redact=self._config.redact, cls=cls)
        try:
            body: Any = response.json()
            token = body["access_token"]
            lifetime = float(body.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError):
            raise AuthenticationError(
                "the OAuth 2.0 token endpoint answered without an access token",
                status=200, method="POST", path=TOKEN_PATH) from None
        if not isinstance(token, str) or not token:
            raise AuthenticationError("the OAuth 2.0 token endpoint answered an empty access token",
                                      status=200, method="POST", path=TOKEN_PATH)
        return token, lifetime


def build_auth(config: NetSuiteConfig, session: requests.Session | None = None) -> NetSuiteAuth:
    """The auth object for `config.auth_method`."""
    if config.auth_method == "tba":
        return TokenBasedAuth(config)
    return OAuth2ClientCredentials(config, session)


# --------------------------------------------------------------------------------------------
# Keep credentials out of third-party DEBUG logs: requests-oauthlib logs the signed headers and its
# client (consumer key, token id), oauthlib the collected parameters, base string and signature.

_SENSITIVE = re.compile(
    r"((?:oauth_(?:consumer_key|token|signature|nonce)|client_key|resource_owner_key)"
    r"(?:%3D|=\"?|', '|\": \"))([^\"&,'\s>]+)"
    r"|(Bearer\s+)([A-Za-z0-9._~+/=-]+)"
    r"|(Signature: )(\S+)",
)


class _RedactingFilter(logging.Filter):
    """Masks OAuth parameters, bearer tokens and every registered credential value."""

    def __init__(self) -> None:
        super().__init__()
        self._values: set[str] = set()
        self._lock = threading.Lock()

    def register(self, values: tuple[str, ...]) -> None:
        with self._lock:
            self._values.update(v for v in values if v and len(v) >= 4)

    def mask(self, text: str) -> str:
        text = _SENSITIVE.sub(lambda m: next(g for g in m.groups() if g is not None) + "***", text)
        for value in sorted(self._values, key=len, reverse=True):
            if value in text:
                text = text.replace(value, "***")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001
            return True
        masked = self.mask(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


_FILTER = _RedactingFilter()
for _name in ("requests_oauthlib.oauth1_auth", "oauthlib.oauth1.rfc5849", "oauthlib.oauth1.rfc5849.signature",
              "urllib3.connectionpool"):
    _log = logging.getLogger(_name)
    if _FILTER not in _log.filters:
        _log.addFilter(_FILTER)
