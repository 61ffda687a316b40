"""SuiteQL as a sqlglot dialect: Oracle syntax, case-insensitive (lower-case) identifiers.

A few Oracle functions are kept as plain (anonymous) calls instead of sqlglot's generic nodes,
because sqlglot rewrites their format models into strftime codes and loses Oracle's meaning
(FM, AM/PM, MON ...); the translator implements them itself.
"""
from __future__ import annotations

from sqlglot.dialects.dialect import NormalizationStrategy
from sqlglot.dialects.oracle import Oracle

KEEP_AS_CALLS = ("TO_CHAR", "TO_DATE", "TO_TIMESTAMP", "TRUNC", "ADD_MONTHS", "LAST_DAY",
                 "MONTHS_BETWEEN", "INSTR", "LPAD", "RPAD", "MOD", "GREATEST", "LEAST", "INITCAP",
                 "CONCAT", "NEXT_DAY", "ROUND")


class SuiteQL(Oracle):
    NORMALIZATION_STRATEGY = NormalizationStrategy.LOWERCASE

    class Parser(Oracle.Parser):
        FUNCTIONS = {name: builder for name, builder in Oracle.Parser.FUNCTIONS.items()
                     if name not in KEEP_AS_CALLS}
        FUNCTION_PARSERS = {name: parser for name, parser in Oracle.Parser.FUNCTION_PARSERS.items()
                            if name not in KEEP_AS_CALLS}
