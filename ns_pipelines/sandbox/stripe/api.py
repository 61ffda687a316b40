"""The Stripe API over HTTP (Flask): /v1 routes the official `stripe` package calls unmodified.

dispatch.py is the request layer every route goes through; routes_*.py hold the routes; the
admin API is mounted under /sandbox/admin/v1.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from . import routes_balance, routes_payments
from .admin import create_admin_blueprint
from .dispatch import ApiContext, Handler, RouteTable, dumps
from .errors import StripeApiError

if TYPE_CHECKING:
    from .server import StripeSandbox


def create_app(sandbox: "StripeSandbox") -> Flask:
    app = Flask("ns_pipelines.sandbox.stripe")
    ctx = ApiContext(sandbox)
    table = RouteTable()
    routes_payments.register(table, ctx)
    routes_balance.register(table, ctx)
    for index, (method, rule, fn) in enumerate(table.routes):
        def view(_fn: Handler = fn, **kwargs: Any) -> Response:
            return ctx.dispatch(_fn, kwargs)
        app.add_url_rule(rule, endpoint=f"stripe_{index}_{fn.__name__}", view_func=view, methods=[method])
    app.register_blueprint(create_admin_blueprint(sandbox), url_prefix="/sandbox/admin/v1")

    @app.errorhandler(HTTPException)
    def unknown_url(exc: HTTPException) -> Response:
        if exc.code in (404, 405):
            err = StripeApiError(404, f"Unrecognized request URL ({request.method}: {request.path}). Please see "
                                 "https://stripe.com/docs or we can help at https://support.stripe.com/.")
            return ctx.respond(404, dumps(err.body()), {"Request-Id": sandbox.ids.new("req")})
        return ctx.respond(exc.code or 500, dumps(StripeApiError(exc.code or 500, exc.description or "error").body()), {})

    return app
