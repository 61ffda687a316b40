"""Oracle functions SQLite lacks or spells differently: TO_CHAR, TO_DATE, TO_TIMESTAMP, TRUNC,
ADD_MONTHS, LAST_DAY, NEXT_DAY, MONTHS_BETWEEN, INSTR, LPAD/RPAD, INITCAP, MOD, GREATEST/LEAST,
CONCAT, ROUND, EXTRACT and the REGEXP_ family.

Literal arguments are evaluated at translation time (TO_DATE('2024-01-01','YYYY-MM-DD') becomes
the constant '2024-01-01'); TO_CHAR with a format SQLite's strftime can express runs as
strftime (and not at all when the column is already stored in that form); the rest calls the
ns_* Python functions of `functions.py`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from . import builtins, datefmt, dateprefs, templates
from .catalog import ANY, NUMBER, TEXT, Kind, merge
from .problems import unsupported
from .templates import call, is_string, literal_text
from .validate import ROWNUM

if TYPE_CHECKING:
    from .translate import Env

_EXTRACT = {"YEAR": "%Y", "MONTH": "%m", "DAY": "%d", "HOUR": "%H", "MINUTE": "%M", "SECOND": "%S"}
_STRFTIME = {"YYYY": "%Y", "MM": "%m", "DD": "%d", "HH24": "%H", "MI": "%M", "SS": "%S", "DDD": "%j"}
_TRUNC_DAY = {"DD", "DDD", "J"}
_TRUNC_MONTH = {"MM", "MON", "MONTH", "RM"}
_TRUNC_YEAR = {"YYYY", "YYY", "YY", "Y", "YEAR", "SYYYY", "SYEAR", "RRRR", "RR"}


class OracleFunctions:
    """Mixin of the Translator (uses self.expr, self.date_format, self.today, self._align ...)."""

    def _extract(self, node: exp.Extract, env: Env) -> tuple[exp.Expression, Kind]:
        unit = node.this.name.upper()
        if unit not in _EXTRACT:
            raise unsupported(f"EXTRACT({unit} FROM ...) is not supported.")
        value, _ = self.expr(node.expression, env)
        return exp.Cast(this=call("STRFTIME", exp.Literal.string(_EXTRACT[unit]), value),
                        to=exp.DataType.build("INTEGER")), NUMBER

    def _regexp_like(self, node: exp.RegexpLike, env: Env) -> tuple[exp.Expression, Kind]:
        node, _ = self._generic(node, env)
        args = [node.this, node.expression] + ([node.args["flag"]] if node.args.get("flag") else [])
        return call("ns_regexp_like", *args), NUMBER

    def _regexp_substr(self, node: exp.RegexpSubstr, env: Env) -> tuple[exp.Expression, Kind]:
        node, _ = self._generic(node, env)
        args = [node.this, node.expression]
        for key in ("position", "occurrence"):
            if node.args.get(key) is not None:
                args.append(node.args[key])
        return call("ns_regexp_substr", *args), TEXT

    def _regexp_replace(self, node: exp.RegexpReplace, env: Env) -> tuple[exp.Expression, Kind]:
        node, _ = self._generic(node, env)
        args = [node.this, node.expression]
        if node.args.get("replacement") is not None:
            args.append(node.args["replacement"])
        return call("ns_regexp_replace", *args), TEXT

    def _anonymous(self, node: exp.Anonymous, env: Env) -> tuple[exp.Expression, Kind]:
        name = str(node.this).upper()
        if name == ROWNUM:
            env.rownum = True
            return node, NUMBER
        if name == "BUILTIN.DF":
            return builtins.df(self, node.expressions[0], env)
        if name == "BUILTIN.CF":
            return builtins.cf(self, node.expressions[0], env)
        handler = getattr(self, "_fn_" + name.lower(), None)
        if handler is None:
            raise unsupported(f"Unknown or unsupported function '{name}'.")
        args = [self.expr(a, env) for a in node.expressions]
        return handler(args)

    def _arity(self, name: str, args: list, low: int, high: int) -> None:
        if not low <= len(args) <= high:
            raise unsupported(f"Wrong number of arguments for {name}.")

    def _fn_to_char(self, args: list[tuple[exp.Expression, Kind]]) -> tuple[exp.Expression, Kind]:
        self._arity("TO_CHAR", args, 1, 3)
        value, kind = args[0]
        fmt = args[1][0] if len(args) > 1 else None
        fmt_text = literal_text(fmt)
        if kind.dateish:
            if fmt is None:
                return templates.fill(templates.user_date(self.date_format), __x__=value), TEXT
            if fmt_text is not None:
                try:
                    tokens = datefmt.tokenize(fmt_text)
                except datefmt.FormatError as exc:
                    raise unsupported(f"TO_CHAR: {exc}.") from None
                strf = _strftime(tokens)
                if strf == "%Y-%m-%d %H:%M:%S" and kind.type == "datetime":
                    return value, TEXT  # already stored in that form
                if strf == "%Y-%m-%d" and kind.type == "date":
                    return value, TEXT
                if strf is not None:
                    return call("STRFTIME", exp.Literal.string(strf), value), TEXT
            return call("ns_to_char_date", value, fmt), TEXT
        if kind.type in ("text", "bool"):
            return value, TEXT
        if kind.type == "id" and fmt is None:
            return exp.Cast(this=value, to=exp.DataType.build("TEXT")), TEXT
        if kind.type in ("money", "number", "id"):
            return (call("ns_to_char_number", value, fmt) if fmt is not None else call("ns_to_char", value)), TEXT
        return call("ns_to_char", value, *([fmt] if fmt is not None else [])), TEXT

    def _to_date(self, name: str, args: list[tuple[exp.Expression, Kind]],
                 timestamp: bool) -> tuple[exp.Expression, Kind]:
        self._arity(name, args, 1, 3)
        value, kind = args[0]
        fmt = args[1][0] if len(args) > 1 else None
        if is_string(value) and (fmt is None or is_string(fmt)):
            try:
                iso = dateprefs.to_date(value.this, literal_text(fmt), self.today(), timestamp=timestamp,
                                      user_format=self.date_format)
            except datefmt.FormatError as exc:
                raise unsupported(f"{name}('{value.this}'"
                                  + (f", '{fmt.this}'" if fmt is not None else "") + f"): {exc}.") from None
            return exp.Literal.string(iso), Kind("date" if len(iso) == 10 else "datetime")
        if kind.dateish:
            return value, kind.computed()
        fn = "ns_to_timestamp" if timestamp else "ns_to_date"
        return call(fn, value, *([fmt] if fmt is not None else [])), Kind("dateany")

    def _fn_to_date(self, args):
        return self._to_date("TO_DATE", args, timestamp=False)

    def _fn_to_timestamp(self, args):
        return self._to_date("TO_TIMESTAMP", args, timestamp=True)

    def _fn_trunc(self, args: list[tuple[exp.Expression, Kind]]) -> tuple[exp.Expression, Kind]:
        self._arity("TRUNC", args, 1, 2)
        value, kind = args[0]
        fmt = args[1][0] if len(args) > 1 else None
        if kind.dateish:
            unit = (literal_text(fmt) or "DD").upper() if fmt is None or is_string(fmt) else None
            if unit in _TRUNC_DAY:
                if kind.type == "date":
                    return value, Kind("date")
                return call("SUBSTR", value, exp.Literal.number(1), exp.Literal.number(10)), Kind("date")
            if unit in _TRUNC_MONTH:
                return templates.fill("SUBSTR(__x__, 1, 7) || '-01'", __x__=value), Kind("date")
            if unit in _TRUNC_YEAR:
                return templates.fill("SUBSTR(__x__, 1, 4) || '-01-01'", __x__=value), Kind("date")
            return call("ns_trunc_date", value, fmt), Kind("dateany")
        if kind.type in ("money", "number", "id"):
            if fmt is None:
                return exp.Cast(this=value, to=exp.DataType.build("INTEGER")), NUMBER
            return call("ns_trunc_number", value, fmt), NUMBER
        return call("ns_trunc", value, *([fmt] if fmt is not None else [])), ANY

    def _fn_round(self, args):
        self._arity("ROUND", args, 1, 2)
        value, kind = args[0]
        if kind.dateish:
            raise unsupported("ROUND of a date is not supported; use TRUNC.")
        return call("ROUND", *[a for a, _ in args]), Kind("money" if kind.type == "money" else "number")

    def _fn_add_months(self, args):
        self._arity("ADD_MONTHS", args, 2, 2)
        return call("ns_add_months", args[0][0], args[1][0]), Kind("dateany")

    def _fn_last_day(self, args):
        self._arity("LAST_DAY", args, 1, 1)
        return call("ns_last_day", args[0][0]), Kind("dateany")

    def _fn_next_day(self, args):
        self._arity("NEXT_DAY", args, 2, 2)
        return call("ns_next_day", args[0][0], args[1][0]), Kind("dateany")

    def _fn_months_between(self, args):
        self._arity("MONTHS_BETWEEN", args, 2, 2)
        return call("ns_months_between", args[0][0], args[1][0]), NUMBER

    def _fn_instr(self, args):
        self._arity("INSTR", args, 2, 4)
        nodes = [a for a, _ in args]
        return (call("INSTR", *nodes) if len(nodes) == 2 else call("ns_instr", *nodes)), NUMBER

    def _fn_lpad(self, args):
        self._arity("LPAD", args, 2, 3)
        return call("ns_lpad", *[a for a, _ in args]), TEXT

    def _fn_rpad(self, args):
        self._arity("RPAD", args, 2, 3)
        return call("ns_rpad", *[a for a, _ in args]), TEXT

    def _fn_initcap(self, args):
        self._arity("INITCAP", args, 1, 1)
        return call("ns_initcap", args[0][0]), TEXT

    def _fn_mod(self, args):
        self._arity("MOD", args, 2, 2)
        return call("MOD", args[0][0], args[1][0]), NUMBER

    def _fn_greatest(self, args):
        return self._extreme("MAX", "GREATEST", args)

    def _fn_least(self, args):
        return self._extreme("MIN", "LEAST", args)

    def _extreme(self, sqlite_name: str, name: str, args):
        if len(args) < 1:
            raise unsupported(f"Wrong number of arguments for {name}.")
        if len(args) == 1:
            return args[0][0], args[0][1].computed()
        nodes = self._align(args)
        return call(sqlite_name, *nodes), merge([k for _, k in args])

    def _fn_concat(self, args):
        return self.concat([a for a, _ in args]), TEXT

    def _fn_nvl(self, args):
        self._arity("NVL", args, 2, 2)
        return exp.Coalesce(this=args[0][0], expressions=[args[1][0]]), merge([k for _, k in args])



def _strftime(tokens: tuple[tuple[str, str], ...]) -> str | None:
    parts = []
    for kind, text in tokens:
        if kind == "lit":
            parts.append(text.replace("%", "%%"))
            continue
        code = _STRFTIME.get(text.upper())
        if code is None:
            return None
        parts.append(code)
    return "".join(parts)
