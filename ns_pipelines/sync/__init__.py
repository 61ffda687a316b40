"""Extraction from NetSuite into the raw netsuite_* tables (no Dagster). docs/sync-design.md.

    from ns_pipelines.sync import SyncSettings, sync_record_type, sync_deletions, RECORD_TYPES

    settings = SyncSettings.from_env()
    for record_type in RECORD_TYPES:
        result = sync_record_type(client, engine, record_type, settings=settings)
    results = sync_concurrently(client, engine, RECORD_TYPES, settings=settings)  # all at once, one budget

- settings.py   SyncSettings.from_env(): account time zone, overlap, parallel ranges, intercompany
- sources.py    one RecordSource per record type: SuiteQL, decoding kinds, mapping to table rows
- validation.py pandera DataFrameModels per raw table; validate_batch()
- reading.py    keyset reads over resumable id intervals, sequential or parallel
- runner.py     sync_record_type(), sync_deletions(), SyncResult (passes, cursor, soft deletes)
- concurrent.py sync_concurrently(): several record types at once on one client (one budget)
"""
from ns_pipelines.sync.concurrent import (
    ConcurrentSyncError,
    ConcurrentSyncResult,
    iter_sync_concurrently,
    sync_concurrently,
)
from ns_pipelines.sync.runner import MODES, RECORD_TYPES, Progress, SyncResult, sync_all, sync_deletions, sync_record_type
from ns_pipelines.sync.settings import SyncConfigError, SyncSettings
from ns_pipelines.sync.sources import SOURCES, RecordSource
from ns_pipelines.sync.validation import MODELS, SyncError, SyncValidationError, validate_batch

__all__ = [
    "MODELS", "MODES", "RECORD_TYPES", "SOURCES", "ConcurrentSyncError", "ConcurrentSyncResult", "Progress",
    "RecordSource", "SyncConfigError", "SyncError", "SyncResult", "SyncSettings", "SyncValidationError",
    "iter_sync_concurrently", "sync_all", "sync_concurrently", "sync_deletions", "sync_record_type",
    "validate_batch",
]
