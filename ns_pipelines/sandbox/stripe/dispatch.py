"""The request layer of the Stripe sandbox's API: auth, params, faults, idempotency, expand, lists.

Per request: Bearer (or Basic) auth with the secret key, a `Request-Id`, `Stripe-Version`
echoed (the account's pinned version when the client sends none), injected faults, the clock's
due transitions, Stripe-style form params, `expand`, and for POSTs the `Idempotency-Key`
contract: the first answer is stored with the key and replayed (`Idempotent-Replayed: true`) for
the same request; the same key with other params answers 400 idempotency_error.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import Response, request

from . import params as p
from .errors import StripeApiError, invalid
from .expand import expand
from .shapes import list_object

if TYPE_CHECKING:
    from .server import StripeSandbox

log = logging.getLogger(__name__)

Handler = Callable[..., dict[str, Any]]
LIST_PARAMS = {"limit", "starting_after", "ending_before", "created", "expand"}
RANGE_OPERATORS = {"eq": "=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, indent=2, ensure_ascii=False).encode("utf-8")


@dataclass
class _KeyLock:
    lock: threading.Lock = field(default_factory=threading.Lock)
    users: int = 0  # requests holding or waiting for `lock`


class IdempotencyKeys:
    """Stored first answers by key; a lock per key so a concurrent retry waits for the first.

    A key's lock lives only while a request holds or waits for it: a later request with the key
    finds the stored answer instead, so the locks do not grow with the keys ever used.
    """

    def __init__(self, sandbox: "StripeSandbox") -> None:
        self.sandbox = sandbox
        self._locks: dict[str, _KeyLock] = {}
        self._guard = threading.Lock()

    @contextmanager
    def lock(self, key: str) -> Iterator[None]:
        """Hold `key`'s lock: one request with a key at a time."""
        with self._guard:
            entry = self._locks.setdefault(key, _KeyLock())
            entry.users += 1
        try:
            with entry.lock:
                yield
        finally:
            with self._guard:
                entry.users -= 1
                if not entry.users:
                    del self._locks[key]

    def locks_held(self) -> int:
        """Keys with a request holding or waiting for their lock."""
        with self._guard:
            return len(self._locks)

    def lookup(self, key: str) -> tuple[str, int, bytes] | None:
        row = self.sandbox.store.connect().execute(
            "SELECT fingerprint, status, body FROM stripe_idempotency WHERE key = ?", (key,)).fetchone()
        return (row[0], row[1], row[2].encode()) if row else None

    def save(self, key: str, fingerprint: str, status: int, body: bytes) -> None:
        with self.sandbox.store.write() as conn:
            conn.execute("INSERT OR REPLACE INTO stripe_idempotency(key, fingerprint, status, body, created) "
                         "VALUES (?, ?, ?, ?, ?)", (key, fingerprint, status, body.decode(), self.sandbox.clock.now()))


class RouteTable:
    """(method, rule, handler) triples; a handler takes the decoded params and the URL's parts."""

    def __init__(self) -> None:
        self.routes: list[tuple[str, str, Handler]] = []

    def route(self, method: str, rule: str) -> Callable[[Handler], Handler]:
        def decorate(fn: Handler) -> Handler:
            self.routes.append((method, rule, fn))
            return fn
        return decorate


class ApiContext:
    """What every route shares: the account, the idempotency keys, the fault generator."""

    def __init__(self, sandbox: "StripeSandbox") -> None:
        self.sandbox = sandbox
        self.ledger = sandbox.ledger
        self.store = sandbox.store
        self.keys = IdempotencyKeys(sandbox)
        self._faults = random.Random(sandbox.settings.fault_seed)
        self._faults_lock = threading.Lock()

    def answer_lost(self) -> bool:
        rate = self.sandbox.settings.fault_lost_answer_rate
        if not rate:
            return False
        with self._faults_lock:
            return self._faults.random() < rate

    def injected_fault(self) -> StripeApiError | None:
        settings = self.sandbox.settings
        if not (settings.fault_500_rate or settings.fault_429_rate):
            return None
        with self._faults_lock:
            draw = self._faults.random()
        if draw < settings.fault_500_rate:
            return StripeApiError(500, "An unknown error occurred (injected by the sandbox).", type="api_error")
        if draw < settings.fault_500_rate + settings.fault_429_rate:
            return StripeApiError(429, "Request rate limit exceeded. You can learn more about rate limits here "
                                  "https://stripe.com/docs/rate-limits.", code="rate_limit",
                                  headers={"Stripe-Should-Retry": "false"})
        return None

    def authenticate(self) -> None:
        header = request.headers.get("Authorization", "")
        key = ""
        if header[:7].lower() == "bearer ":
            key = header[7:].strip()
        elif request.authorization and request.authorization.type == "basic":
            key = request.authorization.username or ""
        if not key:
            raise StripeApiError(401, "You did not provide an API key. You need to provide your API key in the "
                                 "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                                 "YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, "
                                 "or we can help at https://support.stripe.com/.",
                                 headers={"WWW-Authenticate": 'Basic realm="Stripe"'})
        if not hmac.compare_digest(key.encode(), self.sandbox.api_key.encode()):
            shown = key[:8] + "*" * 12 + key[-4:] if len(key) > 12 else key
            raise StripeApiError(401, f"Invalid API Key provided: {shown}",
                                 headers={"WWW-Authenticate": 'Basic realm="Stripe"'})

    def request_params(self) -> dict[str, Any]:
        if request.method in {"GET", "DELETE"}:
            return p.decode(request.args.items(multi=True))
        pairs = list(request.form.items(multi=True)) or list(request.args.items(multi=True))
        return p.decode(pairs)

    def respond(self, status: int, body: bytes, headers: dict[str, str]) -> Response:
        return Response(body, status=status, headers=headers, content_type="application/json")

    def dispatch(self, handler: Handler, kwargs: dict[str, Any]) -> Response:
        request_id = self.sandbox.ids.new("req")
        version = request.headers.get("Stripe-Version") or self.sandbox.settings.api_version
        headers = {"Request-Id": request_id, "Stripe-Version": version, "Cache-Control": "no-cache, no-store",
                   "Access-Control-Allow-Origin": "*"}
        idem_key = request.headers.get("Idempotency-Key") if request.method == "POST" else None
        if idem_key:
            headers["Idempotency-Key"] = idem_key
        try:
            self.authenticate()
            fault = self.injected_fault()
            if fault is not None:
                raise fault
            params = self.request_params()
            if idem_key is None:
                return self._run(handler, kwargs, params, request_id, None, headers)
            if len(idem_key) > 255:
                raise invalid("Idempotency keys can be at most 255 characters long.", param="Idempotency-Key")
            fingerprint = hashlib.sha256(json.dumps([request.method, request.path, params], sort_keys=True)
                                         .encode()).hexdigest()
            with self.keys.lock(idem_key):
                stored = self.keys.lookup(idem_key)
                if stored is not None:
                    if stored[0] != fingerprint:
                        raise StripeApiError(400, "Keys for idempotent requests can only be used with the same "
                                             "parameters they were first used with. Try using a key other than "
                                             f"'{idem_key}' if you meant to execute a different request.",
                                             type="idempotency_error")
                    headers["Idempotent-Replayed"] = "true"
                    return self.respond(stored[1], stored[2], headers)
                resp = self._run(handler, kwargs, params, request_id, idem_key, headers)
                if resp.status_code not in {400, 401, 404, 409, 429}:
                    self.keys.save(idem_key, fingerprint, resp.status_code, resp.get_data())
                if self.answer_lost():
                    raise StripeApiError(500, "An unknown error occurred (the sandbox lost the answer of an "
                                         "executed request).", type="api_error")
                return resp
        except StripeApiError as err:
            return self.respond(err.status, dumps(self._error_body(err, request_id)), {**headers, **err.headers})

    def _run(self, handler: Handler, kwargs: dict[str, Any], params: dict[str, Any], request_id: str,
             idem_key: str | None, headers: dict[str, str]) -> Response:
        self.sandbox.events.request_context.value = {"id": request_id, "idempotency_key": idem_key}
        try:
            self.ledger.process_due()
            expand_paths = p.as_str_list(params, "expand")
            params.pop("expand", None)
            body = handler(params, **kwargs)
            if expand_paths:
                body = expand(json.loads(json.dumps(body)), expand_paths, lambda oid: self.store.get(oid))
            return self.respond(200, dumps(body), headers)
        except StripeApiError as err:
            return self.respond(err.status, dumps(self._error_body(err, request_id)), {**headers, **err.headers})
        except Exception:
            log.exception("Stripe sandbox handler failed")
            err = StripeApiError(500, "An unknown error occurred", type="api_error")
            return self.respond(500, dumps(self._error_body(err, request_id)), headers)
        finally:
            self.sandbox.events.request_context.value = None

    def _error_body(self, err: StripeApiError, request_id: str) -> dict[str, Any]:
        body = err.body()
        body["error"]["request_log_url"] = f"https://dashboard.stripe.com/test/logs/{request_id}"
        return body

    def paged(self, object_type: str, url: str, params: dict[str, Any], where: list[str],
              args: list[Any]) -> dict[str, Any]:
        """One page of a list endpoint: limit, cursors and the `created` filter on top of `where`."""
        limit = p.as_int(params, "limit", default=10, low=1, high=100)
        after, before = params.get("starting_after"), params.get("ending_before")
        if after and before:
            raise invalid("You may only specify one of these parameters: starting_after, ending_before.",
                          param="ending_before")
        self.range_filter(params, "created", "created", where, args)
        cursor_after = cursor_before = None
        if after:
            cursor_after = self.store.position(str(after), object_type)
            if cursor_after is None:
                raise invalid(f"No such {object_type.replace('_', ' ')}: '{after}'", param="starting_after",
                              code="resource_missing")
        if before:
            cursor_before = self.store.position(str(before), object_type)
            if cursor_before is None:
                raise invalid(f"No such {object_type.replace('_', ' ')}: '{before}'", param="ending_before",
                              code="resource_missing")
        items, has_more = self.store.page(object_type, where, args, limit=int(limit or 10),
                                          starting_after=cursor_after, ending_before=cursor_before)
        return list_object(url, items, has_more)

    def retrieve_route(self, table: RouteTable, object_type: str, path: str) -> None:
        """GET {path}/<id>: the object, no params."""
        def retrieve(params: dict[str, Any], object_id: str) -> dict[str, Any]:
            p.reject_unknown(params, set())
            return self.ledger.require(object_id, object_type)
        retrieve.__name__ = f"{object_type}_retrieve"
        table.route("GET", f"{path}/<object_id>")(retrieve)

    def update_route(self, table: RouteTable, object_type: str, path: str, fields: tuple[str, ...] = ()) -> None:
        """POST {path}/<id>: set `fields` and merge `metadata` (Ledger.update_object, under the write lock)."""
        allowed = {*fields, "metadata"}

        def update(params: dict[str, Any], object_id: str) -> dict[str, Any]:
            p.reject_unknown(params, allowed)
            return self.ledger.update_object(object_id, object_type, {k: params[k] for k in fields if k in params},
                                             params)
        update.__name__ = f"{object_type}_update"
        table.route("POST", f"{path}/<object_id>")(update)

    def range_filter(self, params: dict[str, Any], name: str, column: str, where: list[str],
                     args: list[Any]) -> None:
        """A `created`-style param (an integer or {gt, gte, lt, lte}) as conditions on the SQL `column`."""
        for op, value in p.range_filter(params, name).items():
            where.append(f"{column} {RANGE_OPERATORS[op]} ?")
            args.append(value)

    def equals_filter(self, params: dict[str, Any], name: str, where: list[str], args: list[Any],
                      path: str | None = None) -> None:
        value = params.get(name)
        if value is not None and value != "":
            if not isinstance(value, str):
                raise invalid(f"Invalid {name}", param=name)
            where.append(f"json_extract(body, '$.{path or name}') = ?")
            args.append(value)
