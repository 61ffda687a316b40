"""Conformance of the NetSuite sandbox's HTTP surface: auth, shapes, governance, admin, notifications.

Everything runs against a real SandboxServer on a loopback port, driven by independent client
libraries (requests-oauthlib, oauthlib, authlib + httpx, PyJWT), as a real client would drive
NetSuite after changing only the base URL.
"""
from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import os
import stat
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
import pytest
import requests
from oauthlib import oauth1
from requests_oauthlib import OAuth1
from werkzeug.serving import make_server

from ns_pipelines.sandbox.netsuite.errors import LOGIN_AUDIT_DETAIL
from ns_pipelines.sandbox.netsuite.server import SandboxAccount, SandboxServer
from ns_pipelines.sandbox.netsuite.settings import SandboxSettings

SUITEQL = "/services/rest/query/v1/suiteql"
LIMITS = "/services/rest/system/v1/governanceLimits"
TOKEN = "/services/rest/auth/oauth2/v1/token"
RECORDS = "/services/rest/record/v1"
ERROR_TYPE = "application/vnd.oracle.resource+json; type=error"
INVALID_LOGIN_BODY = {
    "type": "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.2",
    "title": "Unauthorized",
    "status": 401,
    "o:errorDetails": [{"detail": LOGIN_AUDIT_DETAIL, "o:errorCode": "INVALID_LOGIN"}],
}


# ---------------------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    settings = SandboxSettings(over_limit_401_delay_s=0.2)
    with SandboxServer(tmp_path_factory.mktemp("sandbox-http"), settings, scale="tiny", seed=7) as srv:
        srv.account.notifier.retry_base_s = 0.1
        yield srv


@pytest.fixture(scope="module")
def env(server: SandboxServer) -> dict[str, str]:
    return server.environment()


def tba(env: dict[str, str], *, realm: str | None = None, consumer_secret: str | None = None,
        token_id: str | None = None, token_secret: str | None = None, method: str = "HMAC-SHA256") -> OAuth1:
    return OAuth1(client_key=env["NETSUITE_CONSUMER_KEY"],
                  client_secret=consumer_secret or env["NETSUITE_CONSUMER_SECRET"],
                  resource_owner_key=token_id or env["NETSUITE_TOKEN_ID"],
                  resource_owner_secret=token_secret or env["NETSUITE_TOKEN_SECRET"],
                  realm=realm or env["NETSUITE_ACCOUNT_ID"], signature_method=method)


def oauthlib_client(env: dict[str, str], **kw: Any) -> oauth1.Client:
    return oauth1.Client(env["NETSUITE_CONSUMER_KEY"], client_secret=env["NETSUITE_CONSUMER_SECRET"],
                         resource_owner_key=env["NETSUITE_TOKEN_ID"],
                         resource_owner_secret=env["NETSUITE_TOKEN_SECRET"],
                         realm=env["NETSUITE_ACCOUNT_ID"], signature_method=oauth1.SIGNATURE_HMAC_SHA256, **kw)


def admin(server: SandboxServer, method: str, path: str, **kw: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {server.credentials.admin_token}", **kw.pop("headers", {})}
    return requests.request(method, server.admin_url + path, headers=headers, timeout=30, **kw)


@contextmanager
def patched(server: SandboxServer, **patch: Any) -> Iterator[None]:
    """Change settings through the admin API; put the old values back afterwards."""
    before = admin(server, "GET", "/settings").json()
    restore = {k: before[k] for k in patch if k != "faults"}
    if "faults" in patch:
        restore["faults"] = {k: before["faults"][k] for k in patch["faults"]}
    resp = admin(server, "PATCH", "/settings", json=patch)
    assert resp.status_code == 200, resp.text
    try:
        yield
    finally:
        assert admin(server, "PATCH", "/settings", json=restore).status_code == 200


def last_audit(server: SandboxServer) -> dict[str, Any]:
    items = admin(server, "GET", "/login-audit?limit=1").json()["items"]
    assert items, "no failed login recorded"
    return items[0]


def assert_invalid_login(resp: Any, realm: str = "1234567_SB1", scheme: str = "OAuth") -> None:
    assert resp.status_code == 401, resp.text
    assert resp.headers["Content-Type"] == ERROR_TYPE
    assert json.loads(resp.content) == INVALID_LOGIN_BODY
    if scheme == "OAuth":
        expected = f'OAuth realm="{realm}", error="token_rejected", error_description="Invalid login attempt."'
    else:
        expected = f'Bearer realm="{realm}", error="invalid_token", error_description="Invalid login attempt."'
    assert resp.headers["WWW-Authenticate"] == expected


# ---------------------------------------------------------------------------------------------- TBA
def test_requests_oauthlib_signs_query_parameters(server: SandboxServer, env: dict[str, str]) -> None:
    resp = requests.get(server.base_url + LIMITS, params={"limit": 5, "offset": 10, "q": "a b&c=d"},
                        auth=tba(env), timeout=10)
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"] == "application/json"


def test_signature_that_omits_query_parameters_is_refused(server: SandboxServer, env: dict[str, str]) -> None:
    client = oauthlib_client(env)
    _, headers, _ = client.sign(server.base_url + LIMITS)  # signed without the query
    resp = requests.get(server.base_url + LIMITS + "?limit=5&offset=0", headers=headers, timeout=10)
    assert_invalid_login(resp)
    assert last_audit(server)["detail"] == "InvalidSignature"


def test_form_body_parameters_are_signed(server: SandboxServer, env: dict[str, str]) -> None:
    # A form-encoded body is part of the signature (a JSON body is not). SuiteQL then refuses the
    # body (no "q"), but only after authentication succeeded.
    url = server.base_url + SUITEQL
    client = oauthlib_client(env)
    resp = requests.post(url, data={"alpha": "1 2", "beta": "x+y"}, auth=tba(env), timeout=10)
    assert resp.status_code not in (401, 200), resp.text
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    uri, headers, body = client.sign(url, "POST", body={"alpha": "1"}, headers=form)
    assert requests.post(uri, data=body, headers=headers, timeout=10).status_code not in (401, 200)
    # Signed over one form body, sent with another: refused.
    uri, headers, body = client.sign(url, "POST", body={"alpha": "1"}, headers=form)
    resp = requests.post(uri, data="alpha=2", headers=headers, timeout=10)
    assert_invalid_login(resp)
    assert last_audit(server)["detail"] == "InvalidSignature"


def test_oauth_body_hash_from_the_client_is_part_of_the_signature(server: SandboxServer, env: dict[str, str]) -> None:
    client = oauthlib_client(env)
    body = json.dumps({"q": "SELECT id FROM customer"})
    uri, headers, _ = client.sign(server.base_url + LIMITS, "GET", body=body,
                                  headers={"Content-Type": "application/json"})
    assert "oauth_body_hash" in headers["Authorization"]
    resp = requests.get(uri, data=body, headers=headers, timeout=10)
    assert resp.status_code == 200, resp.text


@pytest.mark.parametrize("signed, sent", [("a%20b", "a+b"), ("a+b", "a%20b"), ("a+b", "a+b"), ("a%20b", "a%20b")])
def test_plus_and_percent20_both_mean_space(server: SandboxServer, env: dict[str, str], signed: str, sent: str) -> None:
    url = server.base_url + LIMITS + "?x=" + signed
    prepared = requests.Request("GET", url, auth=tba(env)).prepare()
    prepared.url = prepared.url.replace("x=" + signed, "x=" + sent)
    assert ("x=" + sent) in prepared.url
    with requests.Session() as session:
        resp = session.send(prepared, timeout=10)
    assert resp.status_code == 200, resp.text


def test_authlib_with_httpx_is_accepted(server: SandboxServer, env: dict[str, str]) -> None:
    import warnings

    import authlib.deprecate  # noqa: F401  (installs its own "always" filter on import)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # authlib's "httpx integration is deprecated" notice
        from authlib.integrations.httpx_client import OAuth1Auth
    from authlib.oauth1.rfc5849.client_auth import ClientAuth
    from authlib.oauth1.rfc5849.util import escape

    def hmac_sha256(client: Any, request: Any) -> str:
        from authlib.oauth1.rfc5849.signature import generate_signature_base_string
        import base64

        base = generate_signature_base_string(request)
        key = escape(client.client_secret or "") + "&" + escape(client.token_secret or "")
        return base64.b64encode(hmac.new(key.encode(), base.encode(), hashlib.sha256).digest()).decode()

    ClientAuth.register_signature_method("HMAC-SHA256", hmac_sha256)
    auth = OAuth1Auth(client_id=env["NETSUITE_CONSUMER_KEY"], client_secret=env["NETSUITE_CONSUMER_SECRET"],
                      token=env["NETSUITE_TOKEN_ID"], token_secret=env["NETSUITE_TOKEN_SECRET"],
                      signature_method="HMAC-SHA256", realm=env["NETSUITE_ACCOUNT_ID"])
    with httpx.Client(base_url=env["NETSUITE_BASE_URL"], auth=auth, timeout=10) as client:
        resp = client.get(LIMITS, params={"limit": 3, "offset": 0, "note": "two words"})
        assert resp.status_code == 200, resp.text
        assert resp.json()["integrationLimitType"] == "accountLimit"


def test_lower_case_realm_is_refused(server: SandboxServer, env: dict[str, str]) -> None:
    resp = requests.get(server.base_url + LIMITS, auth=tba(env, realm="1234567_sb1"), timeout=10)
    assert_invalid_login(resp)
    assert last_audit(server)["detail"] == "InvalidAccount"


def test_replayed_nonce_is_refused(server: SandboxServer, env: dict[str, str]) -> None:
    prepared = requests.Request("GET", server.base_url + LIMITS, params={"limit": 1}, auth=tba(env)).prepare()
    with requests.Session() as session:
        assert session.send(prepared, timeout=10).status_code == 200
        assert_invalid_login(session.send(prepared, timeout=10))
    assert last_audit(server)["detail"] == "InvalidNonce"


def test_short_nonce_and_stale_timestamp_are_refused(server: SandboxServer, env: dict[str, str]) -> None:
    stale = str(int(time.time()) - 600)
    uri, headers, _ = oauthlib_client(env, timestamp=stale).sign(server.base_url + LIMITS)
    assert_invalid_login(requests.get(uri, headers=headers, timeout=10))
    assert last_audit(server)["detail"] == "InvalidTimestamp"
    uri, headers, _ = oauthlib_client(env, nonce="abc12").sign(server.base_url + LIMITS)
    assert_invalid_login(requests.get(uri, headers=headers, timeout=10))
    assert last_audit(server)["detail"] == "InvalidNonce"


def test_only_hmac_sha256_is_accepted(server: SandboxServer, env: dict[str, str]) -> None:
    assert_invalid_login(requests.get(server.base_url + LIMITS, auth=tba(env, method="HMAC-SHA1"), timeout=10))
    assert last_audit(server)["detail"] == "InvalidSignatureMethod"


def test_wrong_consumer_secret_answers_exactly_like_netsuite(server: SandboxServer, env: dict[str, str]) -> None:
    resp = requests.get(server.base_url + LIMITS, auth=tba(env, consumer_secret="0" * 64), timeout=10)
    assert_invalid_login(resp, realm=env["NETSUITE_ACCOUNT_ID"])
    assert last_audit(server)["detail"] == "InvalidSignature"


def test_missing_or_unknown_credentials_are_refused(server: SandboxServer, env: dict[str, str]) -> None:
    assert_invalid_login(requests.get(server.base_url + LIMITS, timeout=10))
    bad = OAuth1("nope" * 16, client_secret=env["NETSUITE_CONSUMER_SECRET"], resource_owner_key=env["NETSUITE_TOKEN_ID"],
                 resource_owner_secret=env["NETSUITE_TOKEN_SECRET"], realm=env["NETSUITE_ACCOUNT_ID"],
                 signature_method="HMAC-SHA256")
    assert_invalid_login(requests.get(server.base_url + LIMITS, auth=bad, timeout=10))
    assert last_audit(server)["detail"] == "consumer_key_unknown"
    assert_invalid_login(requests.get(server.base_url + LIMITS, auth=tba(env, token_id="f" * 64), timeout=10))
    assert last_audit(server)["detail"] == "InvalidToken"


def test_revoked_token_is_refused(server: SandboxServer, env: dict[str, str]) -> None:
    issued = admin(server, "POST", "/tokens", json={"make_default": False})
    assert issued.status_code == 201, issued.text
    token = issued.json()
    auth = lambda: tba(env, token_id=token["token_id"], token_secret=token["token_secret"])  # noqa: E731
    assert requests.get(server.base_url + LIMITS, auth=auth(), timeout=10).status_code == 200
    assert admin(server, "POST", "/tokens/revoke", json={"token_id": token["token_id"]}).status_code == 200
    assert_invalid_login(requests.get(server.base_url + LIMITS, auth=auth(), timeout=10))
    assert last_audit(server)["detail"] == "TokenRevoked"
    # the account's own token still works
    assert requests.get(server.base_url + LIMITS, auth=tba(env), timeout=10).status_code == 200


def test_keep_alive_connection_serves_several_requests(server: SandboxServer, env: dict[str, str]) -> None:
    parts = urlsplit(server.base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    sockets = []
    try:
        for _ in range(3):
            _, headers, _ = oauthlib_client(env).sign(server.base_url + LIMITS)
            conn.request("GET", LIMITS, headers=headers)
            resp = conn.getresponse()
            assert resp.status == 200
            assert resp.will_close is False and resp.getheader("Connection") is None
            json.loads(resp.read())
            sockets.append(conn.sock)
        assert sockets[0] is not None and all(sock is sockets[0] for sock in sockets)
        # a request body the app does not read is drained, so the next request still parses
        _, headers, _ = oauthlib_client(env).sign(server.base_url + LIMITS)
        conn.request("GET", LIMITS, body=b"x" * 50_000, headers={**headers, "Content-Type": "text/plain"})
        assert conn.getresponse().read() and conn.sock is sockets[0]
        _, headers, _ = oauthlib_client(env).sign(server.base_url + LIMITS)
        conn.request("GET", LIMITS, headers=headers)
        assert conn.getresponse().status == 200 and conn.sock is sockets[0]
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------------- OAuth 2.0
def client_assertion(server: SandboxServer, env: dict[str, str], *, key: str | None = None,
                     kid: str | None = None, **claims: Any) -> str:
    now = int(time.time())
    payload = {"iss": env["NETSUITE_CLIENT_ID"], "scope": "restlets,rest_webservices",
               "aud": server.base_url + TOKEN, "iat": now, "exp": now + 3000}
    payload.update(claims)
    return jwt.encode(payload, key or env["NETSUITE_PRIVATE_KEY"], algorithm="PS256",
                      headers={"kid": kid or env["NETSUITE_CERTIFICATE_ID"], "typ": "JWT"})


def token_request(server: SandboxServer, assertion: str) -> requests.Response:
    return requests.post(server.base_url + TOKEN, data={
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion}, timeout=10)


def test_oauth2_client_credentials_token_and_bearer(server: SandboxServer, env: dict[str, str]) -> None:
    resp = token_request(server, client_assertion(server, env))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == "3600"
    header = jwt.get_unverified_header(body["access_token"])
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert header["alg"] == "PS256"
    assert claims["iss"] == "https://system.netsuite.com"
    assert claims["exp"] - claims["iat"] == 3600
    api = requests.get(server.base_url + LIMITS, headers={"Authorization": f"Bearer {body['access_token']}"}, timeout=10)
    assert api.status_code == 200, api.text
    assert api.json()["accountConcurrencyLimit"] == server.settings.concurrency_limit


@pytest.mark.parametrize("case, error", [
    ("wrong_kid", "invalid_client"),
    ("wrong_key", "invalid_client"),
    ("wrong_iss", "invalid_client"),
    ("exp_too_far", "invalid_grant"),
    ("expired", "invalid_grant"),
    ("wrong_aud", "invalid_grant"),
    ("no_rest_scope", "invalid_scope"),
])
def test_oauth2_bad_assertions_are_refused(server: SandboxServer, env: dict[str, str], case: str, error: str) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    now = int(time.time())
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    kwargs: dict[str, Any] = {
        "wrong_kid": {"kid": "not-the-certificate"},
        "wrong_key": {"key": other_key},
        "wrong_iss": {"iss": "someone-else"},
        "exp_too_far": {"exp": now + 7200},
        "expired": {"iat": now - 4000, "exp": now - 1000},
        "wrong_aud": {"aud": "https://example.com/token"},
        "no_rest_scope": {"scope": "restlets"},
    }[case]
    resp = token_request(server, client_assertion(server, env, **kwargs))
    assert resp.status_code == 400, resp.text
    assert resp.json() == {"error": error}
    assert resp.headers["Content-Type"] == "application/json"


def test_oauth2_token_endpoint_needs_the_client_credentials_grant(server: SandboxServer) -> None:
    resp = requests.post(server.base_url + TOKEN, data={"grant_type": "password"}, timeout=10)
    assert resp.status_code == 400 and resp.json() == {"error": "unsupported_grant_type"}


def test_expired_forged_and_revoked_bearers_are_refused(server: SandboxServer, env: dict[str, str]) -> None:
    now = int(time.time())
    server_key = server.credentials.server_private_key
    base = {"iss": "https://system.netsuite.com", "jti": "x1", "cid": env["NETSUITE_CLIENT_ID"],
            "account": env["NETSUITE_ACCOUNT_ID"]}
    expired = jwt.encode({**base, "iat": now - 7200, "exp": now - 3600}, server_key, algorithm="PS256")
    forged = jwt.encode({**base, "iat": now, "exp": now + 3600}, env["NETSUITE_PRIVATE_KEY"], algorithm="PS256")
    for token, reason in ((expired, "AccessTokenExpired"), (forged, "InvalidSignature"), ("garbage", "TokenRejected")):
        resp = requests.get(server.base_url + LIMITS, headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert_invalid_login(resp, scheme="Bearer")
        assert last_audit(server)["detail"] == reason
    good = token_request(server, client_assertion(server, env)).json()["access_token"]
    headers = {"Authorization": f"Bearer {good}"}
    assert requests.get(server.base_url + LIMITS, headers=headers, timeout=10).status_code == 200
    assert admin(server, "POST", "/tokens/revoke", json={"access_token": good}).status_code == 200
    assert_invalid_login(requests.get(server.base_url + LIMITS, headers=headers, timeout=10), scheme="Bearer")


# ---------------------------------------------------------------------------------------------- governance
def test_governance_limits_shape(server: SandboxServer, env: dict[str, str]) -> None:
    with patched(server, concurrency_limit=15):
        resp = requests.get(server.base_url + LIMITS, auth=tba(env), timeout=10)
    assert resp.json() == {"accountConcurrencyLimit": 15, "accountUnallocatedConcurrencyLimit": 15,
                           "integrationConcurrencyLimit": 15, "integrationLimitType": "accountLimit"}


def parallel_get(server: SandboxServer, env: dict[str, str], n: int) -> list[tuple[int, float, Any]]:
    barrier = threading.Barrier(n)
    results: list[tuple[int, float, Any]] = []
    lock = threading.Lock()

    def worker() -> None:
        with requests.Session() as session:
            prepared = session.prepare_request(requests.Request("GET", server.base_url + LIMITS, auth=tba(env)))
            barrier.wait()
            started = time.perf_counter()
            resp = session.send(prepared, timeout=30)
            with lock:
                results.append((resp.status_code, time.perf_counter() - started, resp))

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_concurrency_limit_refuses_the_extra_requests(server: SandboxServer, env: dict[str, str]) -> None:
    admin(server, "POST", "/stats/reset")
    with patched(server, concurrency_limit=3, latency_ms=400):
        results = parallel_get(server, env, 8)
    statuses = [r[0] for r in results]
    assert len(statuses) == 8 and set(statuses) <= {200, 429}
    assert statuses.count(429) >= 1 and statuses.count(200) >= 3
    refused = [r for r in results if r[0] == 429]
    for _, elapsed, resp in refused:
        assert elapsed < 0.35  # refused at once, not queued
        assert resp.json() == {"type": "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html",
                               "title": "Bad Request", "status": 429,
                               "o:errorDetails": [{"detail": "Concurrent request limit exceeded. Request blocked.",
                                                   "o:errorCode": "CONCURRENCY_LIMIT_EXCEEDED"}]}
    stats = admin(server, "GET", "/stats").json()
    assert stats["concurrency"]["peak"] <= 3
    assert stats["concurrency"]["current"] == 0
    assert stats["rejected_over_limit_429"] == statuses.count(429)
    assert stats["endpoints"][f"GET {LIMITS}"]["by_status"].get("429") == statuses.count(429)


def test_over_limit_mode_401_answers_a_slow_invalid_login(server: SandboxServer, env: dict[str, str]) -> None:
    admin(server, "POST", "/stats/reset")
    with patched(server, concurrency_limit=1, latency_ms=600, over_limit_mode="401", over_limit_401_delay_s=0.2):
        results = parallel_get(server, env, 3)
    statuses = sorted(r[0] for r in results)
    assert statuses.count(200) >= 1 and statuses.count(401) >= 1 and set(statuses) <= {200, 401}
    for status, elapsed, resp in results:
        if status == 401:
            assert elapsed >= 0.19
            assert_invalid_login(resp)
    assert admin(server, "GET", "/stats").json()["rejected_over_limit_401"] == statuses.count(401)


def test_latency_is_applied_while_holding_the_slot(server: SandboxServer, env: dict[str, str]) -> None:
    with patched(server, latency_ms=150):
        started = time.perf_counter()
        assert requests.get(server.base_url + LIMITS, auth=tba(env), timeout=10).status_code == 200
        assert time.perf_counter() - started >= 0.15


def test_injected_server_errors(server: SandboxServer, env: dict[str, str]) -> None:
    with patched(server, faults={"server_error_rate": 1.0}):
        resp = requests.get(server.base_url + LIMITS, auth=tba(env), timeout=10)
    assert resp.status_code == 500
    assert resp.headers["Content-Type"] == ERROR_TYPE
    assert resp.json()["o:errorDetails"][0]["o:errorCode"] == "UNEXPECTED_ERROR"


def test_injected_dropped_connections(server: SandboxServer, env: dict[str, str]) -> None:
    before = admin(server, "GET", "/stats").json()["dropped"]
    with patched(server, faults={"drop_connection_rate": 1.0}):
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(server.base_url + LIMITS, auth=tba(env), timeout=10)
    assert admin(server, "GET", "/stats").json()["dropped"] == before + 1
    assert requests.get(server.base_url + LIMITS, auth=tba(env), timeout=10).status_code == 200


def test_injected_429_storm_and_reproducible_fault_sequence(server: SandboxServer, env: dict[str, str]) -> None:
    with patched(server, faults={"rate_limit_storm_rate": 1.0}):
        resp = requests.get(server.base_url + LIMITS, auth=tba(env), timeout=10)
        assert resp.status_code == 429
        assert resp.json()["o:errorDetails"][0]["o:errorCode"] == "CONCURRENCY_LIMIT_EXCEEDED"

    def sequence() -> list[int]:
        admin(server, "PATCH", "/settings", json={"faults": {"seed": 99}})
        with requests.Session() as session:
            return [session.get(server.base_url + LIMITS, auth=tba(env), timeout=10).status_code for _ in range(12)]

    with patched(server, faults={"server_error_rate": 0.5, "seed": 0}):
        first, second = sequence(), sequence()
    assert first == second and set(first) == {200, 500}


# ---------------------------------------------------------------------------------------------- admin
def test_admin_api_requires_its_token(server: SandboxServer, env: dict[str, str]) -> None:
    url = server.admin_url + "/stats"
    assert requests.get(url, timeout=10).status_code == 401
    assert requests.get(url, headers={"Authorization": "Bearer wrong"}, timeout=10).status_code == 401
    # the API's own credentials do not open the admin API
    assert requests.get(url, auth=tba(env), timeout=10).status_code == 401
    assert admin(server, "GET", "/health").json()["status"] == "ok"


def test_stats_count_requests_by_endpoint_and_status(server: SandboxServer, env: dict[str, str]) -> None:
    assert admin(server, "POST", "/stats/reset").status_code == 200
    requests.get(server.base_url + LIMITS, auth=tba(env), timeout=10)
    requests.get(server.base_url + LIMITS, timeout=10)
    stats = admin(server, "GET", "/stats").json()
    endpoint = stats["endpoints"][f"GET {LIMITS}"]
    assert endpoint["count"] == 2 and endpoint["by_status"] == {"200": 1, "401": 1}
    assert stats["requests"] == 2 and stats["status_401"] == 1
    assert stats["concurrency"]["limit"] == server.settings.concurrency_limit


def test_settings_patch_validates(server: SandboxServer) -> None:
    assert admin(server, "PATCH", "/settings", json={"no_such_setting": 1}).status_code == 400
    assert admin(server, "PATCH", "/settings", json={"over_limit_mode": "503"}).status_code == 400
    assert admin(server, "PATCH", "/settings", json={"faults": {"server_error_rate": 2}}).status_code == 400
    assert admin(server, "GET", "/settings").json()["over_limit_mode"] == "429"


def test_unknown_path_is_a_netsuite_404(server: SandboxServer, env: dict[str, str]) -> None:
    resp = requests.get(server.base_url + "/services/rest/nothing/v1/here", auth=tba(env), timeout=10)
    assert resp.status_code == 404
    assert resp.headers["Content-Type"] == ERROR_TYPE
    body = resp.json()
    assert body["status"] == 404 and body["title"] == "Not Found" and body["o:errorDetails"][0]["o:errorCode"]


def test_credentials_persist_and_file_is_private(server: SandboxServer, tmp_path: Any) -> None:
    path = server.write_credentials(tmp_path / "creds.json")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    data = json.loads(path.read_text())
    assert set(data) == {"NETSUITE_ACCOUNT_ID", "NETSUITE_BASE_URL", "NETSUITE_TIMEZONE", "NETSUITE_DATE_FORMAT",
                         "NETSUITE_CONSUMER_KEY",
                         "NETSUITE_CONSUMER_SECRET", "NETSUITE_TOKEN_ID", "NETSUITE_TOKEN_SECRET",
                         "NETSUITE_CLIENT_ID", "NETSUITE_CERTIFICATE_ID", "NETSUITE_PRIVATE_KEY",
                         "NETSUITE_SANDBOX_ADMIN_URL", "NETSUITE_SANDBOX_ADMIN_TOKEN", "NETSUITE_WEBHOOK_SECRET"}
    again = SandboxAccount(server.account.data_dir, SandboxSettings())
    assert again.credentials.consumer_key == server.credentials.consumer_key
    assert again.credentials.private_key == server.credentials.private_key
    assert again.credentials.admin_token == server.credentials.admin_token


# ---------------------------------------------------------------------------------------------- notifications
class Receiver:
    """A small webhook receiver: answers 500 to the first `fail_first` posts, then 200."""

    def __init__(self, fail_first: int = 0) -> None:
        self.fail_first = fail_first
        self.posts: list[tuple[dict[str, str], bytes, int]] = []
        self.lock = threading.Condition()
        self.httpd = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.httpd.socket.getsockname()[1]}/hooks/netsuite"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def app(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        headers["content-type"] = environ.get("CONTENT_TYPE", "")
        with self.lock:
            status = 500 if len(self.posts) < self.fail_first else 200
            self.posts.append((headers, body, status))
            self.lock.notify_all()
        start_response(f"{status} X", [("Content-Type", "text/plain")])
        return [b"ok"]

    def wait_for(self, n: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        with self.lock:
            while len(self.posts) < n and time.monotonic() < deadline:
                self.lock.wait(deadline - time.monotonic())
        assert len(self.posts) >= n, f"only {len(self.posts)} posts"

    def __enter__(self) -> "Receiver":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def verify_signature(header: str, body: bytes, secret: str) -> int:
    parts = dict(item.split("=", 1) for item in header.split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, parts["v1"])
    assert abs(time.time() - int(parts["t"])) < 300
    return int(parts["t"])


def test_change_events_wait_in_the_outbox_then_are_delivered_signed_with_retries(server: SandboxServer) -> None:
    notifier = server.account.notifier
    assert server.settings.notify_url is None
    event_id = notifier.notify("customerpayment", 2001, "edit")
    pending = admin(server, "GET", "/events?delivered=false").json()["items"]
    assert any(e["event_id"] == event_id for e in pending)
    with Receiver(fail_first=1) as receiver:
        with patched(server, notify_url=receiver.url):
            receiver.wait_for(2)
            second = notifier.notify("invoice", 104, "delete")
            receiver.wait_for(3)
            deadline = time.monotonic() + 5
            while admin(server, "GET", "/events?delivered=false").json()["items"] and time.monotonic() < deadline:
                time.sleep(0.05)
    (h1, b1, s1), (h2, b2, s2), (h3, b3, s3) = receiver.posts[:3]
    assert (s1, s2, s3) == (500, 200, 200)
    assert b1 == b2  # the retry resends the same event
    body = json.loads(b2)
    assert body["event_id"] == event_id
    assert body == {"event_id": event_id, "account": server.settings.account_id, "record_type": "customerpayment",
                    "record_id": "2001", "event": "edit", "occurred_at": body["occurred_at"]}
    assert body["occurred_at"].endswith("Z")
    assert json.loads(b3)["event_id"] == second and json.loads(b3)["event"] == "delete"
    for headers, raw, _ in receiver.posts[:3]:
        assert headers["content-type"] == "application/json"
        verify_signature(headers["x-ns-signature"], raw, server.settings.notify_secret)
    events = admin(server, "GET", "/events").json()
    delivered = {e["event_id"]: e for e in events["items"]}
    assert delivered[event_id]["attempts"] == 2 and delivered[event_id]["delivered_at"]
    assert delivered[second]["attempts"] == 1


# ---------------------------------------------------------------------------------------------- SuiteQL and records
def suiteql(server: SandboxServer, env: dict[str, str], q: str, **params: Any) -> requests.Response:
    return requests.post(server.base_url + SUITEQL, params=params or None, json={"q": q},
                         headers={"Prefer": "transient"}, auth=tba(env), timeout=30)


def test_suiteql_response_shape(server: SandboxServer, env: dict[str, str]) -> None:
    total = suiteql(server, env, "SELECT COUNT(*) AS n FROM customer").json()["items"][0]["n"]
    total = int(total)
    assert total > 3
    resp = suiteql(server, env, "SELECT id, entityid FROM customer ORDER BY id", limit=2, offset=2)
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"] == "application/json"
    body = resp.json()
    assert list(body) == ["links", "count", "hasMore", "items", "offset", "totalResults"]
    assert body["count"] == 2 and body["offset"] == 2 and body["totalResults"] == total
    assert body["hasMore"] is (total > 4)
    base = server.base_url + SUITEQL
    rels = {link["rel"]: link["href"] for link in body["links"]}
    assert rels["self"] == f"{base}?limit=2&offset=2"
    assert rels["next"] == f"{base}?limit=2&offset=4"
    assert rels["last"] == f"{base}?limit=2&offset={((total - 1) // 2) * 2}"
    for item in body["items"]:
        assert item["links"] == [] and list(item)[0] == "links"
        assert isinstance(item["id"], str)
    last = suiteql(server, env, "SELECT id FROM customer ORDER BY id", limit=1000).json()
    assert last["hasMore"] is False and "next" not in {link["rel"] for link in last["links"]}
    assert last["count"] == total


def test_suiteql_parameters_are_validated(server: SandboxServer, env: dict[str, str]) -> None:
    resp = suiteql(server, env, "SELECT id FROM customer", limit=5000)
    assert resp.status_code == 400 and resp.headers["Content-Type"] == ERROR_TYPE
    resp = requests.post(server.base_url + SUITEQL, json={"nope": 1}, headers={"Prefer": "transient"},
                         auth=tba(env), timeout=10)
    assert resp.status_code == 400


def test_record_create_get_update_delete(server: SandboxServer, env: dict[str, str]) -> None:
    currency = suiteql(server, env, "SELECT id FROM currency ORDER BY id", limit=1).json()["items"][0]["id"]
    subsidiary = suiteql(server, env, "SELECT id FROM subsidiary WHERE iselimination = 'F' ORDER BY id",
                         limit=1).json()["items"][0]["id"]
    body = {"companyName": "HTTP Conformance Ltd", "externalId": "http-conf-1",
            "subsidiary": {"id": subsidiary}, "currency": {"id": currency}}
    resp = requests.post(server.base_url + RECORDS + "/customer", json=body, auth=tba(env), timeout=10)
    assert resp.status_code == 204, resp.text
    assert resp.content == b""
    location = resp.headers["Location"]
    assert location.startswith(server.base_url + RECORDS + "/customer/")
    new_id = location.rsplit("/", 1)[1]
    got = requests.get(location, auth=tba(env), timeout=10)
    assert got.status_code == 200, got.text
    assert got.json()["id"] == new_id
    resp = requests.patch(location, json={"companyName": "HTTP Conformance (renamed)"}, auth=tba(env), timeout=10)
    assert resp.status_code == 204, resp.text
    assert requests.get(location, auth=tba(env), timeout=10).json()["companyName"] == "HTTP Conformance (renamed)"
    resp = requests.put(server.base_url + RECORDS + "/customer/eid:http-conf-1", json={"comments": "upserted"},
                        auth=tba(env), timeout=10)
    assert resp.status_code == 204, resp.text
    assert resp.headers["Location"].rsplit("/", 1)[1] == new_id
    missing = requests.get(server.base_url + RECORDS + "/customer/999999999", auth=tba(env), timeout=10)
    assert missing.status_code == 404 and missing.headers["Content-Type"] == ERROR_TYPE
    assert requests.delete(location, auth=tba(env), timeout=10).status_code == 204
    assert requests.get(location, auth=tba(env), timeout=10).status_code == 404


def test_record_collection_and_metadata_catalog(server: SandboxServer, env: dict[str, str]) -> None:
    resp = requests.get(server.base_url + RECORDS + "/customer", params={"limit": 2}, auth=tba(env), timeout=10)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["count"] == 2 and body["offset"] == 0 and body["hasMore"] is True
    assert all(link["href"].startswith(server.base_url + "/") for link in body["links"])
    first = body["items"][0]
    got = requests.get(first["links"][0]["href"], params={"expandSubResources": "true"}, auth=tba(env), timeout=10)
    assert got.status_code == 200 and got.json()["id"] == first["id"]
    catalog = requests.get(server.base_url + RECORDS + "/metadata-catalog", auth=tba(env), timeout=10)
    assert catalog.status_code == 200
    assert "customer" in {item["name"] for item in catalog.json()["items"]}
    schema = requests.get(server.base_url + RECORDS + "/metadata-catalog/customerPayment", auth=tba(env),
                          headers={"Accept": "application/schema+json"}, timeout=10)
    assert schema.status_code == 200 and schema.headers["Content-Type"] == "application/schema+json"


def test_admin_record_changes_fire_change_events(server: SandboxServer, env: dict[str, str]) -> None:
    subsidiary = suiteql(server, env, "SELECT id FROM subsidiary WHERE iselimination = 'F' ORDER BY id",
                         limit=1).json()["items"][0]["id"]
    currency = suiteql(server, env, "SELECT id FROM currency ORDER BY id", limit=1).json()["items"][0]["id"]
    created = admin(server, "POST", "/records/customer", json={
        "companyName": "Admin UI Customer", "subsidiary": {"id": subsidiary}, "currency": {"id": currency}})
    assert created.status_code == 201, created.text
    cid = created.json()["id"]
    assert created.headers["Location"] == f"{server.base_url}{RECORDS}/customer/{cid}"
    assert admin(server, "PATCH", f"/records/customer/{cid}", json={"companyName": "Admin UI Customer (edited)"}).status_code == 200
    assert admin(server, "GET", f"/records/customer/{cid}").json()["companyName"] == "Admin UI Customer (edited)"
    invoice = suiteql(server, env, "SELECT id FROM transaction WHERE type = 'CustInvc' AND voided = 'F' "
                                   "ORDER BY id DESC", limit=1).json()["items"][0]["id"]
    voided = admin(server, "POST", f"/records/invoice/{invoice}/void")
    assert voided.status_code == 200, voided.text
    assert admin(server, "DELETE", f"/records/customer/{cid}").status_code == 200
    deleted = suiteql(server, env, f"SELECT context FROM deletedrecord WHERE recordid = {cid}").json()["items"]
    assert deleted and deleted[0]["context"] == "UI"
    events = [e["body"] for e in admin(server, "GET", "/events?limit=50").json()["items"]]
    mine = [(e["record_type"], e["event"]) for e in reversed(events) if e["record_id"] == cid]
    assert mine == [("customer", "create"), ("customer", "edit"), ("customer", "delete")]
    assert ("invoice", "edit") in {(e["record_type"], e["event"]) for e in events if e["record_id"] == invoice}
    # a bad admin change answers NetSuite's error body
    bad = admin(server, "POST", "/records/customer", json={"companyName": "x", "subsidiary": {"id": "999999"}})
    assert bad.status_code == 400 and bad.headers["Content-Type"] == ERROR_TYPE


def test_latency_per_row_and_prefer_transient_leniency(server: SandboxServer, env: dict[str, str]) -> None:
    with patched(server, latency_per_row_ms=20):
        started = time.perf_counter()
        resp = suiteql(server, env, "SELECT id FROM customer ORDER BY id", limit=10)
        assert resp.status_code == 200 and resp.json()["count"] == 10
        assert time.perf_counter() - started >= 0.2
    before = admin(server, "GET", "/stats").json()["counters"].get("suiteql_without_prefer_transient", 0)
    resp = requests.post(server.base_url + SUITEQL, json={"q": "SELECT id FROM customer"}, auth=tba(env), timeout=10)
    assert resp.status_code == 200
    after = admin(server, "GET", "/stats").json()["counters"]["suiteql_without_prefer_transient"]
    assert after == before + 1


def test_suiteql_error_is_a_netsuite_400(server: SandboxServer, env: dict[str, str]) -> None:
    resp = suiteql(server, env, "SELECT nosuchcolumn FROM nosuchtable")
    assert resp.status_code == 400, resp.text
    assert resp.headers["Content-Type"] == ERROR_TYPE
    assert resp.json()["o:errorDetails"][0]["o:errorCode"]


@pytest.mark.slow
def test_five_clients_read_well_over_25000_rows_per_second(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Zero latency, five concurrent clients, 1000-row pages (each client signs every request)."""
    with SandboxServer(tmp_path_factory.mktemp("sandbox-throughput"), scale=3000, seed=3) as srv:
        env = srv.environment()
        q = ("SELECT id, transaction, entity, foreignamount, expenseaccount, mainline, linelastmodifieddate "
             "FROM transactionline ORDER BY transaction, id")
        total = suiteql(srv, env, q, limit=1).json()["totalResults"]
        offsets = [o for o in range(0, total, 1000)] * max(1, 40 // max(1, total // 1000))
        lock = threading.Lock()
        counted = [0]

        def worker() -> None:
            with requests.Session() as session:
                while True:
                    with lock:
                        if not offsets:
                            return
                        offset = offsets.pop()
                    resp = session.post(srv.base_url + SUITEQL, params={"limit": 1000, "offset": offset},
                                        json={"q": q}, headers={"Prefer": "transient"}, auth=tba(env), timeout=30)
                    assert resp.status_code == 200
                    n = resp.json()["count"]
                    with lock:
                        counted[0] += n

        started = time.perf_counter()
        threads = [threading.Thread(target=worker) for _ in range(5)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        rate = counted[0] / (time.perf_counter() - started)
        print(f"\nSuiteQL throughput: {rate:,.0f} rows/s ({counted[0]} rows)")
        assert rate > 25_000


def test_restart_keeps_data_and_credentials_and_reset_reseeds(tmp_path_factory: pytest.TempPathFactory) -> None:
    data_dir = tmp_path_factory.mktemp("sandbox-restart")
    with SandboxServer(data_dir, scale="tiny", seed=5) as first:
        env = first.environment()
        issued = admin(first, "POST", "/tokens", json={"make_default": False}).json()
        admin(first, "POST", "/tokens/revoke", json={"token_id": issued["token_id"]})
        count = "SELECT COUNT(*) AS n FROM customer"
        seeded = suiteql(first, env, count).json()["items"][0]["n"] if first.account.suiteql else None
    with SandboxServer(data_dir, scale="tiny", seed=5) as second:
        again = second.environment()
        assert {k: v for k, v in again.items() if "URL" not in k} == {k: v for k, v in env.items() if "URL" not in k}
        assert second.account.ensure_seeded() is None  # not reseeded
        revoked = tba(again, token_id=issued["token_id"], token_secret=issued["token_secret"])
        assert_invalid_login(requests.get(second.base_url + LIMITS, auth=revoked, timeout=10))
        assert requests.get(second.base_url + LIMITS, auth=tba(again), timeout=10).status_code == 200
        if second.account.suiteql is not None and second.account.records is not None:
            sub = suiteql(second, again, "SELECT id FROM subsidiary WHERE iselimination = 'F'", limit=1).json()
            cur = suiteql(second, again, "SELECT id FROM currency", limit=1).json()
            admin(second, "POST", "/records/customer", json={"companyName": "Gone after reset",
                                                              "subsidiary": {"id": sub["items"][0]["id"]},
                                                              "currency": {"id": cur["items"][0]["id"]}})
            assert suiteql(second, again, count).json()["items"][0]["n"] != seeded
            resp = admin(second, "POST", "/reset", json={})
            assert resp.status_code == 200, resp.text
            assert suiteql(second, again, count).json()["items"][0]["n"] == seeded
            assert admin(second, "GET", "/events").json()["items"] == []
        assert admin(second, "GET", "/health").json()["seeded"]["seed"] == 5
