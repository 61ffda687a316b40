"""NetSuite writes with exact amounts: RecordService.upsert sending its body as exact-decimal JSON.

The client's `json=` goes through the standard library encoder, which cannot write Decimal; the
writeback sends the body text itself (Content-Type application/json) so amounts are never floats.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ns_pipelines.netsuite import NetSuiteError, RecordService
from ns_pipelines.netsuite.records import id_from_location

from .exact_json import dumps

JSON_HEADERS = {"Content-Type": "application/json"}


class ExactRecordService(RecordService):
    """RecordService whose upsert and update send amounts as exact JSON numbers."""

    def upsert(self, record_type: str, external_id: str, body: Mapping[str, Any]) -> int:
        path = self.path(record_type, "eid:" + external_id)
        response = self.client.request("PUT", path, data=dumps(dict(body)).encode(), headers=JSON_HEADERS)
        record_id = id_from_location(response)
        if record_id is None:  # an update may answer without Location: read the id back
            record = self.get(record_type, "eid:" + external_id, fields=["id"])
            record_id = int(record["id"]) if str(record.get("id", "")).isdigit() else None
        if record_id is None:
            raise NetSuiteError(f"NetSuite upserted {record_type} {external_id!r} but its id is unknown",
                                status=response.status_code, method="PUT", path=path)
        return record_id

    def update(self, record_type: str, id: Any, body: Mapping[str, Any], *, replace: Any = None) -> None:
        params = {"replace": replace if isinstance(replace, str) else ",".join(replace)} if replace else None
        self.client.request("PATCH", self.path(record_type, id), data=dumps(dict(body)).encode(),
                            headers=JSON_HEADERS, params=params)


def get_exact(records: RecordService, record_type: str, ref: Any, *, expand: bool = False) -> dict[str, Any]:
    """GET a record with its numbers as Decimal (RecordService.get parses them as floats)."""
    from .exact_json import loads

    params = {"expandSubResources": "true"} if expand else None
    response = records.client.request("GET", records.path(record_type, ref), params=params)
    body = loads(response.text)
    if not isinstance(body, dict):
        raise NetSuiteError("NetSuite answered JSON that is not an object", status=response.status_code)
    return body
