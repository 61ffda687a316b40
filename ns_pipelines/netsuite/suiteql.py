"""SuiteQL over REST: pages, offset paging for small results, keyset paging for everything else.

SuiteQL returns at most 100,000 rows per query (netsuite-api.md section 3.2), so anything that
may grow past that is read by key: `... WHERE <filters> AND <key> > :last ORDER BY <key>`, paged by
offset inside a window that stops before the cap, then restarted after the last key seen. Each
row comes out exactly once, in key order, whatever the total.
"""
from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from .errors import NetSuiteError, SuiteQLRowCapError
from .fanin import Source, fan_in

if TYPE_CHECKING:
    from .transport import NetSuiteClient

logger = logging.getLogger(__name__)

SUITEQL_PATH = "/services/rest/query/v1/suiteql"
ROW_CAP = 100_000
MAX_PAGE_SIZE = 1000

Row = dict[str, Any]


@dataclass(frozen=True)
class IdRange:
    """An inclusive range of the first key column."""

    lower: int
    upper: int
    rows: int | None = None  # rows in the range, when known (key_bounds counts them)


@dataclass(frozen=True)
class Page:
    """One SuiteQL page; `items` have their `links` removed."""

    items: list[Row]
    offset: int
    count: int
    total_results: int
    has_more: bool
    id_range: IdRange | None = None  # set by query_keyset_ranges


FetchPage = Callable[[str, int, int], Page]  # (q, limit, offset) -> Page


class KeysetSource(Protocol):
    """What keyset paging needs from a query: its key columns (SQL), their names in the result
    rows, and the SQL text for a position."""

    @property
    def key_columns(self) -> tuple[str, ...]: ...

    @property
    def result_keys(self) -> tuple[str, ...]: ...

    def render(self, after: tuple[int, ...] | None = None, lower: int | None = None,
               upper: int | None = None) -> str: ...


def _default_key_name(column: str) -> str:
    return column.rsplit(".", 1)[-1].strip().lower()


def _as_tuple(key: str | tuple[str, ...]) -> tuple[str, ...]:
    return (key,) if isinstance(key, str) else tuple(key)


def _key_spec(key: str | tuple[str, ...], names: tuple[str, ...] | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    columns = _as_tuple(key)
    if not columns or not all(c.strip() for c in columns):
        raise ValueError("a keyset query needs at least one key column")
    result = tuple(n.lower() for n in names) if names else tuple(_default_key_name(c) for c in columns)
    if len(result) != len(columns):
        raise ValueError("key_names needs one name per key column")
    return columns, result


def _check_int(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, got {type(value).__name__}")
    return value


def keyset_predicate(columns: Sequence[str], after: Sequence[int] | None, lower: int | None = None,
                     upper: int | None = None) -> str:
    """SQL for `(c1, c2, ...) > after` (lexicographic) and `lower <= c1 <= upper`."""
    parts: list[str] = []
    if lower is not None:
        parts.append(f"{columns[0]} >= {_check_int(lower, 'lower')}")
    if upper is not None:
        parts.append(f"{columns[0]} <= {_check_int(upper, 'upper')}")
    if after is not None:
        values = [_check_int(v, "key value") for v in after]
        if len(values) != len(columns):
            raise ValueError("the keyset position needs one value per key column")
        if len(columns) == 1:
            parts.append(f"{columns[0]} > {values[0]}")
        else:
            alternatives = []
            for i in range(len(columns)):
                eqs = [f"{columns[j]} = {values[j]}" for j in range(i)]
                alternatives.append("(" + " AND ".join([*eqs, f"{columns[i]} > {values[i]}"]) + ")")
            parts.append(f"{columns[0]} >= {values[0]}")
            parts.append("(" + " OR ".join(alternatives) + ")")
    return " AND ".join(parts) if parts else "1 = 1"


class _KeyedQuery:
    """Key handling shared by the keyset query forms (their `key` and `key_names` fields)."""

    key: str | tuple[str, ...]
    key_names: tuple[str, ...] | None

    def _normalize_key(self) -> None:
        columns, names = _key_spec(self.key, self.key_names)
        object.__setattr__(self, "key", columns)
        object.__setattr__(self, "key_names", names)

    @property
    def key_columns(self) -> tuple[str, ...]:
        return _as_tuple(self.key)

    @property
    def result_keys(self) -> tuple[str, ...]:
        return self.key_names or ()


@dataclass(frozen=True)
class KeysetQuery(_KeyedQuery):
    """`SELECT <select> FROM <from_> WHERE <where> AND <keyset> ORDER BY <key>`.

    `key` is the integer column (or columns, lexicographic) the rows are unique and ordered by,
    as SQL expressions (`"t.id"`, or `("l.transaction", "l.id")` for transaction lines). Each key
    column must be selected; `key_names` are their names in the result rows (default: the part
    after the last dot, lower case).
    """

    select: str
    from_: str
    where: str | None = None
    key: str | tuple[str, ...] = "id"
    key_names: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        self._normalize_key()

    def render(self, after: tuple[int, ...] | None = None, lower: int | None = None,
               upper: int | None = None) -> str:
        conditions = []
        if self.where and self.where.strip():
            conditions.append(f"({self.where.strip()})")
        predicate = keyset_predicate(self.key_columns, after, lower, upper)
        if predicate != "1 = 1" or not conditions:
            conditions.append(predicate)
        return (f"SELECT {self.select.strip()} FROM {self.from_.strip()} WHERE {' AND '.join(conditions)} "
                f"ORDER BY {', '.join(self.key_columns)}")

    def bounds_query(self) -> str:
        """`SELECT MIN(key) AS lo, MAX(key) AS hi, COUNT(*) AS n ...` over the first key column."""
        where = f" WHERE {self.where.strip()}" if self.where and self.where.strip() else ""
        col = self.key_columns[0]
        return f"SELECT MIN({col}) AS lo, MAX({col}) AS hi, COUNT(*) AS n FROM {self.from_.strip()}{where}"


_ORDER_BY = re.compile(r"\border\s+by\b", re.IGNORECASE)


@dataclass(frozen=True)
class TemplateKeysetQuery(_KeyedQuery):
    """A full SQL text with a `{keyset}` placeholder where the key predicate goes, e.g.
    `SELECT t.id, t.tranid FROM transaction t WHERE t.type = 'CustInvc' AND {keyset} ORDER BY t.id`.
    The template must order by the key columns."""

    template: str
    key: str | tuple[str, ...] = "id"
    key_names: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if "{keyset}" not in self.template:
            raise ValueError("a keyset template needs a {keyset} placeholder in its WHERE clause")
        if not _ORDER_BY.search(self.template):
            raise ValueError("a keyset template must ORDER BY its key columns")
        self._normalize_key()

    def render(self, after: tuple[int, ...] | None = None, lower: int | None = None,
               upper: int | None = None) -> str:
        return self.template.replace("{keyset}", keyset_predicate(self.key_columns, after, lower, upper))


def as_keyset_source(query: KeysetSource | str | tuple[str, str, str], key: str | tuple[str, ...] | None = None
                     ) -> KeysetSource:
    """Accept a KeysetQuery, a `{keyset}` template (with `key`), or `(select, from_where, key)`,
    where `from_where` is `"transaction t WHERE t.type = 'CustInvc'"` (FROM/WHERE optional)."""
    if isinstance(query, str):
        return TemplateKeysetQuery(query, key or "id")
    if isinstance(query, tuple):
        select, from_where, key_column = query
        select = re.sub(r"^\s*select\s+", "", select, flags=re.IGNORECASE)
        from_where = re.sub(r"^\s*from\s+", "", from_where, flags=re.IGNORECASE)
        parts = re.split(r"\bwhere\b", from_where, maxsplit=1, flags=re.IGNORECASE)
        return KeysetQuery(select=select, from_=parts[0], where=parts[1] if len(parts) > 1 else None,
                           key=key_column)
    return query


def row_key(row: Row, names: Sequence[str]) -> tuple[int, ...]:
    key: list[int] = []
    for name in names:
        value = row.get(name)
        try:
            if isinstance(value, bool):
                raise ValueError
            if isinstance(value, int):
                key.append(value)
            elif isinstance(value, (str, Decimal, float)):
                number = Decimal(str(value).strip())
                if number != number.to_integral_value():
                    raise ValueError
                key.append(int(number))
            else:
                raise ValueError
        except (ValueError, ArithmeticError):
            raise NetSuiteError(
                f"keyset paging needs an integer key column {name!r} in every row; got {value!r} "
                f"(select the key column, aliased to {name!r})") from None
    return tuple(key)


def keyset_pages(
    fetch_page: FetchPage,
    query: KeysetSource,
    *,
    page_size: int = MAX_PAGE_SIZE,
    row_cap: int = ROW_CAP,
    window_rows: int | None = None,
    after: tuple[int, ...] | None = None,
    lower: int | None = None,
    upper: int | None = None,
    cancel: threading.Event | None = None,
    spare_slots: Callable[[], int] | None = None,
) -> Iterator[Page]:
    """Keyset paging over `fetch_page(q, limit, offset)`; yields non-empty pages in key order.

    A window is one SQL text (`key > last`), paged by offset while `offset + page_size <=
    window_rows` (default: `row_cap - page_size`, e.g. 99,000), then the next window starts after
    the last key seen. A window also restarts when the server stopped short of its `totalResults`
    (it truncated at its cap, whatever `row_cap` says). Rows whose key is not above the last key
    yielded (shifted by concurrent inserts) are skipped, so each row comes out once.

    `spare_slots()`: how many requests could be sent now without waiting for a concurrency slot.
    When it says some, the window's next pages (whose offsets the first page's `totalResults`
    tells) are fetched ahead, at most PREFETCH_PAGES, in threads; pages still come out in order.
    """
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
    if window_rows is None:
        window_rows = max(page_size, row_cap - page_size)
    if window_rows < page_size or window_rows > row_cap:
        raise ValueError("window_rows must be between page_size and row_cap")
    last: tuple[int, ...] | None = tuple(after) if after is not None else None
    names = query.result_keys
    windows = 0
    while True:
        window_start = last
        windows += 1
        sql = query.render(after=last, lower=lower, upper=upper)
        offset = 0
        rows_in_window = 0
        ahead = _PagesAhead(fetch_page, sql, page_size, spare_slots)
        try:
            while True:
                if cancel is not None and cancel.is_set():
                    return
                page = ahead.take(offset)
                fresh, last = _rows_after(page.items, names, last)
                rows_in_window += len(page.items)
                if not page.items or not page.has_more:
                    # The server may have stopped at its cap: it counted more rows than it returned.
                    window_full = (page.total_results >= row_cap or rows_in_window >= row_cap
                                   or offset + len(page.items) < page.total_results)
                    more = False
                else:
                    offset += len(page.items)
                    more = offset + page_size <= window_rows
                    window_full = not more
                    if more:  # before handing the page over (its consumer may take a while): the next ones
                        ahead.plan(offset, window_rows, page.total_results)
                if fresh:
                    yield replace(page, items=fresh)
                if not more:
                    break
        finally:
            ahead.close()
        if not window_full:
            return
        if last == window_start:
            if rows_in_window:
                raise NetSuiteError("keyset paging made no progress; is the key unique?")
            return
        logger.debug("keyset window %d ended after %d rows at key %s; restarting", windows, rows_in_window, last)


def _rows_after(items: list[Row], names: tuple[str, ...], last: tuple[int, ...] | None
                ) -> tuple[list[Row], tuple[int, ...] | None]:
    """The rows of a page whose key is above `last` (the others were yielded already: offsets
    shifted under concurrent inserts), and the new last key; the page must be in key order."""
    fresh: list[Row] = []
    previous: tuple[int, ...] | None = None
    for row in items:
        key = row_key(row, names)
        if previous is not None and key <= previous:
            raise NetSuiteError(
                f"keyset query rows are not in strictly ascending order of {', '.join(names)} "
                f"({previous} then {key}): the key must be unique and the query ordered by it")
        previous = key
        if last is not None and key <= last:
            continue
        fresh.append(row)
        last = key
    return fresh, last


# Pages of one keyset window fetched ahead of the one being read, at most (see keyset_pages).
PREFETCH_PAGES = 4


class _PagesAhead:
    """The next pages of one window, requested ahead while concurrency slots are spare."""

    def __init__(self, fetch_page: FetchPage, sql: str, page_size: int,
                 spare_slots: Callable[[], int] | None) -> None:
        self.fetch_page = fetch_page
        self.sql = sql
        self.page_size = page_size
        self.spare_slots = spare_slots
        self.pending: dict[int, Future[Page]] = {}
        self.pool: ThreadPoolExecutor | None = None

    def plan(self, offset: int, window_rows: int, total_results: int) -> None:
        """Request ahead the window's pages from `offset` on (those that exist and fit in the
        window), as many as slots are spare."""
        if self.spare_slots is None:
            return
        start = max([offset - self.page_size, *self.pending]) + self.page_size
        end = min(total_results, window_rows - self.page_size + 1)  # a page starts before both
        offsets = list(range(start, end, self.page_size))[:max(0, PREFETCH_PAGES - len(self.pending))]
        if not offsets:
            return
        for next_offset in offsets[:self.spare_slots()]:  # last: it may look at the shared budget's slots
            if self.pool is None:
                self.pool = ThreadPoolExecutor(max_workers=PREFETCH_PAGES, thread_name_prefix="ns-suiteql-ahead")
            self.pending[next_offset] = self.pool.submit(self.fetch_page, self.sql, self.page_size, next_offset)

    def take(self, offset: int) -> Page:
        """The page at `offset`: requested ahead, or now in this thread."""
        future = self.pending.pop(offset, None)
        for stale in [o for o in self.pending if o < offset]:  # a short page moved the offsets
            self.pending.pop(stale).cancel()
        if future is None:
            return self.fetch_page(self.sql, self.page_size, offset)
        return future.result()

    def close(self) -> None:
        for future in self.pending.values():
            future.cancel()
        self.pending.clear()
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = None


def split_range(lower: int, upper: int, parts: int) -> list[IdRange]:
    """Split [lower, upper] into at most `parts` contiguous, non-empty, inclusive ranges."""
    if upper < lower:
        return []
    size = upper - lower + 1
    parts = max(1, min(parts, size))
    ranges = []
    start = lower
    for i in range(parts):
        end = lower + (size * (i + 1)) // parts - 1
        ranges.append(IdRange(start, end))
        start = end + 1
    return ranges


class SuiteQL:
    """SuiteQL queries through a NetSuiteClient (the client's budget, retries and signing)."""

    def __init__(self, client: "NetSuiteClient", *, row_cap: int = ROW_CAP) -> None:
        self.client = client
        self.row_cap = row_cap

    # -- one page --------------------------------------------------------------------------

    def query_page(self, q: str, limit: int = MAX_PAGE_SIZE, offset: int = 0) -> Page:
        """POST /services/rest/query/v1/suiteql?limit=&offset= with `Prefer: transient`."""
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise ValueError(f"limit must be between 1 and {MAX_PAGE_SIZE}")
        if offset < 0:
            raise ValueError("offset must not be negative")
        response = self.client.request(
            "POST", SUITEQL_PATH, params={"limit": limit, "offset": offset}, json={"q": q},
            headers={"Prefer": "transient"})
        try:
            body = response.json(parse_float=Decimal)  # money never passes through float
        except ValueError:
            raise NetSuiteError(f"SuiteQL answered {response.status_code} with a body that is not JSON",
                                status=response.status_code, method="POST", path=SUITEQL_PATH) from None
        return parse_page(body, offset)

    # -- offset paging (results under the cap) ---------------------------------------------

    def pages(self, q: str, page_size: int = MAX_PAGE_SIZE) -> Iterator[Page]:
        offset = 0
        while True:
            page = self.query_page(q, limit=page_size, offset=offset)
            if offset == 0 and page.total_results > self.row_cap:
                raise SuiteQLRowCapError(
                    f"the SuiteQL query has {page.total_results} rows, more than SuiteQL returns "
                    f"({self.row_cap}); offset paging would lose rows. Use keyset paging "
                    f"(SuiteQL.query_keyset) ordered by a unique id.")
            if page.items:
                yield page
            if not page.has_more or not page.items:
                return
            offset += len(page.items)
            if offset >= self.row_cap:
                raise SuiteQLRowCapError(
                    f"the SuiteQL query reached SuiteQL's {self.row_cap}-row cap; use keyset paging "
                    f"(SuiteQL.query_keyset)")

    def query(self, q: str, page_size: int = MAX_PAGE_SIZE) -> Iterator[Row]:
        """Every row of a query with fewer than 100,000 results (raises SuiteQLRowCapError otherwise)."""
        for page in self.pages(q, page_size):
            yield from page.items

    def query_all(self, q: str, page_size: int = MAX_PAGE_SIZE) -> list[Row]:
        return list(self.query(q, page_size))

    # -- keyset paging -----------------------------------------------------------------------

    def keyset_pages(
        self,
        query: KeysetSource | str | tuple[str, str, str],
        *,
        key: str | tuple[str, ...] | None = None,
        page_size: int = MAX_PAGE_SIZE,
        after: int | tuple[int, ...] | None = None,
        lower: int | None = None,
        upper: int | None = None,
        window_rows: int | None = None,
        cancel: threading.Event | None = None,
        wants_more: Callable[[], bool] | None = None,
    ) -> Iterator[Page]:
        """Keyset paging through the client (module function `keyset_pages`), reading a window's
        next pages ahead while the client's budget has spare slots and `wants_more()` (when
        given) says the consumer keeps up (pages read ahead wait in memory)."""
        source = as_keyset_source(query, key)
        if isinstance(after, int):
            after = (after,)
        client_spare: Callable[[], int] | None = getattr(self.client, "spare_slots", None)
        spare_slots = client_spare
        if client_spare is not None and wants_more is not None:
            spare_slots = lambda: client_spare() if wants_more() else 0  # noqa: E731
        return keyset_pages(self.query_page, source, page_size=page_size, row_cap=self.row_cap,
                            window_rows=window_rows, after=after, lower=lower, upper=upper, cancel=cancel,
                            spare_slots=spare_slots)

    def query_keyset(
        self,
        query: KeysetSource | str | tuple[str, str, str],
        *,
        key: str | tuple[str, ...] | None = None,
        page_size: int = MAX_PAGE_SIZE,
        after: int | tuple[int, ...] | None = None,
        lower: int | None = None,
        upper: int | None = None,
        window_rows: int | None = None,
    ) -> Iterator[Row]:
        """Every row, in key order, exactly once, however many there are.

        `query`: a KeysetQuery, a `{keyset}` template with `key`, or `(select, from_where, key)`.
        `after` resumes after a key; `lower`/`upper` bound the first key column (inclusive).
        """
        for page in self.keyset_pages(query, key=key, page_size=page_size, after=after, lower=lower,
                                      upper=upper, window_rows=window_rows):
            yield from page.items

    def key_bounds(self, query: KeysetSource | tuple[str, str, str]) -> IdRange | None:
        """(min, max) of the first key column for a KeysetQuery, with the number of rows; None
        when it has no rows."""
        source = as_keyset_source(query)
        if not isinstance(source, KeysetQuery):
            raise ValueError("key_bounds needs a KeysetQuery; pass lower/upper for templates")
        page = self.query_page(source.bounds_query(), limit=1)
        if not page.items:
            return None
        row = page.items[0]
        if row.get("lo") is None or row.get("hi") is None:
            return None
        lo, hi = row_key(row, ("lo", "hi"))
        rows = row_key(row, ("n",))[0] if row.get("n") is not None else None
        return IdRange(lo, hi, rows)

    def query_keyset_ranges(
        self,
        query: KeysetSource | str | tuple[str, str, str],
        *,
        key: str | tuple[str, ...] | None = None,
        ranges: int | None = None,
        workers: int | None = None,
        lower: int | None = None,
        upper: int | None = None,
        page_size: int = MAX_PAGE_SIZE,
        window_rows: int | None = None,
    ) -> Generator[Page, None, None]:
        """Split the first key column's [lower, upper] (default: its MIN/MAX) into `ranges`
        ranges, read them concurrently with keyset paging (at most `workers` at once, default the
        client's budget; the client's limiter still caps requests in flight) and yield pages as
        they arrive (`page.id_range` says which range). Within a range pages are in key order.
        Closing the iterator early stops the workers after their current request.
        """
        source = as_keyset_source(query, key)
        if lower is None or upper is None:
            bounds = self.key_bounds(source)
            if bounds is None:
                return
            lower = bounds.lower if lower is None else lower
            upper = bounds.upper if upper is None else upper
        budget = self.client.config.concurrency
        workers = workers or budget
        id_ranges = split_range(lower, upper, ranges or workers)
        if not id_ranges:
            return

        def pages_of(id_range: IdRange) -> Source[Page]:
            def read(cancel: threading.Event) -> Iterator[Page]:
                for page in self.keyset_pages(source, page_size=page_size, window_rows=window_rows,
                                              lower=id_range.lower, upper=id_range.upper, cancel=cancel):
                    yield replace(page, id_range=id_range)
            return read

        yield from fan_in([pages_of(r) for r in id_ranges], workers=workers, thread_name="suiteql-range")


def parse_page(body: Any, offset: int = 0) -> Page:
    """A SuiteQL response body -> Page (per-item `links` removed)."""
    if not isinstance(body, dict):
        raise NetSuiteError("SuiteQL answered a body that is not a JSON object")
    raw_items = body.get("items") or []
    items = [{k: v for k, v in item.items() if k != "links"} for item in raw_items if isinstance(item, dict)]
    count = body.get("count")
    total = body.get("totalResults")
    return Page(
        items=items,
        offset=int(body.get("offset", offset) or 0),
        count=int(count) if count is not None else len(items),
        total_results=int(total) if total is not None else offset + len(items),
        has_more=bool(body.get("hasMore", False)),
    )
