"""The sandbox's SuiteQL engine: SuiteQL (Oracle syntax) translated by sqlglot to SQLite.

Public API: `SuiteQLEngine(store, settings).execute(q, limit=..., offset=...) -> SuiteQLResult`,
`execute_json(q, limit=..., offset=...) -> SuiteQLJsonPage` (the same page, its items as the JSON
text the HTTP layer sends) and `SuiteQLEngine.translate(q)`, the cached compiled form, for tests
and diagnostics.

Modules, in the order a query meets them:
- validate: parse (dialect.SuiteQL), refuse non-SELECT / LIMIT / WITH / ..., normalise names,
  check tables and columns (NetSuite's "Record 'x' was not found" / "Field 'x' for record ...");
- compiler: sqlglot `qualify`, then the translator, then the paging and counting SQL;
- shapes: one compilation for keyset texts that differ only in their key literals;
- translate (+ compare, oracle, builtins, rownum, templates): Oracle AST -> SQLite AST with the
  static kind of every expression (catalog.Kind);
- engine: caches, paging, the row cap; formatting: JSON-ready items;
- functions: Python functions registered on each SQLite connection (datefmt, dateprefs, numfmt).
"""
from .engine import SuiteQLEngine, SuiteQLJsonPage, SuiteQLResult

__all__ = ["SuiteQLEngine", "SuiteQLJsonPage", "SuiteQLResult"]
