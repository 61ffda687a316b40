"""NetSuite links a Stripe object carries in its metadata (behaviour.md 5): invoice ids, invoice
number, customer id. A value that does not parse is a warning, not an error (decode.py explains)."""
from __future__ import annotations

import re
from collections.abc import Mapping

from ns_pipelines.stripe.fields import Warn

INVOICE_ID_KEYS = ("netsuite_invoice_id", "netsuite_invoice_ids")
_LIST_SEPARATORS = re.compile(r"[,;\s]+")


def netsuite_id(object_id: str, key: str, metadata: Mapping[str, str], warn: Warn) -> int | None:
    """metadata[key] as a NetSuite internal id, or None (with a warning when it is not one)."""
    raw = metadata.get(key, "").strip()
    if not raw:
        return None
    if raw.isascii() and raw.isdigit() and 0 < int(raw) < 2**63:
        return int(raw)
    warn(f"{object_id}: metadata.{key} {raw[:40]!r} is not a NetSuite internal id; left unlinked")
    return None


def netsuite_invoice_ids(object_id: str, metadata: Mapping[str, str], warn: Warn) -> str | None:
    """metadata netsuite_invoice_id and netsuite_invoice_ids as one normalized list "12,15"
    (order kept, repeats dropped), or None. Tokens that are not internal ids are warned about and
    dropped (an invoice number belongs in netsuite_invoice_number)."""
    ids: list[str] = []
    for key in INVOICE_ID_KEYS:
        for token in _LIST_SEPARATORS.split(metadata.get(key, "")):
            if not token:
                continue
            if token.isascii() and token.isdigit() and 0 < int(token) < 2**63:
                if str(int(token)) not in ids:
                    ids.append(str(int(token)))
            else:
                warn(f"{object_id}: metadata.{key} token {token[:40]!r} is not a NetSuite internal id; dropped")
    return ",".join(ids) or None
