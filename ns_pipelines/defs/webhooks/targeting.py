"""From inbox events to one targeted run: which tables, which record ids, which run key.

    run = plan_targeted_run(events)          # None when no event names a record we sync
    run.run_request()                        # RunRequest(run_key="netsuite-events:<last inbox id>", ...)

One run per batch of events (not one per record type): the raw step syncs every targeted type
on one NetSuite client and one pool slot, and the receivables are rebuilt once.
- every record type with events: its table, with exactly those ids;
- netsuite/customers always: the customers named by events, plus (in the step) the customers of
  the targeted documents, whose balances NetSuite changed without a customer event;
- netsuite/deleted_records when any event is a delete: its incremental pass records the deletion
  (the targeted read has already soft-deleted the record it no longer finds);
- the receivables (ar/*), rebuilt from the raw tables after them.
The run key is the batch's highest inbox id: the same events always give the same key (the
daemon launches a key once), and later events always give a new one.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import dagster as dg

from ns_pipelines.defs.ar import AR_ASSETS
from ns_pipelines.defs.netsuite.assets import OP_NAME, RAW_ASSETS
from ns_pipelines.webhooks.inbox import InboxEvent

RUN_KEY_PREFIX = "netsuite-events"
TRIGGER_TAGS = {"ns/trigger": "webhook"}


def run_key(last_inbox_id: int) -> str:
    return f"{RUN_KEY_PREFIX}:{last_inbox_id}"


@dataclass(frozen=True)
class TargetedRun:
    record_ids: dict[str, list[int]]  # record type -> sorted internal ids
    with_deletions: bool
    first_inbox_id: int
    last_inbox_id: int
    events: int
    ignored: list[str] = field(default_factory=list)  # record types we do not sync (should not happen)

    @property
    def asset_keys(self) -> list[dg.AssetKey]:
        record_types = {*self.record_ids, "customer"} | ({"deletedrecord"} if self.with_deletions else set())
        raw = [spec.key for rt, (spec, _) in RAW_ASSETS.items() if rt in record_types]
        return raw + [asset.key for asset in AR_ASSETS]

    @property
    def run_key(self) -> str:
        return run_key(self.last_inbox_id)

    def run_config(self) -> dict:
        return {"ops": {OP_NAME: {"config": {"record_ids": {rt: list(ids) for rt, ids in self.record_ids.items()}}}}}

    def tags(self) -> dict[str, str]:
        counts = ",".join(f"{rt}:{len(ids)}" for rt, ids in self.record_ids.items())
        return {**TRIGGER_TAGS, "ns/inbox_ids": f"{self.first_inbox_id}-{self.last_inbox_id}",
                "ns/events": str(self.events), "ns/record_ids": counts}

    def run_request(self) -> dg.RunRequest:
        return dg.RunRequest(run_key=self.run_key, run_config=self.run_config(), asset_selection=self.asset_keys,
                             tags=self.tags())


def plan_targeted_run(events: Sequence[InboxEvent]) -> TargetedRun | None:
    """The run that re-reads what `events` name (ids ascending), or None if they name nothing we sync."""
    if not events:
        return None
    ids: dict[str, set[int]] = {}
    ignored: set[str] = set()
    for event in events:
        if event.record_type in RAW_ASSETS and event.record_type not in ("paymentapplication", "deletedrecord"):
            ids.setdefault(event.record_type, set()).add(int(event.record_id))
        else:
            ignored.add(event.record_type)
    if not ids:
        return None
    ordered = {rt: sorted(ids[rt]) for rt in RAW_ASSETS if rt in ids}
    return TargetedRun(record_ids=ordered, with_deletions=any(e.event == "delete" for e in events),
                       first_inbox_id=min(e.id for e in events), last_inbox_id=max(e.id for e in events),
                       events=len(events), ignored=sorted(ignored))
