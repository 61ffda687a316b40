"""Query shapes: one compilation for keyset texts that differ only in their key literals.

A keyset client sends a new text for every window, `... WHERE t.id >= 40000 AND t.id <= 80000
AND t.id > 61234 ORDER BY t.id`, and compiling one (parse, qualify, translate, generate) costs
tens of milliseconds. The shape of a text is the text with each integer literal compared with a
column (`alias.column <op> 123`, outside quotes) replaced by a sentinel number; the compiled
statements of the shape, with the sentinels put back to the literals, are those of the text.

That holds only if the translation carries such literals through untouched, so a shape is
trusted after a check: the first text of a shape is compiled for real as well, and the shape is
used only when its statements, filled with that text's literals, equal the real ones, with every
sentinel present in the page statement (none folded away). Otherwise the shape is never used and
its texts are compiled one by one, as before.
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

from .compiler import Compiled, Form

SENTINEL_PREFIX = "7315000000000"  # + two digits: 15-digit integers, the size of a key literal
MAX_LITERALS = 100
_QUOTED = re.compile(r"'(?:[^']|'')*'|\"[^\"]*\"")
_KEY_LITERAL = re.compile(r"(\b[A-Za-z_]\w*\.[A-Za-z_]\w*\s*(?:>=|<=|<>|!=|=|>|<)\s*)(\d{1,15})(?![\w.])")
_SENTINEL = re.compile(rf"\b{SENTINEL_PREFIX}(\d\d)\b")


def shape_of(q: str) -> tuple[str, tuple[str, ...]] | None:
    """(shape, literals) of a text with key literals; None when it has none (or is unsuitable)."""
    if SENTINEL_PREFIX in q:
        return None
    literals: list[str] = []

    def sentinel(match: re.Match[str]) -> str:
        literals.append(match.group(2))
        return f"{match.group(1)}{SENTINEL_PREFIX}{len(literals) - 1:02d}"

    parts: list[str] = []
    position = 0
    for quoted in _QUOTED.finditer(q):
        parts.append(_KEY_LITERAL.sub(sentinel, q[position:quoted.start()]))
        parts.append(quoted.group(0))
        position = quoted.end()
    parts.append(_KEY_LITERAL.sub(sentinel, q[position:]))
    if not literals or len(literals) > MAX_LITERALS:
        return None
    return "".join(parts), tuple(literals)


def _fill_sql(sql: str, literals: Sequence[str]) -> str:
    return _SENTINEL.sub(lambda m: literals[int(m.group(1))], sql)


def _fill_form(form: Form | None, literals: Sequence[str]) -> Form | None:
    if form is None:
        return None
    after = None if form.after_sql is None else _fill_sql(form.after_sql, literals)
    return Form(_fill_sql(form.page_sql, literals), after, form.width)


def fill(compiled: Compiled, literals: Sequence[str]) -> Compiled:
    """The compiled statements of the shape with its sentinels replaced by `literals`."""
    return dataclasses.replace(compiled, page_sql=_fill_sql(compiled.page_sql, literals),
                               count_sql=_fill_sql(compiled.count_sql, literals),
                               rows=_fill_form(compiled.rows, literals), json=_fill_form(compiled.json, literals))


def carries_literals(shaped: Compiled, literals: Sequence[str], real: Compiled) -> bool:
    """The check that makes a shape trusted (see the module docstring)."""
    present = {int(m.group(1)) for m in _SENTINEL.finditer(shaped.page_sql)}
    return present == set(range(len(literals))) and fill(shaped, literals) == real
