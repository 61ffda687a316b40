"""One SuiteQL text -> the SQLite statements that page and count it, and how to format rows.

Pages are read through Forms: the formatted columns (for Python formatting) and, when no column
needs a Python converter, the items as JSON text written by SQLite (formatting.json_item_sql).
A query ordered by plain ascending columns also gets the statement reading the page after a
known boundary row (the engine's seek). The count leaves out the joins that cannot change it.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlglot import exp
from sqlglot.errors import OptimizeError
from sqlglot.optimizer.qualify import qualify
from sqlglot.schema import MappingSchema

from . import validate
from .catalog import Catalog, Kind
from .dialect import SuiteQL
from .formatting import Converter, converter, json_item_sql, output_sql
from .problems import unsupported
from .translate import Translator

QUERY_ALIAS = "q"
SEEK_PARAM = "ns_k"


@dataclass(frozen=True)
class Form:
    """One way to read a page. `page_sql` takes :ns_limit and :ns_offset. A seekable query (ordered
    by plain ascending columns) also has `after_sql`, the same rows after a known boundary
    (`(key) > (:ns_k0, ...)`, :ns_limit, no offset), and both return the sort key as `width`
    trailing hidden columns."""

    page_sql: str
    after_sql: str | None = None
    width: int = 0


@dataclass(frozen=True)
class Compiled:
    page_sql: str  # named parameters :ns_limit, :ns_offset (and :ns_now when uses_now)
    count_sql: str
    keys: tuple[str, ...]
    kinds: tuple[Kind, ...]
    converters: tuple[Converter | None, ...]
    uses_now: bool
    rows: Form  # the formatted columns, for build_items
    json: Form | None = None  # one column, each item's JSON text (formatting.json_item_sql)


def _leftmost(node: exp.Expression) -> exp.Select:
    while not isinstance(node, exp.Select):
        node = node.this
    return node


def _output_keys(names: list[str]) -> list[str]:
    """Lower-case keys; a repeated name gets a suffix (id, id_2) so no column is lost."""
    keys: list[str] = []
    seen: dict[str, int] = {}
    for name in names:
        key = name.lower()
        if key in seen:
            seen[key] += 1
            key = f"{key}_{seen[key]}"
        seen.setdefault(key, 1)
        keys.append(key)
    return keys


def _rename_alias_refs(node: exp.Expression | None, mapping: dict[str, str]) -> None:
    """Unqualified columns naming an output alias (ORDER BY lastmodifieddate) follow the rename."""
    if node is None:
        return
    for child in list(node.iter_expressions()):
        if isinstance(child, (exp.Select, exp.Subquery, exp.SetOperation)):
            continue
        if isinstance(child, exp.Column) and not child.table and child.name in mapping:
            child.replace(exp.column(mapping[child.name]))
            continue
        _rename_alias_refs(child, mapping)


def _seek_columns_blocked(tree: exp.Select) -> bool:
    """Whether the block does more than filter and project its FROM rows (grouping, DISTINCT,
    LIMIT, aggregates, windows): then an added condition, or a dropped join, changes its rows."""
    if not tree.args.get("from_"):
        return True
    if any(tree.args.get(key) for key in ("group", "having", "distinct", "limit", "offset", "qualify", "with")):
        return True
    return any(node.find(exp.AggFunc, exp.Window) for node in tree.expressions)


def _seek_columns(tree: exp.Expression) -> list[exp.Column] | None:
    """The ORDER BY columns when a predicate on them can stand in for OFFSET, else None.

    The top block must be a plain SELECT (no GROUP BY, DISTINCT, LIMIT, aggregate or window that a
    WHERE condition would change), ordered by qualified columns, ascending in SQLite's own NULL
    order (NULLs first: rows with a NULL key come before any boundary row, never after it).
    """
    if not isinstance(tree, exp.Select) or _seek_columns_blocked(tree):
        return None
    order = tree.args.get("order")
    if order is None or not order.expressions:
        return None
    columns = []
    for ordered in order.expressions:
        if not isinstance(ordered, exp.Ordered) or ordered.args.get("desc") or not ordered.args.get("nulls_first"):
            return None
        column = ordered.this
        if not isinstance(column, exp.Column) or not column.table or isinstance(column.this, exp.Star):
            return None
        columns.append(column)
    return columns


def _droppable_joins(tree: exp.Expression, catalog: Catalog) -> list[exp.Join]:
    """LEFT JOINs a COUNT(*) of `tree` can do without: on the rowid of a base table (at most one
    match, so every left row stays exactly once), the joined table used nowhere else but in plain
    column outputs, in a plain SELECT (no DISTINCT, GROUP BY, aggregate, window or LIMIT)."""
    if not isinstance(tree, exp.Select) or _seek_columns_blocked(tree):
        return []
    droppable = []
    for join in tree.args.get("joins") or []:
        table, on = join.this, join.args.get("on")
        if (join.args.get("side") or "").upper() != "LEFT" or join.args.get("kind") or join.args.get("using") \
                or not isinstance(table, exp.Table) or not isinstance(on, exp.EQ):
            continue
        alias, key = table.alias_or_name, catalog.rowid_keys.get(table.name)
        sides = [on.this, on.expression]
        mine = [side for side in sides if isinstance(side, exp.Column) and side.table == alias]
        if key is None or len(mine) != 1 or mine[0].name != key:
            continue
        other = sides[1] if mine[0] is sides[0] else sides[0]
        if any(column.table == alias for column in other.find_all(exp.Column)):
            continue
        if all(_plain_output_or_inside(column, join, tree) for column in tree.find_all(exp.Column)
               if column.table == alias):
            droppable.append(join)
    return droppable


def _plain_output_or_inside(column: exp.Column, join: exp.Join, tree: exp.Select) -> bool:
    if column.find_ancestor(exp.Join) is join:
        return True
    parent = column.parent
    if isinstance(parent, exp.Alias):
        parent = parent.parent
    return parent is tree and column.find_ancestor(exp.Select) is tree and column.arg_key != "order"


def _count_sql(tree: exp.Expression, catalog: Catalog) -> str:
    """`SELECT COUNT(*)` over `tree` without its ORDER BY and without the joins that cannot change
    how many rows it has (their plain column outputs become NULL: no output is computed anyway)."""
    counted = tree.copy()
    counted.set("order", None)
    for join in _droppable_joins(counted, catalog):
        alias = join.this.alias_or_name
        for projection in counted.expressions:
            value = projection.this if isinstance(projection, exp.Alias) else projection
            if isinstance(value, exp.Column) and value.table == alias:
                value.replace(exp.Null())
        join.pop()
    return f"SELECT COUNT(*) FROM ({counted.sql(dialect='sqlite', identify=True)})"


def _forms(tree: exp.Expression, inner_sql: str, columns: list[exp.Column] | None,
           listings: list[tuple[str, bool]]) -> list[Form]:
    """One Form per (select list, paged inside) in `listings`, all over the same query `tree`.

    A select list that calls functions keeps SQLite from flattening the query into it, and the
    query then runs as a co-routine that would sort every row before the outer LIMIT applies;
    such a list is put over an inner `SELECT * ... LIMIT` instead (same rows, same order).
    """
    def select(listing: str, inside: bool, hidden: str, source: str, paging: str) -> str:
        if inside:  # (SQLite 3.40 sorts every row of a co-routine for `LIMIT n` alone, not with OFFSET)
            source = f"SELECT * FROM ({source}) AS {QUERY_ALIAS} {paging}{'' if 'OFFSET' in paging else ' OFFSET 0'}"
            paging = ""
        return f"SELECT {listing}{hidden} FROM ({source}) AS {QUERY_ALIAS}{' ' + paging if paging else ''}"

    if not columns:
        return [Form(select(listing, inside, "", inner_sql, "LIMIT :ns_limit OFFSET :ns_offset"))
                for listing, inside in listings]
    keyed = tree.copy()
    keyed.set("expressions", [*keyed.expressions,
                              *(exp.alias_(column.copy(), f"k{i}") for i, column in enumerate(columns))])
    keyed_sql = keyed.sql(dialect="sqlite", identify=True)
    params = [exp.Placeholder(this=f"{SEEK_PARAM}{i}") for i in range(len(columns))]
    if len(columns) == 1:
        after = exp.GT(this=columns[0].copy(), expression=params[0])
    else:
        after = exp.GT(this=exp.Tuple(expressions=[c.copy() for c in columns]),
                       expression=exp.Tuple(expressions=params))
    keyed.where(after, copy=False)
    after_sql = keyed.sql(dialect="sqlite", identify=True)
    hidden = "".join(f", {QUERY_ALIAS}.k{i}" for i in range(len(columns)))
    return [Form(select(listing, inside, hidden, keyed_sql, "LIMIT :ns_limit OFFSET :ns_offset"),
                 select(listing, inside, hidden, after_sql, "LIMIT :ns_limit"), len(columns))
            for listing, inside in listings]


class Compiler:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.schema = MappingSchema(catalog.sqlglot_schema(), dialect=SuiteQL)

    def compile(self, q: str, *, date_format: str, numbers_as_strings: bool,
                today: Callable[[], date]) -> Compiled:
        tree = validate.parse(q)
        tree = validate.normalise(tree)
        validate.check_tables(tree, self.catalog)
        validate.check_columns(tree, self.catalog)
        try:
            tree = qualify(tree, schema=self.schema, dialect=SuiteQL, validate_qualify_columns=True,
                           quote_identifiers=False, identify=False)
        except OptimizeError as exc:
            raise unsupported(str(exc)) from None
        translator = Translator(self.catalog, date_format=date_format, today=today)
        outputs = translator.query(tree, None)

        first = _leftmost(tree)
        keys = _output_keys([name for name, _ in outputs])
        mapping: dict[str, str] = {}
        projections = []
        for i, projection in enumerate(first.expressions):
            new = f"c{i}"
            if isinstance(projection, exp.Alias):
                mapping.setdefault(projection.alias, new)
                projection.set("alias", exp.to_identifier(new))
                projections.append(projection)
            else:
                mapping.setdefault(projection.alias_or_name, new)
                projections.append(exp.alias_(projection, new))
        first.set("expressions", projections)
        _rename_alias_refs(tree.args.get("order"), mapping)
        seek_columns = _seek_columns(tree)
        if tree is first:
            for key in ("group", "having"):
                _rename_alias_refs(first.args.get(key), mapping)

        inner_sql = tree.sql(dialect="sqlite", identify=True)
        count_sql = _count_sql(tree, self.catalog)
        kinds = [kind for _, kind in outputs]
        columns = ", ".join(
            f'{output_sql(f"{QUERY_ALIAS}.c{i}", kind, date_format)} AS c{i}' for i, kind in enumerate(kinds))
        page_sql = f"SELECT {columns} FROM ({inner_sql}) AS {QUERY_ALIAS} LIMIT :ns_limit OFFSET :ns_offset"
        converters = tuple(converter(kind, numbers_as_strings) for kind in kinds)
        listings = [(columns, False)]
        # SQLite's JSON functions (SuiteQL passes JSON_OBJECT etc. through) tag their results, and
        # json_object would embed those unquoted: such queries keep the Python formatting.
        json_listing = None if any(converters) or "json" in inner_sql.lower() else json_item_sql(
            keys, [output_sql(f"{QUERY_ALIAS}.c{i}", kind, date_format) for i, kind in enumerate(kinds)], kinds)
        if json_listing is not None:
            listings.append((json_listing, True))
        forms = _forms(tree, inner_sql, seek_columns, listings)
        return Compiled(page_sql, count_sql, tuple(keys), tuple(kinds), converters, translator.uses_now, forms[0],
                        forms[1] if json_listing is not None else None)
