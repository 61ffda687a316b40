"""The /v1 routes of payouts, the balance, balance transactions and events (30 days kept)."""
from __future__ import annotations

from typing import Any

from . import params as p
from .dispatch import LIST_PARAMS, ApiContext, RouteTable
from .errors import invalid, missing


def register(table: RouteTable, ctx: ApiContext) -> None:
    ledger, paged, equals_filter = ctx.ledger, ctx.paged, ctx.equals_filter
    sandbox = ctx.sandbox
    for object_type, path in (("payout", "/v1/payouts"), ("balance_transaction", "/v1/balance_transactions")):
        ctx.retrieve_route(table, object_type, path)
    ctx.update_route(table, "payout", "/v1/payouts")

    # ------------------------------------------------------------------ payouts and balance
    @table.route("GET", "/v1/payouts")
    def payouts_list(params: dict[str, Any]) -> dict[str, Any]:
        p.reject_unknown(params, LIST_PARAMS | {"status", "arrival_date", "destination"})
        where: list[str] = []
        args: list[Any] = []
        equals_filter(params, "status", where, args)
        ctx.range_filter(params, "arrival_date", "json_extract(body, '$.arrival_date')", where, args)
        return paged("payout", "/v1/payouts", params, where, args)

    @table.route("GET", "/v1/balance")
    def balance_get(params: dict[str, Any]) -> dict[str, Any]:
        p.reject_unknown(params, set())
        return ledger.balance()

    @table.route("GET", "/v1/balance_transactions")
    def balance_transactions_list(params: dict[str, Any]) -> dict[str, Any]:
        p.reject_unknown(params, LIST_PARAMS | {"payout", "source", "type", "currency"})
        where: list[str] = []
        args: list[Any] = []
        payout_id = params.get("payout")
        if payout_id:
            payout = ledger.require(str(payout_id), "payout", param="payout", status=400)
            if not payout["automatic"]:
                raise invalid("Balance transaction history can only be filtered on automatic transfers, "
                              "not manual.", param="payout")
            where.append("payout = ?")
            args.append(payout_id)
        equals_filter(params, "source", where, args)
        equals_filter(params, "type", where, args)
        equals_filter(params, "currency", where, args)
        return paged("balance_transaction", "/v1/balance_transactions", params, where, args)

    # ------------------------------------------------------------------ events
    def retention_floor() -> int:
        return sandbox.clock.now() - sandbox.settings.event_retention_days * 86400

    @table.route("GET", "/v1/events")
    def events_list(params: dict[str, Any]) -> dict[str, Any]:
        p.reject_unknown(params, LIST_PARAMS | {"type", "types", "delivery_success"})
        where = ["created >= ?"]
        args: list[Any] = [retention_floor()]
        event_type = params.get("type")
        types = p.as_str_list(params, "types")
        if event_type and types:
            raise invalid("You may only specify one of these parameters: type, types.", param="types")
        if len(types) > 20:
            raise invalid("types may contain at most 20 entries.", param="types")
        if event_type:
            if not isinstance(event_type, str):
                raise invalid("Invalid type", param="type")
            where.append("json_extract(body, '$.type') LIKE ? ESCAPE '\\'")
            args.append(event_type.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_").replace("*", "%"))
        if types:
            where.append("json_extract(body, '$.type') IN (%s)" % ",".join("?" * len(types)))
            args.extend(types)
        if "delivery_success" in params:
            delivered = p.as_bool(params, "delivery_success")
            where.append("id %s IN (SELECT event_id FROM stripe_delivery WHERE delivered_at IS NOT NULL)"
                         % ("" if delivered else "NOT"))
        return paged("event", "/v1/events", params, where, args)

    @table.route("GET", "/v1/events/<object_id>")
    def events_get(params: dict[str, Any], object_id: str) -> dict[str, Any]:
        p.reject_unknown(params, set())
        event = ledger.require(object_id, "event")
        if event["created"] < retention_floor():
            raise missing("event", object_id)
        return event
