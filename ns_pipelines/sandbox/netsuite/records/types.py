"""The record types the REST record service serves, and how each maps onto the store."""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import ApiError


@dataclass(frozen=True)
class RecordType:
    key: str  # lower-case record id: 'customerpayment' (the store's recordtype, hrefs, notify)
    rest: str  # REST name as documented: 'customerPayment'
    display: str  # deletedrecord.type: 'Customer Payment'
    trantype: str | None  # transaction.type ('CustPymt'); None for customer
    tranid_prefix: str = ""

    @property
    def is_transaction(self) -> bool:
        return self.trantype is not None


CUSTOMER = RecordType("customer", "customer", "Customer", None)
INVOICE = RecordType("invoice", "invoice", "Invoice", "CustInvc", "INV")
PAYMENT = RecordType("customerpayment", "customerPayment", "Customer Payment", "CustPymt", "PYMT")
CREDIT_MEMO = RecordType("creditmemo", "creditMemo", "Credit Memo", "CustCred", "CM")
REFUND = RecordType("customerrefund", "customerRefund", "Customer Refund", "CustRfnd", "RFND")
DEPOSIT = RecordType("deposit", "deposit", "Deposit", "Deposit", "DEP")
JOURNAL = RecordType("journalentry", "journalEntry", "Journal Entry", "Journal", "JE")

RECORD_TYPES: dict[str, RecordType] = {
    rt.key: rt for rt in (CUSTOMER, INVOICE, PAYMENT, CREDIT_MEMO, REFUND, DEPOSIT, JOURNAL)
}
BY_TRANTYPE: dict[str, RecordType] = {rt.trantype: rt for rt in RECORD_TYPES.values() if rt.trantype}


def resolve(record_type: str) -> RecordType:
    """The record type named in a URL, case-insensitively; unknown types answer 404."""
    rt = RECORD_TYPES.get((record_type or "").strip().lower())
    if rt is None:
        raise ApiError(404, "NONEXISTENT_ID",
                       f"Record type '{record_type}' does not exist.",
                       extra={"o:errorUrl": f"/services/rest/record/v1/{record_type}"})
    return rt
