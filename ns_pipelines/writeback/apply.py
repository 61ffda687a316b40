"""Applying the plan: every write is an upsert by external id, made concurrently within the
client's concurrency budget, logged in the same transaction that marks its plan row.

NetSuite refusing a write (a 4xx: locked record, closed period, invoice already paid) makes that
row `refused` with NetSuite's error text and the rest goes on; a write that got no answer (5xx
after the client's retries, dropped connection) is logged `failed` and stays planned for the
next run. Refused credentials stop the run at once (every other write would fail the same way).
Waves run in order, so a refund's payment is written before the refund.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine

from ns_pipelines.netsuite import (
    AuthenticationError,
    InvalidRequestError,
    NetSuiteError,
    PermissionDeniedError,
    RecordNotFoundError,
    RecordService,
)

from .exact_json import dumps
from .model import PAYMENT_RECORD, PlannedWrite
from .netsuite_io import get_exact
from .plan_store import (
    DONE,
    FAILED,
    PLANNED,
    REFUSED,
    WRITTEN,
    Attempt,
    known_netsuite_ids,
    note_not_attempted,
    record_attempt,
)
from .refund_reduction import reduced_apply_items
from .stripe_links import StripeLinker

REFUSALS = (InvalidRequestError, PermissionDeniedError, RecordNotFoundError)


@dataclass
class ApplyReport:
    written: int = 0
    refused: int = 0
    failed: int = 0
    skipped: int = 0  # not attempted: a write it depends on was refused or failed
    blocked: int = 0  # could not be planned (no NetSuite call)
    stripe_linked: int = 0
    stripe_failed: int = 0
    seconds: float = 0.0
    problems: list[tuple[str, str, str]] = field(default_factory=list)  # (external id, action, text)

    @property
    def attempted(self) -> int:
        return self.written + self.refused + self.failed


class Applier:
    def __init__(self, records: RecordService, engine: Engine, *, run_id: str | None = None,
                 linker: StripeLinker | None = None, workers: int | None = None,
                 after_write: Callable[[PlannedWrite, int], None] | None = None) -> None:
        self.records = records
        self.engine = engine
        self.run_id = run_id
        self.linker = linker
        self.workers = workers or records.client.config.concurrency
        #: called after NetSuite accepted a write and before it is logged (tests inject crashes here)
        self.after_write = after_write
        self._lock = threading.Lock()
        self._known: dict[str, int] = {}
        self._bad: set[str] = set()
        self.report = ApplyReport()

    def apply(self, writes: Sequence[PlannedWrite]) -> ApplyReport:
        started = time.monotonic()
        self._known = known_netsuite_ids(self.engine)
        for wave in sorted({w.wave for w in writes}):
            self._run_wave([w for w in writes if w.wave == wave])
        self.report.seconds = time.monotonic() - started
        return self.report

    def _run_wave(self, batch: list[PlannedWrite]) -> None:
        pool = ThreadPoolExecutor(max_workers=max(1, self.workers), thread_name_prefix="writeback")
        try:
            futures: list[Future[None]] = [pool.submit(self._one, w) for w in batch]
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
            for future in done:
                if future.exception() is not None:
                    raise future.exception()  # type: ignore[misc]
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown(wait=True)

    # ---- one write ----
    def _one(self, w: PlannedWrite) -> None:
        if w.blocked:
            with self._lock:
                self.report.blocked += 1
                self.report.problems.append((w.external_id, w.action, w.blocked))
            return
        with self._lock:
            bad_dep = next((d for d in w.depends_on if d in self._bad), None)
        if bad_dep is not None:
            note_not_attempted(self.engine, w.key, f"not attempted: {bad_dep} was refused or failed in this run")
            with self._lock:
                self.report.skipped += 1
            return
        if w.reduce_applications and not self._free_refund_amount(w):
            return
        payload = self._resolved(w.payload)
        try:
            netsuite_id = self.records.upsert(w.record_type, w.external_id, payload)
        except AuthenticationError:
            raise
        except REFUSALS as exc:
            self._finish(w, payload, REFUSED, str(exc), None, REFUSED)
            return
        except NetSuiteError as exc:
            self._finish(w, payload, FAILED, str(exc), None, PLANNED)
            return
        if self.after_write is not None:
            self.after_write(w, netsuite_id)
        self._finish(w, payload, WRITTEN, f"{w.record_type} {netsuite_id}", netsuite_id, DONE)
        self._link_stripe(w, netsuite_id)

    def _finish(self, w: PlannedWrite, payload: dict[str, Any], status: str, response: str,
                netsuite_id: int | None, plan_status: str) -> None:
        record_attempt(self.engine, Attempt(w.external_id, w.action, w.record_type, w.reason, dumps(payload),
                                            status, response, netsuite_id, w.stripe_object_id),
                       run_id=self.run_id, plan_status=plan_status)
        with self._lock:
            if status == WRITTEN:
                self.report.written += 1
                self._known[w.external_id] = int(netsuite_id)  # type: ignore[arg-type]
            else:
                self._bad.add(w.external_id)
                self.report.refused += status == REFUSED
                self.report.failed += status == FAILED
                self.report.problems.append((w.external_id, w.action, response))

    def _resolved(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Replace `{"externalId": ...}` document references by internal ids the run knows."""
        apply = payload.get("apply")
        if not apply:
            return payload
        items = []
        for item in apply.get("items") or []:
            doc = item.get("doc") or {}
            eid = doc.get("externalId")
            with self._lock:
                known = self._known.get(eid) if eid else None
            items.append({**item, "doc": {"id": str(known)}} if known is not None else item)
        return {**payload, "apply": {**apply, "items": items}}

    def _free_refund_amount(self, w: PlannedWrite) -> bool:
        """Take the refund's amount off the payment's invoices first (logged as its own write)."""
        payment_eid = w.depends_on[0]
        amount = Decimal(str(w.payload["apply"]["items"][0]["amount"]))
        request: dict[str, Any] = {}
        try:
            payment = get_exact(self.records, PAYMENT_RECORD, "eid:" + payment_eid, expand=True)
            items = reduced_apply_items(payment, amount, w.reduce_applications)
            if not items:
                return True
            request = {"apply": {"items": items}}
            netsuite_id = self.records.upsert(PAYMENT_RECORD, payment_eid, request)
        except AuthenticationError:
            raise
        except (ValueError, *REFUSALS) as exc:
            self._log_reduction(w, payment_eid, request, REFUSED, str(exc), None)
            self._finish(w, w.payload, REFUSED, f"not written: unapplying the payment first failed: {exc}",
                         None, REFUSED)
            return False
        except NetSuiteError as exc:
            self._log_reduction(w, payment_eid, request, FAILED, str(exc), None)
            self._finish(w, w.payload, FAILED, f"not written: unapplying the payment first failed: {exc}",
                         None, PLANNED)
            return False
        self._log_reduction(w, payment_eid, request, WRITTEN, f"{PAYMENT_RECORD} {netsuite_id}", netsuite_id)
        return True

    def _log_reduction(self, w: PlannedWrite, payment_eid: str, request: dict[str, Any], status: str,
                       response: str, netsuite_id: int | None) -> None:
        record_attempt(self.engine, Attempt(
            payment_eid, "unapply_for_refund", PAYMENT_RECORD,
            f"make room for refund {w.stripe_object_id} ({w.external_id}) on the payment", dumps(request),
            status, response, netsuite_id, w.stripe_object_id), run_id=self.run_id, plan_status=None)

    def _link_stripe(self, w: PlannedWrite, netsuite_id: int) -> None:
        if self.linker is None or not w.stripe_object_id or not w.stripe_metadata_key:
            return
        request = dumps({"metadata": {w.stripe_metadata_key: str(netsuite_id)}})
        try:
            self.linker.link(w.stripe_object_id, w.stripe_metadata_key, netsuite_id)
        except Exception as exc:  # noqa: BLE001 - any Stripe failure is logged; NetSuite has the record
            status, response = FAILED, f"{type(exc).__name__}: {exc}"
        else:
            status, response = WRITTEN, f"metadata.{w.stripe_metadata_key} = {netsuite_id}"
        record_attempt(self.engine, Attempt(
            w.external_id, "stripe_metadata", "stripe:" + w.stripe_object_id.split("_")[0], w.reason, request,
            status, response, netsuite_id, w.stripe_object_id), run_id=self.run_id, plan_status=None)
        with self._lock:
            if status == WRITTEN:
                self.report.stripe_linked += 1
            else:
                self.report.stripe_failed += 1
