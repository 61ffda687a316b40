"""SQLite expression templates filled with translated sqlglot nodes (AST in, AST out).

A template is SQLite SQL whose placeholders are bare identifiers such as `__x__`; `fill()` parses
it once (cached) and substitutes a copy of the given node for each placeholder.
"""
from __future__ import annotations

from functools import lru_cache

import sqlglot
from sqlglot import exp

from ..schema import STATUS_TEXT, TRANSACTION_TYPES
from .dateprefs import user_format_sql


def is_string(node: exp.Expression) -> bool:
    return isinstance(node, exp.Literal) and node.is_string


def literal_text(node: exp.Expression | None) -> str | None:
    return node.this if node is not None and is_string(node) else None


def call(name: str, *args: exp.Expression) -> exp.Anonymous:
    return exp.Anonymous(this=name, expressions=list(args))


@lru_cache(maxsize=256)
def _parsed(sql: str) -> exp.Expression:
    return sqlglot.parse_one(sql, read="sqlite")


def fill(sql: str, **nodes: exp.Expression) -> exp.Expression:
    def substitute(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and not node.table and node.name in nodes:
            return nodes[node.name].copy()
        return node

    return _parsed(sql).copy().transform(substitute, copy=False)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _type_whens(column: str) -> str:
    return " ".join(f"WHEN {_quote(code)} THEN {_quote(display)}"
                    for code, (_, _, display) in TRANSACTION_TYPES.items())


TYPE_DISPLAY = f"CASE __x__ {_type_whens('__x__')} ELSE __x__ END"
STATUS_DISPLAY = "CASE __t__ || ':' || __x__ " + " ".join(
    f"WHEN {_quote(f'{code}:{letter}')} THEN {_quote(f'{TRANSACTION_TYPES[code][2]} : {text}')}"
    for code, letters in STATUS_TEXT.items() for letter, text in letters.items()
) + " ELSE __x__ END"
STATUS_CODE = "CASE WHEN __x__ IS NULL THEN NULL ELSE __t__ || ':' || __x__ END"


def lookup(target: str, alias: str) -> str:
    """Display text of the record an id column points at (a correlated primary-key lookup)."""
    a = alias
    if target == "customer":
        return f"(SELECT COALESCE({a}.companyname, {a}.entityid) FROM customer AS {a} WHERE {a}.id = __x__)"
    if target == "currency":
        return f"(SELECT {a}.name FROM currency AS {a} WHERE {a}.id = __x__)"
    if target == "subsidiary":
        return f"(SELECT {a}.name FROM subsidiary AS {a} WHERE {a}.id = __x__)"
    if target == "account":
        return f"(SELECT {a}.fullname FROM account AS {a} WHERE {a}.id = __x__)"
    if target == "transaction":
        case = f"CASE {a}.type {_type_whens(a + '.type')} ELSE {a}.type END"
        return (f"(SELECT {case} || COALESCE(' #' || {a}.tranid, '') "
                f"FROM \"transaction\" AS {a} WHERE {a}.id = __x__)")
    raise KeyError(target)


def user_date(date_format: str) -> str:
    return user_format_sql(date_format, "__x__")
