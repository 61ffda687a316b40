"""SuiteQL (Oracle) AST -> SQLite AST, with the static kind of every expression.

The tree has been parsed, checked and qualified (every column carries its table alias) by
`validate` and sqlglot's `qualify`. The translator walks it once, bottom-up per node, replacing
Oracle constructs with SQLite ones and inferring each expression's `Kind`, which decides how the
engine formats output columns (ids as text, dates in the user's preference, ...) and how dates are
compared (the store keeps DATE as 'YYYY-MM-DD' and DATETIME as 'YYYY-MM-DD HH:MM:SS'; comparisons
bring the other operand to the column's form, so indexes stay usable and Oracle's semantics hold).
"""
from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date

from sqlglot import exp

from . import datefmt, dateprefs, rownum, templates
from .catalog import ANY, NULL, NUMBER, TEXT, Catalog, Kind, merge
from .compare import Comparisons
from .oracle import OracleFunctions
from .problems import unsupported
from .templates import call, is_string

NOW = "ns_now"  # the bound parameter carrying the account-local now (SYSDATE, CURRENT_DATE)

_INTERVAL_DAYS = {"DAY": 1.0, "HOUR": 1 / 24, "MINUTE": 1 / 1440, "SECOND": 1 / 86400}
_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.NullSafeEQ, exp.NullSafeNEQ)
_PREDICATES = (exp.And, exp.Or, exp.Not, exp.Is, exp.ILike, exp.Exists, exp.Boolean)
_NOW_NODES = (exp.CurrentTimestamp, exp.CurrentDate, exp.CurrentDatetime, exp.CurrentTime,
              exp.Systimestamp, exp.Localtimestamp)
_TEXT_FUNCS = (exp.Upper, exp.Lower, exp.Trim, exp.Replace, exp.Substring, exp.Initcap)


class Env:
    """Name resolution for one SELECT: its sources, its output aliases, its parent (correlation)."""

    def __init__(self, parent: "Env | None", select: exp.Select | None = None) -> None:
        self.parent = parent
        self.select = select
        self.sources: dict[str, tuple[str, object]] = {}  # alias -> ("base", table) | ("derived", {name: Kind})
        self.aliases: dict[str, Kind] = {}
        self.nullable: set[str] = set()  # sources on the optional side of an outer join
        self.rownum = False

    def source(self, alias: str) -> tuple[str, object] | None:
        env: Env | None = self
        while env is not None:
            if alias in env.sources:
                return env.sources[alias]
            env = env.parent
        return None


class Translator(Comparisons, OracleFunctions):
    def __init__(self, catalog: Catalog, *, date_format: str, today: Callable[[], date]) -> None:
        self.catalog = catalog
        self.date_format = date_format
        self.today = today
        self.uses_now = False
        self._counter = itertools.count(1)
        self._exact: dict[type, Callable[[exp.Expression, Env], tuple[exp.Expression, Kind]]] = {
            exp.Column: self._column, exp.Literal: self._literal, exp.Null: lambda n, e: (n, NULL),
            exp.Paren: self._paren, exp.Alias: self._paren, exp.Subquery: self._subquery,
            exp.Select: self._subquery, exp.Between: self._between, exp.In: self._in,
            exp.Add: self._add_sub, exp.Sub: self._add_sub, exp.DPipe: self._dpipe,
            exp.Coalesce: self._coalesce, exp.Nvl2: self._nvl2, exp.Case: self._case,
            exp.If: self._if, exp.DecodeCase: self._decode, exp.Cast: self._cast,
            exp.Count: self._count, exp.Sum: self._sum, exp.Avg: self._number_func,
            exp.Min: self._min_max, exp.Max: self._min_max, exp.GroupConcat: self._group_concat,
            exp.Window: self._window, exp.Extract: self._extract, exp.Anonymous: self._anonymous,
            exp.ToNumber: self._to_number, exp.Length: self._number_func,
            exp.RegexpLike: self._regexp_like, exp.RegexpSubstr: self._regexp_substr,
            exp.RegexpReplace: self._regexp_replace, exp.Ordered: self._ordered,
            exp.Dot: self._dot, exp.Like: self._like, exp.Escape: self._like,
        }

    def fresh(self, prefix: str) -> str:
        return f"__{prefix}{next(self._counter)}"

    # --- queries -------------------------------------------------------------------------------

    def query(self, node: exp.Expression, env: Env | None) -> list[tuple[str, Kind]]:
        if isinstance(node, exp.Subquery):
            return self.query(node.this, env)
        if isinstance(node, exp.SetOperation):
            left = self.query(node.left, env)
            right = self.query(node.right, env)
            if len(left) != len(right):
                raise unsupported("Each query of a UNION/INTERSECT/MINUS must select the same number of columns.")
            return [(name, merge([lk, rk])) for (name, lk), (_, rk) in zip(left, right)]
        if isinstance(node, exp.Select):
            return self.select(node, env)
        raise unsupported(f"Unsupported query element: {node.sql()[:80]}")

    def select(self, node: exp.Select, parent: Env | None) -> list[tuple[str, Kind]]:
        env = Env(parent, node)
        from_ = node.args.get("from_")
        if from_ is None:
            raise unsupported("A FROM clause is required.")
        joins = node.args.get("joins") or []
        for source in [from_.this] + [join.this for join in joins]:
            alias = source.alias_or_name
            if isinstance(source, exp.Table):
                env.sources[alias] = ("base", source.name)
            elif isinstance(source, exp.Subquery):
                env.sources[alias] = ("derived", dict(self.query(source.this, parent)))
            else:
                raise unsupported(f"Unsupported FROM item: {source.sql()[:80]}")
        seen = [from_.this.alias_or_name]
        for join in joins:
            side = (join.side or "").upper()
            if side in ("LEFT", "FULL"):
                env.nullable.add(join.this.alias_or_name)
            if side in ("RIGHT", "FULL"):
                env.nullable.update(seen)
            seen.append(join.this.alias_or_name)
        for join in joins:
            if join.args.get("on") is not None:
                join.set("on", self.expr(join.args["on"], env)[0])
        outputs: list[tuple[str, Kind]] = []
        projections = []
        for projection in node.expressions:
            if isinstance(projection, exp.Alias):
                inner, kind = self.expr(projection.this, env)
                projection.set("this", inner)
                projections.append(projection)
            else:
                inner, kind = self.expr(projection, env)
                projections.append(inner)
            outputs.append((projection.alias_or_name, kind))
        node.set("expressions", projections)
        env.aliases = dict(outputs)
        for key in ("where", "group", "having", "order", "qualify"):
            part = node.args.get(key)
            if part is not None:
                node.set(key, self.expr(part, env)[0])
        if env.rownum:
            rownum.rewrite(node, env, self)
        return outputs

    # --- expressions -----------------------------------------------------------------------------

    def expr(self, node: exp.Expression, env: Env) -> tuple[exp.Expression, Kind]:
        handler = self._exact.get(type(node))
        if handler is not None:
            return handler(node, env)
        if isinstance(node, _COMPARISONS):
            return self._comparison(node, env)
        if isinstance(node, _NOW_NODES):
            self.uses_now = True
            return exp.Placeholder(this=NOW), Kind("datetime")
        if isinstance(node, (exp.Mul, exp.Div, exp.Mod, exp.Neg)):
            return self._arithmetic(node, env)
        if isinstance(node, _PREDICATES):
            return self._generic(node, env)[0], NUMBER
        if isinstance(node, _TEXT_FUNCS):
            node, _ = self._generic(node, env)
            if isinstance(node, exp.Initcap):
                return call("ns_initcap", node.this), TEXT
            if isinstance(node, exp.Substring):
                start = node.args.get("start")
                if isinstance(start, exp.Literal) and not start.is_string and start.this == "0":
                    node.set("start", exp.Literal.number(1))  # Oracle treats position 0 as 1
            return node, TEXT
        return self._generic(node, env)

    def _generic(self, node: exp.Expression, env: Env) -> tuple[exp.Expression, Kind]:
        for key, value in list(node.args.items()):
            if isinstance(value, exp.Expression):
                new, _ = self.expr(value, env)
                if new is not value:
                    node.set(key, new)
            elif isinstance(value, list):
                node.set(key, [self.expr(v, env)[0] if isinstance(v, exp.Expression) else v for v in value])
        return node, ANY

    def _ordered(self, node: exp.Ordered, env: Env) -> tuple[exp.Expression, Kind]:
        """Oracle sorts NULLs last (ascending); SQLite first. The explicit NULLS LAST that keeps
        Oracle's order stops SQLite from using an index for a second sort key, so it is dropped
        where the column cannot be NULL (a NOT NULL column of a table not outer-joined)."""
        value, kind = self.expr(node.this, env)
        node.set("this", value)
        if isinstance(value, exp.Column) and kind.bare and kind.origin in self.catalog.notnull:
            source = env.source(value.table) if value.table else ("base", None)
            if source is not None and source[0] == "base" and value.table not in env.nullable:
                node.set("nulls_first", not node.args.get("desc"))  # SQLite's own NULL order
        return node, kind

    def _column(self, node: exp.Column, env: Env) -> tuple[exp.Expression, Kind]:
        if isinstance(node.this, exp.Star):
            return node, ANY
        if not node.table:
            return node, env.aliases.get(node.name, ANY)  # an output alias (ORDER BY)
        source = env.source(node.table)
        if source is None:
            return node, ANY
        if source[0] == "base":
            return node, self.catalog.column(str(source[1]), node.name) or ANY
        return node, source[1].get(node.name, ANY)  # type: ignore[union-attr]

    def _literal(self, node: exp.Literal, env: Env) -> tuple[exp.Expression, Kind]:
        return node, TEXT if node.is_string else NUMBER

    def _paren(self, node: exp.Expression, env: Env) -> tuple[exp.Expression, Kind]:
        inner, kind = self.expr(node.this, env)
        node.set("this", inner)
        return node, kind

    def _subquery(self, node: exp.Expression, env: Env) -> tuple[exp.Expression, Kind]:
        outputs = self.query(node.this if isinstance(node, exp.Subquery) else node, env)
        return node, (outputs[0][1] if len(outputs) == 1 else ANY)

    def _dot(self, node: exp.Dot, env: Env) -> tuple[exp.Expression, Kind]:
        raise unsupported(f"Unsupported expression: {node.sql()[:80]}")

    # --- arithmetic and strings -------------------------------------------------------------------

    def _arithmetic(self, node: exp.Expression, env: Env) -> tuple[exp.Expression, Kind]:
        kinds: list[Kind] = []
        for key in ("this", "expression"):
            value = node.args.get(key)
            if isinstance(value, exp.Expression):
                new, kind = self.expr(value, env)
                node.set(key, new)
                kinds.append(kind)
        if isinstance(node, exp.Mod):
            return call("MOD", node.this, node.expression), NUMBER  # SQLite's % truncates to integers
        return node, Kind("money" if any(k.type == "money" for k in kinds) else "number")

    def _add_sub(self, node: exp.Binary, env: Env) -> tuple[exp.Expression, Kind]:
        left, lk = self.expr(node.this, env)
        if isinstance(node.expression, exp.Interval):
            return self._interval(node, left, lk, env)
        right, rk = self.expr(node.expression, env)
        add = isinstance(node, exp.Add)
        if lk.dateish and not rk.dateish:
            days = right if add else exp.Neg(this=exp.Paren(this=right))
            return call("ns_date_add", left, days), Kind("dateany")
        if add and rk.dateish and not lk.dateish:
            return call("ns_date_add", right, left), Kind("dateany")
        if not add and lk.dateish and rk.dateish:
            return templates.fill("(JULIANDAY(__a__) - JULIANDAY(__b__))", __a__=left, __b__=right), NUMBER
        node.set("this", left)
        node.set("expression", right)
        return node, Kind("money" if "money" in (lk.type, rk.type) else "number")

    def _interval(self, node: exp.Binary, left: exp.Expression, lk: Kind, env: Env) -> tuple[exp.Expression, Kind]:
        interval = node.expression
        unit = str(interval.args.get("unit").name if interval.args.get("unit") else "DAY").upper()
        unit = unit[:-1] if unit.endswith("S") else unit
        amount, _ = self.expr(interval.this, env)
        if is_string(amount):
            amount = exp.Literal.number(amount.this)
        sign = 1 if isinstance(node, exp.Add) else -1
        if not lk.dateish:
            raise unsupported("INTERVAL arithmetic needs a date.")
        if unit in ("MONTH", "YEAR"):
            factor = sign * (12 if unit == "YEAR" else 1)
            months = exp.Mul(this=exp.Paren(this=amount), expression=exp.Literal.number(factor))
            return call("ns_add_months", left, months), Kind("dateany")
        if unit not in _INTERVAL_DAYS:
            raise unsupported(f"INTERVAL unit {unit} is not supported.")
        days = exp.Mul(this=exp.Paren(this=amount), expression=exp.Literal.number(sign * _INTERVAL_DAYS[unit]))
        return call("ns_date_add", left, days), Kind("dateany")

    def concat(self, parts: list[exp.Expression]) -> exp.Expression:
        """Oracle's || : NULL counts as '' and an empty result is NULL."""
        def non_null(p: exp.Expression) -> bool:
            return isinstance(p, exp.Literal)

        items = [p if non_null(p) else exp.Coalesce(this=p, expressions=[exp.Literal.string("")]) for p in parts]
        result = items[0]
        for item in items[1:]:
            result = exp.DPipe(this=result, expression=item)
        if any(is_string(p) and p.this != "" for p in parts) or any(
                isinstance(p, exp.Literal) and not p.is_string for p in parts):
            return exp.Paren(this=result)
        return exp.Nullif(this=result, expression=exp.Literal.string(""))

    def _dpipe(self, node: exp.DPipe, env: Env) -> tuple[exp.Expression, Kind]:
        operands: list[exp.Expression] = []

        def flatten(n: exp.Expression) -> None:
            if isinstance(n, exp.DPipe):
                flatten(n.this)
                flatten(n.expression)
            else:
                operands.append(n)

        flatten(node)
        return self.concat([self.expr(o, env)[0] for o in operands]), TEXT

    # --- conditionals and casts -------------------------------------------------------------------

    def _coalesce(self, node: exp.Coalesce, env: Env) -> tuple[exp.Expression, Kind]:
        this, kind = self.expr(node.this, env)
        node.set("this", this)
        kinds = [kind]
        rest = []
        for e in node.expressions:
            new, k = self.expr(e, env)
            rest.append(new)
            kinds.append(k)
        node.set("expressions", rest)
        return node, merge(kinds)

    def _nvl2(self, node: exp.Nvl2, env: Env) -> tuple[exp.Expression, Kind]:
        kinds = []
        for key in ("this", "true", "false"):
            value = node.args.get(key)
            if value is not None:
                new, kind = self.expr(value, env)
                node.set(key, new)
                if key != "this":
                    kinds.append(kind)
        return node, merge(kinds)

    def _case(self, node: exp.Case, env: Env) -> tuple[exp.Expression, Kind]:
        kinds = []
        if node.args.get("this") is not None:
            node.set("this", self.expr(node.this, env)[0])
        ifs = []
        for branch in node.args.get("ifs") or []:
            branch.set("this", self.expr(branch.this, env)[0])
            value, kind = self.expr(branch.args["true"], env)
            branch.set("true", value)
            kinds.append(kind)
            ifs.append(branch)
        node.set("ifs", ifs)
        if node.args.get("default") is not None:
            value, kind = self.expr(node.args["default"], env)
            node.set("default", value)
            kinds.append(kind)
        return node, merge(kinds)

    def _if(self, node: exp.If, env: Env) -> tuple[exp.Expression, Kind]:
        node.set("this", self.expr(node.this, env)[0])
        kinds = []
        for key in ("true", "false"):
            if node.args.get(key) is not None:
                value, kind = self.expr(node.args[key], env)
                node.set(key, value)
                kinds.append(kind)
        return node, merge(kinds)

    def _decode(self, node: exp.DecodeCase, env: Env) -> tuple[exp.Expression, Kind]:
        translated = [self.expr(e, env) for e in node.expressions]
        node.set("expressions", [n for n, _ in translated])
        results = [k for i, (_, k) in enumerate(translated) if i >= 2 and i % 2 == 0]
        if len(translated) % 2 == 0:
            results.append(translated[-1][1])
        return node, merge(results)

    def _cast(self, node: exp.Cast, env: Env) -> tuple[exp.Expression, Kind]:
        value, kind = self.expr(node.this, env)
        to = node.args["to"]
        if to.is_type(*exp.DataType.TEMPORAL_TYPES):
            timestamp = not to.is_type(exp.DataType.Type.DATE)
            if is_string(value):
                iso = dateprefs.parse_date_literal(value.this, self.date_format, self.today())
                if iso is None:
                    raise unsupported(f"'{value.this}' is not a valid date.")
                return exp.Literal.string(iso if timestamp else datefmt.iso_short(iso)), Kind("dateany")
            if kind.dateish:
                return value, kind.computed()
            return call("ns_to_timestamp" if timestamp else "ns_to_date", value), Kind("dateany")
        node.set("this", value)
        if to.is_type(*exp.DataType.TEXT_TYPES):
            return node, TEXT
        if to.is_type(*exp.DataType.NUMERIC_TYPES):
            node.set("to", exp.DataType.build("NUMERIC"))
            return node, NUMBER
        return node, ANY

    def _to_number(self, node: exp.ToNumber, env: Env) -> tuple[exp.Expression, Kind]:
        value, _ = self.expr(node.this, env)
        return exp.Cast(this=value, to=exp.DataType.build("NUMERIC")), NUMBER

    # --- aggregates and windows --------------------------------------------------------------------

    def _count(self, node: exp.Expression, env: Env) -> tuple[exp.Expression, Kind]:
        return self._generic(node, env)[0], NUMBER

    def _number_func(self, node: exp.Expression, env: Env) -> tuple[exp.Expression, Kind]:
        return self._generic(node, env)[0], NUMBER

    def _sum(self, node: exp.Expression, env: Env) -> tuple[exp.Expression, Kind]:
        value, kind = self.expr(node.this, env)
        node.set("this", value)
        return node, Kind("money" if kind.type == "money" else "number")

    def _min_max(self, node: exp.Expression, env: Env) -> tuple[exp.Expression, Kind]:
        value, kind = self.expr(node.this, env)
        node.set("this", value)
        if node.expressions:  # MAX(a, b) as a scalar
            node.set("expressions", [self.expr(e, env)[0] for e in node.expressions])
        return node, Kind(kind.type, kind.bare)

    def _group_concat(self, node: exp.GroupConcat, env: Env) -> tuple[exp.Expression, Kind]:
        value = node.this
        if isinstance(value, exp.Order):  # LISTAGG ... WITHIN GROUP (ORDER BY): SQLite 3.40 cannot order it
            value = value.this
        node.set("this", self.expr(value, env)[0])
        if node.args.get("separator") is not None:
            node.set("separator", self.expr(node.args["separator"], env)[0])
        return node, TEXT

    def _window(self, node: exp.Window, env: Env) -> tuple[exp.Expression, Kind]:
        value, kind = self.expr(node.this, env)
        node.set("this", value)
        for key in ("partition_by", "order", "spec"):
            part = node.args.get(key)
            if isinstance(part, list):
                node.set(key, [self.expr(p, env)[0] for p in part])
            elif isinstance(part, exp.Expression):
                node.set(key, self.expr(part, env)[0])
        return node, kind.computed() if kind.type not in ("id",) else kind
