"""Reading NetSuite records with exact amounts (writes need nothing special: the client sends every
`json=` body as exact-decimal JSON, ns_pipelines.netsuite.exact_json)."""
from __future__ import annotations

from typing import Any

from ns_pipelines.netsuite import NetSuiteError, RecordService

from .exact_json import loads


def get_exact(records: RecordService, record_type: str, ref: Any, *, expand: bool = False) -> dict[str, Any]:
    """GET a record with its numbers as Decimal (RecordService.get parses them as floats)."""
    params = {"expandSubResources": "true"} if expand else None
    response = records.client.request("GET", records.path(record_type, ref), params=params)
    body = loads(response.text)
    if not isinstance(body, dict):
        raise NetSuiteError("NetSuite answered JSON that is not an object", status=response.status_code)
    return body
