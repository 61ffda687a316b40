"""The `q` parameter of a collection GET: NetSuite's record-search filter syntax, not SQL.

    lastModifiedDate AFTER "01/31/2024" AND lastModifiedDate BEFORE "03/01/2024"
    externalId IS "pay-1"      entity ANY_OF [4, 7]      id EQUAL 5      (a OR b) AND c

A small tokenizer and recursive-descent parser turn it into a parameterised SQL condition on
the record's table (alias `t` for transactions, `c` for customers). Field names are
case-insensitive; operators are the upper-case NetSuite names (case-insensitive too).

Dates are read in the account's date format (settings.date_format) or as ISO 'YYYY-MM-DD',
optionally followed by a time ('10:30', '10:30:15', '10:30 am'), in the account's time zone.
A date means the whole day: AFTER d is on or after the next day, BEFORE d is before d, ON d is
that day; with a time the span is that minute (or second). Anything else is 400
INVALID_PARAMETER, "Unparseable date: ..." for a date that does not read.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..errors import ApiError
from ..schema import STATUS_TEXT
from .catalog import Field, spec
from .types import RecordType

PREFIX = "Invalid search query. Detailed unprocessed description follows. Search error occurred: "

DATE_OPS = {"AFTER", "BEFORE", "ON", "ON_OR_AFTER", "ON_OR_BEFORE", "NOT_AFTER", "NOT_BEFORE", "NOT_ON",
            "NOT_ON_OR_AFTER", "NOT_ON_OR_BEFORE", "WITHIN", "NOT_WITHIN", "EMPTY", "EMPTY_NOT"}
NUMBER_OPS = {"EQUAL", "NOT_EQUAL", "GREATER", "GREATER_OR_EQUAL", "LESS", "LESS_OR_EQUAL", "BETWEEN",
              "NOT_BETWEEN", "ANY_OF", "NONE_OF", "EMPTY", "EMPTY_NOT", "IS", "IS_NOT"}
STRING_OPS = {"IS", "IS_NOT", "CONTAIN", "DOES_NOT_CONTAIN", "START_WITH", "DOES_NOT_START_WITH", "END_WITH",
              "DOES_NOT_END_WITH", "EMPTY", "EMPTY_NOT", "ANY_OF", "NONE_OF"}
BOOL_OPS = {"IS", "IS_NOT"}
NO_VALUE = {"EMPTY", "EMPTY_NOT"}
TWO_VALUES = {"WITHIN", "NOT_WITHIN", "BETWEEN", "NOT_BETWEEN"}
LIST_OPS = {"ANY_OF", "NONE_OF"}


def bad_query(message: str) -> ApiError:
    return ApiError(400, "INVALID_PARAMETER", PREFIX + message, extra={"o:errorQueryParam": "q"})


# ---- tokenizer ---------------------------------------------------------------------------------

@dataclass
class Token:
    kind: str  # word | string | number | punct | end
    text: str
    pos: int


_TOKEN = re.compile(r'\s*(?:(?P<string>"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\')|(?P<number>-?\d+(?:\.\d+)?(?![\w.]))|'
                    r"(?P<word>[A-Za-z_][\w.]*)|(?P<punct>[\[\](),]))")


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise bad_query(f"Invalid search syntax near position {pos}: {text[pos:pos + 20]!r}.")
        kind = m.lastgroup or "word"
        value = m.group(kind)
        if kind == "string":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        tokens.append(Token(kind, value, m.start(kind)))
        pos = m.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


# ---- dates -------------------------------------------------------------------------------------

_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                        "nov", "dec"), start=1)}
_TIME = r"(?:[ T]+(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2}))?\s*(?P<ampm>[AaPp][Mm])?)?"


def _format_regex(date_format: str) -> re.Pattern[str]:
    out = ""
    i = 0
    fmt = date_format
    while i < len(fmt):
        for token, group in (("YYYY", r"(?P<y>\d{4})"), ("Mon", r"(?P<mon>[A-Za-z]{3})"), ("MM", r"(?P<m>\d{1,2})"),
                             ("DD", r"(?P<d>\d{1,2})"), ("M", r"(?P<m>\d{1,2})"), ("D", r"(?P<d>\d{1,2})")):
            if fmt.startswith(token, i):
                out += group
                i += len(token)
                break
        else:
            out += re.escape(fmt[i])
            i += 1
    return re.compile(f"^{out}{_TIME}$")


_ISO = re.compile(r"^(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})" + _TIME + "$")


def parse_when(text: str, date_format: str) -> tuple[datetime, datetime]:
    """The span [start, end) a date (or date and time) names, account-local."""
    raw = text.strip()
    for pattern in (_format_regex(date_format), _ISO):
        m = pattern.match(raw)
        if m is None:
            continue
        parts = m.groupdict()
        try:
            month = _MONTHS[parts["mon"].lower()] if parts.get("mon") else int(parts["m"])
            start = datetime(int(parts["y"]), month, int(parts["d"]))
            if parts.get("h") is None:
                return start, start + timedelta(days=1)
            hour = int(parts["h"])
            if parts.get("ampm"):
                if not 1 <= hour <= 12:
                    raise ValueError("hour")
                hour = hour % 12 + (12 if parts["ampm"].lower() == "pm" else 0)
            second = int(parts["s"]) if parts.get("s") is not None else 0
            start = start.replace(hour=hour, minute=int(parts["mi"]), second=second)
            return start, start + (timedelta(seconds=1) if parts.get("s") is not None else timedelta(minutes=1))
        except (KeyError, ValueError):
            continue
    raise bad_query(f'Unparseable date: "{text}"')


def _stamp(moment: datetime) -> str:
    if moment.hour == moment.minute == moment.second == 0:
        return moment.strftime("%Y-%m-%d")
    return moment.strftime("%Y-%m-%d %H:%M:%S")


# ---- parser ------------------------------------------------------------------------------------

class _Parser:
    def __init__(self, text: str, rt: RecordType, date_format: str) -> None:
        self.tokens = tokenize(text)
        self.i = 0
        self.rt = rt
        self.fields = spec(rt).filterable()
        self.date_format = date_format
        self.params: list[Any] = []

    def peek(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def expect(self, text: str) -> None:
        tok = self.take()
        if tok.text != text or tok.kind != "punct":
            raise bad_query(f"Invalid search syntax: expected '{text}' at position {tok.pos}.")

    def parse(self) -> str:
        if self.peek().kind == "end":
            return "1 = 1"
        sql = self.expr()
        if self.peek().kind != "end":
            tok = self.peek()
            raise bad_query(f"Invalid search syntax: unexpected '{tok.text}' at position {tok.pos}.")
        return sql

    def expr(self) -> str:
        return self._joined(self.term, "OR")

    def term(self) -> str:
        return self._joined(self.factor, "AND")

    def _joined(self, operand: Callable[[], str], keyword: str) -> str:
        """Operands separated by the keyword (AND binds tighter than OR: term() inside expr())."""
        parts = [operand()]
        while self.peek().kind == "word" and self.peek().text.upper() == keyword:
            self.take()
            parts.append(operand())
        return parts[0] if len(parts) == 1 else "(" + f" {keyword} ".join(parts) + ")"

    def factor(self) -> str:
        tok = self.peek()
        if tok.kind == "punct" and tok.text == "(":
            self.take()
            inner = self.expr()
            self.expect(")")
            return f"({inner})"
        return self.condition()

    def values(self, op: str) -> list[Token]:
        if op in NO_VALUE:
            return []
        tok = self.peek()
        if tok.kind == "punct" and tok.text == "[":
            self.take()
            out: list[Token] = []
            while True:
                val = self.take()
                if val.kind not in ("string", "number", "word"):
                    raise bad_query(f"Invalid search syntax: expected a value at position {val.pos}.")
                out.append(val)
                nxt = self.take()
                if nxt.kind == "punct" and nxt.text == ",":
                    continue
                if nxt.kind == "punct" and nxt.text == "]":
                    return out
                raise bad_query(f"Invalid search syntax: expected ',' or ']' at position {nxt.pos}.")
        count = 2 if op in TWO_VALUES else 1
        out = []
        for n in range(count):
            if n and self.peek().kind == "punct" and self.peek().text == ",":
                self.take()
            val = self.take()
            if val.kind not in ("string", "number", "word") or (
                    val.kind == "word" and val.text.upper() in ("AND", "OR")):
                raise bad_query(f"Invalid search syntax: operator {op} needs a value at position {val.pos}.")
            out.append(val)
        return out

    def condition(self) -> str:
        name = self.take()
        if name.kind != "word":
            raise bad_query(f"Invalid search syntax: expected a field name at position {name.pos}.")
        fld = self.fields.get(name.text.lower())
        if fld is None:
            raise bad_query(f"Field '{name.text}' for record '{self.rt.key}' was not found. "
                            f"Reason: NOT_EXPOSED - Not available for searching.")
        op_tok = self.take()
        op = op_tok.text.upper()
        allowed = self._ops(fld)
        if op_tok.kind != "word" or op not in allowed:
            raise bad_query(f"Invalid search syntax: operator '{op_tok.text}' is not valid for field "
                            f"'{fld.name}'. Valid operators: {', '.join(sorted(allowed))}.")
        values = self.values(op)
        if op in TWO_VALUES and len(values) != 2:
            raise bad_query(f"Invalid search syntax: operator {op} needs two values.")
        return self._sql(fld, op, values)

    @staticmethod
    def _kind(fld: Field) -> str:
        return "integer" if fld.name == "id" else fld.kind  # ids are strings in JSON, numbers in q

    def _ops(self, fld: Field) -> set[str]:
        kind = self._kind(fld)
        if kind in ("date", "datetime"):
            return DATE_OPS
        if kind in ("number", "integer", "ref"):
            return NUMBER_OPS
        if kind == "boolean":
            return BOOL_OPS
        if kind == "enum":
            return {"ANY_OF", "NONE_OF", "IS", "IS_NOT", "EQUAL", "NOT_EQUAL"}
        return STRING_OPS

    def _p(self, value: Any) -> str:
        self.params.append(value)
        return "?"

    def _sql(self, fld: Field, op: str, values: list[Token]) -> str:
        col = fld.column
        if op == "EMPTY":
            return f"({col} IS NULL OR {col} = '')"
        if op == "EMPTY_NOT":
            return f"({col} IS NOT NULL AND {col} <> '')"
        if fld.kind in ("date", "datetime"):
            return self._date_sql(col, op, values)
        if self._kind(fld) in ("number", "integer", "ref"):
            nums = [self._number(v, fld) for v in values]
            if op in LIST_OPS:
                inner = f"{col} IN ({', '.join(self._p(n) for n in nums)})"
                return inner if op == "ANY_OF" else f"({col} IS NULL OR NOT {inner})"
            if op in ("BETWEEN", "NOT_BETWEEN"):
                inner = f"{col} BETWEEN {self._p(nums[0])} AND {self._p(nums[1])}"
                return inner if op == "BETWEEN" else f"NOT ({inner})"
            sym = {"EQUAL": "=", "IS": "=", "NOT_EQUAL": "<>", "IS_NOT": "<>", "GREATER": ">",
                   "GREATER_OR_EQUAL": ">=", "LESS": "<", "LESS_OR_EQUAL": "<="}[op]
            return f"{col} {sym} {self._p(nums[0])}"
        if fld.kind == "boolean":
            text = values[0].text.lower()
            if text not in ("true", "false", "t", "f"):
                raise bad_query(f"Invalid boolean value '{values[0].text}' for field '{fld.name}'.")
            flag = "T" if text in ("true", "t") else "F"
            return f"{col} {'=' if op == 'IS' else '<>'} {self._p(flag)}"
        if fld.kind == "enum":
            letters = [self._status(v.text) for v in values]
            inner = f"{col} IN ({', '.join(self._p(x) for x in letters)})"
            return inner if op in ("ANY_OF", "IS", "EQUAL") else f"NOT {inner}"
        texts = [v.text for v in values]
        if op in LIST_OPS:
            inner = f"{col} COLLATE NOCASE IN ({', '.join(self._p(t) for t in texts)})"
            return inner if op == "ANY_OF" else f"({col} IS NULL OR NOT {inner})"
        if op == "IS":
            return f"{col} = {self._p(texts[0])} COLLATE NOCASE"
        if op == "IS_NOT":
            return f"({col} IS NULL OR {col} <> {self._p(texts[0])} COLLATE NOCASE)"
        like = texts[0].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = {"CONTAIN": f"%{like}%", "DOES_NOT_CONTAIN": f"%{like}%", "START_WITH": f"{like}%",
                   "DOES_NOT_START_WITH": f"{like}%", "END_WITH": f"%{like}", "DOES_NOT_END_WITH": f"%{like}"}[op]
        inner = f"{col} LIKE {self._p(pattern)} ESCAPE '\\'"
        return inner if not op.startswith("DOES_NOT") else f"({col} IS NULL OR NOT {inner})"

    def _number(self, tok: Token, fld: Field) -> int | float:
        try:
            value = float(tok.text)
        except ValueError:
            raise bad_query(f"Invalid number '{tok.text}' for field '{fld.name}'.") from None
        return int(value) if value.is_integer() else value

    def _status(self, text: str) -> str:
        value = text.split(":")[-1].strip()
        trantype = self.rt.trantype or ""
        for letter, label in STATUS_TEXT.get(trantype, {}).items():
            if value.upper() == letter or value.lower() == label.lower():
                return letter
        raise bad_query(f"Invalid status value '{text}' for record '{self.rt.key}'.")

    def _date_sql(self, col: str, op: str, values: list[Token]) -> str:
        spans = [parse_when(v.text, self.date_format) for v in values]
        start, end = spans[0]
        if op in ("WITHIN", "NOT_WITHIN"):
            inner = f"({col} >= {self._p(_stamp(start))} AND {col} < {self._p(_stamp(spans[1][1]))})"
            return inner if op == "WITHIN" else f"NOT {inner}"
        base = op[4:] if op.startswith("NOT_") else op
        sql = {
            "AFTER": lambda: f"{col} >= {self._p(_stamp(end))}",
            "BEFORE": lambda: f"{col} < {self._p(_stamp(start))}",
            "ON": lambda: f"({col} >= {self._p(_stamp(start))} AND {col} < {self._p(_stamp(end))})",
            "ON_OR_AFTER": lambda: f"{col} >= {self._p(_stamp(start))}",
            "ON_OR_BEFORE": lambda: f"{col} < {self._p(_stamp(end))}",
        }[base]()
        return sql if base == op else f"NOT ({sql})"


def compile_filter(q: str | None, rt: RecordType, date_format: str) -> tuple[str, list[Any]]:
    """SQL condition and parameters for `q` (an empty `q` matches everything)."""
    if q is None or not q.strip():
        return "1 = 1", []
    parser = _Parser(q, rt, date_format)
    sql = parser.parse()
    return sql, parser.params
