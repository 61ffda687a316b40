"""Parse SuiteQL and refuse what NetSuite refuses, before any translation.

Steps: parse (Oracle syntax) -> refuse non-SELECT and unsupported clauses -> normalise
(lower-case identifiers, BUILTIN.* calls, ROWNUM marker, names for unnamed expressions, (+) joins)
-> check tables -> check columns (NetSuite's "Field 'x' for record 'y' was not found").
"""
from __future__ import annotations

import sqlglot
from sqlglot import exp, transforms
from sqlglot.errors import OptimizeError, ParseError, TokenError
from sqlglot.optimizer.scope import Scope, traverse_scope

from .catalog import Catalog
from .dialect import SuiteQL
from .problems import field_not_found, record_not_found, search_error, unsupported

ROWNUM = "NS_ROWNUM"  # the marker ROWNUM becomes until the translator rewrites it
BUILTINS = ("DF", "CF")

_PAGING_HINT = "Page with the limit and offset query parameters, or use ROWNUM in a subquery."
_REFUSED: list[tuple[type[exp.Expression], str]] = [
    (exp.With, "WITH (common table expressions) is not supported in SuiteQL."),
    (exp.CTE, "WITH (common table expressions) is not supported in SuiteQL."),
    (exp.Limit, f"LIMIT is not supported in SuiteQL. {_PAGING_HINT}"),
    (exp.Fetch, f"FETCH FIRST is not supported in SuiteQL. {_PAGING_HINT}"),
    (exp.Offset, f"OFFSET is not supported in SuiteQL. {_PAGING_HINT}"),
    (exp.Lock, "FOR UPDATE is not supported in SuiteQL."),
    (exp.Connect, "Hierarchical queries (CONNECT BY) are not supported in SuiteQL."),
    (exp.Prior, "Hierarchical queries (CONNECT BY) are not supported in SuiteQL."),
    (exp.Into, "SELECT INTO is not supported in SuiteQL."),
    (exp.Placeholder, "Bind variables are not supported in SuiteQL; write the values into the query."),
    (exp.Parameter, "Bind variables are not supported in SuiteQL; write the values into the query."),
    (exp.Pivot, "PIVOT is not supported in SuiteQL."),
    (exp.Lateral, "LATERAL is not supported in SuiteQL."),
    (exp.Values, "VALUES is not supported in SuiteQL."),
    (exp.TableSample, "SAMPLE is not supported in SuiteQL."),
]
_STATEMENTS = (exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Create, exp.Drop, exp.Command,
               exp.Alter, exp.TruncateTable, exp.Grant, exp.Transaction, exp.Commit, exp.Rollback,
               exp.Set, exp.Use, exp.Describe, exp.Pragma, exp.Copy, exp.Kill)


def _statement_name(tree: exp.Expression) -> str:
    if isinstance(tree, exp.Command):
        return str(tree.this).upper()
    return {"TruncateTable": "TRUNCATE"}.get(type(tree).__name__, type(tree).__name__.upper())


def parse(q: str) -> exp.Expression:
    if not isinstance(q, str) or not q.strip():
        raise unsupported("The query is empty.")
    try:
        statements = [s for s in sqlglot.parse(q, read=SuiteQL) if s is not None]
    except ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        near = first.get("highlight") or ""
        where = f" (line {first.get('line')}, column {first.get('col')})" if first.get("line") else ""
        raise unsupported(f"Syntax error near '{near}'{where}.") from None
    except TokenError as exc:
        raise unsupported(f"Syntax error: {exc}.") from None
    if len(statements) != 1:
        raise unsupported("Only one statement per query is allowed.")
    tree = statements[0]
    while isinstance(tree, (exp.Subquery, exp.Paren)) and not tree.alias:
        tree = tree.this
    if isinstance(tree, _STATEMENTS) or not isinstance(tree, (exp.Select, exp.SetOperation)):
        raise unsupported(f"Only SELECT queries are allowed (found {_statement_name(tree)}).")
    for node in tree.walk():
        if isinstance(node, _STATEMENTS):
            raise unsupported(f"Only SELECT queries are allowed (found {_statement_name(node)}).")
        for cls, reason in _REFUSED:
            if isinstance(node, cls):
                raise unsupported(reason)
    return tree


def normalise(tree: exp.Expression) -> exp.Expression:
    for node in list(tree.walk()):
        if isinstance(node, exp.Identifier):
            node.set("this", node.this.lower())
            node.set("quoted", False)

    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Dot) and isinstance(node.this, (exp.Identifier, exp.Column)) \
                and node.this.name == "builtin":
            func = node.expression
            name = (func.this if isinstance(func, exp.Anonymous) else func.sql_name()).upper() \
                if isinstance(func, exp.Func) else str(func.name).upper()
            if name not in BUILTINS:
                raise unsupported(f"BUILTIN.{name} is not supported by the sandbox "
                                  "(BUILTIN.DF and BUILTIN.CF are).")
            args = list(func.expressions) if isinstance(func, exp.Anonymous) else \
                [a for a in func.args.values() if isinstance(a, exp.Expression)]
            if len(args) != 1:
                raise unsupported(f"BUILTIN.{name} takes one argument.")
            return exp.Anonymous(this=f"BUILTIN.{name}", expressions=args)
        if isinstance(node, exp.Column) and not node.table and node.name == "rownum":
            return exp.Anonymous(this=ROWNUM)
        return node

    tree = tree.transform(rewrite, copy=False)
    if any(col.args.get("join_mark") for col in tree.find_all(exp.Column)):
        try:
            tree = transforms.eliminate_join_marks(tree)
        except Exception as exc:  # sqlglot refuses some (+) shapes
            raise unsupported(f"This use of the (+) outer join operator is not supported: {exc}") from None
    for select in tree.find_all(exp.Select):
        counter = 0
        named = []
        for projection in select.expressions:
            if isinstance(projection, (exp.Alias, exp.Column, exp.Star)):
                named.append(projection)
            elif isinstance(projection, exp.Anonymous) and projection.this == ROWNUM:
                named.append(exp.alias_(projection, "rownum"))
            else:
                counter += 1
                named.append(exp.alias_(projection, f"expr{counter}"))
        select.set("expressions", named)
    return tree


def check_tables(tree: exp.Expression, catalog: Catalog) -> None:
    for table in tree.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            raise unsupported("Table functions are not supported in SuiteQL.")
        if table.args.get("db") or table.args.get("catalog"):
            raise record_not_found(".".join(p.name for p in table.parts))
        if not catalog.has(table.name):
            raise record_not_found(table.name)


def _outputs(query: exp.Expression) -> list[str]:
    try:
        return list(query.named_selects)
    except Exception:
        return ["*"]


def _has(source: object, name: str, catalog: Catalog) -> bool:
    if isinstance(source, exp.Table):
        return catalog.column(source.name, name) is not None
    if isinstance(source, Scope):
        outputs = _outputs(source.expression)
        return name in outputs or "*" in outputs
    return True


def _record_of(scope: Scope) -> str:
    for alias, source in scope.sources.items():
        if isinstance(source, exp.Table):
            return source.name
    return next(iter(scope.sources), "transaction")


def check_columns(tree: exp.Expression, catalog: Catalog) -> None:
    try:
        scopes = list(traverse_scope(tree))
    except OptimizeError as exc:
        raise unsupported(str(exc)) from None
    for scope in scopes:
        aliases = set(_outputs(scope.expression)) if isinstance(scope.expression, exp.Query) else set()
        for column in scope.columns:
            if column.find_ancestor(exp.Select, exp.SetOperation) is not scope.expression:
                continue  # a nested query's column: checked in its own scope
            if isinstance(column.this, exp.Star):
                if column.table and _find_source(scope, column.table) is None:
                    raise search_error(f"Unknown identifier '{column.table}'.")
                continue
            name = column.name
            if column.table:
                source = _find_source(scope, column.table)
                if source is None:
                    raise search_error(f"Unknown identifier '{column.table}.{name}'.")
                if not _has(source, name, catalog):
                    record = source.name if isinstance(source, exp.Table) else column.table
                    raise field_not_found(name, record)
                continue
            current: Scope | None = scope
            found = False
            while current is not None:
                owners = [a for a, s in current.sources.items() if _has(s, name, catalog)]
                if len(owners) > 1:
                    raise unsupported(f"Column '{name}' is ambiguously defined "
                                      f"(in {', '.join(sorted(owners))}).")
                if owners:
                    found = True
                    break
                if current is scope and name in aliases and isinstance(
                        column.find_ancestor(exp.Order, exp.Select), exp.Order):  # ORDER BY <alias>
                    found = True
                    break
                current = current.parent
            if not found:
                raise field_not_found(name, _record_of(scope))


def _find_source(scope: Scope, alias: str) -> object | None:
    current: Scope | None = scope
    while current is not None:
        if alias in current.sources:
            return current.sources[alias]
        current = current.parent
    return None
