"""The sandbox's Flask app: NetSuite's REST paths under /services/rest, the admin API under
/sandbox/admin/v1.

Every API route (SuiteQL, record service, governance limits) goes through `_api()`: authenticate
(OAuth 1.0a or Bearer), take a concurrency slot (429 / slow 401 when over the limit), inject
faults, run the handler, sleep the configured latency while still holding the slot, release, and
count the request. The OAuth 2.0 token endpoint is authenticated by its JWT assertion and takes
no slot. Success bodies are compact JSON `application/json`; errors are NetSuite's problem
details, `application/vnd.oracle.resource+json; type=error`.

Decision (netsuite-api.md 3.1): `Prefer: transient` is sent by every known SuiteQL client; the
sandbox accepts a SuiteQL request without it (lenient) and counts such requests in the stats
("suiteql_without_prefer_transient"); `account.require_prefer_transient = True` makes it a 400.
"""
from __future__ import annotations

import json
import logging
import socket
import time
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import urlencode

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from .auth import OAuthTokenError, RequestView
from .errors import ApiError
from .governance import server_error

if TYPE_CHECKING:
    from .server import SandboxAccount

log = logging.getLogger(__name__)

JSON = "application/json"
ERROR_JSON = "application/vnd.oracle.resource+json; type=error"
SUITEQL_MAX_LIMIT = 1000


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, default=str).encode("utf-8")


def json_response(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(obj), status=status, headers=headers, content_type=JSON)


def error_response(err: ApiError) -> Response:
    return Response(dumps(err.body()), status=err.status, headers=err.headers, content_type=ERROR_JSON)


def no_content(headers: dict[str, str] | None = None) -> Response:
    return Response(status=204, headers=headers)


def url_root() -> str:
    """scheme://Host as the client addressed us (the Host header keeps the port)."""
    return f"{request.scheme}://{request.host}"


def request_view() -> RequestView:
    env = request.environ
    raw = env.get("RAW_URI") or env.get("REQUEST_URI") or env.get("PATH_INFO", "/")
    raw_path = raw.split("?", 1)[0]
    content_type = env.get("CONTENT_TYPE", "")
    body = request.get_data(cache=True) if "x-www-form-urlencoded" in content_type.lower() else b""
    return RequestView(method=request.method, scheme=request.scheme, host=request.host, raw_path=raw_path,
                       query_string=env.get("QUERY_STRING", ""), authorization=env.get("HTTP_AUTHORIZATION"),
                       content_type=content_type, body=body, remote_addr=env.get("REMOTE_ADDR", ""))


def drop_connection() -> Response:
    """Close the client's socket without an answer (the server then writes nothing)."""
    env = request.environ
    env["sandbox.dropped"] = True
    sock = env.get("werkzeug.socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    return Response(status=500)


def int_param(name: str, default: int, *, low: int, high: int | None = None) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ApiError(400, "INVALID_PARAMETER",
                       f"Invalid value for query parameter '{name}': {raw}. The value must be an integer {bounds}.",
                       extra={"o:errorQueryParam": name})
    return value


def json_body() -> Any:
    data = request.get_data(cache=True)
    if not data:
        return None
    try:
        return json.loads(data)
    except ValueError:
        raise ApiError(400, "INVALID_CONTENT",
                       "The request could not be understood by the server due to malformed syntax.") from None


def create_app(account: "SandboxAccount") -> Flask:
    app = Flask("ns_pipelines.sandbox.netsuite")
    app.config["MAX_CONTENT_LENGTH"] = 104 * 1024 * 1024  # NetSuite's REST request size limit
    gov = account.governor

    def _api(endpoint: str, handler: Callable[..., tuple[Response, int]], kwargs: dict[str, Any]) -> Response:
        started = time.perf_counter()
        rows = 0
        status: int | str
        try:
            bearer = (request.environ.get("HTTP_AUTHORIZATION") or "")[:7].lower() == "bearer "
            account.auth.authenticate(request_view())
            gov.admit(bearer=bearer)
            try:
                fault = gov.draw_fault()
                if fault == "drop":
                    resp = drop_connection()
                    gov.record(endpoint, "dropped", time.perf_counter() - started)
                    return resp
                try:
                    if fault == "error":
                        raise server_error()
                    resp, rows = handler(**kwargs)
                except ApiError as err:
                    resp = error_response(err)
                except HTTPException as exc:  # e.g. 413 from reading an oversized body
                    resp = on_http_error(exc)
                except Exception:
                    log.exception("sandbox handler failed: %s", endpoint)
                    resp = error_response(server_error())
                gov.delay(rows)
            finally:
                gov.release()
        except ApiError as err:
            resp = error_response(err)
        status = resp.status_code
        gov.record(endpoint, status, time.perf_counter() - started, rows)
        return resp

    def api(rule: str, methods: list[str]) -> Callable[[Callable[..., tuple[Response, int]]], Any]:
        def decorate(fn: Callable[..., tuple[Response, int]]) -> Any:
            def view(**kwargs: Any) -> Response:
                return _api(f"{request.method} {rule}", fn, kwargs)

            view.__name__ = fn.__name__
            app.add_url_rule(rule, fn.__name__, view, methods=methods)
            return fn
        return decorate

    # ------------------------------------------------------------------ SuiteQL
    @api("/services/rest/query/v1/suiteql", ["POST"])
    def suiteql() -> tuple[Response, int]:
        engine = account.suiteql
        if "transient" not in (request.headers.get("Prefer") or "").lower():
            account.counters["suiteql_without_prefer_transient"] += 1
            if account.require_prefer_transient:
                raise ApiError(400, "INVALID_HEADER", "The 'Prefer: transient' header is required for SuiteQL.")
        limit = int_param("limit", SUITEQL_MAX_LIMIT, low=1, high=SUITEQL_MAX_LIMIT)
        offset = int_param("offset", 0, low=0)
        body = json_body()
        if not isinstance(body, dict) or not isinstance(body.get("q"), str) or not body["q"].strip():
            raise ApiError(400, "USER_ERROR", "Invalid search query. Provide the query as {\"q\": \"<SuiteQL>\"}.")
        page = engine.execute_json(body["q"], limit=limit, offset=offset)
        total = int(page.total_results)
        base = url_root() + request.path
        links = []
        if offset > 0:
            links.append({"rel": "previous", "href": f"{base}?{urlencode({'limit': limit, 'offset': max(0, offset - limit)})}"})
            links.append({"rel": "first", "href": f"{base}?{urlencode({'limit': limit, 'offset': 0})}"})
        if page.has_more:
            links.append({"rel": "next", "href": f"{base}?{urlencode({'limit': limit, 'offset': offset + limit})}"})
        last_offset = ((max(total, 1) - 1) // limit) * limit
        links.append({"rel": "last", "href": f"{base}?{urlencode({'limit': limit, 'offset': last_offset})}"})
        links.append({"rel": "self", "href": f"{base}?{urlencode({'limit': limit, 'offset': offset})}"})
        # The body is {"links", "count", "hasMore", "items", "offset", "totalResults"} in this order;
        # the engine wrote the items' JSON already, so the rest is encoded around it.
        head = dumps({"links": links, "count": page.count, "hasMore": bool(page.has_more)})[:-1]
        tail = dumps({"offset": offset, "totalResults": total})[1:]
        body_out = b"".join((head, b',"items":[', page.items_json.encode("utf-8"), b"],", tail))
        return Response(body_out, status=200, content_type=JSON), page.count

    # ------------------------------------------------------------------ governance limits
    @api("/services/rest/system/v1/governanceLimits", ["GET"])
    def governance_limits() -> tuple[Response, int]:
        return json_response(gov.limits()), 0

    # ------------------------------------------------------------------ record service
    record_root = "/services/rest/record/v1"

    def record_location(record_type: str, record_id: int | str) -> str:
        return f"{url_root()}{record_root}/{record_type}/{record_id}"

    @api(record_root + "/metadata-catalog", ["GET"])
    def metadata_catalog() -> tuple[Response, int]:
        records = account.records
        accept = request.headers.get("Accept", "application/json")
        body = records.metadata_catalog(request.args.get("select") or None, base_url=url_root(), accept=accept)
        return Response(dumps(body), status=200, content_type=_catalog_type(accept)), 0

    @api(record_root + "/metadata-catalog/<record_type>", ["GET"])
    def metadata_catalog_type(record_type: str) -> tuple[Response, int]:
        records = account.records
        accept = request.headers.get("Accept", "application/json")
        body = records.metadata_catalog(record_type, base_url=url_root(), accept=accept)
        return Response(dumps(body), status=200, content_type=_catalog_type(accept)), 0

    def _catalog_type(accept: str) -> str:
        accept = accept.lower()
        if "schema+json" in accept:
            return "application/schema+json"
        return "application/swagger+json" if "swagger+json" in accept else JSON

    @api(record_root + "/<record_type>", ["GET"])
    def record_list(record_type: str) -> tuple[Response, int]:
        records = account.records
        limit = int_param("limit", 1000, low=1, high=1000)
        offset = int_param("offset", 0, low=0)
        body = records.list(record_type, limit=limit, offset=offset, q=request.args.get("q"), base_url=url_root())
        return json_response(body), len(body.get("items", ())) if isinstance(body, dict) else 0

    @api(record_root + "/<record_type>", ["POST"])
    def record_create(record_type: str) -> tuple[Response, int]:
        records = account.records
        body = _object_body()
        new_id = records.create(record_type, body)
        return no_content({"Location": record_location(record_type, new_id)}), 0

    @api(record_root + "/<record_type>/<ref>", ["GET"])
    def record_get(record_type: str, ref: str) -> tuple[Response, int]:
        records = account.records
        expand = (request.args.get("expandSubResources") or "").lower() == "true"
        body = records.get(record_type, ref, expand=expand, base_url=url_root())
        return json_response(body), 1

    @api(record_root + "/<record_type>/<ref>", ["PATCH"])
    def record_update(record_type: str, ref: str) -> tuple[Response, int]:
        records = account.records
        body = _object_body()
        replace = {name.strip() for name in (request.args.get("replace") or "").split(",") if name.strip()}
        record_id = records.update(record_type, ref, body, replace=replace)
        return no_content({"Location": record_location(record_type, record_id)}), 0

    @api(record_root + "/<record_type>/<ref>", ["PUT"])
    def record_upsert(record_type: str, ref: str) -> tuple[Response, int]:
        records = account.records
        if not ref.lower().startswith("eid:"):
            raise ApiError(405, "INVALID_METHOD",
                           "PUT is supported only with an external id: .../{recordType}/eid:{externalId}.")
        body = _object_body()
        record_id = records.upsert(record_type, ref[4:], body)
        return no_content({"Location": record_location(record_type, record_id)}), 0

    @api(record_root + "/<record_type>/<ref>", ["DELETE"])
    def record_delete(record_type: str, ref: str) -> tuple[Response, int]:
        records = account.records
        records.delete(record_type, ref)
        return no_content(), 0

    def _object_body() -> dict[str, Any]:
        body = json_body()
        if not isinstance(body, dict):
            raise ApiError(400, "INVALID_CONTENT", "The request body must be a JSON object.")
        return body

    # ------------------------------------------------------------------ OAuth 2.0 token endpoint
    @app.post("/services/rest/auth/oauth2/v1/token")
    def oauth2_token() -> Response:
        started = time.perf_counter()
        try:
            tokens = account.auth.oauth2.issue_token(
                request.form.to_dict(), audiences=account.auth.oauth2.accepted_audiences(url_root()))
            resp = Response(dumps(tokens), status=200, content_type=JSON,
                            headers={"Cache-Control": "no-store", "Pragma": "no-cache"})
        except OAuthTokenError as err:
            resp = Response(dumps(err.body()), status=err.status, content_type=JSON,
                            headers={"Cache-Control": "no-store"})
        gov.record("POST /services/rest/auth/oauth2/v1/token", resp.status_code, time.perf_counter() - started)
        return resp

    # ------------------------------------------------------------------ admin API
    from .admin import create_admin_blueprint

    app.register_blueprint(create_admin_blueprint(account), url_prefix="/sandbox/admin/v1")

    # ------------------------------------------------------------------ errors in NetSuite's shape
    @app.errorhandler(ApiError)
    def on_api_error(err: ApiError) -> Response:
        return error_response(err)

    @app.errorhandler(HTTPException)
    def on_http_error(err: HTTPException) -> Response:
        code = err.code or 500
        if code == 404:
            api_err = ApiError(404, "NONEXISTENT_PATH" if request.path.startswith("/services/") else "NOT_FOUND",
                               f"The path {request.path} does not exist on this server.",
                               extra={"o:errorUrl": request.path})
        elif code == 405:
            api_err = ApiError(405, "INVALID_METHOD",
                               f"The HTTP method {request.method} is not allowed for {request.path}.")
        elif code == 413:
            api_err = ApiError(413, "INVALID_CONTENT", "The request is larger than the allowed 104 MB.")
        else:
            api_err = ApiError(code, "INVALID_REQUEST", err.description or err.name)
        resp = error_response(api_err)
        if code == 405 and err.get_response().headers.get("Allow"):
            resp.headers["Allow"] = err.get_response().headers["Allow"]
        return resp

    @app.errorhandler(Exception)
    def on_unexpected(err: Exception) -> Response:
        log.exception("sandbox request failed")
        return error_response(server_error())

    return app
