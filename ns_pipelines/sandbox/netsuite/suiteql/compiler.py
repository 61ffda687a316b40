"""One SuiteQL text -> the SQLite statements that page and count it, and how to format rows."""
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
from .formatting import Converter, converter, output_sql
from .problems import unsupported
from .translate import Translator

QUERY_ALIAS = "q"


@dataclass(frozen=True)
class Compiled:
    page_sql: str  # named parameters :ns_limit, :ns_offset (and :ns_now when uses_now)
    count_sql: str
    keys: tuple[str, ...]
    kinds: tuple[Kind, ...]
    converters: tuple[Converter | None, ...]
    uses_now: bool


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
        if tree is first:
            for key in ("group", "having"):
                _rename_alias_refs(first.args.get(key), mapping)

        inner_sql = tree.sql(dialect="sqlite", identify=True)
        unordered = tree.copy()
        unordered.set("order", None)
        count_sql = f"SELECT COUNT(*) FROM ({unordered.sql(dialect='sqlite', identify=True)})"
        kinds = [kind for _, kind in outputs]
        columns = ", ".join(
            f'{output_sql(f"{QUERY_ALIAS}.c{i}", kind, date_format)} AS c{i}' for i, kind in enumerate(kinds))
        page_sql = f"SELECT {columns} FROM ({inner_sql}) AS {QUERY_ALIAS} LIMIT :ns_limit OFFSET :ns_offset"
        return Compiled(page_sql, count_sql, tuple(keys), tuple(kinds),
                        tuple(converter(kind, numbers_as_strings) for kind in kinds), translator.uses_now)
