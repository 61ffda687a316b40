"""Turning ns_pipelines.ar.checks outcomes into Dagster check results."""
from __future__ import annotations

from typing import Any

import dagster as dg


def metadata_value(value: Any) -> Any:
    """Numbers become int/float metadata (the UI plots them), lists and dicts JSON, the rest text."""
    if isinstance(value, bool):
        return dg.MetadataValue.bool(value)
    if isinstance(value, int):
        return dg.MetadataValue.int(value)
    if isinstance(value, float):
        return dg.MetadataValue.float(value)
    if isinstance(value, (list, dict)):
        return dg.MetadataValue.json(value)
    if value is None:
        return dg.MetadataValue.null()
    return dg.MetadataValue.text(str(value))


def check_result(
    outcome: Any,
    *,
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
    asset_key: dg.AssetKey | None = None,
    check_name: str | None = None,
    **extra: Any,
) -> dg.AssetCheckResult:
    """An AssetCheckResult from a CheckOutcome(passed, description, metadata)."""
    metadata = {key: metadata_value(value) for key, value in {**outcome.metadata, **extra}.items()}
    return dg.AssetCheckResult(
        passed=bool(outcome.passed),
        severity=severity,
        description=outcome.description,
        metadata=metadata,
        asset_key=asset_key,
        check_name=check_name,
    )
