"""The SuiteQL page fast paths answer exactly what the straightforward path answers.

The straightforward path (the reference here): compile the text afresh, run the page statement
with LIMIT/OFFSET, COUNT(*) for totalResults, format each row in Python and encode the items with
json.dumps. The engine instead reuses compilations across key literals (shapes), reads a page
after a remembered boundary row instead of skipping `offset` rows (seek), shares counts and
boundaries between connections while the data is unchanged (epochs), and lets SQLite write the
items' JSON (json form). Every page of every query below, under several settings, on several
connections, across writes, must be the same bytes.
"""
from __future__ import annotations

import json
import math
import queue
import random
import sqlite3
import struct
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ns_pipelines.netsuite.suiteql import KeysetQuery
from ns_pipelines.sandbox.netsuite.errors import ApiError
from ns_pipelines.sandbox.netsuite.seed import seed
from ns_pipelines.sandbox.netsuite.settings import SandboxSettings
from ns_pipelines.sandbox.netsuite.store import Store
from ns_pipelines.sandbox.netsuite.suiteql import SuiteQLEngine
from ns_pipelines.sandbox.netsuite.suiteql.catalog import Kind
from ns_pipelines.sandbox.netsuite.suiteql.formatting import _json_value_sql, sqlite_json_agrees
from ns_pipelines.sandbox.netsuite.suiteql.shapes import shape_of
from ns_pipelines.sync.sources import SOURCES, documents_source

TRICKY_TEXTS = ['say "hi" \\ back', "ctl \x00\x01\x1f\x7f \n\r\t\b\f", "ünï € \u2028 😀", "", "null", "'; --"]
TRICKY_REALS = [0.1 + 0.2, 1e-05, 123456789012.345, 1e20, 1234.5, 1.09112282, 617428.8843511459, -7.25, 100.0]


def _tricky_rows(store: Store) -> None:
    """Transactions whose values test the formatting: odd strings, REALs of every sort, a BLOB."""
    conn = store.connect()
    conn.row_factory = sqlite3.Row
    template = dict(conn.execute(
        'SELECT * FROM "transaction" WHERE type = \'CustInvc\' ORDER BY id LIMIT 1').fetchone())
    next_id = conn.execute('SELECT MAX(id) FROM "transaction"').fetchone()[0] + 1
    rows = []
    for i, (text, real) in enumerate(zip(TRICKY_TEXTS * 2, TRICKY_REALS + TRICKY_REALS[:3])):
        row = dict(template, id=next_id + i, tranid=f"ODD{i}", memo=text, foreigntotal=real, exchangerate=real,
                   externalid=None)
        rows.append(row)
    rows.append(dict(template, id=next_id + len(rows), tranid="BLOB", memo=b"\x00blob", externalid=None))
    with store.write() as w:
        for row in rows:
            names = ", ".join(f'"{k}"' for k in row)
            marks = ", ".join("?" for _ in row)
            w.execute(f'INSERT INTO "transaction" ({names}) VALUES ({marks})', tuple(row.values()))


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("pages")
    store = Store(directory)
    seed(store, scale=300, seed=11)
    _tricky_rows(store)
    store.close()
    return directory


def _keyset_texts() -> list[str]:
    """The sync's own keyset texts: first windows of id ranges and windows after a key."""
    texts = []
    for source in (*SOURCES.values(), documents_source()):
        query: KeysetQuery = source.query()
        width = len(query.key_columns)
        texts.append(query.render())
        texts.append(query.render(lower=1100, upper=1400))
        texts.append(query.render(after=(1150,) + (0,) * (width - 1), lower=1100, upper=1400))
        texts.append(query.render(after=(1200,) + (1,) * (width - 1), lower=1100, upper=1400))
    return texts


OTHER_TEXTS = [
    "SELECT id, tranid, foreigntotal, exchangerate, memo, trandate, lastmodifieddate FROM transaction ORDER BY id",
    "SELECT t.id, tl.id AS line, tl.memo, tl.foreignamount FROM transaction t "
    "JOIN transactionline tl ON tl.transaction = t.id ORDER BY t.id",  # the sort key repeats
    "SELECT id, type FROM transaction ORDER BY type",  # a text key with ties
    "SELECT id, memo FROM transaction ORDER BY id DESC",
    "SELECT id, memo FROM transaction WHERE type = 'CustInvc'",
    "SELECT id, foreigntotal / 3 AS third, foreigntotal * 1.1 AS more FROM transaction ORDER BY id",
    "SELECT entity, COUNT(*) AS n, SUM(foreigntotal) AS total FROM transaction GROUP BY entity ORDER BY entity",
    "SELECT id, BUILTIN.DF(status) AS st, trandate, duedate, TO_CHAR(lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') AS m "
    "FROM transaction ORDER BY id",
    "SELECT * FROM (SELECT id, tranid FROM transaction ORDER BY id) WHERE ROWNUM <= 25",
    "SELECT c.id, c.parent, c.email FROM customer c ORDER BY c.parent NULLS FIRST, c.id",
    "SELECT id, JSON_OBJECT('a', id) AS j FROM transaction ORDER BY id",
    "SELECT DISTINCT entity FROM transaction ORDER BY entity",
    "SELECT t.id, c.companyname FROM transaction t LEFT JOIN customer c ON c.id = t.entity ORDER BY t.id",
    # LEFT JOINs a count may drop (unique, unused) and may not (filtering, computed, not unique)
    "SELECT c.id, p.companyname FROM customer c LEFT JOIN customer p ON p.id = c.parent ORDER BY c.id",
    "SELECT t.id, cur.symbol, cust.companyname FROM transaction t LEFT JOIN currency cur ON cur.id = t.currency "
    "LEFT JOIN customer cust ON cust.id = t.entity WHERE cust.isinactive = 'F' ORDER BY t.id",
    "SELECT t.id, UPPER(cur.symbol) AS s FROM transaction t LEFT JOIN currency cur ON cur.id = t.currency "
    "ORDER BY t.id",
    "SELECT t.id, tl.id AS line FROM transaction t LEFT JOIN transactionline tl ON tl.transaction = t.id ORDER BY t.id",
    "SELECT t.id FROM transaction t LEFT JOIN transactionline tl ON tl.transaction = t.id AND tl.mainline = 'T' "
    "LEFT JOIN currency cur ON cur.id = t.currency",
]

SETTINGS = [
    dict(omit_null_columns=True, numbers_as_strings=False, date_format="M/D/YYYY"),
    dict(omit_null_columns=False, numbers_as_strings=False, date_format="YYYY-MM-DD"),
    dict(omit_null_columns=True, numbers_as_strings=True, date_format="D/M/YYYY"),
    dict(omit_null_columns=False, numbers_as_strings=True, date_format="DD.MM.YYYY"),
]


# ------------------------------------------------------------------------------------- the reference
def reference_page(engine: SuiteQLEngine, q: str, limit: int, offset: int) -> tuple[str, int, bool]:
    """(items JSON, totalResults, hasMore) the straightforward way."""
    settings = engine.settings
    compiled = engine.compiler.compile(q, date_format=settings.date_format,
                                       numbers_as_strings=settings.numbers_as_strings, today=engine._today)
    conn = engine._connection()
    cap = settings.suiteql_row_cap
    wanted = min(limit, cap - offset)
    params: dict[str, object] = {"ns_now": engine._now().strftime("%Y-%m-%d %H:%M:%S")} if compiled.uses_now else {}
    conn.execute("BEGIN")
    try:
        rows = conn.execute(compiled.page_sql, {**params, "ns_limit": wanted, "ns_offset": offset}).fetchall()
        total = len(conn.execute(compiled.page_sql, {**params, "ns_limit": -1, "ns_offset": 0}).fetchall())
    finally:
        conn.execute("COMMIT")
    if len(rows) < wanted and (rows or offset == 0):
        total = offset + len(rows)
    items = []
    for row in rows:
        values = [v if f is None or v is None else f(v) for v, f in zip(row, compiled.converters)]
        item = {k: v for k, v in zip(compiled.keys, values) if not (settings.omit_null_columns and v is None)}
        items.append({"links": [], **item})
    text = json.dumps(items, separators=(",", ":"), ensure_ascii=False, default=str)[1:-1]
    return text, total, offset + len(rows) < min(total, cap)


class Threads:
    """A few long-lived threads (each with its own SQLite connection, like the server's)."""

    def __init__(self, n: int) -> None:
        self.queues: list[queue.Queue] = [queue.Queue() for _ in range(n)]
        for q in self.queues:
            threading.Thread(target=self._work, args=(q,), daemon=True).start()

    @staticmethod
    def _work(q: queue.Queue) -> None:
        while True:
            fn, box, done = q.get()
            try:
                box.append(("ok", fn()))
            except BaseException as exc:  # handed back to the caller
                box.append(("error", exc))
            done.set()

    def run(self, i: int, fn: Callable[[], Any]) -> Any:
        box: list = []
        done = threading.Event()
        self.queues[i % len(self.queues)].put((fn, box, done))
        done.wait()
        kind, value = box[0]
        if kind == "error":
            raise value
        return value


@pytest.fixture(scope="module")
def threads() -> Threads:
    return Threads(3)


def _fast(engine: SuiteQLEngine, q: str, limit: int, offset: int) -> tuple[str, int, bool]:
    page = engine.execute_json(q, limit=limit, offset=offset)
    items = engine.execute(q, limit=limit, offset=offset).items
    as_dicts = json.dumps([{"links": [], **item} for item in items], separators=(",", ":"),
                          ensure_ascii=False, default=str)[1:-1]
    assert as_dicts == page.items_json  # the two public forms agree too
    assert page.count == len(items)
    return page.items_json, page.total_results, page.has_more


def _offsets(total_hint: int, limit: int) -> Iterator[int]:
    offset = 0
    while offset <= total_hint:
        yield offset
        offset += limit


def _compare_all_pages(engine: SuiteQLEngine, threads: Threads, q: str, limit: int, rng: random.Random) -> None:
    try:
        expected_first = reference_page(engine, q, limit, 0)
    except ApiError as exc:
        with pytest.raises(ApiError) as info:
            engine.execute_json(q, limit=limit, offset=0)
        assert info.value.status == exc.status
        return
    offsets = list(_offsets(min(expected_first[1], 60 * limit), limit))
    sequence = offsets + rng.sample(offsets, min(5, len(offsets)))  # in order (seeks), then out of order
    for n, offset in enumerate(sequence):
        got = threads.run(rng.randrange(3) if n % 2 else n, lambda: _fast(engine, q, limit, offset))
        want = threads.run(0, lambda: reference_page(engine, q, limit, offset))
        assert got == want, f"{q!r} offset {offset}"


# ------------------------------------------------------------------------------------------ tests
@pytest.mark.parametrize("options", SETTINGS, ids=lambda o: "-".join(f"{k[:4]}={v}" for k, v in o.items()))
def test_every_page_equals_the_straightforward_path(data_dir: Path, threads: Threads, options: dict) -> None:
    engine = SuiteQLEngine(Store(data_dir), SandboxSettings(**options))
    rng = random.Random(5)
    for q in _keyset_texts() + OTHER_TEXTS:
        _compare_all_pages(engine, threads, q, rng.choice([7, 25]), rng)


def test_pages_stay_right_across_writes(tmp_path: Path, threads: Threads) -> None:
    """Boundaries and counts remembered before a write are not used after it, on any connection."""
    store = Store(tmp_path)
    seed(store, scale=200, seed=3)
    engine = SuiteQLEngine(store, SandboxSettings())
    q = SOURCES["invoice"].query().render()
    limit = 10
    for round_ in range(4):
        for n, offset in enumerate(range(0, 80, limit)):
            got = threads.run(n, lambda: _fast(engine, q, limit, offset))
            assert got == threads.run(0, lambda: reference_page(engine, q, limit, offset))
        with store.write() as w:  # an insert shifts every later position; a delete shifts them back
            if round_ % 2 == 0:
                w.execute('UPDATE "transaction" SET tranid = tranid || \'x\' WHERE type = \'CustInvc\' '
                          "AND id = (SELECT MIN(id) FROM \"transaction\" WHERE type = 'CustInvc')")
                w.execute('DELETE FROM "transaction" WHERE id = (SELECT id FROM "transaction" '
                          "WHERE type = 'CustInvc' ORDER BY id LIMIT 1 OFFSET 3)")
            else:
                row = w.execute('SELECT * FROM "transaction" WHERE type = \'CustInvc\' ORDER BY id LIMIT 1').fetchone()
                values = dict(row)
                values["id"] = w.execute('SELECT MIN(id) FROM "transaction"').fetchone()[0] - 1
                values["externalid"] = None
                names = ", ".join(f'"{k}"' for k in values)
                w.execute(f'INSERT INTO "transaction" ({names}) VALUES ({", ".join("?" for _ in values)})',
                          tuple(values.values()))


def test_the_fast_paths_are_taken(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sync's keyset texts: one compilation per shape, seeks after the first page, JSON from SQLite."""
    engine = SuiteQLEngine(Store(data_dir), SandboxSettings())
    assert engine.json_items
    compiles: list[str] = []
    compile_ = engine.compiler.compile
    monkeypatch.setattr(engine.compiler, "compile", lambda q, **kw: compiles.append(q) or compile_(q, **kw))
    query = SOURCES["invoice"].query()
    texts = [query.render(after=(after,), lower=1000, upper=2000) for after in (1100, 1150, 1190, 1250)]
    for text in texts:
        compiled = engine.translate(text)
        assert compiled.rows.after_sql is not None and compiled.json is not None
        assert compiled == compile_(text, date_format="M/D/YYYY", numbers_as_strings=False, today=engine._today)
    assert len(compiles) == 2  # the first text, and its shape; the others are filled in
    conn = engine._connection()
    engine._page(texts[1], 5, 0, as_json=True)  # a connection's first page shares nothing (no history yet)
    for offset in (0, 5, 10):
        statements: list[str] = []
        conn.set_trace_callback(statements.append)  # statements with their parameters filled in
        page = engine._page(texts[0], 5, offset, as_json=True)
        conn.set_trace_callback(None)
        assert page.items_json is not None  # SQLite wrote the items
        pages = [s for s in statements if "json_object" in s]
        assert len(pages) == 1
        # every page skips nothing: offset 0 reads from the start, the next ones after the boundary
        assert pages[0].endswith("LIMIT 6 OFFSET 0) AS q")
        assert pages[0].count('"t"."id" > ') == (1 if offset == 0 else 2)


def test_counts_skip_only_joins_that_cannot_change_the_count(data_dir: Path) -> None:
    engine = SuiteQLEngine(Store(data_dir), SandboxSettings())
    count_sql = engine.translate(SOURCES["invoice"].query().render()).count_sql
    assert 'JOIN "transactionline"' in count_sql  # ml: several lines per transaction could match
    assert 'JOIN "currency"' not in count_sql and 'JOIN "customer"' not in count_sql  # on their primary keys
    kept = engine.translate("SELECT t.id FROM transaction t LEFT JOIN customer c ON c.id = t.entity "
                            "WHERE c.isinactive = 'F'").count_sql
    assert 'JOIN "customer"' in kept


def test_shape_of_leaves_strings_and_non_key_numbers_alone() -> None:
    shape, literals = shape_of("SELECT t.id FROM transaction t WHERE t.memo = 'a.b >= 5' AND t.id > 42 "
                               "AND ROUND(t.foreigntotal, 2) > 1.5 ORDER BY t.id")  # type: ignore[misc]
    assert literals == ("42",)
    assert "'a.b >= 5'" in shape and "1.5" in shape and " 42 " not in shape
    assert shape_of("SELECT id FROM transaction ORDER BY id") is None


def test_sqlite_writes_representable_reals_as_python_does() -> None:
    conn = sqlite3.connect(":memory:")
    assert sqlite_json_agrees(conn)
    expr = _json_value_sql("?1", Kind("money"))
    rng = random.Random(9)
    values = [round(rng.choice([-1, 1]) * rng.uniform(0, 10 ** rng.uniform(-6, 14)), rng.randint(0, 10))
              for _ in range(20000)]
    values += [struct.unpack("d", struct.pack("Q", rng.getrandbits(64)))[0] for _ in range(2000)]
    written = 0
    for value in values:
        if math.isnan(value) or math.isinf(value):
            continue
        text = conn.execute(f"SELECT json_object('v', {expr})", (value,)).fetchone()[0]
        if "ns-unrepresentable" in text:
            continue
        written += 1
        assert text == json.dumps({"v": value}, separators=(",", ":")), value
    assert written > 5000  # money-like values are written by SQLite


def test_http_body_is_the_straightforward_encoding(tmp_path: Path) -> None:
    from ns_pipelines.sandbox.netsuite.server import SandboxServer
    from ns_pipelines.sandbox.netsuite.app import create_app, dumps

    server = SandboxServer(tmp_path, scale=120, seed=5)
    account = server.account
    account.ensure_seeded()
    app = create_app(account)
    account.auth.authenticate = lambda req: None  # signing is not what this test is about
    client = app.test_client()
    q = SOURCES["customerpayment"].query().render()
    for offset in (0, 10, 20, 30):
        response = client.post(f"/services/rest/query/v1/suiteql?limit=10&offset={offset}", json={"q": q},
                               headers={"Prefer": "transient"})
        assert response.status_code == 200
        result = account.suiteql.execute(q, limit=10, offset=offset)
        body = json.loads(response.get_data())
        expected = dict(body, items=[{"links": [], **item} for item in result.items])
        assert response.get_data() == dumps(expected)
