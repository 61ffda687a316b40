"""The sandbox's SuiteQL engine: SuiteQL (Oracle syntax) translated by sqlglot to SQLite.

Public API: `SuiteQLEngine(store, settings).execute(q, limit=..., offset=...) -> SuiteQLResult`
(and `SuiteQLEngine.translate(q)`, the cached compiled form, for tests and diagnostics).

Modules, in the order a query meets them:
- validate: parse (dialect.SuiteQL), refuse non-SELECT / LIMIT / WITH / ..., normalise names,
  check tables and columns (NetSuite's "Record 'x' was not found" / "Field 'x' for record ...");
- compiler: sqlglot `qualify`, then the translator, then the paging and counting SQL;
- translate (+ compare, oracle, builtins, rownum, templates): Oracle AST -> SQLite AST with the
  static kind of every expression (catalog.Kind);
- engine: caches, paging, the row cap; formatting: JSON-ready items;
- functions: Python functions registered on each SQLite connection (datefmt, dateprefs, numfmt).
"""
from .engine import SuiteQLEngine, SuiteQLResult

__all__ = ["SuiteQLEngine", "SuiteQLResult"]
