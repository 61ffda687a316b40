"""Comparisons: dates compared in the stored form of the column, LIKE, = ANY, IN, BETWEEN.

The store keeps DATE as 'YYYY-MM-DD' and DATETIME as 'YYYY-MM-DD HH:MM:SS'. When a comparison
involves a date, the other operands are brought to the form of the (bare) date column involved,
at translation time for literals, so an index on the column stays usable and Oracle's semantics
hold: a DATETIME column equals TO_DATE('2024-01-03') at midnight only; a DATE column (midnight)
is before TO_TIMESTAMP('2024-01-03 10:00:00') and not equal to it. String literals compared with
a date are read as ISO text or in the user's date preference, as NetSuite does.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from . import datefmt, dateprefs
from .catalog import NUMBER, Kind, storage
from .problems import unsupported
from .templates import call, is_string, literal_text

if TYPE_CHECKING:
    from .translate import Env


class Comparisons:
    """Mixin of the Translator (uses self.expr, self.date_format, self.today)."""

    def _date_form(self, operands: list[tuple[exp.Expression, Kind]]) -> str | None:
        if not any(kind.dateish for _, kind in operands):
            return None
        for node, kind in operands:
            if isinstance(node, exp.Column) and kind.bare and kind.type in ("date", "datetime"):
                return storage(kind)
        forms = {storage(kind) for node, kind in operands if kind.dateish and not is_string(node)}
        return forms.pop() if len(forms) == 1 and None not in forms else "full"

    def _to_form(self, node: exp.Expression, kind: Kind, form: str) -> exp.Expression:
        if is_string(node):
            iso = dateprefs.parse_date_literal(node.this, self.date_format, self.today())
            if iso is None:
                return node
            return exp.Literal.string(datefmt.iso_short(iso) if form == "short" else datefmt.iso_full(iso))
        if not kind.dateish or storage(kind) == form:
            return node
        return call("ns_dt_full" if form == "full" else "ns_dt_short", node)

    def _align(self, operands: list[tuple[exp.Expression, Kind]]) -> list[exp.Expression]:
        form = self._date_form(operands)
        if form is None:
            return [node for node, _ in operands]
        return [self._to_form(node, kind, form) for node, kind in operands]

    def _comparison(self, node: exp.Binary, env: Env) -> tuple[exp.Expression, Kind]:
        if isinstance(node.expression, (exp.Any, exp.All)):
            return self._any_all(node, env)
        left, right = self._align([self.expr(node.this, env), self.expr(node.expression, env)])
        node.set("this", left)
        node.set("expression", right)
        return node, NUMBER

    def _any_all(self, node: exp.Binary, env: Env) -> tuple[exp.Expression, Kind]:
        """x = ANY (list | subquery) is x IN (...); x <> ALL (...) is x NOT IN (...)."""
        quantified = node.expression
        positive = isinstance(node, exp.EQ) and isinstance(quantified, exp.Any)
        if not positive and not (isinstance(node, exp.NEQ) and isinstance(quantified, exp.All)):
            raise unsupported("Only = ANY (...) and <> ALL (...) comparisons are supported.")
        target = quantified.this
        while isinstance(target, exp.Paren):
            target = target.this
        if isinstance(target, exp.Tuple):
            membership = exp.In(this=node.this, expressions=list(target.expressions))
        elif isinstance(target, (exp.Select, exp.Subquery)):
            membership = exp.In(this=node.this, query=target if isinstance(target, exp.Subquery)
                                else exp.Subquery(this=target))
        else:
            membership = exp.In(this=node.this, expressions=[target])
        result, kind = self._in(membership, env)
        return (result if positive else exp.Not(this=result)), kind

    def _like(self, node: exp.Expression, env: Env) -> tuple[exp.Expression, Kind]:
        """Oracle's LIKE is case-sensitive (SQLite's is not): a literal pattern becomes GLOB."""
        escape = None
        if isinstance(node, exp.Escape):
            escape = literal_text(node.expression)
            if escape is None or len(escape) != 1:
                raise unsupported("LIKE ... ESCAPE needs a single character.")
            node = node.this
            if not isinstance(node, exp.Like):
                return self._generic(node, env)[0], NUMBER
        value, _ = self.expr(node.this, env)
        pattern, _ = self.expr(node.expression, env)
        if is_string(pattern):
            result: exp.Expression = exp.Glob(this=value, expression=exp.Literal.string(
                _like_to_glob(pattern.this, escape)))
        else:
            args = [value, pattern] + ([exp.Literal.string(escape)] if escape else [])
            result = call("ns_like", *args)
        return (exp.Not(this=result) if node.args.get("negate") else result), NUMBER

    def _between(self, node: exp.Between, env: Env) -> tuple[exp.Expression, Kind]:
        this, low, high = self._align([self.expr(node.this, env), self.expr(node.args["low"], env),
                                       self.expr(node.args["high"], env)])
        node.set("this", this)
        node.set("low", low)
        node.set("high", high)
        return node, NUMBER

    def _in(self, node: exp.In, env: Env) -> tuple[exp.Expression, Kind]:
        operands = [self.expr(node.this, env)] + [self.expr(e, env) for e in node.expressions]
        aligned = self._align(operands)
        node.set("this", aligned[0])
        node.set("expressions", aligned[1:])
        if node.args.get("query") is not None:
            node.set("query", self.expr(node.args["query"], env)[0])
        return node, NUMBER


def _like_to_glob(pattern: str, escape: str | None) -> str:
    out = []
    chars = iter(pattern)
    for ch in chars:
        if escape is not None and ch == escape:
            ch = next(chars, "")
            out.append({"*": "[*]", "?": "[?]", "[": "[[]"}.get(ch, ch))
        elif ch == "%":
            out.append("*")
        elif ch == "_":
            out.append("?")
        else:
            out.append({"*": "[*]", "?": "[?]", "[": "[[]"}.get(ch, ch))
    return "".join(out)
