"""RecordService: the REST record service (record/v1) over the sandbox store.

The HTTP layer maps routes onto these methods and turns ApiError into NetSuite's error body.
Every write is one Store.write() transaction: rules (rules/, applications.py), then amounts,
balances, lastmodifieddate stamps and change notifications (changes.py).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from ..errors import ApiError, user_error
from ..settings import SandboxSettings
from ..store import Store
from . import catalog, ledger, rules
from .changes import Change, Notify
from .query_filter import compile_filter
from .shapes import Shaper
from .types import CUSTOMER, RecordType, resolve
from .values import record_href, self_links

MAX_LIMIT = 1000
UPSERT_REPLACED = ("item", "line", "other", "cashBack", "currencyList")

__all__ = ["RecordService", "Notify"]


class RecordService:
    def __init__(self, store: Store, settings: SandboxSettings, notify: Notify | None = None) -> None:
        self.store = store
        self.settings = settings
        self.notify = notify

    # ---- reads ----
    def get(self, record_type: str, ref: str, *, expand: bool = False, base_url: str = "") -> dict[str, Any]:
        rt = resolve(record_type)
        with self.store.read() as conn:
            record_id = ledger.find_id(conn, rt, ref)
            return Shaper(conn, self.store.zone, base_url).record(rt, record_id, expand=expand)

    def list(self, record_type: str, *, limit: int, offset: int, q: str | None, base_url: str) -> dict[str, Any]:
        rt = resolve(record_type)
        limit = MAX_LIMIT if limit is None else int(limit)
        offset = 0 if offset is None else int(offset)
        if not 1 <= limit <= MAX_LIMIT:
            raise ApiError(400, "INVALID_PARAMETER",
                           f"Invalid query parameter value: limit. The value must be between 1 and {MAX_LIMIT}.",
                           extra={"o:errorQueryParam": "limit"})
        if offset < 0:
            raise ApiError(400, "INVALID_PARAMETER",
                           "Invalid query parameter value: offset. The value must not be negative.",
                           extra={"o:errorQueryParam": "offset"})
        where, params = compile_filter(q, rt, self.settings.date_format)
        if rt is CUSTOMER:
            base_sql = f"FROM customer c WHERE {where}"
            id_col = "c.id"
        else:
            base_sql = f'FROM "transaction" t WHERE t.type = ? AND ({where})'
            params = [rt.trantype, *params]
            id_col = "t.id"
        with self.store.read() as conn:
            total = int(conn.execute(f"SELECT COUNT(*) {base_sql}", params).fetchone()[0])
            rows = conn.execute(f"SELECT {id_col} AS id {base_sql} ORDER BY {id_col} LIMIT ? OFFSET ?",
                                (*params, limit, offset)).fetchall()
        items = [{"links": self_links(record_href(base_url, rt.key, r["id"])), "id": str(r["id"])} for r in rows]
        has_more = offset + len(items) < total

        def page(at: int) -> str:
            query = {"limit": limit, "offset": at}
            if q:
                query["q"] = q
            return f"{record_href(base_url, rt.key)}?{urlencode(query)}"

        links = []
        if offset > 0:
            links.append({"rel": "previous", "href": page(max(0, offset - limit))})
            links.append({"rel": "first", "href": page(0)})
        if has_more:
            links.append({"rel": "next", "href": page(offset + len(items))})
        last = ((total - 1) // limit) * limit if total else 0
        links.append({"rel": "last", "href": page(last)})
        links.append({"rel": "self", "href": page(offset)})
        return {"links": links, "count": len(items), "hasMore": has_more, "items": items, "offset": offset,
                "totalResults": total}

    def metadata_catalog(self, record_type: str | None, *, base_url: str, accept: str) -> dict[str, Any]:
        return catalog.metadata_catalog(record_type, base_url=base_url, accept=accept)

    # ---- writes ----
    def create(self, record_type: str, body: dict, *, context: str = "WebServices") -> int:
        rt = resolve(record_type)
        catalog.check_body(rt, body)
        with self.store.write() as conn:
            ch = Change(conn, self.store, self.settings, context)
            record_id = rules.create(ch, rt, body)
            ch.finish(self.notify)
        return record_id

    def update(self, record_type: str, ref: str, body: dict, *, replace: set[str] = frozenset(),
               context: str = "WebServices") -> int:
        rt = resolve(record_type)
        catalog.check_body(rt, body)
        replace = self._replace(rt, replace)
        return self._write_existing(rt, ref, context,
                                    lambda ch, rt, record_id: rules.update(ch, rt, record_id, body, replace))

    def upsert(self, record_type: str, external_id: str, body: dict, *, context: str = "WebServices") -> int:
        rt = resolve(record_type)
        catalog.check_body(rt, body)
        eid = str(external_id)
        if eid.lower().startswith("eid:"):
            eid = eid[4:]
        if not eid:
            raise user_error("Please enter value(s) for: External ID", error_path="externalId")
        if body.get("externalId") not in (None, eid):
            raise user_error(f"The external ID in the request body ({body['externalId']}) does not match the "
                             f"external ID in the URL ({eid}).", error_path="externalId")
        body = {**body, "externalId": eid}
        with self.store.write() as conn:
            existing = ledger.find_by_external_id(conn, rt, eid)
            ch = Change(conn, self.store, self.settings, context)
            if existing is None:
                record_id = rules.create(ch, rt, body)
            else:
                # Sublists without a natural key (item lines, journal lines, deposit other/cash-back
                # lines, currencies) are replaced by what the PUT sends, so a repeated PUT leaves the
                # record as it was; apply and deposit-payment lines are keyed by document anyway.
                record_id = int(existing["id"])
                rules.update(ch, rt, record_id, body, {name for name in UPSERT_REPLACED if name in body})
            ch.finish(self.notify)
        return record_id

    def delete(self, record_type: str, ref: str, *, context: str = "WebServices") -> None:
        self._write_existing(resolve(record_type), ref, context, rules.delete)

    def void(self, record_type: str, ref: str, *, context: str = "UI") -> None:
        self._write_existing(resolve(record_type), ref, context, rules.void)

    def _write_existing(self, rt: RecordType, ref: str, context: str,
                        write: Callable[[Change, RecordType, int], None]) -> int:
        """One write transaction on an existing record (404 when there is none)."""
        with self.store.write() as conn:
            record_id = ledger.find_id(conn, rt, ref)
            ch = Change(conn, self.store, self.settings, context)
            write(ch, rt, record_id)
            ch.finish(self.notify)
        return record_id

    @staticmethod
    def _replace(rt: RecordType, replace: Any) -> set[str]:
        if isinstance(replace, str):
            replace = [replace]
        names = {part.strip() for x in (replace or ()) for part in str(x).split(",") if part.strip()}
        sp = catalog.spec(rt)
        for name in names:
            if sp.sublist(name) is None:
                raise ApiError(400, "INVALID_PARAMETER",
                               f"Invalid query parameter value: replace. {name} is not a sublist of {rt.rest}.",
                               extra={"o:errorQueryParam": "replace"})
        return names
