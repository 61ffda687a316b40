"""BUILTIN.DF (display text) and BUILTIN.CF (combined code) of a column.

DF of a reference column looks the record up (customer name, currency name, subsidiary name,
account full name, "Invoice #INV10042"); DF(transaction.status) is "<type display> : <status
text>" (e.g. "Invoice : Open"), DF(type) the type's display name; dates show in the user's date
preference; any other value is shown as text. CF(transaction.status) is "CustInvc:A".
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from . import templates
from .catalog import TEXT, Kind

if TYPE_CHECKING:
    from .translate import Env, Translator


def _target(table: str, column: str) -> str | None:
    if column == "entity" or (table, column) == ("customer", "parent"):
        return "customer"
    if column in ("currency", "primarycurrency"):
        return "currency"
    if column in ("subsidiary", "tosubsidiary", "representingsubsidiary") \
            or (table, column) == ("subsidiary", "parent"):
        return "subsidiary"
    if column == "expenseaccount" or (table, column) == ("account", "parent"):
        return "account"
    if column in ("previousdoc", "nextdoc") or (table, column) == ("transactionline", "transaction"):
        return "transaction"
    if (table, column) == ("transaction", "status"):
        return "status"
    if (table, column) == ("transaction", "type") or column in ("previoustype", "nexttype"):
        return "type"
    return None


def _type_sibling(column: exp.Column, env: "Env") -> exp.Column | None:
    """The transaction `type` column next to a `status` column (same source), if reachable."""
    source = env.source(column.table)
    if source is None:
        return None
    if source[0] == "base":
        return exp.column("type", table=column.table) if source[1] == "transaction" else None
    for name, kind in source[1].items():  # type: ignore[union-attr]
        if kind.origin == ("transaction", "type"):
            return exp.column(name, table=column.table)
    return None


def as_text(translator: "Translator", value: exp.Expression, kind: Kind) -> tuple[exp.Expression, Kind]:
    if kind.dateish:
        return templates.fill(templates.user_date(translator.date_format), __x__=value), TEXT
    if kind.type in ("text", "bool"):
        return value, TEXT
    if kind.type in ("money", "number", "any"):
        return exp.Anonymous(this="ns_to_char", expressions=[value]), TEXT
    return exp.Cast(this=value, to=exp.DataType.build("TEXT")), TEXT


def df(translator: "Translator", arg: exp.Expression, env: "Env") -> tuple[exp.Expression, Kind]:
    value, kind = translator.expr(arg, env)
    if isinstance(value, exp.Column) and kind.origin:
        target = _target(*kind.origin)
        if target == "status":
            sibling = _type_sibling(value, env)
            if sibling is not None:
                return templates.fill(templates.STATUS_DISPLAY, __x__=value, __t__=sibling), TEXT
        elif target == "type":
            return templates.fill(templates.TYPE_DISPLAY, __x__=value), TEXT
        elif target is not None:
            return templates.fill(templates.lookup(target, translator.fresh("df")), __x__=value), TEXT
    return as_text(translator, value, kind)


def cf(translator: "Translator", arg: exp.Expression, env: "Env") -> tuple[exp.Expression, Kind]:
    value, kind = translator.expr(arg, env)
    if isinstance(value, exp.Column) and kind.origin == ("transaction", "status"):
        sibling = _type_sibling(value, env)
        if sibling is not None:
            return templates.fill(templates.STATUS_CODE, __x__=value, __t__=sibling), TEXT
    return as_text(translator, value, kind)
