"""Writing a transaction's lines: the main line and the keyed sublist lines (items, deposit
other/cash-back lines, journal lines), which a request line updates by its `line` key or adds."""
from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from ...errors import user_error
from .. import ledger
from ..changes import Change
from ..values import parse_int, store_money
from .references import line_account

NO_LINES_TEXT = "You must enter at least one line item for this transaction."


def line_key(item: dict[str, Any], path: str) -> int | None:
    """The existing line a request line names, if it names one."""
    return parse_int(item["line"], f"{path}.line") if item.get("line") is not None else None


def amount_columns(amount: Decimal, precision: int) -> dict[str, str]:
    money = store_money(amount, precision)
    return {"foreignamount": money, "netamount": money}


def insert_line(ch: Change, tran_id: int, line_id: int, *, mainline: bool, subsidiary: int | None,
                entity: int | None, account: int | None, amount: Decimal | None, precision: int,
                memo: str | None = None, debit: Decimal | None = None, credit: Decimal | None = None,
                ar_open: bool = False) -> None:
    conn = ch.conn

    def money(value: Decimal | None) -> str | None:
        return store_money(value, precision) if value is not None else None

    conn.execute(
        "INSERT INTO transactionline (\"transaction\", id, linesequencenumber, uniquekey, mainline, taxline, "
        "subsidiary, entity, expenseaccount, foreignamount, netamount, debitforeignamount, creditforeignamount, "
        "foreignamountpaid, foreignamountunpaid, memo, eliminate, linelastmodifieddate) "
        "VALUES (?,?,?,?,?,'F',?,?,?,?,?,?,?,?,?,?,"
        "(SELECT CASE WHEN intercompany = 'T' AND type = 'CustInvc' THEN 'T' ELSE 'F' END "
        "FROM \"transaction\" WHERE id = ?),?)",
        (tran_id, line_id, line_id, ledger.next_uniquekey(conn), "T" if mainline else "F", subsidiary, entity,
         account, money(amount), money(amount), money(debit), money(credit),
         "0" if ar_open else None, money(amount) if ar_open else None, memo, tran_id, ch.now))


def update_line(ch: Change, tran_id: int, line_id: int, item: dict[str, Any], path: str,
                sets: dict[str, Any]) -> None:
    """Write what a request line changes on an existing line: `sets`, and the account when it
    names one (nothing when it changes nothing)."""
    if item.get("account") is not None:
        sets = {**sets, "expenseaccount": line_account(ch.conn, item, path)}
    if not sets:
        return
    sets = {**sets, "linelastmodifieddate": ch.now}
    ch.conn.execute(f"UPDATE transactionline SET {', '.join(f'{k} = ?' for k in sets)} "
                    "WHERE \"transaction\" = ? AND id = ?", (*sets.values(), tran_id, line_id))


def set_main_account(ch: Change, tran_id: int, account: int) -> None:
    ch.conn.execute("UPDATE transactionline SET expenseaccount = ?, linelastmodifieddate = ? "
                    "WHERE \"transaction\" = ? AND mainline = 'T'", (account, ch.now, tran_id))


def remaining_lines(conn: sqlite3.Connection, tran_id: int, sublist: str) -> list[sqlite3.Row]:
    """The transaction's lines after a write; it must keep at least one."""
    lines = ledger.lines(conn, tran_id)
    if not lines:
        raise user_error(NO_LINES_TEXT, error_path=sublist)
    return lines


def delete_lines(conn: sqlite3.Connection, tran_id: int, line_ids: Iterable[int]) -> None:
    for line_id in line_ids:
        conn.execute("DELETE FROM transactionline WHERE \"transaction\" = ? AND id = ?", (tran_id, line_id))


def unseen(existing: Iterable[int], seen: set[int]) -> list[int]:
    """Existing lines a request did not name: what `?replace=<sublist>` removes."""
    return [line_id for line_id in existing if line_id not in seen]
