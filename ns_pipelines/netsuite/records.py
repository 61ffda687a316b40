"""The REST record service: read, create, update, upsert (by external id) and delete records.

Creates and upserts answer 204 No Content with the record's URL in `Location`; the id is parsed
from it (netsuite-api.md section 5). Writes that must be safe to repeat use `upsert` (PUT
.../eid:<external id>), which the transport retries like any idempotent request.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from .errors import NetSuiteError, RecordNotFoundError

if TYPE_CHECKING:
    import requests

    from .transport import NetSuiteClient

RECORD_PATH = "/services/rest/record/v1"
GOVERNANCE_PATH = "/services/rest/system/v1/governanceLimits"
_RECORD_TYPE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_LOCATION_ID = re.compile(r"/(\d+)/?$")

RecordRef = int | str  # an internal id (104, "104") or "eid:<external id>"


def external_ref(external_id: str) -> str:
    """`eid:<external id>` with the external id URL-encoded for a path segment."""
    if not external_id:
        raise ValueError("external id must not be empty")
    return "eid:" + quote(external_id, safe=":")


def _ref(ref: RecordRef) -> str:
    if isinstance(ref, bool):
        raise TypeError("a record reference must be an id or 'eid:<external id>'")
    if isinstance(ref, int):
        return str(ref)
    text = str(ref).strip()
    if text.startswith("eid:"):
        return external_ref(text[4:])
    if not text.isdigit():
        raise ValueError(f"not a record id: {text!r} (use an internal id or 'eid:<external id>')")
    return text


def _record_type(record_type: str) -> str:
    if not _RECORD_TYPE.match(record_type or ""):
        raise ValueError(f"not a record type: {record_type!r}")
    return record_type


def id_from_location(response: "requests.Response") -> int | None:
    location = response.headers.get("Location")
    if not location:
        return None
    match = _LOCATION_ID.search(urlsplit(location).path)
    return int(match.group(1)) if match else None


class RecordService:
    """REST record operations through a NetSuiteClient."""

    def __init__(self, client: "NetSuiteClient") -> None:
        self.client = client

    @staticmethod
    def path(record_type: str, ref: RecordRef | None = None) -> str:
        base = f"{RECORD_PATH}/{_record_type(record_type)}"
        return base if ref is None else f"{base}/{_ref(ref)}"

    def get(self, record_type: str, id: RecordRef, *, expand_sub_resources: bool = False,
            fields: Iterable[str] | None = None) -> dict[str, Any]:
        """GET a record (sublists inline with `expand_sub_resources`)."""
        params: dict[str, str] = {}
        if expand_sub_resources:
            params["expandSubResources"] = "true"
        if fields:
            params["fields"] = ",".join(fields)
        response = self.client.request("GET", self.path(record_type, id), params=params or None)
        return _json_object(response)

    def create(self, record_type: str, body: Mapping[str, Any]) -> int:
        """POST a new record; its internal id (from `Location`). Not retried after a 5xx or a
        dropped connection (it may have been created): use `upsert` for writes that must be safe
        to repeat."""
        response = self.client.request("POST", self.path(record_type), json=dict(body))
        record_id = id_from_location(response)
        if record_id is None:
            record_id = _id_from_body(response)
        if record_id is None:
            raise NetSuiteError(
                f"NetSuite created a {record_type} but answered {response.status_code} without its id "
                f"(no Location header)", status=response.status_code, method="POST",
                path=self.path(record_type))
        return record_id

    def update(self, record_type: str, id: RecordRef, body: Mapping[str, Any], *,
               replace: Iterable[str] | str | None = None) -> None:
        """PATCH a record. Keyed sublists merge; `replace` names sublists whose unmatched lines
        are removed (`?replace=apply`)."""
        params = None
        if replace:
            params = {"replace": replace if isinstance(replace, str) else ",".join(replace)}
        self.client.request("PATCH", self.path(record_type, id), json=dict(body), params=params)

    def upsert(self, record_type: str, external_id: str, body: Mapping[str, Any]) -> int:
        """PUT .../eid:<external id>: create the record or update the one with that external id;
        its internal id. Safe to repeat (retried on 5xx and dropped connections)."""
        path = self.path(record_type, "eid:" + external_id)
        response = self.client.request("PUT", path, json=dict(body))
        record_id = id_from_location(response) or _id_from_body(response)
        if record_id is None:  # an update may answer without Location: read the id back
            record = self.get(record_type, "eid:" + external_id, fields=["id"])
            record_id = _int_or_none(record.get("id"))
        if record_id is None:
            raise NetSuiteError(f"NetSuite upserted {record_type} {external_id!r} but its id is unknown",
                                status=response.status_code, method="PUT", path=path)
        return record_id

    def delete(self, record_type: str, id: RecordRef) -> None:
        """DELETE a record. A 404 on a retried attempt means an earlier attempt deleted it."""
        try:
            self.client.request("DELETE", self.path(record_type, id))
        except RecordNotFoundError as exc:
            if exc.attempts > 1:
                return
            raise

    def list_ids(self, record_type: str, q: str | None = None, *, page_size: int = 1000) -> Iterator[int]:
        """Ids of a record type from the collection GET (`q` e.g. `lastModifiedDate AFTER "1/31/2024"`)."""
        if not 1 <= page_size <= 1000:
            raise ValueError("page_size must be between 1 and 1000")
        offset = 0
        path = self.path(record_type)
        while True:
            params: dict[str, Any] = {"limit": page_size, "offset": offset}
            if q:
                params["q"] = q
            body = _json_object(self.client.request("GET", path, params=params))
            items = body.get("items") or []
            for item in items:
                record_id = _int_or_none(item.get("id")) if isinstance(item, dict) else None
                if record_id is None:
                    raise NetSuiteError(f"{record_type} collection item without an id: {item!r}"[:300])
                yield record_id
            if not body.get("hasMore") or not items:
                return
            offset += len(items)

    def governance_limits(self) -> dict[str, Any]:
        """GET /services/rest/system/v1/governanceLimits (administrators only), e.g.
        {"accountConcurrencyLimit": 5, "integrationConcurrencyLimit": 2, ...}."""
        return _json_object(self.client.request("GET", GOVERNANCE_PATH))


def _json_object(response: "requests.Response") -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise NetSuiteError(f"NetSuite answered {response.status_code} with a body that is not JSON",
                            status=response.status_code) from None
    if not isinstance(body, dict):
        raise NetSuiteError("NetSuite answered JSON that is not an object", status=response.status_code)
    return body


def _id_from_body(response: "requests.Response") -> int | None:
    if not response.content:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    return _int_or_none(body.get("id")) if isinstance(body, dict) else None


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None
