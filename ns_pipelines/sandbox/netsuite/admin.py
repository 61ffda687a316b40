"""The sandbox-only admin API (prefix /sandbox/admin/v1, `Authorization: Bearer <admin token>`).

It plays the NetSuite UI and the account administrator: change records as a user would (context
'UI', each change fires a change notification), revoke and issue tokens, read the login audit
trail, read and reset request statistics, change settings at runtime, move the account's clock,
wipe and reseed, and inspect the change-event outbox. It takes no concurrency slot and is not
counted in the statistics.

Endpoints:
  GET    /health
  GET    /records/{type}/{id}                read a record (expandSubResources=true by default)
  POST   /records/{type}                     create          -> 201 {"id"}
  PATCH  /records/{type}/{id}[?replace=...]  edit            -> 200 {"id"}
  POST   /records/{type}/{id}/void           void            -> 200 {"id"}
  DELETE /records/{type}/{id}                delete          -> 200 {"id"}
  GET    /tokens                             TBA tokens (ids and status, no secrets)
  POST   /tokens                             issue a new TBA token {"make_default": true} -> {"token_id","token_secret"}
  POST   /tokens/revoke                      {"token_id"} | {"access_token"} | {"client_id"}
  GET    /login-audit[?limit=]               failed logins with their real reason, newest first
  DELETE /login-audit
  GET    /stats                              governance statistics + notification counts
  POST   /stats/reset
  GET    /settings
  PATCH  /settings                           any SandboxSettings field; "faults": {...} merged
  GET    /clock  POST /clock                 {"offset_seconds": n} or {"advance_seconds": n}
  POST   /reset                              {"scale"?, "seed"?}: wipe and reseed
  GET    /events[?delivered=true|false&limit=]   the change-event outbox
  POST   /events/redeliver                   retry every undelivered event from scratch
"""
from __future__ import annotations

import hmac
from dataclasses import asdict, fields
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, request

from .errors import ApiError
from .settings import LATENCY_MODES, FaultSettings, SandboxSettings

if TYPE_CHECKING:
    from .server import SandboxAccount

READ_ONLY_SETTINGS = {"account_id", "timezone"}


def settings_dict(settings: SandboxSettings) -> dict[str, Any]:
    data = asdict(settings)
    data["faults"]["locked_record_ids"] = sorted(settings.faults.locked_record_ids)
    data["realm"] = settings.realm
    return data


def _coerce(name: str, current: Any, value: Any) -> Any:
    if value is None:
        if name in {"notify_url"}:
            return None
        raise ApiError(400, "INVALID_PARAMETER", f"Setting {name} cannot be null.")
    try:
        if isinstance(current, bool):
            if isinstance(value, str):
                return value.strip().lower() in {"1", "true", "t", "yes"}
            return bool(value)
        if isinstance(current, int) and not isinstance(current, bool):
            return int(value)
        if isinstance(current, float):
            return float(value)
        if isinstance(current, set):
            return {int(v) for v in value}
        if current is None or isinstance(current, str):
            return str(value)
    except (TypeError, ValueError):
        raise ApiError(400, "INVALID_PARAMETER", f"Invalid value for setting {name}: {value!r}.") from None
    return value


def apply_settings(settings: SandboxSettings, patch: dict[str, Any]) -> None:
    """Change settings in place (every part holds the same object). Validates before changing anything."""
    names = {f.name for f in fields(SandboxSettings)}
    fault_names = {f.name for f in fields(FaultSettings)}
    changes: list[tuple[Any, str, Any]] = []
    for name, value in patch.items():
        if name == "faults":
            if not isinstance(value, dict):
                raise ApiError(400, "INVALID_PARAMETER", "faults must be an object.")
            for fname, fvalue in value.items():
                if fname not in fault_names:
                    raise ApiError(400, "INVALID_PARAMETER", f"Unknown fault setting {fname}.")
                new = _coerce(fname, getattr(settings.faults, fname), fvalue)
                if fname.endswith("_rate") and not 0.0 <= new <= 1.0:
                    raise ApiError(400, "INVALID_PARAMETER", f"{fname} must be between 0 and 1.")
                changes.append((settings.faults, fname, new))
            continue
        if name not in names:
            raise ApiError(400, "INVALID_PARAMETER", f"Unknown setting {name}.")
        if name in READ_ONLY_SETTINGS:
            raise ApiError(400, "INVALID_PARAMETER", f"Setting {name} cannot be changed on a running sandbox.")
        new = _coerce(name, getattr(settings, name), value)
        if name == "over_limit_mode" and new not in {"429", "401"}:
            raise ApiError(400, "INVALID_PARAMETER", "over_limit_mode must be '429' or '401'.")
        if name == "latency_mode" and new not in LATENCY_MODES:
            raise ApiError(400, "INVALID_PARAMETER", f"latency_mode must be one of {', '.join(LATENCY_MODES)}.")
        if name == "concurrency_limit" and new < 1:
            raise ApiError(400, "INVALID_PARAMETER", "concurrency_limit must be at least 1.")
        if name in {"latency_ms", "latency_per_row_ms", "over_limit_401_delay_s"} and new < 0:
            raise ApiError(400, "INVALID_PARAMETER", f"{name} cannot be negative.")
        changes.append((settings, name, new))
    for target, name, new in changes:
        setattr(target, name, new)


def create_admin_blueprint(account: "SandboxAccount") -> Blueprint:
    from .app import error_response, json_response, url_root

    bp = Blueprint("sandbox_admin", __name__)

    @bp.before_request
    def require_admin_token() -> Response | None:
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header[:7].lower() == "bearer " else ""
        if not token or not hmac.compare_digest(token.encode(), account.credentials.admin_token.encode()):
            return error_response(ApiError(
                401, "INVALID_LOGIN", "The sandbox admin API needs 'Authorization: Bearer <admin token>'.",
                headers={"WWW-Authenticate": 'Bearer realm="sandbox-admin", error="invalid_token"'}))
        return None

    @bp.errorhandler(ApiError)
    def on_api_error(err: ApiError) -> Response:
        return error_response(err)

    def body_object() -> dict[str, Any]:
        data = request.get_json(silent=True, force=True) if request.get_data(cache=True) else {}
        if not isinstance(data, dict):
            raise ApiError(400, "INVALID_CONTENT", "The request body must be a JSON object.")
        return data

    def location(record_type: str, record_id: Any) -> str:
        return f"{url_root()}/services/rest/record/v1/{record_type}/{record_id}"

    # ------------------------------------------------------------------ health
    @bp.get("/health")
    def health() -> Response:
        return json_response(account.health())

    # ------------------------------------------------------------------ records, as a UI user
    @bp.get("/records/<record_type>/<ref>")
    def record_get(record_type: str, ref: str) -> Response:
        expand = (request.args.get("expandSubResources") or "true").lower() == "true"
        return json_response(account.records.get(record_type, ref, expand=expand, base_url=url_root()))

    @bp.post("/records/<record_type>")
    def record_create(record_type: str) -> Response:
        new_id = account.records.create(record_type, body_object(), context="UI")
        return json_response({"id": str(new_id)}, 201, {"Location": location(record_type, new_id)})

    @bp.patch("/records/<record_type>/<ref>")
    def record_edit(record_type: str, ref: str) -> Response:
        replace = {n.strip() for n in (request.args.get("replace") or "").split(",") if n.strip()}
        record_id = account.records.update(record_type, ref, body_object(), replace=replace, context="UI")
        return json_response({"id": str(record_id)}, 200, {"Location": location(record_type, record_id)})

    @bp.post("/records/<record_type>/<ref>/void")
    def record_void(record_type: str, ref: str) -> Response:
        account.records.void(record_type, ref, context="UI")
        return json_response({"id": ref, "voided": True})

    @bp.delete("/records/<record_type>/<ref>")
    def record_delete(record_type: str, ref: str) -> Response:
        account.records.delete(record_type, ref, context="UI")
        return json_response({"id": ref, "deleted": True})

    # ------------------------------------------------------------------ tokens and login audit
    @bp.get("/tokens")
    def tokens_list() -> Response:
        return json_response({"tokens": account.tokens.list(), "default_token_id": account.credentials.token_id})

    @bp.post("/tokens")
    def tokens_issue() -> Response:
        data = body_object()
        token_id, secret = account.tokens.issue(make_default=bool(data.get("make_default", True)))
        return json_response({"token_id": token_id, "token_secret": secret}, 201)

    @bp.post("/tokens/revoke")
    def tokens_revoke() -> Response:
        data = body_object()
        if data.get("token_id"):
            if not account.tokens.revoke(str(data["token_id"])):
                raise ApiError(404, "NONEXISTENT_ID", "No such token.")
            return json_response({"revoked": "token", "token_id": data["token_id"]})
        if data.get("access_token"):
            try:
                claims = account.auth.oauth2.decode_unverified(str(data["access_token"]))
            except Exception:
                raise ApiError(400, "INVALID_PARAMETER", "access_token is not a token this account issued.") from None
            account.tokens.revoke_access_token(str(claims.get("jti")))
            return json_response({"revoked": "access_token", "jti": claims.get("jti")})
        if data.get("client_id"):
            account.tokens.revoke_client(str(data["client_id"]))
            return json_response({"revoked": "client", "client_id": data["client_id"]})
        raise ApiError(400, "INVALID_PARAMETER", "Give token_id, access_token or client_id.")

    @bp.get("/login-audit")
    def login_audit() -> Response:
        limit = request.args.get("limit", type=int)
        return json_response({"items": account.auth.audit.entries(limit), "successes": account.auth.audit.successes})

    @bp.delete("/login-audit")
    def login_audit_clear() -> Response:
        account.auth.audit.clear()
        return json_response({"cleared": True})

    # ------------------------------------------------------------------ statistics
    @bp.get("/stats")
    def stats() -> Response:
        return json_response(account.stats())

    @bp.post("/stats/reset")
    def stats_reset() -> Response:
        account.governor.reset_stats()
        account.counters.clear()
        return json_response({"reset": True})

    # ------------------------------------------------------------------ settings and clock
    @bp.get("/settings")
    def settings_get() -> Response:
        return json_response(settings_dict(account.settings))

    @bp.patch("/settings")
    def settings_patch() -> Response:
        patch = body_object()
        apply_settings(account.settings, patch)
        if isinstance(patch.get("faults"), dict) and "seed" in patch["faults"]:
            account.governor.reseed()
        account.notifier.kick()  # a new notify_url delivers what waits in the outbox
        return json_response(settings_dict(account.settings))

    @bp.get("/clock")
    def clock_get() -> Response:
        return json_response({"now": account.store.now(), "today": account.store.today(),
                              "offset_seconds": account.store.clock_offset.total_seconds()})

    @bp.post("/clock")
    def clock_set() -> Response:
        data = body_object()
        try:
            if "offset_seconds" in data:
                account.store.clock_offset = timedelta(seconds=float(data["offset_seconds"]))
            elif "advance_seconds" in data:
                account.store.clock_offset += timedelta(seconds=float(data["advance_seconds"]))
            else:
                raise ApiError(400, "INVALID_PARAMETER", "Give offset_seconds or advance_seconds.")
        except (TypeError, ValueError):
            raise ApiError(400, "INVALID_PARAMETER", "offset_seconds/advance_seconds must be numbers.") from None
        return clock_get()

    # ------------------------------------------------------------------ reset
    @bp.post("/reset")
    def reset() -> Response:
        data = body_object()
        counts = account.reset(scale=data.get("scale"), seed=data.get("seed"))
        return json_response({"reset": True, "counts": counts})

    # ------------------------------------------------------------------ change events
    @bp.get("/events")
    def events() -> Response:
        delivered_arg = request.args.get("delivered")
        delivered = None if delivered_arg is None else delivered_arg.lower() == "true"
        limit = request.args.get("limit", default=100, type=int)
        return json_response({"items": account.notifier.events(delivered=delivered, limit=limit),
                              "counts": account.notifier.counts()})

    @bp.post("/events/redeliver")
    def events_redeliver() -> Response:
        return json_response({"requeued": account.notifier.redeliver()})

    return bp
