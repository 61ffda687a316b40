"""Reconciliation settings, read from the environment (docs/reconciliation.md, "Settings")."""
from __future__ import annotations

import datetime as dt
import os
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from ns_pipelines.sync.settings import DEFAULT_TIMEZONE, account_zone

ENV = {
    "start_date": "NS_RECON_START_DATE",
    "pending_charges": "NS_RECON_PENDING_CHARGES",
    "chargeback_policy": "NS_RECON_CHARGEBACK_POLICY",
    "memo_template": "NS_RECON_MEMO_TEMPLATE",
    "fee_account_id": "NS_RECON_FEE_ACCOUNT_ID",
    "adjustment_account_id": "NS_RECON_ADJUSTMENT_ACCOUNT_ID",
    "timezone": "NETSUITE_TIMEZONE",
    "intercompany_customer_ids": "NS_INTERCOMPANY_CUSTOMER_IDS",
    "exclude_intercompany": "NS_EXCLUDE_INTERCOMPANY",
}
DEFAULT_MEMO_TEMPLATE = "Stripe {charge_id}"
MEMO_FIELDS = frozenset({"provider", "charge_id", "payment_intent_id", "amount", "currency", "date", "payout_id"})

PendingCharges = Literal["hold", "apply"]
ChargebackPolicy = Literal["unapply", "credit_memo_refund"]


class ReconSettingsError(ValueError):
    """A reconciliation setting is invalid; the message names the variable."""


def check_memo_template(template: str) -> str:
    """The template, if every field it uses is one of MEMO_FIELDS."""
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as exc:
        raise ReconSettingsError(f"{ENV['memo_template']}={template!r} is not a valid template: {exc}") from None
    unknown = names - MEMO_FIELDS
    if unknown:
        raise ReconSettingsError(
            f"{ENV['memo_template']}={template!r} uses unknown fields {sorted(unknown)}; "
            f"allowed: {', '.join(sorted(MEMO_FIELDS))}")
    return template


@dataclass(frozen=True)
class ReconSettings:
    start_date: dt.date | None = None
    pending_charges: PendingCharges = "hold"
    chargeback_policy: ChargebackPolicy = "unapply"
    memo_template: str = DEFAULT_MEMO_TEMPLATE
    fee_account_id: int | None = None
    adjustment_account_id: int | None = None
    timezone: str = DEFAULT_TIMEZONE
    intercompany_customer_ids: frozenset[int] = field(default_factory=frozenset)
    exclude_intercompany: bool = True

    def __post_init__(self) -> None:
        if self.pending_charges not in ("hold", "apply"):
            raise ReconSettingsError(f"{ENV['pending_charges']} must be hold or apply, got {self.pending_charges!r}")
        if self.chargeback_policy not in ("unapply", "credit_memo_refund"):
            raise ReconSettingsError(
                f"{ENV['chargeback_policy']} must be unapply or credit_memo_refund, got {self.chargeback_policy!r}")
        check_memo_template(self.memo_template)
        account_zone(self.timezone)

    @property
    def zone(self) -> dt.tzinfo:
        return account_zone(self.timezone)

    def local_date(self, moment: dt.datetime | None) -> dt.date | None:
        """The date of `moment` in the account's time zone (NetSuite's trandate)."""
        return None if moment is None else moment.astimezone(self.zone).date()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "ReconSettings":
        env = os.environ if environ is None else environ

        def get(key: str) -> str | None:
            value = (env.get(ENV[key]) or "").strip()
            return value or None

        def integer(key: str) -> int | None:
            text = get(key)
            try:
                return None if text is None else int(text)
            except ValueError:
                raise ReconSettingsError(f"{ENV[key]} must be a NetSuite internal id, got {text!r}") from None

        start = get("start_date")
        try:
            start_date = None if start is None else dt.date.fromisoformat(start)
        except ValueError:
            raise ReconSettingsError(f"{ENV['start_date']} must be a date YYYY-MM-DD, got {start!r}") from None
        ids = set()
        for part in (get("intercompany_customer_ids") or "").replace(";", ",").split(","):
            if part.strip():
                try:
                    ids.add(int(part))
                except ValueError:
                    raise ReconSettingsError(
                        f"{ENV['intercompany_customer_ids']} must be a comma list of ids, got {part!r}") from None
        exclude = (get("exclude_intercompany") or "true").lower() not in {"0", "false", "f", "no", "n", "off"}
        return cls(
            start_date=start_date,
            pending_charges=(get("pending_charges") or "hold").lower(),  # type: ignore[arg-type]
            chargeback_policy=(get("chargeback_policy") or "unapply").lower(),  # type: ignore[arg-type]
            memo_template=env.get(ENV["memo_template"]) or DEFAULT_MEMO_TEMPLATE,
            fee_account_id=integer("fee_account_id"),
            adjustment_account_id=integer("adjustment_account_id"),
            timezone=get("timezone") or DEFAULT_TIMEZONE,
            intercompany_customer_ids=frozenset(ids),
            exclude_intercompany=exclude,
        )
