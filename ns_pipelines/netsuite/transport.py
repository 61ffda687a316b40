"""The HTTP transport: concurrency budget, adaptive limit, retries, statistics and a request hook.

- Never more than `config.concurrency` requests in flight, across threads (ConcurrencyLimiter),
  and fewer after over-limit answers: an AIMD limit halves on a 429 (down to 1) and grows back
  by one after `config.adaptive_recovery_successes` successes (behaviour.md section 4).
- Across processes the same budget holds: each request also leases a slot of the shared budget
  (budget.py: slot files, or PostgreSQL advisory locks), taken after the in-process slot.
- Retries (tenacity, exponential backoff with full jitter): 429, 5xx, connection errors and
  timeouts. Every attempt is prepared and signed anew (fresh nonce/timestamp).
- A 401 fails at once with AuthenticationError, except when the client was at its concurrency
  limit while the request was in flight: NetSuite sometimes answers over-concurrency with a slow
  INVALID_LOGIN (behaviour.md section 1), so such a 401 is retried a few times first.
- Requests that are not idempotent (POST other than SuiteQL, PATCH) are not retried after a 5xx
  or a connection dropped once the request was sent: the write may have happened. 429 and
  connect failures are retried (nothing was processed). Idempotent writes use PUT .../eid:.
"""
from __future__ import annotations

import dataclasses
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from .auth import NetSuiteAuth, build_auth
from .budget import NO_LEASE, Lease, NoBudget, SharedBudget, shared_budget
from . import exact_json
from .config import NetSuiteConfig
from .errors import (
    AuthenticationError,
    ConcurrencyLimitError,
    InvalidRequestError,
    NetSuiteError,
    ServerError,
    TransportError,
    error_from_response,
)
from .suiteql import SUITEQL_PATH

if TYPE_CHECKING:
    from .records import RecordService
    from .suiteql import SuiteQL

logger = logging.getLogger(__name__)

USER_AGENT = "ns-pipelines/0.1 (+requests)"
MAX_RETRY_AFTER_S = 300.0
_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_ID_SEGMENT = re.compile(r"^(?:\d+|eid:.*)$")


def path_template_of(path: str) -> str:
    """`/services/rest/record/v1/invoice/104` -> `/services/rest/record/v1/invoice/{id}`."""
    return "/".join("{id}" if _ID_SEGMENT.match(seg) else seg for seg in path.split("/"))


# --------------------------------------------------------------------------------------------
# Observability


@dataclass(frozen=True)
class RequestEvent:
    """One completed HTTP exchange (an attempt), passed to the client's request hooks."""

    method: str
    path: str  # the request path, without query string
    path_template: str  # ids replaced by {id}: group by endpoint
    status: int | None  # None: no HTTP answer (connection error, timeout)
    duration_s: float
    in_flight: int  # requests of this client in flight when it was sent, itself included
    attempt: int  # 1 for the first attempt of a call
    error_code: str | None = None  # NetSuite's o:errorCode, or the transport exception's name
    limit: int = 0  # the adaptive limit when it was sent
    budget: int = 0  # the configured budget
    over_limit: bool = False  # a 429, or a 401 while at the budget: NetSuite said "too many at once"
    budget_wait_s: float = 0.0  # waited for a cross-process slot (every slot of the shared budget held)


RequestHook = Callable[[RequestEvent], None]

# Called with every NetSuiteClient built in this process (ns_pipelines.monitoring.monitoring_new_clients
# uses it so that a command's clients are measured without each command attaching a monitor).
_new_client_callbacks: list[Callable[["NetSuiteClient"], None]] = []


def on_every_new_client(callback: Callable[["NetSuiteClient"], None]) -> None:
    """Call `callback(client)` for every NetSuiteClient created from now on in this process."""
    _new_client_callbacks.append(callback)


def stop_calling_on_new_clients(callback: Callable[["NetSuiteClient"], None]) -> None:
    """Undo on_every_new_client(callback) (a no-op if it is not registered)."""
    try:
        _new_client_callbacks.remove(callback)
    except ValueError:
        pass


class ClientStats:
    """Counters of one client (thread-safe). Read attributes directly or take a `snapshot()`."""

    _FIELDS = ("calls", "requests", "successes", "retries", "throttled", "auth_errors", "auth_retries",
               "server_errors", "transport_errors", "client_errors", "errors", "failures", "over_limit",
               "budget_waits")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.calls = 0  # request() calls
            self.requests = 0  # HTTP attempts sent
            self.successes = 0  # 2xx answers
            self.retries = 0  # attempts after the first, OAuth 2.0 token refresh resends included
            self.throttled = 0  # 429 answers (over the concurrency limit)
            self.auth_errors = 0  # 401 answers
            self.auth_retries = 0  # 401 answers retried because the client was at its budget
            self.server_errors = 0  # 5xx answers
            self.transport_errors = 0  # no answer
            self.client_errors = 0  # other 4xx answers
            self.errors = 0  # attempts that did not succeed (all of the above kinds)
            self.failures = 0  # calls that raised to the caller
            self.over_limit = 0  # over-limit answers: 429s and 401s that arrived at the budget
            self.budget_waits = 0  # attempts that waited because the shared (cross-process) budget was full
            self.total_duration_s = 0.0
            self.peak_in_flight = 0

    def add(self, **counts: int | float) -> None:
        with self._lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)

    def merge(self, snapshot: Mapping[str, int | float]) -> None:
        """Add another client's `snapshot()` (a sync worker process's): counts add up, the peak is the larger."""
        with self._lock:
            for name in (*self._FIELDS, "total_duration_s"):
                setattr(self, name, getattr(self, name) + snapshot.get(name, 0))
            self.peak_in_flight = max(self.peak_in_flight, int(snapshot.get("peak_in_flight", 0)))

    def count_request(self, in_flight: int) -> None:
        """One attempt sent with `in_flight` requests in flight (one lock for both counters)."""
        with self._lock:
            self.requests += 1
            if in_flight > self.peak_in_flight:
                self.peak_in_flight = in_flight

    def snapshot(self) -> dict[str, int | float]:
        with self._lock:
            data: dict[str, int | float] = {name: getattr(self, name) for name in self._FIELDS}
            data["total_duration_s"] = self.total_duration_s
            data["peak_in_flight"] = self.peak_in_flight
            return data

    def __repr__(self) -> str:
        return f"ClientStats({self.snapshot()})"


# --------------------------------------------------------------------------------------------
# Concurrency


@dataclass(frozen=True)
class Slot:
    """A permit to have one request in flight."""

    in_flight: int  # this client's requests in flight right after it was granted, itself included
    limit: int  # the effective limit when it was granted
    epoch: int  # the limiter's epoch (bumped on every decrease)
    full_mark: int  # the limiter's "was full" counter when it was granted


class ConcurrencyLimiter:
    """A fixed budget with an AIMD limit on top.

    `acquire()` blocks while the requests in flight reach the current limit (never above the
    budget: the limit only moves between 1 and `budget`).
    `on_overload(slot)` halves the limit (at most once per epoch, so a burst of 429s from
    requests sent together counts once); `on_success()` grows it by one after
    `recovery_successes` successes, up to the budget.
    """

    def __init__(self, budget: int, *, adaptive: bool = True, recovery_successes: int = 20) -> None:
        if budget < 1:
            raise ValueError("budget must be at least 1")
        self.budget = budget
        self.adaptive = adaptive
        self.recovery_successes = recovery_successes
        self._cond = threading.Condition()
        self._limit = budget
        self._in_flight = 0
        self._peak = 0
        self._successes = 0
        self._epoch = 0
        self._full_count = 0  # times the limit was reached

    @property
    def limit(self) -> int:
        return self._limit

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @property
    def peak(self) -> int:
        return self._peak

    def acquire(self) -> Slot:
        with self._cond:
            while self._in_flight >= self._limit:
                self._cond.wait()
            self._in_flight += 1
            if self._in_flight > self._peak:
                self._peak = self._in_flight
            if self._in_flight >= self._limit:
                self._full_count += 1
            return Slot(self._in_flight, self._limit, self._epoch, self._full_count)

    def release(self, slot: Slot) -> None:
        with self._cond:
            self._in_flight -= 1
            self._cond.notify_all()

    def was_at_limit(self, slot: Slot) -> bool:
        """Whether the client was at its limit at some moment while `slot` was held."""
        return slot.in_flight >= slot.limit or self._full_count != slot.full_mark

    def on_overload(self, slot: Slot) -> bool:
        """An over-limit answer to a request sent with `slot`. True if the limit was lowered."""
        if not self.adaptive:
            return False
        with self._cond:
            self._successes = 0
            if slot.epoch != self._epoch:
                return False  # already lowered after this request was sent
            new_limit = max(1, (self._limit + 1) // 2)  # halve, rounding up: 3 -> 2 -> 1
            self._epoch += 1
            if new_limit == self._limit:
                return False
            logger.info("NetSuite over-limit answer: lowering the concurrency limit %d -> %d (budget %d)",
                        self._limit, new_limit, self.budget)
            self._limit = new_limit
            return True

    def on_success(self) -> None:
        if not self.adaptive:
            return
        with self._cond:
            if self._limit >= self.budget:
                self._successes = 0
                return
            self._successes += 1
            if self._successes >= self.recovery_successes:
                self._successes = 0
                self._limit += 1
                logger.debug("raising the NetSuite concurrency limit to %d (budget %d)", self._limit, self.budget)
                self._cond.notify_all()

    @contextmanager
    def slot(self) -> Iterator[Slot]:
        slot = self.acquire()
        try:
            yield slot
        finally:
            self.release(slot)


# --------------------------------------------------------------------------------------------
# The client


@dataclass
class _CallState:
    attempt: int = 0
    auth_retries: int = 0
    refreshed: bool = False


def _was_sent(exc: requests.exceptions.RequestException) -> bool:
    """False when the request certainly never reached the server (connect failed)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return False
    if isinstance(exc, requests.exceptions.ConnectionError) and exc.args:
        reason = exc.args[0]
        inner = getattr(reason, "reason", reason)
        if isinstance(inner, (urllib3.exceptions.NewConnectionError, urllib3.exceptions.NameResolutionError)):
            return False
    return True


class NetSuiteClient:
    """Signed, budgeted, retried HTTP access to one NetSuite account.

    `request()` returns the 2xx response or raises a typed NetSuiteError. `suiteql` and
    `records` give the SuiteQL and REST record APIs over this client.
    """

    def __init__(
        self,
        config: NetSuiteConfig,
        session: requests.Session | None = None,
        *,
        auth: NetSuiteAuth | None = None,
        on_request: RequestHook | None = None,
        sleep: Callable[[float], None] = time.sleep,
        budget: SharedBudget | None = None,
    ) -> None:
        self.config = config
        self._owns_session = session is None
        # Another process can build the same client from `config` (and `budget`): nothing injected.
        self.rebuildable = session is None and auth is None
        self.session = session if session is not None else self._make_session(config)
        self.auth: NetSuiteAuth = auth if auth is not None else build_auth(config, self.session)
        self.limiter = ConcurrencyLimiter(
            config.concurrency, adaptive=config.adaptive_concurrency,
            recovery_successes=config.adaptive_recovery_successes)
        self.budget: SharedBudget = budget if budget is not None else self._shared_budget(config)
        self.stats = ClientStats()
        # A tuple, replaced on change: _emit iterates it on every request without copying or locking.
        self._hooks: tuple[RequestHook, ...] = (on_request,) if on_request else ()
        self._close_callbacks: list[Callable[[], None]] = []
        self._sleep = sleep
        policy = config.retry
        self._jitter = wait_random_exponential(multiplier=policy.initial_backoff_s, max=policy.max_backoff_s)
        for callback in list(_new_client_callbacks):
            try:
                callback(self)
            except Exception:  # noqa: BLE001 - e.g. a bad NS_API_USAGE value: the client still works
                logger.warning("new NetSuite client callback %r failed", callback, exc_info=True)

    @staticmethod
    def _shared_budget(config: NetSuiteConfig) -> SharedBudget:
        """The process's share of the cross-process budget (NS_BUDGET_MODE, budget.py)."""
        try:
            return shared_budget(config.account_id, config.base_url, config.concurrency)
        except Exception as exc:  # noqa: BLE001 - e.g. the PostgreSQL warehouse is down: keep the in-process limit
            logger.warning("the cross-process NetSuite budget is unavailable (%s: %s); this process keeps its own "
                           "limit of %d only", type(exc).__name__, exc, config.concurrency)
            return NoBudget(config.concurrency)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **kwargs: Any) -> "NetSuiteClient":
        return cls(NetSuiteConfig.from_env(environ), **kwargs)

    @staticmethod
    def _make_session(config: NetSuiteConfig) -> requests.Session:
        session = requests.Session()
        adapter = HTTPAdapter(pool_connections=2, pool_maxsize=config.concurrency, max_retries=0)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        session.headers["User-Agent"] = USER_AGENT
        return session

    def __repr__(self) -> str:
        return (f"NetSuiteClient(account={self.config.account_id!r}, base_url={self.config.base_url!r}, "
                f"auth={self.config.auth_method!r}, budget={self.config.concurrency})")

    def close(self) -> None:
        callbacks, self._close_callbacks = self._close_callbacks, []
        for callback in callbacks:
            try:
                callback()
            except Exception:  # noqa: BLE001 - e.g. the last API usage flush: never fail the caller's close
                logger.warning("NetSuite client close callback %r failed", callback, exc_info=True)
        if self._owns_session:
            self.session.close()

    def add_close_callback(self, callback: Callable[[], None]) -> None:
        """Call `callback()` when the client closes (API monitoring flushes its last minutes)."""
        self._close_callbacks.append(callback)

    def __enter__(self) -> "NetSuiteClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- hooks -------------------------------------------------------------------------------

    def add_request_hook(self, hook: RequestHook) -> None:
        """Call `hook(RequestEvent)` after every HTTP exchange (for API monitoring)."""
        self._hooks = (*self._hooks, hook)

    def remove_request_hook(self, hook: RequestHook) -> None:
        hooks = list(self._hooks)
        hooks.remove(hook)
        self._hooks = tuple(hooks)

    def emit_request_event(self, event: RequestEvent) -> None:
        """Pass an exchange made on this client's behalf (by a sync worker process's client) to
        this client's request hooks, so that API monitoring sees it."""
        self._emit(event)

    def _emit(self, event: RequestEvent) -> None:
        for hook in self._hooks:
            try:
                hook(event)
            except Exception:  # noqa: BLE001 - monitoring must never break a sync
                logger.warning("NetSuite request hook %r failed", hook, exc_info=True)

    # -- higher-level APIs -------------------------------------------------------------------

    @cached_property
    def suiteql(self) -> "SuiteQL":
        from .suiteql import SuiteQL
        return SuiteQL(self)

    @cached_property
    def records(self) -> "RecordService":
        from .records import RecordService
        return RecordService(self)

    # -- requests ----------------------------------------------------------------------------

    def url_for(self, path: str) -> tuple[str, str]:
        """(absolute URL, path) for a path or an absolute URL on this account's host."""
        base = self.config.base_url
        if path.startswith(("http://", "https://")):
            if not (path == base or path.startswith(base + "/")):
                raise ValueError(f"refusing to send NetSuite credentials to another host: {urlsplit(path).netloc}")
            return path, urlsplit(path).path
        if not path.startswith("/"):
            path = "/" + path
        return base + path, urlsplit(path).path

    @staticmethod
    def is_idempotent(method: str, path: str) -> bool:
        return method in _IDEMPOTENT_METHODS or (method == "POST" and path.rstrip("/") == SUITEQL_PATH)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        path_template: str | None = None,
        idempotent: bool | None = None,
        timeout: float | tuple[float, float] | None = None,
    ) -> requests.Response:
        """Send one API call (retried as the module docstring says); the 2xx response or a
        typed NetSuiteError."""
        method = method.upper()
        url, req_path = self.url_for(path)
        template = path_template or path_template_of(req_path)
        if idempotent is None:
            idempotent = self.is_idempotent(method, req_path)
        policy = self.config.retry
        state = _CallState()
        self.stats.add(calls=1)
        send_headers = {"Accept": "application/json"}
        if json is not None:  # exact: Decimal amounts go out digit for digit, never through a float
            data, json = exact_json.dumps(json).encode(), None
            send_headers["Content-Type"] = "application/json"
        if headers:
            send_headers.update(headers)

        def should_retry(exc: BaseException) -> bool:
            return self._should_retry(exc, state, idempotent)

        def before_sleep(retry_state: RetryCallState) -> None:
            exc = retry_state.outcome.exception() if retry_state.outcome else None
            self.stats.add(retries=1, auth_retries=int(isinstance(exc, AuthenticationError)))
            wait = retry_state.next_action.sleep if retry_state.next_action else 0.0
            logger.debug("retrying %s %s in %.2fs after attempt %d: %s", method, req_path, wait,
                         retry_state.attempt_number, type(exc).__name__)

        def wait(retry_state: RetryCallState) -> float:
            # Full jitter; a Retry-After from the server (if ever sent) is a floor, within reason.
            delay = self._jitter(retry_state)
            exc = retry_state.outcome.exception() if retry_state.outcome else None
            retry_after = getattr(exc, "retry_after", None)
            if retry_after:
                delay = max(delay, min(float(retry_after), MAX_RETRY_AFTER_S))
            return delay

        retrying = Retrying(
            stop=stop_after_attempt(policy.max_attempts),
            wait=wait,
            retry=retry_if_exception(should_retry),
            before_sleep=before_sleep,
            sleep=self._sleep,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    state.attempt = attempt.retry_state.attempt_number
                    return self._attempt(method, url, req_path, template, state,
                                         params=params, json=json, data=data, headers=send_headers,
                                         timeout=timeout or self.config.timeout)
        except NetSuiteError as exc:
            exc.attempts = max(exc.attempts, state.attempt)
            self.stats.add(failures=1)
            raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _should_retry(self, exc: BaseException, state: _CallState, idempotent: bool) -> bool:
        if isinstance(exc, ConcurrencyLimitError):
            return True
        if isinstance(exc, AuthenticationError):
            if getattr(exc, "at_budget", False) and state.auth_retries < self.config.retry.auth_retries_at_budget:
                state.auth_retries += 1
                return True
            return False
        if isinstance(exc, ServerError):
            return idempotent
        if isinstance(exc, TransportError):
            return idempotent or not exc.sent
        return False

    def _attempt(
        self, method: str, url: str, req_path: str, template: str, state: _CallState, *,
        params: Mapping[str, Any] | None, json: Any, data: Any, headers: dict[str, str],
        timeout: float | tuple[float, float],
    ) -> requests.Response:
        slot = self.limiter.acquire()
        lease = NO_LEASE
        try:
            lease = self.budget.acquire()
            if lease.waited:
                self.stats.add(budget_waits=1)
            while True:
                self.stats.count_request(slot.in_flight)
                started = time.monotonic()
                try:
                    # A new request is prepared, hence signed, on every attempt.
                    response = self.session.request(
                        method, url, params=params, json=json, data=data, headers=headers,
                        auth=self.auth, timeout=timeout, allow_redirects=False)
                except NetSuiteError as exc:  # raised by the auth (OAuth 2.0 token request)
                    self._record(method, req_path, template, None, started, slot, state, exc.code or type(exc).__name__,
                                 lease=lease)
                    self._count_error(exc)
                    raise
                except requests.exceptions.RequestException as exc:
                    self._record(method, req_path, template, None, started, slot, state, type(exc).__name__,
                                 lease=lease)
                    self.stats.add(transport_errors=1, errors=1)
                    reason = self.config.redact(str(exc))
                    if len(reason) > 300:
                        reason = reason[:300] + "..."
                    raise TransportError(
                        f"no answer from NetSuite on {method} {req_path}: {type(exc).__name__}: {reason}",
                        method=method, path=req_path, sent=_was_sent(exc)) from None

                status = response.status_code
                if status < 300:
                    self._record(method, req_path, template, status, started, slot, state, None, lease=lease)
                    self.stats.add(successes=1)
                    self.limiter.on_success()
                    return response

                error = error_from_response(response, method=method, path=req_path, redact=self.config.redact)
                # OAuth 2.0: the access token may have expired early; such a 401 is resent once with a new one.
                refresh = (isinstance(error, AuthenticationError) and not state.refreshed
                           and self.auth.handle_unauthorized(response.request))
                at_budget = isinstance(error, AuthenticationError) and not refresh and self._at_budget(slot, lease)
                over_limit = isinstance(error, ConcurrencyLimitError) or at_budget
                self._record(method, req_path, template, status, started, slot, state, error.code, lease=lease,
                             over_limit=over_limit)
                self._count_error(error)
                if over_limit:
                    self.stats.add(over_limit=1)
                if isinstance(error, AuthenticationError):
                    if refresh:
                        state.refreshed = True
                        lease = dataclasses.replace(lease, waited_s=0.0)  # the resend did not wait again
                        self.stats.add(retries=1)
                        logger.debug("401 on %s %s: refreshing the access token and resending", method, req_path)
                        continue
                    error.at_budget = at_budget
                    if at_budget:
                        self.limiter.on_overload(slot)
                elif isinstance(error, ConcurrencyLimitError):
                    self.limiter.on_overload(slot)
                elif isinstance(error, InvalidRequestError) or (400 <= status < 500):
                    self.limiter.on_success()  # answered normally: not an overload signal
                raise error
        finally:
            self.budget.release(lease)
            self.limiter.release(slot)

    def spare_slots(self) -> int:
        """Requests that could be sent now without waiting for a slot: this client's limit less
        its requests in flight, or 0 when every slot of the shared budget is held. An estimate
        (other threads and processes take slots too), for reading ahead only when it is free."""
        spare = self.limiter.limit - self.limiter.in_flight
        if spare <= 0 or self.budget.is_full():
            return 0
        return spare

    def _at_budget(self, slot: Slot, lease: Lease) -> bool:
        """Whether the budget was full around this request: this process at its limit, or every
        slot of the shared budget held (when it was granted, or now)."""
        return self.limiter.was_at_limit(slot) or lease.waited or self.budget.is_full()

    def _count_error(self, error: NetSuiteError) -> None:
        if isinstance(error, ConcurrencyLimitError):
            self.stats.add(throttled=1, errors=1)
        elif isinstance(error, AuthenticationError):
            self.stats.add(auth_errors=1, errors=1)
        elif isinstance(error, ServerError):
            self.stats.add(server_errors=1, errors=1)
        elif isinstance(error, TransportError):
            self.stats.add(transport_errors=1, errors=1)
        else:
            self.stats.add(client_errors=1, errors=1)

    def _record(self, method: str, path: str, template: str, status: int | None, started: float,
                slot: Slot, state: _CallState, error_code: str | None, *, lease: Lease = NO_LEASE,
                over_limit: bool = False) -> None:
        duration = time.monotonic() - started
        self.stats.add(total_duration_s=duration)
        logger.debug("%s %s -> %s in %.3fs (attempt %d, in flight %d/%d, budget %d)", method, path,
                     status if status is not None else error_code, duration, state.attempt,
                     slot.in_flight, slot.limit, self.limiter.budget)
        if self._hooks:
            self._emit(RequestEvent(
                method=method, path=path, path_template=template, status=status, duration_s=duration,
                in_flight=slot.in_flight, attempt=state.attempt, error_code=error_code,
                limit=slot.limit, budget=self.limiter.budget, over_limit=over_limit,
                budget_wait_s=lease.waited_s))

    # -- conveniences --------------------------------------------------------------------------

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def stats_snapshot(self) -> dict[str, int | float]:
        data = self.stats.snapshot()
        data.update(in_flight=self.limiter.in_flight, limit=self.limiter.limit, budget=self.limiter.budget)
        return data


__all__ = ["ClientStats", "ConcurrencyLimiter", "NetSuiteClient", "RequestEvent", "RequestHook", "Slot",
           "on_every_new_client", "path_template_of"]
