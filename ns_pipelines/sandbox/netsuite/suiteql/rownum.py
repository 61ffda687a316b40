"""ROWNUM with Oracle's semantics.

Oracle numbers the rows of a query block as they leave its FROM/WHERE, before GROUP BY, HAVING,
DISTINCT and ORDER BY: `WHERE ROWNUM <= 10 ORDER BY x` sorts an arbitrary 10 rows, while
`SELECT * FROM (... ORDER BY x) WHERE ROWNUM <= 10` is the top 10. A ROWNUM condition passes
the first K rows that pass the other conditions and then no more (`ROWNUM > 1` never passes).

Rewrite of a SELECT using ROWNUM (after its expressions were translated):
- WHERE conjuncts on ROWNUM give K. Without GROUP BY/aggregates/DISTINCT/ORDER BY/windows and
  without ROWNUM elsewhere, they become `LIMIT K` on the same SELECT.
- Otherwise FROM + JOINs + the other WHERE conditions move into a derived table
  `(SELECT <referenced columns>, ROW_NUMBER() OVER () AS __rownum ... LIMIT K) AS __rnN`; the
  outer block keeps projections, GROUP BY, HAVING, DISTINCT and ORDER BY over it.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

from sqlglot import exp

from .problems import unsupported
from .validate import ROWNUM

if TYPE_CHECKING:
    from .translate import Env, Translator

_MSG = ("ROWNUM is supported in projections and in WHERE conditions of the form "
        "ROWNUM <op> <number> joined by AND.")


def _is_marker(node: exp.Expression) -> bool:
    return isinstance(node, exp.Anonymous) and node.this == ROWNUM


def _number(node: exp.Expression) -> float:
    sign = 1
    while isinstance(node, (exp.Neg, exp.Paren)):
        if isinstance(node, exp.Neg):
            sign = -sign
        node = node.this
    if isinstance(node, exp.Literal) and not node.is_string:
        return sign * float(node.this)
    raise unsupported(_MSG)


_FLIP = {exp.LT: exp.GT, exp.GT: exp.LT, exp.LTE: exp.GTE, exp.GTE: exp.LTE, exp.EQ: exp.EQ, exp.NEQ: exp.NEQ}
INF = math.inf


def _first_failure(cond: exp.Expression) -> float:
    """The smallest candidate row number r (1, 2, ...) for which `cond` is false (inf: never)."""
    if isinstance(cond, exp.Paren):
        return _first_failure(cond.this)
    if isinstance(cond, exp.Between) and _is_marker(cond.this):
        low, high = _number(cond.args["low"]), _number(cond.args["high"])
        return 1 if low > 1 else math.floor(high) + 1 if high >= 1 else 1
    op = type(cond)
    if op not in _FLIP:
        raise unsupported(_MSG)
    if _is_marker(cond.this):
        n = _number(cond.expression)
    elif _is_marker(cond.expression):
        n, op = _number(cond.this), _FLIP[op]
    else:
        raise unsupported(_MSG)
    if op is exp.LTE:
        return math.floor(n) + 1 if n >= 1 else 1
    if op is exp.LT:
        return math.ceil(n) if n > 1 else 1
    if op is exp.EQ:
        return 2 if n == 1 else 1
    if op is exp.GTE:
        return 1 if n > 1 else INF
    if op is exp.GT:
        return 1 if n >= 1 else INF
    # NEQ: fails when the candidate equals n
    return n if n >= 1 and float(n).is_integer() else INF


def _conjuncts(node: exp.Expression | None) -> list[exp.Expression]:
    if node is None:
        return []
    if isinstance(node, exp.And):
        return _conjuncts(node.this) + _conjuncts(node.expression)
    if isinstance(node, exp.Paren) and isinstance(node.this, exp.And):
        return _conjuncts(node.this)
    return [node]


def _and(conds: list[exp.Expression]) -> exp.Expression | None:
    if not conds:
        return None
    result = conds[0]
    for cond in conds[1:]:
        result = exp.And(this=result, expression=cond)
    return result


def _has_marker(node: exp.Expression) -> bool:
    return any(_is_marker(n) for n in node.walk())


def _local_sources(select: exp.Select) -> set[str]:
    names = set()
    from_ = select.args.get("from_")
    if from_ is not None:
        names.add(from_.this.alias_or_name)
    for join in select.args.get("joins") or []:
        names.add(join.this.alias_or_name)
    return names


def _scope_nodes(node: exp.Expression):
    """Nodes of this query block, not descending into nested queries."""
    yield node
    for child in node.iter_expressions():
        if isinstance(child, (exp.Select, exp.Subquery, exp.SetOperation)):
            continue
        yield from _scope_nodes(child)


def _remap(node: exp.Expression, visible: set[str], mapping: dict[tuple[str, str], str], derived: str) -> None:
    """Point columns of `visible` sources at the derived table (through nested queries too)."""
    for child in list(node.iter_expressions()):
        inner_visible = visible
        if isinstance(child, exp.Select):
            inner_visible = visible - _local_sources(child)
        if isinstance(child, exp.Column) and child.table in visible and not isinstance(child.this, exp.Star):
            key = (child.table, child.name)
            if key not in mapping:
                mapping[key] = f"__c{len(mapping)}"
            child.replace(exp.column(mapping[key], table=derived))
            continue
        _remap(child, inner_visible, mapping, derived)


def rewrite(select: exp.Select, env: "Env", translator: "Translator") -> None:
    where = select.args.get("where")
    conjuncts = _conjuncts(where.this if where is not None else None)
    limits = [c for c in conjuncts if _has_marker(c)]
    others = [c for c in conjuncts if not _has_marker(c)]
    first_failure = min((_first_failure(c) for c in limits), default=INF)
    keep = None if first_failure == INF else int(first_failure) - 1

    projected = any(_is_marker(n) for part in ("expressions", "group", "having", "order", "qualify")
                    for value in _as_list(select.args.get(part)) for n in _scope_nodes(value))
    if keep == 0:  # no row can pass: Oracle returns nothing
        others.append(exp.EQ(this=exp.Literal.number(1), expression=exp.Literal.number(0)))
        keep = None
    aggregated = any(isinstance(n, (exp.AggFunc, exp.Window)) for value in select.expressions
                     for n in _scope_nodes(value))
    simple = not (projected or aggregated or select.args.get("group") or select.args.get("having")
                  or select.args.get("order") or select.args.get("distinct")
                  or isinstance(select.parent, exp.SetOperation))  # SQLite: no LIMIT on a UNION member
    if simple:
        condition = _and(others)
        select.set("where", exp.Where(this=condition) if condition is not None else None)
        if keep is not None:
            select.set("limit", exp.Limit(expression=exp.Literal.number(keep)))
        return

    visible = set(env.sources)
    for cond in others:  # a derived table cannot see an enclosing query's columns
        for column in cond.find_all(exp.Column):
            if column.table and column.table not in visible and env.source(column.table) is not None:
                raise unsupported("ROWNUM in a correlated subquery with ORDER BY, GROUP BY or "
                                  "DISTINCT is not supported.")
    derived = translator.fresh("rn")
    mapping: dict[tuple[str, str], str] = {}
    holder = exp.Tuple(expressions=[])  # so that a part which is itself a column can be replaced
    for part in ("expressions", "group", "having", "order", "qualify", "distinct"):
        value = select.args.get(part)
        if value is None:
            continue
        holder.set("expressions", _as_list(value) if isinstance(value, list) else [value])
        _remap(holder, visible, mapping, derived)
        remapped = list(holder.expressions)
        select.set(part, remapped if isinstance(value, list) else remapped[0])

    inner = exp.Select()
    inner.set("from_", select.args["from_"])
    inner.set("joins", select.args.get("joins"))
    condition = _and(others)
    if condition is not None:
        inner.set("where", exp.Where(this=condition))
    columns = [exp.alias_(exp.column(name, table=table), alias) for (table, name), alias in mapping.items()]
    if projected:
        columns.append(exp.alias_(exp.Window(this=exp.RowNumber()), "__rownum"))
    inner.set("expressions", columns or [exp.alias_(exp.Literal.number(1), "__one")])
    if keep is not None:
        inner.set("limit", exp.Limit(expression=exp.Literal.number(keep)))

    select.set("from_", exp.From(this=exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier(derived)))))
    select.set("joins", None)
    select.set("where", None)
    select.transform(lambda n: exp.column("__rownum", table=derived) if _is_marker(n) else n, copy=False)


def _as_list(value: object) -> list[exp.Expression]:
    if value is None:
        return []
    if isinstance(value, list):
        return [v for v in value if isinstance(v, exp.Expression)]
    return [value] if isinstance(value, exp.Expression) else []
