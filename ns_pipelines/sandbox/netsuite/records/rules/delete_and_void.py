"""Deleting records (refused while other records depend on them) and voiding transactions."""
from __future__ import annotations

import sqlite3
from typing import Any

from ...errors import user_error
from .. import ledger
from ..changes import Change
from ..types import RecordType

DEPENDENT_TEXT = "This record cannot be deleted because it has dependent records."

# Types whose links to later documents (applications, deposits, refunds) make those depend on
# them; a deposit's own links only point back at what it deposits, which goes free with it.
_DEPENDED_ON_TYPES = ("CustInvc", "Journal", "CustPymt", "CustCred", "CustRfnd")


def record_deletion(ch: Change, rt: RecordType, record_id: int, name: Any, eid: Any) -> None:
    """The deletedrecord row a deletion leaves behind."""
    from ...seed import RECORD_TYPE_IDS  # NetSuite's numeric record type ids, as the seed writes them

    ch.conn.execute("INSERT INTO deletedrecord (recordid, recordtypeid, scriptid, type, name, externalid, context, "
                    "deleteddate) VALUES (?,?,?,?,?,?,?,?)",
                    (record_id, RECORD_TYPE_IDS.get(rt.key), rt.key, rt.display, name, eid, ch.context, ch.now))


def _has_dependents(conn: sqlite3.Connection, row: sqlite3.Row) -> bool:
    if row["type"] not in _DEPENDED_ON_TYPES:
        return False
    return conn.execute("SELECT 1 FROM nexttransactionlinelink WHERE previousdoc = ? LIMIT 1",
                        (row["id"],)).fetchone() is not None


def _claim_linked(ch: Change, tran_id: int) -> set[int]:
    """The documents linked to this one, which the write changes too: refused while locked."""
    linked = ledger.linked_ids(ch.conn, tran_id)
    for other in linked:
        ch.check_locked(other)
    return linked


def _drop_links(conn: sqlite3.Connection, tran_id: int) -> None:
    conn.execute("DELETE FROM nexttransactionlinelink WHERE previousdoc = ? OR nextdoc = ?", (tran_id, tran_id))


def delete_transaction(ch: Change, rt: RecordType, tran_id: int) -> None:
    conn = ch.conn
    ch.check_locked(tran_id)
    row = ledger.tran(conn, tran_id)
    if _has_dependents(conn, row):
        raise user_error(DEPENDENT_TEXT)
    linked = _claim_linked(ch, tran_id)
    ch.touch(tran_id, *linked)
    _drop_links(conn, tran_id)
    conn.execute("DELETE FROM transactionline WHERE \"transaction\" = ?", (tran_id,))
    conn.execute('DELETE FROM "transaction" WHERE id = ?', (tran_id,))
    ch.deleted.add(tran_id)
    record_deletion(ch, rt, tran_id, row["tranid"], row["externalid"])
    ch.set_primary(rt, tran_id, "delete")


def _refuse_void(conn: sqlite3.Connection, row: sqlite3.Row) -> None:
    if row["voided"] == "T":
        raise user_error("This transaction has already been voided.")
    if row["type"] not in ("CustPymt", "CustCred", "CustRfnd"):
        return
    if ledger.deposit_of(conn, row["id"]) is not None:
        raise user_error("This transaction cannot be voided because it has been deposited.")
    if conn.execute("SELECT 1 FROM nexttransactionlinelink WHERE previousdoc = ? AND nexttype = 'CustRfnd' "
                    "LIMIT 1", (row["id"],)).fetchone():
        raise user_error("This transaction cannot be voided because it has been refunded.")


def void_transaction(ch: Change, rt: RecordType, tran_id: int) -> None:
    conn = ch.conn
    ch.check_locked(tran_id)
    row = ledger.tran(conn, tran_id)
    _refuse_void(conn, row)
    linked = _claim_linked(ch, tran_id)
    ch.set_primary(rt, tran_id, "edit")
    ch.touch(*linked)
    if row["type"] == "Deposit":
        # the deposited payments' lines go; the deposit keeps its other and cash-back lines
        for line_id in ledger.payment_line_ids(conn, tran_id):
            conn.execute("DELETE FROM transactionline WHERE \"transaction\" = ? AND id = ? AND mainline = 'F'",
                         (tran_id, line_id))
    _drop_links(conn, tran_id)
    sets = "voided = 'T', status = 'V', lastmodifieddate = ?"
    if row["type"] == "CustInvc":
        sets += ", foreignamountpaid = 0, foreignamountunpaid = 0"
    elif row["type"] in ("CustPymt", "CustCred"):
        sets += ", foreignpaymentamountused = 0, foreignpaymentamountunused = 0"
    conn.execute(f'UPDATE "transaction" SET {sets} WHERE id = ?', (ch.now, tran_id))
    conn.execute("UPDATE transactionline SET foreignamountpaid = CASE WHEN foreignamountunpaid IS NULL THEN NULL "
                 "ELSE 0 END, foreignamountunpaid = CASE WHEN foreignamountunpaid IS NULL THEN NULL ELSE 0 END, "
                 "linelastmodifieddate = ? WHERE \"transaction\" = ?", (ch.now, tran_id))
