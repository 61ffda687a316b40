"""Writeback configuration, from environment variables (nothing about Stripe lives in NetSuite).

Writing is off unless NS_WRITEBACK_ENABLED=true (or a job's config turns it on): without it the
pipeline only materializes the plan.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

ENABLED_ENV = "NS_WRITEBACK_ENABLED"
PAYMENT_ACCOUNT_ENV = "NS_WRITEBACK_PAYMENT_ACCOUNT_ID"
BANK_ACCOUNTS_ENV = "NS_WRITEBACK_BANK_ACCOUNTS"
CREDIT_ITEM_ENV = "NS_WRITEBACK_CREDIT_ITEM_ID"
_TRUE = {"1", "true", "yes", "on"}


class WritebackConfigError(ValueError):
    """A writeback variable that cannot be used; names the variable."""


@dataclass(frozen=True)
class WritebackSettings:
    """What the writeback itself decides. Memo template, chargeback policy, start date and the fee
    and adjustment accounts belong to the reconciliation (NS_RECON_*, docs/reconciliation.md),
    whose rows the writeback turns into requests."""

    enabled: bool = False
    #: a clearing account for customer payments; None posts them to Undeposited Funds (undepFunds),
    #: which the payouts' deposits need
    payment_account_id: int | None = None
    #: bank account per settlement currency (ISO upper case); else the only active one in NetSuite
    bank_account_ids: Mapping[str, int] = field(default_factory=dict)
    #: the item on credit memo lines (chargeback policy credit_memo_refund), e.g. a "Stripe Dispute"
    #: item; NetSuite accounts with item-based lines require one
    credit_item_id: int | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> "WritebackSettings":
        env = os.environ if environ is None else environ
        values: dict[str, object] = {
            "enabled": (env.get(ENABLED_ENV) or "").strip().lower() in _TRUE,
            "payment_account_id": _int(env, PAYMENT_ACCOUNT_ENV),
            "bank_account_ids": _bank_accounts(env.get(BANK_ACCOUNTS_ENV) or ""),
            "credit_item_id": _int(env, CREDIT_ITEM_ENV),
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]


def _int(env: Mapping[str, str], name: str) -> int | None:
    text = (env.get(name) or "").strip()
    if not text:
        return None
    if not text.isdigit() or int(text) < 1:
        raise WritebackConfigError(f"{name} must be a positive integer, got {text!r}")
    return int(text)


def _bank_accounts(text: str) -> dict[str, int]:
    """`USD=21,EUR=23` -> {"USD": 21, "EUR": 23}."""
    out: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        code, _, account = part.partition("=")
        if len(code.strip()) != 3 or not account.strip().isdigit():
            raise WritebackConfigError(f"{BANK_ACCOUNTS_ENV} entries look like USD=21, got {part!r}")
        out[code.strip().upper()] = int(account.strip())
    return out
