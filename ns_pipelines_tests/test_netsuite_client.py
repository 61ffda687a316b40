"""The NetSuite client: unit tests (no server) and integration tests against the sandbox over loopback."""
from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo

import jwt
import pytest
import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from requests.structures import CaseInsensitiveDict

from ns_pipelines.netsuite import (
    RECONNECT_INSTRUCTIONS,
    AuthenticationError,
    ConcurrencyLimiter,
    ConcurrencyLimitError,
    DateFormat,
    DecodeError,
    IdRange,
    InvalidRequestError,
    KeysetQuery,
    NetSuiteClient,
    NetSuiteConfig,
    NetSuiteConfigError,
    NetSuiteError,
    Page,
    PermissionDeniedError,
    RecordNotFoundError,
    RequestEvent,
    RetryPolicy,
    RowDecoder,
    ServerError,
    SuiteQL,
    SuiteQLRowCapError,
    TemplateKeysetQuery,
    TransportError,
    error_from_response,
    keyset_pages,
    parse_error_body,
    split_range,
)
from ns_pipelines.netsuite.suiteql import PREFETCH_PAGES, keyset_predicate

ACCOUNT = "1234567_SB1"
BASE = "https://1234567-sb1.suitetalk.api.netsuite.com"
TBA_ENV = {
    "NETSUITE_ACCOUNT_ID": ACCOUNT,
    "NETSUITE_CONSUMER_KEY": "ck-4f1d2e3c4b5a69788796a5b4c3d2e1f0",
    "NETSUITE_CONSUMER_SECRET": "cs-SECRET-0a1b2c3d4e5f60718293a4b5c6d7e8f9",
    "NETSUITE_TOKEN_ID": "ti-9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b",
    "NETSUITE_TOKEN_SECRET": "ts-SECRET-f0e1d2c3b4a5968778695a4b3c2d1e0f",
}
SECRETS = (TBA_ENV["NETSUITE_CONSUMER_SECRET"], TBA_ENV["NETSUITE_TOKEN_SECRET"])
FAST = RetryPolicy(max_attempts=6, initial_backoff_s=0.001, max_backoff_s=0.005)

NS_401 = {"type": "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.2", "title": "Unauthorized",
          "status": 401, "o:errorDetails": [{
              "detail": "Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at "
                        "Setup > Users/Roles > User Management > View Login Audit Trail.",
              "o:errorCode": "INVALID_LOGIN"}]}
NS_429 = {"type": "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html", "title": "Bad Request", "status": 429,
          "o:errorDetails": [{"detail": "Concurrent request limit exceeded. Request blocked.",
                              "o:errorCode": "CONCURRENCY_LIMIT_EXCEEDED"}]}
NS_400 = {"type": "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.1", "title": "Bad Request", "status": 400,
          "o:errorDetails": [{"detail": "Invalid customer reference key 99999.", "o:errorCode": "INVALID_KEY_OR_REF",
                              "o:errorPath": "customer"}]}
NS_500 = {"type": "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.6.1", "title": "Internal Server Error",
          "status": 500, "o:errorDetails": [{"detail": "An unexpected error occurred.", "o:errorCode": "UNEXPECTED_ERROR"}]}


# ============================================================================================
# A fake NetSuite behind a requests transport adapter (no server, no sockets)


class FakeNetSuite(BaseAdapter):
    """Answers with `handler(request) -> (status, body, headers) | Exception`; records every
    request (method, URL, headers) and the peak number of requests in its hands at once."""

    def __init__(self, handler: Callable[[requests.PreparedRequest], Any], delay: float = 0.0) -> None:
        super().__init__()
        self.handler = handler
        self.delay = delay
        self.seen: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self.current = 0
        self.peak = 0

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        with self._lock:
            self.current += 1
            self.peak = max(self.peak, self.current)
            headers = {(k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
                       for k, v in request.headers.items()}
            self.seen.append({"method": request.method, "url": request.url, "headers": headers,
                              "body": request.body})
        try:
            if self.delay:
                time.sleep(self.delay)
            result = self.handler(request)
        finally:
            with self._lock:
                self.current -= 1
        if isinstance(result, Exception):
            raise result
        status, body, headers = (result + ({},))[:3] if len(result) == 2 else result
        response = requests.Response()
        response.status_code = status
        if body is None:
            response._content = b""
        elif isinstance(body, (bytes, str)):
            response._content = body.encode() if isinstance(body, str) else body
        else:
            response._content = json.dumps(body).encode()
        response.headers = CaseInsensitiveDict(headers)
        response.request = request
        response.url = request.url or ""
        response.reason = {200: "OK", 204: "No Content"}.get(status, "Error")
        return response

    def close(self) -> None:
        pass

    def auth_headers(self, path_part: str = "") -> list[str]:
        return [s["headers"].get("Authorization", "") for s in self.seen if path_part in (s["url"] or "")]


def fake_client(handler: Callable[[requests.PreparedRequest], Any], *, delay: float = 0.0,
                env: dict[str, str] | None = None, **config: Any) -> tuple[NetSuiteClient, FakeNetSuite]:
    adapter = FakeNetSuite(handler, delay)
    session = requests.Session()
    session.mount("https://", adapter)
    config.setdefault("retry", FAST)
    client = NetSuiteClient(NetSuiteConfig.from_env(env or TBA_ENV, **config), session=session)
    return client, adapter


def ok(body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any, dict[str, str]]:
    return (200, body if body is not None else {}, headers or {"Content-Type": "application/json"})


def oauth_params(header: str) -> dict[str, str]:
    return {k: unquote(v) for k, v in re.findall(r'(\w+)="([^"]*)"', header)}


def run_threads(threads: int, times: int, call: Callable[[], Any]) -> list[BaseException]:
    """`call()` `times` times in each of `threads` threads at once; what the threads raised."""
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(times):
                call()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    return errors


# ============================================================================================
# config.py


def test_config_from_env_tba_defaults() -> None:
    config = NetSuiteConfig.from_env(TBA_ENV)
    assert config.auth_method == "tba"
    assert config.base_url == BASE
    assert config.realm == "1234567_SB1"
    assert config.concurrency == 3
    assert config.token_url == BASE + "/services/rest/auth/oauth2/v1/token"


@pytest.mark.parametrize("account,host,realm", [
    ("1234567_SB1", "1234567-sb1", "1234567_SB1"),
    ("1234567-sb1", "1234567-sb1", "1234567_SB1"),
    ("1234567", "1234567", "1234567"),
    ("tstdrv123_sb2", "tstdrv123-sb2", "TSTDRV123_SB2"),
])
def test_config_account_id_forms(account: str, host: str, realm: str) -> None:
    config = NetSuiteConfig.from_env({**TBA_ENV, "NETSUITE_ACCOUNT_ID": account})
    assert config.base_url == f"https://{host}.suitetalk.api.netsuite.com"
    assert config.realm == realm


def test_config_from_env_overrides_base_url_and_concurrency() -> None:
    config = NetSuiteConfig.from_env({**TBA_ENV, "NETSUITE_BASE_URL": "http://127.0.0.1:8080/",
                                      "NETSUITE_CONCURRENCY": "7"})
    assert config.base_url == "http://127.0.0.1:8080"
    assert config.concurrency == 7


def test_config_from_env_names_every_missing_variable() -> None:
    with pytest.raises(NetSuiteConfigError) as info:
        NetSuiteConfig.from_env({"NETSUITE_CONSUMER_KEY": "x"})
    message = str(info.value)
    for name in ("NETSUITE_ACCOUNT_ID", "NETSUITE_CONSUMER_SECRET", "NETSUITE_TOKEN_ID", "NETSUITE_TOKEN_SECRET"):
        assert name in message
    assert "NETSUITE_CONSUMER_KEY" not in message

    with pytest.raises(NetSuiteConfigError) as info:
        NetSuiteConfig.from_env({"NETSUITE_ACCOUNT_ID": ACCOUNT, "NETSUITE_AUTH_METHOD": "oauth2"})
    message = str(info.value)
    for name in ("NETSUITE_CLIENT_ID", "NETSUITE_CERTIFICATE_ID", "NETSUITE_PRIVATE_KEY", "NETSUITE_PRIVATE_KEY_FILE"):
        assert name in message


@pytest.mark.parametrize("env,needle", [
    ({"NETSUITE_CONCURRENCY": "three"}, "NETSUITE_CONCURRENCY"),
    ({"NETSUITE_CONCURRENCY": "0"}, "NETSUITE_CONCURRENCY"),
    ({"NETSUITE_AUTH_METHOD": "basic"}, "NETSUITE_AUTH_METHOD"),
    ({"NETSUITE_BASE_URL": "ftp://x"}, "http"),
])
def test_config_invalid_values(env: dict[str, str], needle: str) -> None:
    with pytest.raises(NetSuiteConfigError, match=needle):
        NetSuiteConfig.from_env({**TBA_ENV, **env})


def test_config_oauth2_from_key_file(tmp_path: Any, rsa_key: tuple[str, Any]) -> None:
    pem, _ = rsa_key
    key_file = tmp_path / "key.pem"
    key_file.write_text(pem)
    config = NetSuiteConfig.from_env({"NETSUITE_ACCOUNT_ID": ACCOUNT, "NETSUITE_AUTH_METHOD": "oauth2",
                                      "NETSUITE_CLIENT_ID": "client-1", "NETSUITE_CERTIFICATE_ID": "cert-1",
                                      "NETSUITE_PRIVATE_KEY_FILE": str(key_file)})
    assert config.auth_method == "oauth2"
    assert config.private_key() == pem
    # a PEM pasted on one line with literal \n works too
    one_line = NetSuiteConfig(ACCOUNT, auth_method="oauth2", client_id="c", certificate_id="k",
                              private_key_pem=pem.replace("\n", "\\n"))
    assert one_line.private_key().strip() == pem.strip()


def test_config_never_shows_secrets() -> None:
    config = NetSuiteConfig.from_env(TBA_ENV)
    for text in (repr(config), str(config), f"{config}", repr(NetSuiteClient(config))):
        for value in TBA_ENV.values():
            if value != ACCOUNT:
                assert value not in text
    assert "consumer_secret" in repr(config)  # says which credentials are set, not their values
    redacted = config.redact(f"boom {SECRETS[0]} and {TBA_ENV['NETSUITE_TOKEN_ID']}")
    assert SECRETS[0] not in redacted and TBA_ENV["NETSUITE_TOKEN_ID"] not in redacted
    assert "***" in redacted


def test_config_is_frozen() -> None:
    config = NetSuiteConfig.from_env(TBA_ENV)
    with pytest.raises(AttributeError):
        config.concurrency = 5  # type: ignore[misc]


# ============================================================================================
# errors.py


def _response(status: int, body: Any, headers: dict[str, str] | None = None, method: str = "POST",
              url: str = BASE + "/services/rest/query/v1/suiteql?limit=1000&offset=0") -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body if isinstance(body, bytes) else (body.encode() if isinstance(body, str) else json.dumps(body).encode())
    response.headers = CaseInsensitiveDict(headers or {})
    request = requests.Request(method, url, headers={"Authorization": 'OAuth realm="X", oauth_signature="SIG"'}).prepare()
    response.request = request
    return response


def test_parse_error_body_netsuite_shapes() -> None:
    parsed = parse_error_body(json.dumps(NS_400).encode())
    assert parsed.code == "INVALID_KEY_OR_REF"
    assert parsed.detail == "Invalid customer reference key 99999."
    assert parsed.error_path == "customer"
    assert parse_error_body(json.dumps(NS_429)).code == "CONCURRENCY_LIMIT_EXCEEDED"
    # top-level o:errorCode only
    assert parse_error_body('{"title":"Bad Request","o:errorCode":"USER_ERROR","detail":"x"}').code == "USER_ERROR"
    # OAuth 2.0 token endpoint
    oauth = parse_error_body('{"error":"invalid_grant","error_description":"bad assertion"}')
    assert (oauth.code, oauth.detail) == ("invalid_grant", "bad assertion")
    # not JSON, JSON that is not an object, empty
    html = parse_error_body(b"<html><body>502 Bad Gateway</body></html>")
    assert html.code is None and "502 Bad Gateway" in (html.text or "")
    assert parse_error_body("[1, 2]").text == "[1, 2]"
    assert parse_error_body(b"").code is None
    assert parse_error_body(None).details == ()
    weird = parse_error_body('{"o:errorDetails": ["nonsense", {"o:errorCode": "X"}]}')
    assert weird.code == "X"


@pytest.mark.parametrize("status,body,cls", [
    (401, NS_401, AuthenticationError),
    (403, {"status": 403, "o:errorDetails": [{"detail": "Permission Violation", "o:errorCode": "INSUFFICIENT_PERMISSION"}]},
     PermissionDeniedError),
    (404, {"status": 404, "o:errorDetails": [{"detail": "missing", "o:errorCode": "NONEXISTENT_ID"}]}, RecordNotFoundError),
    (400, NS_400, InvalidRequestError),
    (400, {"o:errorDetails": [{"detail": "dup", "o:errorCode": "DUP_RCRD"}]}, InvalidRequestError),
    (429, NS_429, ConcurrencyLimitError),
    (400, {"o:errorDetails": [{"detail": "x", "o:errorCode": "SSS_REQUEST_LIMIT_EXCEEDED"}]}, ConcurrencyLimitError),
    (500, NS_500, ServerError),
    (502, b"<html>Bad Gateway</html>", ServerError),
    (503, b"", ServerError),
])
def test_error_from_response_classes(status: int, body: Any, cls: type) -> None:
    error = error_from_response(_response(status, body), method="POST", path="/services/rest/query/v1/suiteql")
    assert type(error) is cls
    assert error.status == status
    assert error.method == "POST" and error.path == "/services/rest/query/v1/suiteql"
    assert "POST /services/rest/query/v1/suiteql" in str(error)
    assert "SIG" not in str(error) and "Authorization" not in str(error)
    assert error.retryable == (cls in (ConcurrencyLimitError, ServerError))


def test_error_carries_netsuite_fields() -> None:
    error = error_from_response(_response(400, NS_400), method="POST", path="/services/rest/record/v1/customerPayment")
    assert error.code == "INVALID_KEY_OR_REF"
    assert error.detail == "Invalid customer reference key 99999."
    assert error.error_path == "customer"
    assert error.details[0].code == "INVALID_KEY_OR_REF"
    assert "INVALID_KEY_OR_REF" in str(error) and "customer" in str(error)


def test_authentication_error_tells_how_to_reconnect() -> None:
    error = error_from_response(
        _response(401, NS_401, {"WWW-Authenticate": 'OAuth realm="1234567_SB1", error="token_rejected", '
                                                    'error_description="Invalid login attempt."'}),
        method="GET", path="/services/rest/system/v1/governanceLimits")
    assert isinstance(error, AuthenticationError)
    assert error.code == "INVALID_LOGIN"
    assert error.auth_error == "token_rejected"
    text = str(error)
    assert RECONNECT_INSTRUCTIONS in text
    for needle in ("Setup > Users/Roles > Access Tokens", "NETSUITE_TOKEN_ID", "NETSUITE_TOKEN_SECRET",
                   "ns-pipelines check-connection"):
        assert needle in text


def test_error_message_is_redacted() -> None:
    config = NetSuiteConfig.from_env(TBA_ENV)
    body = {"o:errorDetails": [{"detail": f"bad token {TBA_ENV['NETSUITE_TOKEN_ID']}", "o:errorCode": "USER_ERROR"}]}
    error = error_from_response(_response(400, body), method="GET", path="/x", redact=config.redact)
    assert TBA_ENV["NETSUITE_TOKEN_ID"] not in str(error)


# ============================================================================================
# decoding.py


def test_decode_every_kind() -> None:
    decoder = RowDecoder({"id": "id", "tranid": "text", "isinactive": "bool", "mainline": "bool",
                          "trandate": "date", "lastmodified": "datetime", "foreigntotal": "decimal",
                          "exchangerate": "decimal", "line": "int", "memo": "text"},
                         date_format="M/D/YYYY", timezone="America/Los_Angeles", record_type="invoice")
    row = {"links": [], "id": "104", "tranid": "INV-1001", "isinactive": "F", "mainline": "T",
           "trandate": "10/7/2026", "lastmodified": "2026-10-07 16:30:05", "foreigntotal": 1234.56,
           "exchangerate": "1.0725", "line": "3"}
    out = decoder.decode(row)
    assert out["id"] == 104
    assert out["tranid"] == "INV-1001"
    assert out["isinactive"] is False and out["mainline"] is True
    assert out["trandate"] == date(2026, 10, 7)
    assert out["lastmodified"] == datetime(2026, 10, 7, 16, 30, 5, tzinfo=ZoneInfo("America/Los_Angeles"))
    assert out["lastmodified"].utcoffset() == timedelta(hours=-7)
    assert out["foreigntotal"] == Decimal("1234.56") and isinstance(out["foreigntotal"], Decimal)
    assert out["exchangerate"] == Decimal("1.0725")
    assert out["line"] == 3
    assert out["memo"] is None  # NetSuite omits null columns
    assert "links" not in out


def test_decode_datetime_to_utc_and_dst() -> None:
    decoder = RowDecoder({"id": "id", "ts": "datetime"}, timezone="America/Los_Angeles", to_utc=True)
    summer = decoder.decode({"id": "1", "ts": "2024-07-01 12:00:00"})["ts"]
    winter = decoder.decode({"id": "1", "ts": "2024-01-15 12:00:00"})["ts"]
    assert summer == datetime(2024, 7, 1, 19, 0, tzinfo=timezone.utc)
    assert winter == datetime(2024, 1, 15, 20, 0, tzinfo=timezone.utc)
    assert summer.tzinfo == timezone.utc
    # ISO 8601 UTC from the record service is kept as UTC
    assert decoder.decode({"id": "1", "ts": "2017-07-21T17:32:28Z"})["ts"] == datetime(2017, 7, 21, 17, 32, 28,
                                                                                     tzinfo=timezone.utc)
    with pytest.raises(ValueError, match="time zone"):
        RowDecoder({"ts": "datetime"})


@pytest.mark.parametrize("fmt,text,expected", [
    ("M/D/YYYY", "1/5/2024", date(2024, 1, 5)),
    ("M/D/YYYY", "12/31/2024", date(2024, 12, 31)),
    ("D/M/YYYY", "5/1/2024", date(2024, 1, 5)),
    ("DD/MM/YYYY", "05/01/2024", date(2024, 1, 5)),
    ("MM/DD/YYYY", "01/05/2024", date(2024, 1, 5)),
    ("YYYY-MM-DD", "2024-01-05", date(2024, 1, 5)),
    ("DD.MM.YYYY", "05.01.2024", date(2024, 1, 5)),
    ("D.M.YYYY", "5.1.2024", date(2024, 1, 5)),
    ("D-Mon-YYYY", "5-Jan-2024", date(2024, 1, 5)),
    ("DD MONTH, YYYY", "05 January, 2024", date(2024, 1, 5)),
    ("YYYY/MM/DD", "2024/01/05", date(2024, 1, 5)),
])
def test_date_formats(fmt: str, text: str, expected: date) -> None:
    assert DateFormat(fmt).parse(text) == expected
    assert DateFormat(fmt).parse(DateFormat(fmt).format(expected)) == expected
    assert RowDecoder({"d": "date"}, date_format=fmt).decode({"d": text})["d"] == expected


def test_decode_date_accepts_iso_whatever_the_preference() -> None:
    assert RowDecoder({"d": "date"}, date_format="D/M/YYYY").decode({"d": "2024-01-05"})["d"] == date(2024, 1, 5)


def test_decode_decimal_never_uses_float_arithmetic() -> None:
    decoder = RowDecoder({"a": "decimal"})
    assert decoder.decode({"a": 0.1})["a"] == Decimal("0.1")
    assert decoder.decode({"a": 100})["a"] == Decimal("100")
    assert decoder.decode({"a": Decimal("10.10")})["a"] == Decimal("10.10")
    assert decoder.decode({"a": " -5.25 "})["a"] == Decimal("-5.25")
    assert decoder.decode({"a": ""})["a"] is None


def test_decode_missing_and_null_columns_are_none() -> None:
    decoder = RowDecoder({"id": "id", "b": "bool", "d": "date", "n": "decimal", "t": "text"})
    assert decoder.decode({"id": "1", "b": None}) == {"id": 1, "b": None, "d": None, "n": None, "t": None}


@pytest.mark.parametrize("kind,value", [
    ("id", "12a"), ("id", "1.5"), ("id", True), ("int", ""), ("bool", "Y"), ("bool", 1),
    ("date", "13/45/2024"), ("date", "2024-13-01"), ("date", 20240101),
    ("datetime", "10/7/2026"), ("datetime", "yesterday"),
    ("decimal", "12,50"), ("decimal", "abc"), ("decimal", "NaN"), ("decimal", True),
])
def test_decode_bad_value_names_record_column_and_value(kind: str, value: Any) -> None:
    decoder = RowDecoder({"id": "id", "col": kind}, timezone="UTC", record_type="invoice")
    row = {"id": "104", "col": value} if kind != "id" else {"id": value}
    if kind == "int" and value == "":
        assert decoder.decode(row)["col"] is None  # empty means null for non-text kinds
        return
    with pytest.raises(DecodeError) as info:
        decoder.decode(row)
    error = info.value
    column = "id" if kind == "id" else "col"
    assert error.column == column
    assert error.kind == kind
    assert repr(value) in str(error)
    assert f"'{column}'" in str(error)
    if kind != "id":
        assert "invoice 104" in str(error) and error.record_id == "104"


def test_decode_extra_columns() -> None:
    row = {"id": "1", "other": "x"}
    assert RowDecoder({"id": "id"}).decode(row) == {"id": 1, "other": "x"}
    assert RowDecoder({"id": "id"}, extra="drop").decode(row) == {"id": 1}
    with pytest.raises(DecodeError, match="other"):
        RowDecoder({"id": "id"}, extra="error").decode(row)
    # renamed columns: {output: (kind, source)}
    assert RowDecoder({"customer_id": ("id", "entity")}, extra="drop").decode({"entity": "7"}) == {"customer_id": 7}
    with pytest.raises(ValueError, match="kind"):
        RowDecoder({"x": "money"})


# ============================================================================================
# suiteql.py: keyset paging with a fake page function


class FakeSuiteQL:
    """Serves `SELECT ... WHERE <keyset predicate> ORDER BY id` over a list of ids, like NetSuite:
    at most `cap` rows per query, offsets beyond the cap refused. `shift` inserts rows below the
    current position after a page (to move offsets under the reader)."""

    def __init__(self, ids: list[int], cap: int, *, truncate_total: bool = False) -> None:
        self.ids = sorted(ids)
        self.cap = cap
        self.truncate_total = truncate_total
        self.calls: list[tuple[str, int, int]] = []
        self.on_page: Callable[[FakeSuiteQL], None] | None = None

    def rows_for(self, q: str) -> list[int]:
        after = re.search(r"\bid > (-?\d+)", q)
        lower = re.search(r"\bid >= (-?\d+)", q)
        upper = re.search(r"\bid <= (-?\d+)", q)
        rows = self.ids
        if after:
            rows = [i for i in rows if i > int(after.group(1))]
        if lower:
            rows = [i for i in rows if i >= int(lower.group(1))]
        if upper:
            rows = [i for i in rows if i <= int(upper.group(1))]
        return rows

    def __call__(self, q: str, limit: int, offset: int) -> Page:
        self.calls.append((q, limit, offset))
        assert "ORDER BY" in q
        if offset >= self.cap:
            raise InvalidRequestError("offset beyond the cap", status=400)
        rows = self.rows_for(q)
        total = len(rows)
        capped = rows[: self.cap]
        window = capped[offset: offset + limit]
        page = Page(items=[{"id": str(i), "links": []} for i in window], offset=offset, count=len(window),
                    total_results=min(total, self.cap) if self.truncate_total else total,
                    has_more=offset + len(window) < len(capped))
        if self.on_page:
            self.on_page(self)
        return page


def _ids(pages: Any) -> list[int]:
    return [int(row["id"]) for page in pages for row in page.items]


@pytest.mark.parametrize("truncate_total", [False, True])
def test_keyset_paging_past_the_cap_returns_every_row_once(truncate_total: bool) -> None:
    ids = sorted({(i * 7919) % 100_003 for i in range(1, 2538)})  # 2537 sparse, unordered-ish ids
    fake = FakeSuiteQL(ids, cap=100, truncate_total=truncate_total)
    query = KeysetQuery("t.id", "transaction t", "t.type = 'CustInvc'", key="t.id")
    got = _ids(keyset_pages(fake, query, page_size=10, row_cap=100))
    assert got == ids  # each row exactly once, in key order
    assert all(offset < 100 for _, _, offset in fake.calls)
    assert all(offset + limit <= 90 for _, limit, offset in fake.calls)  # windows stop before the cap
    windows = {q for q, _, _ in fake.calls}
    assert len(windows) >= len(ids) // 90


def test_keyset_paging_window_is_complete_when_fewer_rows_than_window() -> None:
    fake = FakeSuiteQL(list(range(1, 51)), cap=100)
    got = _ids(keyset_pages(fake, KeysetQuery("id", "customer"), page_size=10, row_cap=100))
    assert got == list(range(1, 51))
    assert len({q for q, _, _ in fake.calls}) == 1  # one window, no restart
    assert len(fake.calls) == 5


def test_keyset_paging_exactly_at_window_size_and_resume_after() -> None:
    fake = FakeSuiteQL(list(range(1, 91)), cap=100)
    assert _ids(keyset_pages(fake, KeysetQuery("id", "customer"), page_size=10, row_cap=100)) == list(range(1, 91))
    fake = FakeSuiteQL(list(range(1, 300)), cap=100)
    assert _ids(keyset_pages(fake, KeysetQuery("id", "customer"), page_size=10, row_cap=100, after=(250,))) == \
        list(range(251, 300))


def test_keyset_paging_skips_rows_shifted_by_concurrent_inserts() -> None:
    fake = FakeSuiteQL(list(range(100, 400)), cap=1000)
    inserted = iter(range(1, 50))

    def insert_below(f: FakeSuiteQL) -> None:  # a new row with a small id shifts every offset by one
        f.ids.insert(0, next(inserted))

    fake.on_page = insert_below
    got = _ids(keyset_pages(fake, KeysetQuery("id", "customer"), page_size=10, row_cap=1000))
    assert got == sorted(set(got))  # no duplicates, ascending
    assert got[0] == 100 and got[-1] == 399


class SlowFake(FakeSuiteQL):
    """A FakeSuiteQL whose pages take a moment, noting how many were being fetched at once."""

    def __init__(self, *args: Any, fail_at: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fail_at = fail_at
        self.lock = threading.Lock()
        self.now = self.peak = 0

    def __call__(self, q: str, limit: int, offset: int) -> Page:
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
        try:
            time.sleep(0.01)
            if offset == self.fail_at:
                raise ServerError("boom at offset %d" % offset, status=500)
            return super().__call__(q, limit, offset)
        finally:
            with self.lock:
                self.now -= 1


@pytest.mark.parametrize("truncate_total", [False, True])
def test_keyset_paging_reads_a_windows_pages_ahead_when_slots_are_spare(truncate_total: bool) -> None:
    ids = sorted({(i * 7919) % 100_003 for i in range(1, 2538)})
    query = KeysetQuery("t.id", "transaction t", key="t.id")
    serial = FakeSuiteQL(ids, cap=100, truncate_total=truncate_total)
    expected = [page.items for page in keyset_pages(serial, query, page_size=10, row_cap=100)]
    ahead = SlowFake(ids, cap=100, truncate_total=truncate_total)
    got = [page.items for page in keyset_pages(ahead, query, page_size=10, row_cap=100, spare_slots=lambda: 9)]
    assert got == expected  # the same pages, in order
    assert sorted(ahead.calls) == sorted(serial.calls)  # and the same requests: none past a window's end
    assert 1 < ahead.peak <= 1 + PREFETCH_PAGES


def test_keyset_paging_reads_one_page_at_a_time_without_spare_slots() -> None:
    fake = SlowFake(list(range(1, 301)), cap=1000)
    spare = iter([2] + [0] * 100)  # spare once, then never
    got = _ids(keyset_pages(fake, KeysetQuery("id", "customer"), page_size=10, row_cap=1000,
                            spare_slots=lambda: next(spare)))
    assert got == list(range(1, 301))
    assert len(fake.calls) == 30
    assert fake.peak <= 2


def test_keyset_paging_ahead_raises_a_pages_error_in_order_and_stops() -> None:
    fake = SlowFake(list(range(1, 301)), cap=1000, fail_at=50)
    pages = keyset_pages(fake, KeysetQuery("id", "customer"), page_size=10, row_cap=1000, spare_slots=lambda: 5)
    got: list[int] = []
    with pytest.raises(ServerError, match="offset 50"):
        for page in pages:
            got.extend(int(row["id"]) for row in page.items)
    assert got == list(range(1, 51))  # every page before the failed one, nothing after it
    time.sleep(0.05)
    requested = len(fake.calls)
    time.sleep(0.05)
    assert len(fake.calls) == requested  # nothing more is requested once the error is raised


def test_keyset_paging_ahead_closed_early_requests_nothing_more() -> None:
    fake = SlowFake(list(range(1, 1001)), cap=2000)
    pages = keyset_pages(fake, KeysetQuery("id", "customer"), page_size=10, row_cap=2000, spare_slots=lambda: 5)
    assert _ids([next(pages)]) == list(range(1, 11))
    pages.close()
    time.sleep(0.05)
    requested = len(fake.calls)
    assert requested <= 2 + PREFETCH_PAGES
    time.sleep(0.05)
    assert len(fake.calls) == requested


def test_keyset_paging_rejects_unordered_rows() -> None:
    def unordered(q: str, limit: int, offset: int) -> Page:
        return Page(items=[{"id": "5"}, {"id": "3"}], offset=0, count=2, total_results=2, has_more=False)

    with pytest.raises(NetSuiteError, match="ascending"):
        list(keyset_pages(unordered, KeysetQuery("id", "customer")))


def test_keyset_paging_needs_the_key_column() -> None:
    def no_key(q: str, limit: int, offset: int) -> Page:
        return Page(items=[{"name": "x"}], offset=0, count=1, total_results=1, has_more=False)

    with pytest.raises(NetSuiteError, match="key column 'id'"):
        list(keyset_pages(no_key, KeysetQuery("name", "customer")))


def test_keyset_sql_rendering() -> None:
    query = KeysetQuery("t.id, t.tranid", "transaction t", "t.type = 'CustInvc'", key="t.id")
    assert query.render() == ("SELECT t.id, t.tranid FROM transaction t WHERE (t.type = 'CustInvc') "
                              "ORDER BY t.id")
    assert query.render(after=(104,), lower=100, upper=200) == (
        "SELECT t.id, t.tranid FROM transaction t WHERE (t.type = 'CustInvc') AND t.id >= 100 AND t.id <= 200 "
        "AND t.id > 104 ORDER BY t.id")
    lines = KeysetQuery("l.transaction, l.id AS line", "transactionline l", key=("l.transaction", "l.id"),
                        key_names=("transaction", "line"))
    assert lines.render(after=(7, 2)) == (
        "SELECT l.transaction, l.id AS line FROM transactionline l WHERE l.transaction >= 7 AND "
        "((l.transaction > 7) OR (l.transaction = 7 AND l.id > 2)) ORDER BY l.transaction, l.id")
    assert keyset_predicate(["a"], None) == "1 = 1"
    with pytest.raises(TypeError):
        keyset_predicate(["a"], ["1; DROP"])  # type: ignore[list-item]
    template = TemplateKeysetQuery("SELECT id FROM customer WHERE isinactive = 'F' AND {keyset} ORDER BY id")
    assert template.render(after=(9,)) == "SELECT id FROM customer WHERE isinactive = 'F' AND id > 9 ORDER BY id"
    with pytest.raises(ValueError, match="keyset"):
        TemplateKeysetQuery("SELECT id FROM customer ORDER BY id")
    with pytest.raises(ValueError, match="ORDER BY"):
        TemplateKeysetQuery("SELECT id FROM customer WHERE {keyset}")


def test_keyset_composite_key_pages() -> None:
    rows = [(t, line) for t in range(1, 40) for line in range(0, 1 + t % 4)]

    def fetch(q: str, limit: int, offset: int) -> Page:
        m = re.search(r"l\.transaction = (\d+) AND l\.id > (\d+)", q)
        selected = [r for r in rows if m is None or r > (int(m.group(1)), int(m.group(2)))]
        window = selected[:50][offset: offset + limit]
        return Page(items=[{"transaction": str(t), "line": str(line)} for t, line in window], offset=offset,
                    count=len(window), total_results=len(selected), has_more=offset + len(window) < min(50, len(selected)))

    query = KeysetQuery("l.transaction, l.id AS line", "transactionline l", key=("l.transaction", "l.id"),
                        key_names=("transaction", "line"))
    got = [(int(r["transaction"]), int(r["line"])) for p in keyset_pages(fetch, query, page_size=7, row_cap=50)
           for r in p.items]
    assert got == rows


def test_split_range() -> None:
    assert split_range(1, 10, 3) == [IdRange(1, 3), IdRange(4, 6), IdRange(7, 10)]
    assert split_range(5, 6, 4) == [IdRange(5, 5), IdRange(6, 6)]
    assert split_range(7, 7, 3) == [IdRange(7, 7)]
    assert split_range(9, 1, 3) == []
    ranges = split_range(100, 100_000, 7)
    assert ranges[0].lower == 100 and ranges[-1].upper == 100_000
    assert all(a.upper + 1 == b.lower for a, b in zip(ranges, ranges[1:]))


class _FakeSuiteQLService(SuiteQL):
    def __init__(self, fake: FakeSuiteQL, concurrency: int = 3) -> None:
        super().__init__(client=type("C", (), {"config": type("Cfg", (), {"concurrency": concurrency})()})(),  # type: ignore[arg-type]
                         row_cap=fake.cap)
        self.fake = fake
        self.lock = threading.Lock()
        self.active = 0
        self.peak = 0

    def query_page(self, q: str, limit: int = 1000, offset: int = 0) -> Page:
        if q.startswith("SELECT MIN("):
            return Page(items=[{"lo": str(min(self.fake.ids)), "hi": str(max(self.fake.ids))}], offset=0, count=1,
                        total_results=1, has_more=False)
        with self.lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
        try:
            time.sleep(0.001)
            return self.fake(q, limit, offset)
        finally:
            with self.lock:
                self.active -= 1


def test_query_keyset_ranges_reads_every_row_once_in_parallel() -> None:
    ids = list(range(10, 3000, 3))
    service = _FakeSuiteQLService(FakeSuiteQL(ids, cap=100))
    pages = list(service.query_keyset_ranges(KeysetQuery("id", "transaction"), ranges=5, page_size=10))
    got = _ids(pages)
    assert sorted(got) == ids and len(got) == len(ids)
    assert {p.id_range for p in pages} == set(split_range(10, max(ids), 5))
    assert 1 < service.peak <= 3  # concurrent, within the workers (= budget by default)
    for id_range in {p.id_range for p in pages}:  # in key order within each range
        in_range = [int(r["id"]) for p in pages if p.id_range == id_range for r in p.items]
        assert in_range == sorted(in_range) and all(id_range.lower <= i <= id_range.upper for i in in_range)


def test_query_keyset_ranges_propagates_errors_and_stops_early() -> None:
    fake = FakeSuiteQL(list(range(1, 2000)), cap=100)
    service = _FakeSuiteQLService(fake)
    original = fake.__call__

    def failing(q: str, limit: int, offset: int) -> Page:
        if "id >= 1000" in q and offset >= 20:
            raise ServerError("boom", status=500)
        return original(q, limit, offset)

    service.fake = failing  # type: ignore[assignment]
    with pytest.raises(ServerError):
        list(service.query_keyset_ranges(KeysetQuery("id", "transaction"), ranges=2, lower=1, upper=1999,
                                         page_size=10))
    # closing the iterator early stops the workers
    service.fake = fake
    iterator = service.query_keyset_ranges(KeysetQuery("id", "transaction"), ranges=3, lower=1, upper=1999, page_size=10)
    next(iterator)
    iterator.close()
    calls = len(fake.calls)
    time.sleep(0.05)
    assert len(fake.calls) == calls


def test_offset_query_refuses_results_over_the_cap() -> None:
    fake = FakeSuiteQL(list(range(1, 251)), cap=1_000_000)

    class Service(SuiteQL):
        def query_page(self, q: str, limit: int = 1000, offset: int = 0) -> Page:
            return fake(q + " ORDER BY id", limit, offset)

    service = Service(client=None, row_cap=200)  # type: ignore[arg-type]
    with pytest.raises(SuiteQLRowCapError, match="keyset"):
        list(service.query("SELECT id FROM customer", page_size=10))
    service = Service(client=None, row_cap=1000)  # type: ignore[arg-type]
    assert [int(r["id"]) for r in service.query("SELECT id FROM customer", page_size=100)] == list(range(1, 251))


# ============================================================================================
# transport.py: concurrency budget and AIMD limit


def test_limiter_aimd() -> None:
    limiter = ConcurrencyLimiter(8, recovery_successes=3)
    slot = limiter.acquire()
    limiter.release(slot)
    assert limiter.on_overload(slot) and limiter.limit == 4
    assert not limiter.on_overload(slot) and limiter.limit == 4  # one decrease per epoch (a burst of 429s)
    for expected in (2, 1, 1):
        s = limiter.acquire()
        limiter.release(s)
        limiter.on_overload(s)
        assert limiter.limit == expected
    for _ in range(3):
        limiter.on_success()
    assert limiter.limit == 2
    for _ in range(30):
        limiter.on_success()
    assert limiter.limit == 8  # back to the budget, never above
    fixed = ConcurrencyLimiter(3, adaptive=False)
    s = fixed.acquire()
    fixed.release(s)
    assert not fixed.on_overload(s) and fixed.limit == 3


def test_limiter_blocks_at_the_adaptive_limit() -> None:
    limiter = ConcurrencyLimiter(4)
    first = limiter.acquire()
    limiter.on_overload(first)  # limit 2
    second = limiter.acquire()
    assert limiter.was_at_limit(second)
    got: list[Any] = []
    waiter = threading.Thread(target=lambda: got.append(limiter.acquire()))
    waiter.start()
    time.sleep(0.05)
    assert not got  # blocked: 2 in flight at limit 2
    limiter.release(first)
    waiter.join(2)
    assert got and limiter.in_flight == 2
    limiter.release(second)
    limiter.release(got[0])
    assert limiter.in_flight == 0


def test_client_never_exceeds_its_budget_across_threads() -> None:
    client, fake = fake_client(lambda r: ok({"ok": True}), delay=0.01)
    assert client.config.concurrency == 3
    errors = run_threads(10, 5, lambda: client.get("/services/rest/system/v1/governanceLimits"))
    assert not errors
    assert fake.peak == 3
    assert client.stats.peak_in_flight == 3
    assert client.stats.requests == 50 and client.stats.successes == 50


# ============================================================================================
# transport.py: retries, signing, 401 handling, hooks, stats


def test_every_attempt_is_signed_afresh() -> None:
    answers = iter([(429, NS_429), (429, NS_429), (500, NS_500), ok({"items": []})])
    client, fake = fake_client(lambda r: next(answers))
    client.get("/services/rest/system/v1/governanceLimits")
    headers = fake.auth_headers()
    assert len(headers) == 4
    params = [oauth_params(h) for h in headers]
    assert len({p["oauth_nonce"] for p in params}) == 4
    assert len({p["oauth_signature"] for p in params}) == 4
    for p in params:
        assert p["realm"] == "1234567_SB1"
        assert p["oauth_signature_method"] == "HMAC-SHA256"
        assert p["oauth_consumer_key"] == TBA_ENV["NETSUITE_CONSUMER_KEY"]
        assert p["oauth_token"] == TBA_ENV["NETSUITE_TOKEN_ID"]
    assert client.stats.retries == 3 and client.stats.throttled == 2 and client.stats.server_errors == 1


def test_429_storm_gives_up_after_max_attempts_with_typed_error() -> None:
    client, fake = fake_client(lambda r: (429, NS_429))
    with pytest.raises(ConcurrencyLimitError) as info:
        client.get("/services/rest/system/v1/governanceLimits")
    assert info.value.attempts == FAST.max_attempts
    assert len(fake.seen) == FAST.max_attempts
    assert client.stats.failures == 1
    assert client.limiter.limit == 1  # halved down to 1 by the storm


def test_backoff_is_exponential_with_full_jitter() -> None:
    sleeps: list[float] = []
    policy = RetryPolicy(max_attempts=8, initial_backoff_s=1.0, max_backoff_s=30.0)
    adapter = FakeNetSuite(lambda r: (429, NS_429))
    session = requests.Session()
    session.mount("https://", adapter)
    client = NetSuiteClient(NetSuiteConfig.from_env(TBA_ENV, retry=policy), session=session, sleep=sleeps.append)
    with pytest.raises(ConcurrencyLimitError):
        client.get("/x")
    assert len(sleeps) == 7
    for n, wait in enumerate(sleeps):
        assert 0 <= wait <= min(30.0, 2 ** n)


def test_401_fails_at_once_with_reconnect_message() -> None:
    client, fake = fake_client(lambda r: (401, NS_401, {"WWW-Authenticate": 'OAuth realm="1234567_SB1", error="token_rejected"'}))
    with pytest.raises(AuthenticationError) as info:
        client.post("/services/rest/query/v1/suiteql", json={"q": "SELECT 1"})
    assert len(fake.seen) == 1
    assert info.value.at_budget is False
    assert "ns-pipelines check-connection" in str(info.value)
    assert client.stats.auth_errors == 1 and client.stats.retries == 0


def test_401_at_the_concurrency_budget_is_retried_a_few_times() -> None:
    # budget 1: every request is at the budget, so a 401 may be NetSuite's over-concurrency answer
    answers = iter([(401, NS_401), (401, NS_401), ok({"ok": 1})])
    client, fake = fake_client(lambda r: next(answers), concurrency=1)
    assert client.get("/x").json() == {"ok": 1}
    assert len(fake.seen) == 3 and client.stats.auth_retries == 2
    # ... but only a few times: then it is an authentication failure
    client, fake = fake_client(lambda r: (401, NS_401), concurrency=1)
    with pytest.raises(AuthenticationError) as info:
        client.get("/x")
    assert len(fake.seen) == 1 + FAST.auth_retries_at_budget
    assert info.value.at_budget


def test_401_while_other_threads_fill_the_budget_is_retried() -> None:
    state = {"n": 0}
    lock = threading.Lock()

    def handler(r: requests.PreparedRequest) -> Any:
        with lock:
            state["n"] += 1
            n = state["n"]
        return (401, NS_401) if n % 4 == 0 else ok({"ok": 1})

    client, fake = fake_client(handler, delay=0.01)
    errors = run_threads(6, 4, lambda: client.get("/x"))
    assert not errors
    assert client.stats.auth_retries >= 1


def test_server_errors_and_dropped_connections_are_retried_for_reads() -> None:
    answers = iter([requests.exceptions.ConnectionError("Connection aborted."), (502, b"<html>Bad Gateway</html>"),
                    requests.exceptions.ReadTimeout("read timed out"), ok({"items": [], "hasMore": False})])
    client, fake = fake_client(lambda r: next(answers))
    client.post("/services/rest/query/v1/suiteql", json={"q": "SELECT id FROM customer"})
    assert len(fake.seen) == 4
    assert client.stats.transport_errors == 2 and client.stats.server_errors == 1


def test_transport_error_is_typed_and_redacted() -> None:
    client, _ = fake_client(lambda r: requests.exceptions.ConnectionError(f"refused {SECRETS[0]}"))
    with pytest.raises(TransportError) as info:
        client.get("/x")
    assert SECRETS[0] not in str(info.value)
    assert info.value.attempts == FAST.max_attempts


def test_non_idempotent_writes_are_not_retried_after_5xx_or_a_drop() -> None:
    client, fake = fake_client(lambda r: (500, NS_500))
    with pytest.raises(ServerError):
        client.records.create("customerPayment", {"payment": 1})
    assert len(fake.seen) == 1
    client, fake = fake_client(lambda r: requests.exceptions.ConnectionError("Connection aborted."))
    with pytest.raises(TransportError):
        client.records.update("invoice", 5, {"memo": "x"})
    assert len(fake.seen) == 1
    # ... but a 429 (nothing was processed) is retried, and an upsert (idempotent) is retried after a 5xx
    answers = iter([(429, NS_429), (204, None, {"Location": BASE + "/services/rest/record/v1/customerPayment/77"})])
    client, fake = fake_client(lambda r: next(answers))
    assert client.records.create("customerPayment", {"payment": 1}) == 77
    answers = iter([(503, b""), (204, None, {"Location": BASE + "/services/rest/record/v1/customerPayment/78"})])
    client, fake = fake_client(lambda r: next(answers))
    assert client.records.upsert("customerPayment", "stripe:ch_1", {"payment": 1}) == 78


def test_4xx_is_not_retried() -> None:
    client, fake = fake_client(lambda r: (400, NS_400))
    with pytest.raises(InvalidRequestError) as info:
        client.post("/services/rest/query/v1/suiteql", json={"q": "SELEC"})
    assert len(fake.seen) == 1 and info.value.code == "INVALID_KEY_OR_REF"
    client, fake = fake_client(lambda r: (404, {"o:errorDetails": [{"o:errorCode": "NONEXISTENT_ID", "detail": "x"}]}))
    with pytest.raises(RecordNotFoundError):
        client.records.get("invoice", 9)
    assert len(fake.seen) == 1


def test_request_hook_and_stats() -> None:
    answers = iter([(429, NS_429), ok({"id": "5"})])
    client, _ = fake_client(lambda r: next(answers))
    events: list[RequestEvent] = []
    client.add_request_hook(events.append)
    client.add_request_hook(lambda e: 1 / 0)  # a broken hook never breaks a call
    client.records.get("invoice", 104)
    assert [(e.method, e.path_template, e.status, e.attempt) for e in events] == [
        ("GET", "/services/rest/record/v1/invoice/{id}", 429, 1),
        ("GET", "/services/rest/record/v1/invoice/{id}", 200, 2)]
    assert events[0].error_code == "CONCURRENCY_LIMIT_EXCEEDED"
    assert events[0].path == "/services/rest/record/v1/invoice/104"
    assert all(e.in_flight == 1 and e.budget == 3 and e.duration_s >= 0 for e in events)
    snapshot = client.stats_snapshot()
    assert snapshot["calls"] == 1 and snapshot["requests"] == 2 and snapshot["throttled"] == 1
    assert snapshot["retries"] == 1 and snapshot["successes"] == 1 and snapshot["budget"] == 3


def test_debug_logs_carry_no_secrets(caplog: pytest.LogCaptureFixture) -> None:
    answers = iter([(429, NS_429), ok({"ok": 1})])
    client, _ = fake_client(lambda r: next(answers))
    with caplog.at_level(logging.DEBUG):
        client.post("/services/rest/query/v1/suiteql", params={"limit": 5}, json={"q": "SELECT 1"})
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "/services/rest/query/v1/suiteql" in text
    for value in (*SECRETS, TBA_ENV["NETSUITE_TOKEN_ID"], TBA_ENV["NETSUITE_CONSUMER_KEY"]):
        assert value not in text


def test_client_refuses_foreign_hosts() -> None:
    client, fake = fake_client(lambda r: ok())
    with pytest.raises(ValueError, match="another host"):
        client.get("https://evil.example.com/services/rest/record/v1/customer")
    client.get(BASE + "/services/rest/record/v1/customer/1")
    assert fake.seen[0]["url"] == BASE + "/services/rest/record/v1/customer/1"


# ============================================================================================
# OAuth 2.0 client credentials (fake token endpoint)


@pytest.fixture(scope="module")
def rsa_key() -> tuple[str, Any]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return pem, key.public_key()


def _oauth2_env(pem: str) -> dict[str, str]:
    return {"NETSUITE_ACCOUNT_ID": ACCOUNT, "NETSUITE_AUTH_METHOD": "oauth2", "NETSUITE_CLIENT_ID": "client-abc",
            "NETSUITE_CERTIFICATE_ID": "cert-xyz", "NETSUITE_PRIVATE_KEY": pem}


def test_oauth2_token_request_caching_and_refresh_on_401(rsa_key: tuple[str, Any]) -> None:
    pem, public_key = rsa_key
    issued: list[str] = []
    assertions: list[tuple[dict[str, Any], dict[str, Any]]] = []
    rejected = {"token-1"}

    def handler(r: requests.PreparedRequest) -> Any:
        if r.url.endswith("/services/rest/auth/oauth2/v1/token"):
            form = {k: v[0] for k, v in parse_qs(r.body).items()}  # type: ignore[arg-type]
            assert form["grant_type"] == "client_credentials"
            assert form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
            header = jwt.get_unverified_header(form["client_assertion"])
            claims = jwt.decode(form["client_assertion"], public_key, algorithms=["PS256"],
                                audience=BASE + "/services/rest/auth/oauth2/v1/token")
            assertions.append((header, claims))
            token = f"token-{len(issued) + 1}"
            issued.append(token)
            return ok({"access_token": token, "expires_in": "3600", "token_type": "Bearer"})
        token = r.headers["Authorization"].removeprefix("Bearer ")
        if token in rejected:
            return (401, NS_401, {"WWW-Authenticate": 'Bearer realm="1234567_SB1", error="invalid_token"'})
        return ok({"token": token})

    client, fake = fake_client(handler, env=_oauth2_env(pem))
    assert client.get("/a").json() == {"token": "token-2"}  # token-1 refused: refreshed once, resent
    assert client.get("/b").json() == {"token": "token-2"}  # cached
    assert issued == ["token-1", "token-2"]
    header, claims = assertions[0]
    assert header == {"alg": "PS256", "kid": "cert-xyz", "typ": "JWT"}
    assert claims["iss"] == "client-abc" and claims["scope"] == "rest_webservices"
    assert 0 < claims["exp"] - claims["iat"] < 3600
    # the token request carries no auth header, the API requests carry the bearer token
    assert "Authorization" not in fake.seen[0]["headers"]
    # a 401 again after the refresh is an authentication failure, not a loop
    rejected.add("token-2")
    rejected.add("token-3")
    with pytest.raises(AuthenticationError):
        client.get("/c")
    assert issued == ["token-1", "token-2", "token-3"]


def test_oauth2_token_refresh_before_expiry_is_thread_safe(rsa_key: tuple[str, Any]) -> None:
    pem, _ = rsa_key
    issued: list[int] = []

    def handler(r: requests.PreparedRequest) -> Any:
        if r.url.endswith("/token"):
            issued.append(1)
            time.sleep(0.02)
            return ok({"access_token": f"t{len(issued)}", "expires_in": 3600})
        return ok({"ok": 1})

    client, _ = fake_client(handler, env=_oauth2_env(pem), concurrency=5)
    threads = [threading.Thread(target=client.get, args=("/x",)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(issued) == 1


def test_oauth2_refused_client_credentials_fail_with_reconnect_message(rsa_key: tuple[str, Any]) -> None:
    pem, _ = rsa_key
    client, fake = fake_client(lambda r: (400, {"error": "invalid_client"}), env=_oauth2_env(pem))
    with pytest.raises(AuthenticationError) as info:
        client.get("/x")
    assert "invalid_client" in str(info.value) and "check-connection" in str(info.value)
    assert len(fake.seen) == 1
    assert pem.splitlines()[1] not in str(info.value)


# ============================================================================================
# records.py (fake)


def test_records_paths_and_ids() -> None:
    def handler(r: requests.PreparedRequest) -> Any:
        path = urlsplit(r.url).path
        if r.method == "POST":
            return (204, None, {"Location": BASE + "/services/rest/record/v1/customerPayment/2001"})
        if r.method == "PUT":
            return (204, None, {"Location": BASE + "/services/rest/record/v1/customerPayment/2002"})
        if r.method in ("PATCH", "DELETE"):
            return (204, None)
        if path.endswith("/governanceLimits"):
            return ok({"accountConcurrencyLimit": 5})
        if path.endswith("/customer"):
            offset = int(parse_qs(urlsplit(r.url).query)["offset"][0])
            ids = list(range(1, 6))[offset: offset + 2]
            return ok({"items": [{"id": str(i), "links": []} for i in ids], "hasMore": offset + 2 < 5,
                       "count": len(ids), "offset": offset, "totalResults": 5})
        return ok({"id": "104", "links": []})

    client, fake = fake_client(handler)
    records = client.records
    assert records.create("customerPayment", {"payment": 250}) == 2001
    assert records.upsert("customerPayment", "stripe:ch_1/a b", {"payment": 250}) == 2002
    assert urlsplit(fake.seen[-1]["url"]).path == "/services/rest/record/v1/customerPayment/eid:stripe:ch_1%2Fa%20b"
    records.update("customerPayment", 2001, {"apply": {"items": []}}, replace=["apply"])
    assert fake.seen[-1]["method"] == "PATCH" and fake.seen[-1]["url"].endswith("/customerPayment/2001?replace=apply")
    assert records.get("invoice", 104, expand_sub_resources=True)["id"] == "104"
    assert fake.seen[-1]["url"].endswith("/invoice/104?expandSubResources=true")
    records.delete("invoice", 104)
    assert fake.seen[-1]["method"] == "DELETE"
    assert list(records.list_ids("customer", page_size=2)) == [1, 2, 3, 4, 5]
    assert records.governance_limits() == {"accountConcurrencyLimit": 5}
    with pytest.raises(ValueError):
        records.get("invoice; DROP", 1)
    with pytest.raises(ValueError):
        records.get("invoice", "1/../2")


# ============================================================================================
# Integration: the client against the sandbox over loopback


SANDBOX_RETRY = RetryPolicy(max_attempts=12, initial_backoff_s=0.01, max_backoff_s=0.1, auth_retries_at_budget=3)


def _has_suiteql_engine() -> bool:
    try:
        from ns_pipelines.sandbox.netsuite.suiteql import engine  # noqa: F401
    except ImportError:
        return False
    return True


needs_suiteql = pytest.mark.skipif(not _has_suiteql_engine(), reason="the sandbox's SuiteQL engine is not there yet")


class RecordingAdapter(HTTPAdapter):
    """A real HTTP adapter that remembers the Authorization header of every request it sends."""

    def __init__(self) -> None:
        super().__init__(pool_maxsize=16, max_retries=0)
        self.authorizations: list[str] = []
        self._lock = threading.Lock()

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        value = request.headers.get("Authorization", "")
        with self._lock:
            self.authorizations.append(value.decode() if isinstance(value, bytes) else value)
        return super().send(request, **kwargs)


def sandbox_client(server: Any, *, env: dict[str, str] | None = None, record: bool = False,
                   **config: Any) -> tuple[NetSuiteClient, RecordingAdapter | None]:
    config.setdefault("retry", SANDBOX_RETRY)
    config.setdefault("read_timeout_s", 60.0)
    cfg = NetSuiteConfig.from_env(env or server.environment(), **config)
    if not record:
        return NetSuiteClient(cfg), None
    adapter = RecordingAdapter()
    session = requests.Session()
    session.mount("http://", adapter)
    return NetSuiteClient(cfg, session=session), adapter


def admin(server: Any, method: str, path: str, **kwargs: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {server.credentials.admin_token}"}
    response = requests.request(method, server.admin_url + path, headers=headers, timeout=30, **kwargs)
    assert response.status_code < 300, response.text
    return response


@contextmanager
def sandbox_settings(server: Any, **patch: Any) -> Iterator[None]:
    """Change the sandbox's settings through its admin API; restore them afterwards."""
    before = admin(server, "GET", "/settings").json()
    restore = {k: before[k] for k in patch if k != "faults"}
    if "faults" in patch:
        restore["faults"] = {k: before["faults"][k] for k in patch["faults"]}
    admin(server, "PATCH", "/settings", json=patch)
    try:
        yield
    finally:
        admin(server, "PATCH", "/settings", json=restore)


@pytest.fixture(scope="module")
def ns_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """This module's own tiny sandbox: its tests change settings, faults and tokens."""
    from ns_pipelines.sandbox.netsuite.server import SandboxServer
    from ns_pipelines.sandbox.netsuite.settings import SandboxSettings

    settings = SandboxSettings(over_limit_401_delay_s=0.05)
    with SandboxServer(tmp_path_factory.mktemp("ns-client"), settings, scale="tiny", seed=42) as server:
        yield server


@pytest.fixture
def clean_stats(ns_sandbox: Any) -> Any:
    admin(ns_sandbox, "POST", "/stats/reset")
    admin(ns_sandbox, "DELETE", "/login-audit")
    return ns_sandbox


def _sandbox_stats(server: Any) -> dict[str, Any]:
    return admin(server, "GET", "/stats").json()


def test_sandbox_tba_and_oauth2_reach_the_account(ns_sandbox: Any) -> None:
    env = ns_sandbox.environment()
    for method in ("tba", "oauth2"):
        client, _ = sandbox_client(ns_sandbox, env={**env, "NETSUITE_AUTH_METHOD": method})
        limits = client.records.governance_limits()
        assert limits["accountConcurrencyLimit"] == ns_sandbox.settings.concurrency_limit
        assert client.records.governance_limits() == limits
    assert client.auth.token_requests == 1  # type: ignore[attr-defined]  # the OAuth 2.0 token is cached


def test_sandbox_429_storm_is_retried_and_every_retry_is_signed_afresh(clean_stats: Any) -> None:
    server = clean_stats
    client, adapter = sandbox_client(server, record=True)
    assert adapter is not None
    with sandbox_settings(server, faults={"rate_limit_storm_rate": 0.5, "seed": 11}):
        for _ in range(20):
            client.records.governance_limits()
    assert client.stats.throttled > 0
    assert client.stats.retries == client.stats.throttled
    nonces = [oauth_params(h)["oauth_nonce"] for h in adapter.authorizations]
    assert len(nonces) == client.stats.requests == 20 + client.stats.throttled
    assert len(set(nonces)) == len(nonces)  # a fresh nonce on every attempt
    audit = admin(server, "GET", "/login-audit").json()
    assert audit["items"] == []  # no replayed nonce, no bad signature
    assert _sandbox_stats(server)["injected_429"] == client.stats.throttled


def test_sandbox_revoked_token_fails_at_once_with_the_reconnect_message(clean_stats: Any) -> None:
    server = clean_stats
    issued = admin(server, "POST", "/tokens", json={"make_default": False}).json()
    env = {**server.environment(), "NETSUITE_TOKEN_ID": issued["token_id"],
           "NETSUITE_TOKEN_SECRET": issued["token_secret"]}
    client, _ = sandbox_client(server, env=env)
    client.records.governance_limits()
    admin(server, "POST", "/tokens/revoke", json={"token_id": issued["token_id"]})
    with pytest.raises(AuthenticationError) as info:
        client.records.governance_limits()
    error = info.value
    assert error.code == "INVALID_LOGIN" and error.status == 401 and not error.at_budget
    assert error.attempts == 1 and client.stats.requests == 2 and client.stats.retries == 0  # no retry storm
    text = str(error)
    assert "Setup > Users/Roles > Access Tokens" in text and "ns-pipelines check-connection" in text
    assert issued["token_secret"] not in text and issued["token_id"] not in text
    assert admin(server, "GET", "/login-audit").json()["items"][0]["detail"] == "TokenRevoked"


def test_sandbox_oauth2_recovers_from_a_revoked_access_token(clean_stats: Any) -> None:
    server = clean_stats
    client, adapter = sandbox_client(server, env={**server.environment(), "NETSUITE_AUTH_METHOD": "oauth2"},
                                     record=True)
    client.records.governance_limits()
    bearer = next(h for h in adapter.authorizations if h.startswith("Bearer ")).removeprefix("Bearer ")  # type: ignore[union-attr]
    admin(server, "POST", "/tokens/revoke", json={"access_token": bearer})
    client.records.governance_limits()  # 401 -> new token -> resent once
    assert client.auth.token_requests == 2  # type: ignore[attr-defined]
    assert client.stats.auth_errors == 1 and client.stats.failures == 0


def test_sandbox_server_errors_and_dropped_connections_are_retried(clean_stats: Any) -> None:
    server = clean_stats
    client, _ = sandbox_client(server)
    with sandbox_settings(server, faults={"server_error_rate": 0.25, "drop_connection_rate": 0.2, "seed": 5}):
        for _ in range(25):
            assert client.records.governance_limits()["accountConcurrencyLimit"] >= 1
    stats = _sandbox_stats(server)
    assert client.stats.server_errors == stats["injected_5xx"] > 0
    assert client.stats.transport_errors == stats["dropped"] > 0
    assert client.stats.failures == 0


def test_sandbox_concurrency_budget_is_never_exceeded(clean_stats: Any) -> None:
    server = clean_stats
    client, _ = sandbox_client(server, concurrency=3)
    call = (lambda: client.suiteql.query_page("SELECT id FROM customer", limit=5)) if _has_suiteql_engine() \
        else client.records.governance_limits

    with sandbox_settings(server, latency_ms=25.0, concurrency_limit=5):
        errors = run_threads(10, 4, call)
    assert not errors
    stats = _sandbox_stats(server)
    assert stats["concurrency"]["peak"] <= 3
    assert stats["concurrency"]["peak"] == client.stats.peak_in_flight == 3
    assert stats["status_429"] == 0 and client.stats.requests == 40


def test_sandbox_slow_401_at_the_budget_is_retried(clean_stats: Any) -> None:
    # The account allows 2, our budget says 3: the third request in flight gets NetSuite's slow
    # INVALID_LOGIN. The client was at its budget, so it backs off and retries, and slows down.
    server = clean_stats
    client, _ = sandbox_client(server, concurrency=3)
    with sandbox_settings(server, latency_ms=30.0, concurrency_limit=2, over_limit_mode="401"):
        errors = run_threads(6, 3, client.records.governance_limits)
    assert not errors
    assert _sandbox_stats(server)["rejected_over_limit_401"] == client.stats.auth_errors > 0
    assert client.stats.auth_retries == client.stats.auth_errors
    assert client.limiter.limit <= 2


def test_sandbox_record_round_trips(ns_sandbox: Any) -> None:
    client, _ = sandbox_client(ns_sandbox)
    records = client.records
    conn = ns_sandbox.account.store.connect()
    subsidiary = conn.execute("SELECT id FROM subsidiary WHERE iselimination = 'F' ORDER BY id DESC LIMIT 1").fetchone()[0]

    customer_id = records.create("customer", {"companyName": "Round Trip Ltd", "subsidiary": {"id": str(subsidiary)}})
    customer = records.get("customer", customer_id)
    assert int(customer["id"]) == customer_id and customer["companyName"] == "Round Trip Ltd"
    records.update("customer", customer_id, {"email": "ar@roundtrip.example"})
    assert records.get("customer", customer_id)["email"] == "ar@roundtrip.example"

    external_id = "stripe:ch_roundtrip 1#a"
    payment_id = records.upsert("customerPayment", external_id,
                                {"customer": {"id": str(customer_id)}, "payment": 25.5, "memo": "first"})
    assert records.upsert("customerPayment", external_id, {"memo": "second"}) == payment_id  # no duplicate
    payment = records.get("customerPayment", f"eid:{external_id}", expand_sub_resources=True)
    assert int(payment["id"]) == payment_id and payment["memo"] == "second" and payment["externalId"] == external_id
    assert payment_id in set(records.list_ids("customerPayment"))

    with pytest.raises(InvalidRequestError) as info:
        records.create("customerPayment", {"customer": {"id": "99999999"}, "payment": 1})
    assert info.value.code == "INVALID_KEY_OR_REF" and info.value.error_path == "customer"

    records.delete("customerPayment", payment_id)
    with pytest.raises(RecordNotFoundError):
        records.get("customerPayment", payment_id)
    records.delete("customer", customer_id)
    with pytest.raises(RecordNotFoundError):
        records.delete("customer", customer_id)


# --------------------------------------------------------------------------------------------
# Integration: SuiteQL


@pytest.fixture(scope="module")
def small_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A few thousand transactions behind a SuiteQL row cap of 1,000."""
    from ns_pipelines.sandbox.netsuite.server import SandboxServer
    from ns_pipelines.sandbox.netsuite.settings import SandboxSettings

    with SandboxServer(tmp_path_factory.mktemp("ns-client-small"), SandboxSettings(suiteql_row_cap=1000),
                       scale="small", seed=42) as server:
        yield server


def _store_ids(server: Any, sql: str) -> list[Any]:
    return [tuple(r) if len(r) > 1 else r[0] for r in server.account.store.connect().execute(sql).fetchall()]


@needs_suiteql
def test_sandbox_suiteql_through_tba_and_oauth2(ns_sandbox: Any) -> None:
    expected = _store_ids(ns_sandbox, "SELECT id FROM customer ORDER BY id")
    q = ("SELECT c.id, c.entityid, c.isinactive, c.datecreated, "
         "TO_CHAR(c.lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') AS lastmodified FROM customer c ORDER BY c.id")
    settings = ns_sandbox.settings
    decoder = RowDecoder({"id": "id", "entityid": "text", "isinactive": "bool", "datecreated": "date",
                          "lastmodified": "datetime"}, date_format=settings.date_format, timezone=settings.timezone,
                         to_utc=True, record_type="customer", extra="error")
    results = {}
    for method in ("tba", "oauth2"):
        client, _ = sandbox_client(ns_sandbox, env={**ns_sandbox.environment(), "NETSUITE_AUTH_METHOD": method})
        page = client.suiteql.query_page(q, limit=5)
        assert page.offset == 0 and page.count == 5 and page.has_more and page.total_results == len(expected)
        assert all("links" not in row for row in page.items)
        rows = [decoder.decode(row) for row in client.suiteql.query(q, page_size=7)]
        results[method] = rows
        assert [r["id"] for r in rows] == expected
        assert all(isinstance(r["isinactive"], bool) and isinstance(r["datecreated"], date) for r in rows)
        assert all(r["lastmodified"].tzinfo == timezone.utc for r in rows)
    assert results["tba"] == results["oauth2"]


@needs_suiteql
def test_sandbox_suiteql_errors_are_typed(ns_sandbox: Any) -> None:
    client, _ = sandbox_client(ns_sandbox)
    with pytest.raises(InvalidRequestError) as info:
        client.suiteql.query_page("SELECT nosuchcolumn FROM customer")
    assert info.value.status == 400 and info.value.code and info.value.attempts == 1


@needs_suiteql
def test_sandbox_money_decodes_to_the_same_decimals_as_numbers_or_strings(ns_sandbox: Any) -> None:
    client, _ = sandbox_client(ns_sandbox)
    q = ("SELECT t.id, t.foreigntotal, t.exchangerate, t.trandate FROM transaction t "
         "WHERE t.type = 'CustInvc' ORDER BY t.id")
    decoder = RowDecoder({"id": "id", "foreigntotal": "decimal", "exchangerate": "decimal", "trandate": "date"},
                         date_format=ns_sandbox.settings.date_format, record_type="invoice")
    as_numbers = [decoder.decode(r) for r in client.suiteql.query(q)]
    with sandbox_settings(ns_sandbox, numbers_as_strings=True):
        as_strings = [decoder.decode(r) for r in client.suiteql.query(q)]
    assert as_numbers == as_strings and as_numbers
    expected = {r[0]: Decimal(str(r[1])) for r in ns_sandbox.account.store.connect().execute(
        "SELECT id, foreigntotal FROM \"transaction\" WHERE type = 'CustInvc'")}
    assert {r["id"]: r["foreigntotal"] for r in as_numbers} == expected


@needs_suiteql
def test_sandbox_keyset_paging_past_the_row_cap_returns_every_row_once(small_sandbox: Any) -> None:
    expected = _store_ids(small_sandbox, 'SELECT id FROM "transaction" ORDER BY id')
    assert len(expected) > 2 * small_sandbox.settings.suiteql_row_cap
    client, _ = sandbox_client(small_sandbox)
    suiteql = SuiteQL(client, row_cap=small_sandbox.settings.suiteql_row_cap)
    admin(small_sandbox, "POST", "/stats/reset")

    rows = list(suiteql.query_keyset(KeysetQuery("t.id, t.type, t.tranid", "transaction t", key="t.id"),
                                     page_size=100))
    assert [int(r["id"]) for r in rows] == expected  # every row exactly once, in id order
    stats = _sandbox_stats(small_sandbox)
    assert stats["status_429"] == 0 and all(
        set(ep["by_status"]) == {"200"} for ep in stats["endpoints"].values())  # never an offset past the cap

    # a filter, the (select, from_where, key) form, and a template
    invoices = _store_ids(small_sandbox, "SELECT id FROM \"transaction\" WHERE type = 'CustInvc' ORDER BY id")
    got = [int(r["id"]) for r in suiteql.query_keyset(("SELECT t.id", "FROM transaction t WHERE t.type = 'CustInvc'",
                                                       "t.id"), page_size=200)]
    assert got == invoices
    template = "SELECT t.id FROM transaction t WHERE t.type = 'CustInvc' AND {keyset} ORDER BY t.id"
    assert [int(r["id"]) for r in suiteql.query_keyset(template, key="t.id", after=invoices[10])] == invoices[11:]

    # offset paging refuses what it cannot read whole
    with pytest.raises(SuiteQLRowCapError, match="keyset"):
        list(suiteql.query("SELECT t.id FROM transaction t ORDER BY t.id"))


@needs_suiteql
def test_sandbox_keyset_paging_by_composite_key(small_sandbox: Any) -> None:
    expected = _store_ids(small_sandbox, 'SELECT "transaction", id FROM transactionline ORDER BY "transaction", id')
    assert len(expected) > 2 * small_sandbox.settings.suiteql_row_cap
    client, _ = sandbox_client(small_sandbox)
    query = KeysetQuery("tl.transaction, tl.id AS line, tl.foreignamount", "transactionline tl",
                        key=("tl.transaction", "tl.id"), key_names=("transaction", "line"))
    rows = list(SuiteQL(client, row_cap=1000).query_keyset(query, page_size=250))
    assert [(int(r["transaction"]), int(r["line"])) for r in rows] == expected


@needs_suiteql
def test_sandbox_keyset_ranges_in_parallel_within_the_budget(small_sandbox: Any) -> None:
    expected = _store_ids(small_sandbox, 'SELECT id FROM "transaction" ORDER BY id')
    client, _ = sandbox_client(small_sandbox, concurrency=3)
    admin(small_sandbox, "POST", "/stats/reset")
    with sandbox_settings(small_sandbox, latency_ms=5.0):
        pages = list(SuiteQL(client, row_cap=1000).query_keyset_ranges(
            KeysetQuery("t.id", "transaction t", key="t.id"), ranges=6, page_size=200))
    got = [int(r["id"]) for p in pages for r in p.items]
    assert sorted(got) == expected and len(got) == len(expected)
    assert len({p.id_range for p in pages}) == 6
    assert _sandbox_stats(small_sandbox)["concurrency"]["peak"] <= 3
    assert client.stats.peak_in_flight <= 3


@needs_suiteql
@pytest.mark.slow
def test_sandbox_keyset_paging_at_the_real_100000_row_cap(tmp_path: Any) -> None:
    from ns_pipelines.sandbox.netsuite.server import SandboxServer

    with SandboxServer(tmp_path, scale="medium", seed=42) as server:  # ~100,800 transactions
        assert server.settings.suiteql_row_cap == 100_000
        expected = _store_ids(server, 'SELECT id FROM "transaction" ORDER BY id')
        assert len(expected) > 100_000
        client, _ = sandbox_client(server)
        with pytest.raises(SuiteQLRowCapError):
            list(client.suiteql.query("SELECT t.id FROM transaction t ORDER BY t.id"))
        got = [int(r["id"]) for r in client.suiteql.query_keyset(KeysetQuery("t.id", "transaction t", key="t.id"))]
        assert got == expected  # every row exactly once, past the cap
        # one refused offset query, then full pages only: restarting a window costs no extra request
        assert client.stats.requests == 1 + (len(expected) + 999) // 1000


def test_connect_failures_are_retried_even_for_creates() -> None:
    import urllib3

    refused = requests.exceptions.ConnectionError(urllib3.exceptions.MaxRetryError(
        None, "/", urllib3.exceptions.NewConnectionError(None, "Connection refused")))  # type: ignore[arg-type]
    answers = iter([refused, requests.exceptions.ConnectTimeout("connect timed out"),
                    (204, None, {"Location": BASE + "/services/rest/record/v1/customerPayment/91"})])
    client, fake = fake_client(lambda r: next(answers))
    assert client.records.create("customerPayment", {"payment": 1}) == 91  # never reached NetSuite: safe
    assert len(fake.seen) == 3


def test_retry_after_is_honoured_when_sent() -> None:
    sleeps: list[float] = []
    answers = iter([(429, NS_429, {"Retry-After": "0.5"}), ok({"ok": 1})])
    adapter = FakeNetSuite(lambda r: next(answers))
    session = requests.Session()
    session.mount("https://", adapter)
    client = NetSuiteClient(NetSuiteConfig.from_env(TBA_ENV, retry=FAST), session=session, sleep=sleeps.append)
    client.get("/x")
    assert sleeps == [0.5]
