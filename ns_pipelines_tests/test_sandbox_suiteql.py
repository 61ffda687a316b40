"""The sandbox's SuiteQL engine: translation to SQLite, NetSuite's value shapes, paging and errors."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from ns_pipelines.sandbox.netsuite.errors import ApiError
from ns_pipelines.sandbox.netsuite.settings import SandboxSettings
from ns_pipelines.sandbox.netsuite.store import Store
from ns_pipelines.sandbox.netsuite.suiteql import SuiteQLEngine, SuiteQLResult

TXN_COLUMNS = ("id", "tranid", "type", "recordtype", "status", "trandate", "duedate", "entity", "currency",
               "exchangerate", "foreigntotal", "foreignamountpaid", "foreignamountunpaid",
               "foreignpaymentamountused", "foreignpaymentamountunused", "memo", "voided", "createddate",
               "lastmodifieddate")


def _insert(conn, table: str, **values: object) -> None:
    names = ", ".join(f'"{k}"' for k in values)
    marks = ", ".join("?" for _ in values)
    conn.execute(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', tuple(values.values()))


def build_fixture(store: Store) -> None:
    """Two currencies, two subsidiaries, three customers, ten transactions, lines and links."""
    with store.write() as c:
        _insert(c, "currency", id=1, name="US Dollar", symbol="USD", displaysymbol="$", currencyprecision=2,
                exchangerate="1", isbasecurrency="T", lastmodifieddate="2023-01-01 00:00:00")
        _insert(c, "currency", id=2, name="Euro", symbol="EUR", displaysymbol="€", currencyprecision=2,
                exchangerate="1.1", isbasecurrency="F", lastmodifieddate="2023-01-01 00:00:00")
        _insert(c, "subsidiary", id=1, name="Honeycomb Holdings", fullname="Honeycomb Holdings", currency=1)
        _insert(c, "subsidiary", id=2, name="Honeycomb EU", fullname="Honeycomb Holdings : Honeycomb EU",
                parent=1, currency=2)
        _insert(c, "account", id=10, acctnumber="1200", acctname="Accounts Receivable",
                fullname="Accounts Receivable", accttype="AcctRec", subsidiary=1)
        _insert(c, "account", id=11, acctnumber="1000", acctname="Checking", fullname="Bank : Checking",
                accttype="Bank", subsidiary=1)
        _insert(c, "customer", id=7, entityid="CUST7", companyname="Acme Corp", currency=1, subsidiary=1,
                email="ap@acme.test", datecreated="2023-06-01 09:00:00", lastmodifieddate="2024-01-15 08:30:00")
        _insert(c, "customer", id=8, entityid="CUST8", companyname="Beta GmbH", currency=2, subsidiary=2,
                isinactive="T", datecreated="2023-06-02 09:00:00", lastmodifieddate="2024-01-16 00:00:00")
        _insert(c, "customer", id=9, entityid="Jane Doe", isperson="T", currency=1, subsidiary=1,
                datecreated="2023-06-03 09:00:00", lastmodifieddate="2024-01-17 23:59:59")
        for i in range(1, 11):
            invoice = i % 2 == 1
            total = f"{100 * i + 0.5:.2f}" if invoice else f"{50 * i:.2f}"
            _insert(c, "transaction", **dict(zip(TXN_COLUMNS, (
                100 + i, f"INV{i:03d}" if invoice else f"PYT{i:03d}", "CustInvc" if invoice else "CustPymt",
                "invoice" if invoice else "customerpayment", ("A" if i < 6 else "B") if invoice else "C",
                f"2024-01-{i:02d}", f"2024-02-{i:02d}" if invoice else None, 7 if i <= 6 else 8,
                1 if i <= 6 else 2, "1" if i <= 6 else "1.1", total,
                "0" if invoice else None, total if invoice else None,
                None if invoice else total, None if invoice else "0",
                "first" if i == 1 else None, "F", f"2024-01-{i:02d} 09:00:00",
                f"2024-01-{i:02d} {i:02d}:15:30"))))
            _insert(c, "transactionline", transaction=100 + i, id=0, linesequencenumber=0,
                    uniquekey=1000 + i * 10, mainline="T", subsidiary=1 if i <= 6 else 2,
                    entity=7 if i <= 6 else 8, expenseaccount=10 if invoice else 11, foreignamount=total,
                    linelastmodifieddate=f"2024-01-{i:02d} {i:02d}:15:30")
            _insert(c, "transactionline", transaction=100 + i, id=1, linesequencenumber=1,
                    uniquekey=1000 + i * 10 + 1, mainline="F", subsidiary=1 if i <= 6 else 2,
                    entity=7 if i <= 6 else 8, foreignamount=total, memo=f"line of {i}",
                    linelastmodifieddate=f"2024-01-{i:02d} {i:02d}:15:30")
        # the payment 102 pays 40 of invoice 101; the payment 104 pays 60 of invoice 103
        _insert(c, "nexttransactionlinelink", previousdoc=101, previousline=0, previoustype="CustInvc",
                nextdoc=102, nextline=0, nexttype="CustPymt", linktype="Payment", foreignamount="40",
                linkdate="2024-01-02", lastmodifieddate="2024-01-02 02:15:30")
        _insert(c, "nexttransactionlinelink", previousdoc=103, previousline=0, previoustype="CustInvc",
                nextdoc=104, nextline=0, nexttype="CustPymt", linktype="Payment", foreignamount="60.25",
                linkdate="2024-01-04", lastmodifieddate="2024-01-04 04:15:30")
        _insert(c, "deletedrecord", recordid=999, scriptid="invoice", type="Invoice", name="INV999",
                context="UI", deleteddate="2024-01-20 10:00:00")


@pytest.fixture()
def store(tmp_path: Path) -> Store:
    store = Store(tmp_path / "data")
    build_fixture(store)
    return store


@pytest.fixture()
def settings() -> SandboxSettings:
    return SandboxSettings()


@pytest.fixture()
def engine(store: Store, settings: SandboxSettings) -> SuiteQLEngine:
    return SuiteQLEngine(store, settings)


def run(engine: SuiteQLEngine, q: str, *, limit: int = 1000, offset: int = 0) -> list[dict[str, object]]:
    return engine.execute(q, limit=limit, offset=offset).items


def error_of(engine: SuiteQLEngine, q: str, *, limit: int = 1000, offset: int = 0) -> ApiError:
    with pytest.raises(ApiError) as info:
        engine.execute(q, limit=limit, offset=offset)
    assert info.value.status == 400
    return info.value


# --- value shapes ----------------------------------------------------------------------------------

def test_values_look_like_netsuite(engine: SuiteQLEngine) -> None:
    result = engine.execute(
        "SELECT id, tranid, entity, currency, foreigntotal, foreignamountunpaid, exchangerate, voided, "
        "trandate, lastmodifieddate, memo FROM transaction WHERE id IN (101, 108) ORDER BY id",
        limit=10, offset=0)
    assert isinstance(result, SuiteQLResult)
    assert result.total_results == 2 and result.has_more is False
    assert result.items == [
        {"id": "101", "tranid": "INV001", "entity": "7", "currency": "1", "foreigntotal": 100.5,
         "foreignamountunpaid": 100.5, "exchangerate": 1, "voided": "F", "trandate": "1/1/2024",
         "lastmodifieddate": "1/1/2024", "memo": "first"},
        # null columns (memo, foreignamountunpaid of a payment) are left out; integral money is an int
        {"id": "108", "tranid": "PYT008", "entity": "8", "currency": "2", "foreigntotal": 400,
         "exchangerate": 1.1, "voided": "F", "trandate": "1/8/2024", "lastmodifieddate": "1/8/2024"},
    ]


def test_keys_are_lower_case_and_unnamed_expressions_are_exprN(engine: SuiteQLEngine) -> None:
    items = run(engine, "SELECT T.ID AS TheId, T.TranId, UPPER(t.tranid), COUNT(*) OVER () , 'x' || 'y' "
                        "FROM Transaction T WHERE T.Type = 'CustInvc' AND t.id = 101")
    assert items == [{"theid": "101", "tranid": "INV001", "expr1": "INV001", "expr2": 1, "expr3": "xy"}]


def test_repeated_column_names_are_kept_apart(engine: SuiteQLEngine) -> None:
    items = run(engine, "SELECT t.id, c.id FROM transaction t JOIN customer c ON c.id = t.entity WHERE t.id = 101")
    assert items == [{"id": "101", "id_2": "7"}]


def test_nulls_kept_when_not_omitted(store: Store) -> None:
    engine = SuiteQLEngine(store, SandboxSettings(omit_null_columns=False))
    assert run(engine, "SELECT id, memo, duedate FROM transaction WHERE id = 102") == [
        {"id": "102", "memo": None, "duedate": None}]


def test_numbers_as_strings(store: Store) -> None:
    engine = SuiteQLEngine(store, SandboxSettings(numbers_as_strings=True))
    items = run(engine, "SELECT id, foreigntotal, exchangerate, SUM(foreigntotal) OVER () AS s, "
                        "COUNT(*) OVER () AS n FROM transaction WHERE id IN (101, 102) ORDER BY id")
    assert items[0] == {"id": "101", "foreigntotal": "100.5", "exchangerate": "1", "s": "200.5", "n": "2"}
    assert items[1]["foreigntotal"] == "100"


def test_computed_numbers_lose_float_noise(engine: SuiteQLEngine) -> None:
    items = run(engine, "SELECT 0.1 + 0.2 AS a, ROUND(2.5) AS b, 7 / 2 AS c, ROUND(foreigntotal / 3, 2) AS d, "
                        "AVG(2) OVER () AS e FROM transaction WHERE id = 101")
    assert items == [{"a": 0.3, "b": 3, "c": 3.5, "d": 33.5, "e": 2}]


@pytest.mark.parametrize(("date_format", "date_text", "datetime_text"), [
    ("M/D/YYYY", "1/5/2024", "1/15/2024"),
    ("D/M/YYYY", "5/1/2024", "15/1/2024"),
    ("DD/MM/YYYY", "05/01/2024", "15/01/2024"),
    ("MM/DD/YYYY", "01/05/2024", "01/15/2024"),
    ("YYYY-MM-DD", "2024-01-05", "2024-01-15"),
    ("DD.MM.YYYY", "05.01.2024", "15.01.2024"),
    ("DD-Mon-YYYY", "05-Jan-2024", "15-Jan-2024"),
])
def test_date_preferences(store: Store, date_format: str, date_text: str, datetime_text: str) -> None:
    engine = SuiteQLEngine(store, SandboxSettings(date_format=date_format))
    items = run(engine, "SELECT t.trandate, c.lastmodifieddate, BUILTIN.DF(t.trandate) AS df "
                        "FROM transaction t JOIN customer c ON c.id = t.entity WHERE t.id = 105")
    assert items == [{"trandate": date_text, "lastmodifieddate": datetime_text, "df": date_text}]
    # a date literal in the user's preference compares as a date
    assert run(engine, f"SELECT id FROM transaction WHERE trandate = '{date_text}'") == [{"id": "105"}]


# --- query shapes ----------------------------------------------------------------------------------

def test_joins_ansi_left_and_comma(engine: SuiteQLEngine) -> None:
    inner = run(engine, "SELECT t.tranid, c.companyname, s.name AS sub FROM transaction t "
                        "INNER JOIN customer c ON c.id = t.entity "
                        "JOIN transactionline tl ON tl.transaction = t.id AND tl.mainline = 'T' "
                        "JOIN subsidiary s ON s.id = tl.subsidiary WHERE t.id IN (101, 110) ORDER BY t.id")
    assert inner == [{"tranid": "INV001", "companyname": "Acme Corp", "sub": "Honeycomb Holdings"},
                     {"tranid": "PYT010", "companyname": "Beta GmbH", "sub": "Honeycomb EU"}]
    left = run(engine, "SELECT c.id, l.nextdoc FROM customer c LEFT OUTER JOIN transaction t ON t.entity = c.id "
                       "AND t.id = 101 LEFT JOIN nexttransactionlinelink l ON l.previousdoc = t.id ORDER BY c.id")
    assert left == [{"id": "7", "nextdoc": "102"}, {"id": "8"}, {"id": "9"}]
    comma = run(engine, "SELECT t.id, c.entityid FROM transaction t, customer c "
                        "WHERE t.entity = c.id AND c.id = 8 ORDER BY t.id DESC")
    assert [i["id"] for i in comma] == ["110", "109", "108", "107"]
    oracle_outer = run(engine, "SELECT c.id, t.id AS tid FROM customer c, transaction t "
                               "WHERE c.id = t.entity(+) AND t.type(+) = 'CustRfnd' ORDER BY c.id")
    assert oracle_outer == [{"id": "7"}, {"id": "8"}, {"id": "9"}]


def test_subqueries(engine: SuiteQLEngine) -> None:
    in_sub = run(engine, "SELECT id FROM transaction WHERE id IN (SELECT previousdoc FROM nexttransactionlinelink "
                         "WHERE linktype = 'Payment') ORDER BY id")
    assert in_sub == [{"id": "101"}, {"id": "103"}]
    exists = run(engine, "SELECT c.entityid FROM customer c WHERE NOT EXISTS "
                         "(SELECT 1 FROM transaction t WHERE t.entity = c.id) ")
    assert exists == [{"entityid": "Jane Doe"}]
    derived = run(engine, "SELECT x.entity, x.total FROM (SELECT entity, SUM(foreigntotal) AS total "
                          "FROM transaction WHERE type = 'CustInvc' GROUP BY entity) x ORDER BY x.total DESC")
    assert derived == [{"entity": "8", "total": 1601}, {"entity": "7", "total": 901.5}]
    scalar = run(engine, "SELECT t.id, (SELECT SUM(l.foreignamount) FROM nexttransactionlinelink l "
                         "WHERE l.previousdoc = t.id) AS paid FROM transaction t WHERE t.id IN (101, 103) ORDER BY 1")
    assert scalar == [{"id": "101", "paid": 40}, {"id": "103", "paid": 60.25}]
    star = run(engine, "SELECT * FROM (SELECT id, tranid FROM transaction WHERE id = 101)")
    assert star == [{"id": "101", "tranid": "INV001"}]


def test_group_by_having_and_aggregates(engine: SuiteQLEngine) -> None:
    items = run(engine, "SELECT entity, type, COUNT(*) AS n, SUM(foreigntotal) AS total, MAX(id) AS last_id, "
                        "MIN(trandate) AS first_date, AVG(foreigntotal) AS average FROM transaction "
                        "GROUP BY entity, type HAVING COUNT(*) > 1 ORDER BY entity, type")
    assert items == [
        {"entity": "7", "type": "CustInvc", "n": 3, "total": 901.5, "last_id": "105", "first_date": "1/1/2024",
         "average": 300.5},
        {"entity": "7", "type": "CustPymt", "n": 3, "total": 600, "last_id": "106", "first_date": "1/2/2024",
         "average": 200},
        {"entity": "8", "type": "CustInvc", "n": 2, "total": 1601, "last_id": "109", "first_date": "1/7/2024",
         "average": 800.5},
        {"entity": "8", "type": "CustPymt", "n": 2, "total": 900, "last_id": "110", "first_date": "1/8/2024",
         "average": 450},
    ]
    assert run(engine, "SELECT COUNT(DISTINCT entity) AS n FROM transaction") == [{"n": 2}]
    assert run(engine, "SELECT DISTINCT type FROM transaction ORDER BY type") == [
        {"type": "CustInvc"}, {"type": "CustPymt"}]


def test_case_nvl_coalesce_decode(engine: SuiteQLEngine) -> None:
    items = run(engine, "SELECT id, NVL(memo, 'none') AS memo, NVL2(memo, 'has', 'no') AS has, "
                        "COALESCE(duedate, trandate) AS due, "
                        "CASE WHEN foreigntotal > 500 THEN 'big' WHEN foreigntotal >= 200 THEN 'mid' "
                        "ELSE 'small' END AS size, "
                        "CASE type WHEN 'CustInvc' THEN 1 ELSE 0 END AS is_inv, "
                        "DECODE(status, 'A', 'open', 'B', 'paid', 'other') AS st, NVL(entity, 0) AS ent "
                        "FROM transaction WHERE id IN (101, 104) ORDER BY id")
    assert items == [
        {"id": "101", "memo": "first", "has": "has", "due": "2/1/2024", "size": "small", "is_inv": 1,
         "st": "open", "ent": "7"},
        {"id": "104", "memo": "none", "has": "no", "due": "1/4/2024", "size": "mid", "is_inv": 0,
         "st": "other", "ent": "7"},
    ]


def test_nulls_sort_last_as_in_oracle(store: Store, engine: SuiteQLEngine) -> None:
    assert run(engine, "SELECT id FROM transaction ORDER BY memo, id")[:2] == [{"id": "101"}, {"id": "102"}]
    assert run(engine, "SELECT id FROM transaction ORDER BY memo DESC, id")[-1] == {"id": "101"}
    outer = run(engine, "SELECT c.id, t.id AS tid FROM customer c LEFT JOIN transaction t ON t.entity = c.id "
                        "AND t.id IN (101, 108) ORDER BY t.id, c.id")
    assert outer == [{"id": "7", "tid": "101"}, {"id": "8", "tid": "108"}, {"id": "9"}]
    # NOT NULL sort keys need no NULLS clause, so SQLite walks the primary key without sorting
    compiled = engine.translate("SELECT transaction, id FROM transactionline ORDER BY transaction, id")
    plan = " ".join(r[3] for r in store.connect().execute("EXPLAIN QUERY PLAN " + compiled.page_sql,
                                                          {"ns_limit": 10, "ns_offset": 0}))
    assert "TEMP B-TREE" not in plan


def test_union_and_minus(engine: SuiteQLEngine) -> None:
    union = run(engine, "SELECT id FROM customer WHERE id = 7 UNION SELECT entity FROM transaction WHERE id = 110 "
                        "ORDER BY 1")
    assert union == [{"id": "7"}, {"id": "8"}]
    minus = run(engine, "SELECT id FROM customer MINUS SELECT entity FROM transaction")
    assert minus == [{"id": "9"}]
    limited = run(engine, "SELECT id FROM transaction WHERE ROWNUM <= 2 UNION ALL "
                          "SELECT id FROM customer WHERE ROWNUM <= 1")
    assert len(limited) == 3


def test_string_and_number_functions(engine: SuiteQLEngine) -> None:
    items = run(engine, "SELECT UPPER(c.companyname) AS u, LOWER(c.entityid) AS l, SUBSTR(c.companyname, 1, 4) AS s, "
                        "SUBSTR(c.companyname, -4) AS tail, INSTR(c.companyname, 'Corp') AS i, "
                        "INSTR('a-b-c', '-', 1, 2) AS i2, LENGTH(c.entityid) AS n, "
                        "c.entityid || ' / ' || c.companyname AS label, 'x' || NULL || 'y' AS glued, "
                        "LPAD(c.id, 4, '0') AS padded, ABS(-2) AS a, ROUND(10.456, 2) AS r, TRUNC(10.9) AS t, "
                        "MOD(7, 3) AS m, INITCAP('hello world') AS ic, CONCAT('a', 'b') AS cc, "
                        "GREATEST(1, 5, 3) AS g, TO_NUMBER('12.5') AS num, REPLACE(c.entityid, 'CUST', 'C-') AS rep "
                        "FROM customer c WHERE c.id = 7")
    assert items == [{"u": "ACME CORP", "l": "cust7", "s": "Acme", "tail": "Corp", "i": 6, "i2": 4, "n": 5,
                      "label": "CUST7 / Acme Corp", "glued": "xy", "padded": "0007", "a": 2, "r": 10.46, "t": 10,
                      "m": 1, "ic": "Hello World", "cc": "ab", "g": 5, "num": 12.5, "rep": "C-7"}]
    # Oracle: NULL || NULL is NULL; a LIKE pattern works
    assert run(engine, "SELECT id, memo || memo AS mm FROM transaction WHERE id = 102") == [{"id": "102"}]
    assert run(engine, "SELECT id FROM customer WHERE companyname LIKE 'Acme%'") == [{"id": "7"}]
    # Oracle's LIKE is case-sensitive; = ANY is IN
    assert run(engine, "SELECT id FROM customer WHERE companyname LIKE 'acme%' OR entityid LIKE 'C_ST7'") == [
        {"id": "7"}]
    assert run(engine, "SELECT id FROM customer WHERE entityid LIKE 'CUST\\_%' ESCAPE '\\' "
                       "OR entityid NOT LIKE 'CUST%'") == [{"id": "9"}]
    assert run(engine, "SELECT id FROM transaction WHERE status = ANY ('B', 'C') AND entity = 7 ORDER BY id") == [
        {"id": "102"}, {"id": "104"}, {"id": "106"}]


# --- dates -----------------------------------------------------------------------------------------

def test_to_char_format_models(engine: SuiteQLEngine) -> None:
    items = run(engine, "SELECT TO_CHAR(lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') AS a, "
                        "TO_CHAR(lastmodifieddate, 'YYYY') AS y, TO_CHAR(lastmodifieddate, 'MM') AS m, "
                        "TO_CHAR(lastmodifieddate, 'DD') AS d, TO_CHAR(lastmodifieddate, 'HH24:MI:SS') AS t, "
                        "TO_CHAR(trandate, 'YYYY-MM-DD HH24:MI:SS') AS td, TO_CHAR(trandate, 'YYYYMMDD') AS compact, "
                        "TO_CHAR(lastmodifieddate, 'FMMonth DD, YYYY HH:MI AM') AS pretty, "
                        "TO_CHAR(trandate, 'DY DD-MON-YY') AS dy, TO_CHAR(trandate) AS plain, "
                        "TO_CHAR(foreigntotal, 'FM999,990.00') AS money, TO_CHAR(id) AS idtext "
                        "FROM transaction WHERE id = 103")
    assert items == [{"a": "2024-01-03 03:15:30", "y": "2024", "m": "01", "d": "03", "t": "03:15:30",
                      "td": "2024-01-03 00:00:00", "compact": "20240103", "pretty": "January 3, 2024 3:15 AM",
                      "dy": "WED 03-JAN-24", "plain": "1/3/2024", "money": "300.50", "idtext": "103"}]


def test_to_date_and_to_timestamp_compare_as_oracle(engine: SuiteQLEngine) -> None:
    def ids(where: str) -> list[str]:
        return [i["id"] for i in run(engine, f"SELECT id FROM transaction WHERE {where} ORDER BY id")]

    # DATETIME column against a DATE: midnight counts, so 01-03 03:15:30 >= 01-03 and 01-02 02:15 < 01-03
    assert ids("lastmodifieddate >= TO_DATE('2024-01-03', 'YYYY-MM-DD') AND "
               "lastmodifieddate < TO_DATE('2024-01-05', 'YYYY-MM-DD')") == ["103", "104"]
    assert ids("lastmodifieddate > TO_TIMESTAMP('2024-01-09 09:15:30', 'YYYY-MM-DD HH24:MI:SS')") == ["110"]
    assert ids("lastmodifieddate >= TO_TIMESTAMP('2024-01-09 09:15:30', 'YYYY-MM-DD HH24:MI:SS')") == ["109", "110"]
    assert ids("lastmodifieddate BETWEEN TO_DATE('2024-01-02', 'YYYY-MM-DD') AND TO_DATE('2024-01-03', 'YYYY-MM-DD')") \
        == ["102"]
    # DATE column against a timestamp: 2024-01-03 (midnight) < 2024-01-03 10:00 and is not equal to it
    assert ids("trandate < TO_TIMESTAMP('2024-01-03 10:00:00', 'YYYY-MM-DD HH24:MI:SS')") == ["101", "102", "103"]
    assert ids("trandate = TO_TIMESTAMP('2024-01-03 10:00:00', 'YYYY-MM-DD HH24:MI:SS')") == []
    assert ids("trandate = TO_TIMESTAMP('2024-01-03 00:00:00', 'YYYY-MM-DD HH24:MI:SS')") == ["103"]
    assert ids("trandate = TO_DATE('01/03/2024', 'MM/DD/YYYY')") == ["103"]
    assert ids("trandate = TO_DATE('3-JAN-2024', 'DD-MON-YYYY')") == ["103"]
    assert ids("TRUNC(lastmodifieddate) = TO_DATE('2024-01-04', 'YYYY-MM-DD')") == ["104"]
    assert ids("TO_CHAR(trandate, 'YYYY-MM-DD') = '2024-01-04'") == ["104"]
    assert ids("duedate - trandate > 30") == ["101", "103", "105", "107", "109"]
    assert ids("trandate + 30 > TO_DATE('2024-02-08', 'YYYY-MM-DD')") == ["110"]
    assert ids("lastmodifieddate > TO_TIMESTAMP('2024-01-09 09:15:30', 'YYYY-MM-DD HH24:MI:SS') - 1") \
        == ["109", "110"]
    # computed values are dates too: shown in the user's preference
    items = run(engine, "SELECT TO_DATE('2024-03-31', 'YYYY-MM-DD') AS d, ADD_MONTHS(trandate, 1) AS next_month, "
                        "LAST_DAY(trandate) AS eom, TRUNC(lastmodifieddate, 'MM') AS som, "
                        "EXTRACT(YEAR FROM trandate) AS y FROM transaction WHERE id = 101")
    assert items == [{"d": "3/31/2024", "next_month": "2/1/2024", "eom": "1/31/2024", "som": "1/1/2024", "y": 2024}]


def test_sysdate_is_account_local_now(store: Store, engine: SuiteQLEngine) -> None:
    assert len(run(engine, "SELECT id FROM transaction WHERE trandate < SYSDATE - 30")) == 10
    # pin the account's clock: 2024-01-05 12:00 account-local
    store.clock_offset = datetime(2024, 1, 5, 12, 0) - datetime.now(store.zone).replace(tzinfo=None)
    try:
        items = run(engine, "SELECT SYSDATE AS s, CURRENT_DATE AS c, TRUNC(SYSDATE) AS t, "
                            "TO_CHAR(SYSDATE, 'YYYY-MM-DD HH24') AS iso FROM customer WHERE id = 7")
        assert items == [{"s": "1/5/2024", "c": "1/5/2024", "t": "1/5/2024", "iso": "2024-01-05 12"}]
        assert [i["id"] for i in run(engine, "SELECT id FROM transaction WHERE lastmodifieddate > SYSDATE - 2 "
                                             "AND lastmodifieddate <= SYSDATE ORDER BY id")] == ["104", "105"]
        assert [i["id"] for i in run(engine, "SELECT id FROM transaction WHERE trandate >= TRUNC(SYSDATE) "
                                             "ORDER BY id")][:2] == ["105", "106"]
    finally:
        store.clock_offset = timedelta(0)


# --- BUILTIN ---------------------------------------------------------------------------------------

def test_builtin_df_and_cf(engine: SuiteQLEngine) -> None:
    items = run(engine, "SELECT t.id, BUILTIN.DF(t.status) AS status, BUILTIN.CF(t.status) AS code, "
                        "BUILTIN.DF(t.type) AS type, BUILTIN.DF(t.entity) AS customer, "
                        "BUILTIN.DF(t.currency) AS currency, t.status AS letter "
                        "FROM transaction t WHERE t.id IN (101, 102, 106, 107) ORDER BY t.id")
    assert items == [
        {"id": "101", "status": "Invoice : Open", "code": "CustInvc:A", "type": "Invoice", "customer": "Acme Corp",
         "currency": "US Dollar", "letter": "A"},
        {"id": "102", "status": "Customer Payment : Deposited", "code": "CustPymt:C", "type": "Customer Payment",
         "customer": "Acme Corp", "currency": "US Dollar", "letter": "C"},
        {"id": "106", "status": "Customer Payment : Deposited", "code": "CustPymt:C", "type": "Customer Payment",
         "customer": "Acme Corp", "currency": "US Dollar", "letter": "C"},
        {"id": "107", "status": "Invoice : Paid In Full", "code": "CustInvc:B", "type": "Invoice",
         "customer": "Beta GmbH", "currency": "Euro", "letter": "B"},
    ]
    lines = run(engine, "SELECT BUILTIN.DF(tl.subsidiary) AS sub, BUILTIN.DF(tl.expenseaccount) AS account, "
                        "BUILTIN.DF(tl.transaction) AS doc, BUILTIN.DF(tl.mainline) AS ml, BUILTIN.DF(tl.id) AS line "
                        "FROM transactionline tl WHERE tl.transaction = 102 AND tl.mainline = 'T'")
    assert lines == [{"sub": "Honeycomb Holdings", "account": "Bank : Checking", "doc": "Customer Payment #PYT002",
                      "ml": "T", "line": "0"}]
    links = run(engine, "SELECT BUILTIN.DF(previousdoc) AS inv, BUILTIN.DF(nexttype) AS nt FROM "
                        "nexttransactionlinelink WHERE nextdoc = 104")
    assert links == [{"inv": "Invoice #INV003", "nt": "Customer Payment"}]
    people = run(engine, "SELECT BUILTIN.DF(c.id) AS id, BUILTIN.DF(c.subsidiary) AS sub, BUILTIN.DF(c.parent) AS p "
                         "FROM customer c WHERE c.id = 9")
    assert people == [{"id": "9", "sub": "Honeycomb Holdings"}]
    # filtering on the combined code, and DF through a subquery
    assert run(engine, "SELECT id FROM transaction WHERE BUILTIN.CF(status) = 'CustInvc:B' ORDER BY id") == [
        {"id": "107"}, {"id": "109"}]
    assert run(engine, "SELECT BUILTIN.DF(x.status) AS s FROM (SELECT id, type, status FROM transaction) x "
                       "WHERE x.id = 103") == [{"s": "Invoice : Open"}]
    assert run(engine, "SELECT BUILTIN.DF(s.parent) AS p FROM subsidiary s WHERE s.id = 2") == [
        {"p": "Honeycomb Holdings"}]


# --- ROWNUM ----------------------------------------------------------------------------------------

def test_rownum_is_assigned_before_order_by(engine: SuiteQLEngine) -> None:
    # an arbitrary 3 rows (here: the first 3 scanned), then sorted - not the top 3 by total
    arbitrary = run(engine, "SELECT id, foreigntotal FROM transaction WHERE ROWNUM <= 3 ORDER BY foreigntotal DESC")
    assert len(arbitrary) == 3
    top3 = run(engine, "SELECT id FROM (SELECT id, foreigntotal FROM transaction ORDER BY foreigntotal DESC) "
                       "WHERE ROWNUM <= 3")
    assert top3 == [{"id": "109"}, {"id": "107"}, {"id": "105"}]
    assert [i["id"] for i in arbitrary] != [i["id"] for i in top3]
    assert [i["foreigntotal"] for i in arbitrary] == sorted((i["foreigntotal"] for i in arbitrary), reverse=True)
    # before aggregation too
    assert run(engine, "SELECT COUNT(*) AS n FROM transaction WHERE ROWNUM <= 4") == [{"n": 4}]
    assert run(engine, "SELECT COUNT(*) AS n FROM transaction WHERE type = 'CustPymt' AND ROWNUM < 3") == [{"n": 2}]


def test_rownum_projection_and_pagination_pattern(engine: SuiteQLEngine) -> None:
    numbered = run(engine, "SELECT ROWNUM AS rn, id FROM transaction WHERE type = 'CustInvc' ORDER BY id DESC")
    assert sorted(i["rn"] for i in numbered) == [1, 2, 3, 4, 5]
    assert [i["id"] for i in numbered] == ["109", "107", "105", "103", "101"]
    page = run(engine, "SELECT * FROM (SELECT ROWNUM AS rn, x.* FROM (SELECT id, tranid FROM transaction "
                       "ORDER BY id DESC) x) WHERE rn BETWEEN 3 AND 4")
    assert page == [{"rn": 3, "id": "108", "tranid": "PYT008"}, {"rn": 4, "id": "107", "tranid": "INV007"}]
    assert run(engine, "SELECT ROWNUM, id FROM customer WHERE id = 8") == [{"rownum": 1, "id": "8"}]


def test_rownum_edge_conditions(engine: SuiteQLEngine) -> None:
    assert run(engine, "SELECT id FROM transaction WHERE ROWNUM > 1") == []
    assert run(engine, "SELECT id FROM transaction WHERE ROWNUM = 2") == []
    assert len(run(engine, "SELECT id FROM transaction WHERE ROWNUM = 1")) == 1
    assert len(run(engine, "SELECT id FROM transaction WHERE 5 >= ROWNUM AND ROWNUM <> 3")) == 2
    assert len(run(engine, "SELECT id FROM transaction WHERE ROWNUM BETWEEN 1 AND 6")) == 6
    assert run(engine, "SELECT id FROM transaction WHERE id IN (SELECT id FROM transaction WHERE type = 'CustPymt' "
                       "AND ROWNUM <= 1)") == [{"id": "102"}]
    assert "ROWNUM" in error_of(engine, "SELECT id FROM transaction WHERE ROWNUM <= 2 OR id = 1").detail


# --- paging and the cap ----------------------------------------------------------------------------

def test_paging_and_has_more(engine: SuiteQLEngine) -> None:
    q = "SELECT id FROM transaction ORDER BY id"
    seen, offset, pages = [], 0, []
    while True:
        result = engine.execute(q, limit=3, offset=offset)
        assert result.total_results == 10
        pages.append((len(result.items), result.has_more))
        seen += [i["id"] for i in result.items]
        if not result.has_more:
            break
        offset += len(result.items)
    assert pages == [(3, True), (3, True), (3, True), (1, False)]
    assert seen == [str(100 + i) for i in range(1, 11)]
    past_end = engine.execute(q, limit=3, offset=50)
    assert past_end.items == [] and past_end.has_more is False and past_end.total_results == 10


def test_row_cap_truncates_and_refuses(store: Store) -> None:
    engine = SuiteQLEngine(store, SandboxSettings(suiteql_row_cap=5))
    q = "SELECT id FROM transaction ORDER BY id"
    first = engine.execute(q, limit=3, offset=0)
    assert len(first.items) == 3 and first.has_more and first.total_results == 10
    crossing = engine.execute(q, limit=3, offset=3)
    assert [i["id"] for i in crossing.items] == ["104", "105"] and crossing.has_more is False
    assert crossing.total_results == 10
    error = error_of(engine, q, limit=3, offset=5)
    assert error.code == "INVALID_PARAMETER" and "at most 5 results" in error.detail


def test_real_cap_of_100000_rows(tmp_path: Path) -> None:
    store = Store(tmp_path / "big")
    with store.write() as c:
        c.executemany('INSERT INTO deletedrecord (recordid, scriptid, type, deleteddate) VALUES (?, ?, ?, ?)',
                      ((i, "invoice", "Invoice", "2024-01-01 00:00:00") for i in range(1, 100_002)))
    engine = SuiteQLEngine(store, SandboxSettings())
    q = "SELECT recordid FROM deletedrecord ORDER BY recordid"
    last = engine.execute(q, limit=1000, offset=99_500)
    assert last.total_results == 100_001
    assert len(last.items) == 500 and last.items[-1] == {"recordid": "100000"} and last.has_more is False
    almost = engine.execute(q, limit=1000, offset=98_000)
    assert len(almost.items) == 1000 and almost.has_more is True
    assert error_of(engine, q, limit=1000, offset=100_000).code == "INVALID_PARAMETER"


def test_total_follows_changes(store: Store, engine: SuiteQLEngine) -> None:
    q = "SELECT id FROM transaction ORDER BY id"
    assert engine.execute(q, limit=2, offset=0).total_results == 10
    with store.write() as c:
        c.execute('DELETE FROM "transaction" WHERE id > 105')
    result = engine.execute(q, limit=2, offset=0)
    assert result.total_results == 5 and result.has_more

    def other_thread() -> None:
        with store.write() as c:
            c.execute('DELETE FROM "transaction" WHERE id > 103')
        store.close()

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()
    assert engine.execute(q, limit=2, offset=0).total_results == 3


def test_concurrent_clients(store: Store, engine: SuiteQLEngine) -> None:
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def client() -> None:
        try:
            results.append([i["tranid"] for i in run(engine, "SELECT tranid, TO_CHAR(trandate, 'FMMM/DD') AS d "
                                                             "FROM transaction ORDER BY id")])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            store.close()

    threads = [threading.Thread(target=client) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 4 and all(r == results[0] for r in results)


def test_keyset_query_walks_an_index(store: Store, engine: SuiteQLEngine) -> None:
    compiled = engine.translate("SELECT id, tranid, type, status, entity, currency, foreigntotal, "
                                "foreignamountunpaid, TO_CHAR(lastmodifieddate,'YYYY-MM-DD HH24:MI:SS') AS "
                                "lastmodifieddate FROM transaction WHERE id > 12345 AND type = 'CustInvc' ORDER BY id")
    plan = " ".join(row[3] for row in store.connect().execute(
        "EXPLAIN QUERY PLAN " + compiled.page_sql, {"ns_limit": 10, "ns_offset": 0}))
    assert "TEMP B-TREE" not in plan
    assert "PRIMARY KEY" in plan or "transaction_type_id" in plan
    # TO_CHAR of a DATETIME in its stored form costs nothing
    assert "strftime" not in compiled.page_sql.lower()
    assert engine.translate("SELECT id FROM transaction WHERE id > 1 ORDER BY id") is \
        engine.translate("SELECT id FROM transaction WHERE id > 1 ORDER BY id")


# --- errors ----------------------------------------------------------------------------------------

def test_unknown_column_and_table(engine: SuiteQLEngine) -> None:
    error = error_of(engine, "SELECT id, foo FROM transaction")
    assert error.code == "INVALID_PARAMETER"
    assert error.detail == ("Invalid search query. Detailed unprocessed description follows. Search error "
                            "occurred: Field 'foo' for record 'transaction' was not found. Reason: NOT_EXPOSED - "
                            "Not available for channel SEARCH")
    body = error.body()
    assert body["status"] == 400 and body["o:errorDetails"][0]["o:errorQueryParam"] == "q"
    assert "Field 'bar' for record 'customer'" in error_of(
        engine, "SELECT t.id FROM transaction t JOIN customer c ON c.bar = t.entity").detail
    assert "Field 'nope' for record 'transactionline'" in error_of(
        engine, "SELECT id FROM transaction t WHERE EXISTS "
                "(SELECT 1 FROM transactionline l WHERE l.nope = t.id)").detail
    assert "Record 'invoices' was not found." in error_of(engine, "SELECT id FROM invoices").detail
    assert "Record 'sandbox_meta' was not found." in error_of(engine, "SELECT * FROM sandbox_meta").detail
    assert "Record 'sandbox_outbox' was not found." in error_of(
        engine, "SELECT id FROM transaction WHERE id IN (SELECT id FROM sandbox_outbox)").detail
    assert "Record 'sqlite_master' was not found." in error_of(engine, "SELECT name FROM sqlite_master").detail
    # deletedrecord's bookkeeping id is not a SuiteQL column
    assert "Field 'id' for record 'deletedrecord'" in error_of(engine, "SELECT id FROM deletedrecord").detail
    assert "ambiguously" in error_of(engine, "SELECT id FROM transaction t, customer c").detail


@pytest.mark.parametrize("q", [
    "INSERT INTO customer (id) VALUES (1)",
    "UPDATE transaction SET memo = 'x'",
    "DELETE FROM transaction",
    "DROP TABLE transaction",
    "CREATE TABLE x (a INT)",
    "SELECT id FROM transaction; DELETE FROM transaction",
])
def test_only_select(engine: SuiteQLEngine, q: str) -> None:
    error = error_of(engine, q)
    assert error.code == "INVALID_PARAMETER" and "Invalid or unsupported search" in error.detail
    assert run(engine, "SELECT COUNT(*) AS n FROM transaction") == [{"n": 10}]


@pytest.mark.parametrize(("q", "words"), [
    ("SELECT id FROM transaction LIMIT 5", "LIMIT is not supported"),
    ("SELECT id FROM transaction ORDER BY id FETCH FIRST 5 ROWS ONLY", "FETCH FIRST is not supported"),
    ("SELECT id FROM transaction OFFSET 5 ROWS", "OFFSET is not supported"),
    ("WITH x AS (SELECT id FROM transaction) SELECT id FROM x", "WITH"),
    ("SELECT id FROM transaction WHERE id = :id", "Bind variables"),
    ("SELECT id FROM transaction WHERE", "Syntax error"),
    ("SELECT FOO_BAR(id) FROM transaction", "FOO_BAR"),
    ("SELECT BUILTIN.CONSOLIDATE(foreigntotal) FROM transaction", "BUILTIN.CONSOLIDATE"),
    ("SELECT TO_DATE('2024-13-01', 'YYYY-MM-DD') FROM transaction", "TO_DATE"),
    ("SELECT 1 AS one", "FROM"),
    ("SELECT TO_DATE(tranid, 'YYYY-MM-DD') FROM transaction", "TO_DATE: a non-numeric character"),
    ("SELECT id FROM transaction FOR UPDATE", "FOR UPDATE"),
    ("", "empty"),
])
def test_refused_syntax(engine: SuiteQLEngine, q: str, words: str) -> None:
    error = error_of(engine, q)
    assert error.code == "INVALID_PARAMETER"
    assert error.detail.startswith("Invalid search query. Detailed unprocessed description follows.")
    assert words in error.detail


@pytest.mark.parametrize(("limit", "offset", "param"), [(0, 0, "limit"), (1001, 0, "limit"), (-1, 0, "limit"),
                                                        (10, -1, "offset")])
def test_bad_paging_parameters(engine: SuiteQLEngine, limit: int, offset: int, param: str) -> None:
    error = error_of(engine, "SELECT id FROM transaction", limit=limit, offset=offset)
    assert error.code == "INVALID_PARAMETER" and error.extra["o:errorQueryParam"] == param


# --- over the seeded account -------------------------------------------------------------------------

def test_seeded_account_smoke(tmp_path: Path) -> None:
    seed_module = pytest.importorskip("ns_pipelines.sandbox.netsuite.seed")
    store = Store(tmp_path / "seeded")
    seed_module.seed(store, scale="tiny")
    engine = SuiteQLEngine(store, SandboxSettings())
    invoices = run(engine, "SELECT t.id, t.tranid, BUILTIN.DF(t.status) AS status, BUILTIN.DF(t.entity) AS customer, "
                           "t.foreigntotal, t.foreignamountunpaid, TO_CHAR(t.lastmodifieddate, "
                           "'YYYY-MM-DD HH24:MI:SS') AS lastmodifieddate, tl.subsidiary FROM transaction t "
                           "JOIN transactionline tl ON tl.transaction = t.id AND tl.mainline = 'T' "
                           "WHERE t.type = 'CustInvc' ORDER BY t.id")
    assert invoices
    for item in invoices:
        assert isinstance(item["id"], str) and item["status"].startswith("Invoice : ")
        assert len(item["lastmodifieddate"]) == 19 and isinstance(item["subsidiary"], str)
    links = run(engine, "SELECT l.previousdoc, l.nextdoc, l.foreignamount FROM NextTransactionLineLink l "
                        "WHERE l.linktype = 'Payment' AND l.nexttype = 'CustPymt'")
    assert all(isinstance(link["previousdoc"], str) for link in links)
    balances = run(engine, "SELECT c.id, c.balancesearch, csr.balance FROM customer c "
                           "JOIN customersubsidiaryrelationship csr ON csr.entity = c.id ORDER BY c.id")
    assert balances
    deleted = run(engine, "SELECT recordid, scriptid, deleteddate FROM deletedrecord")
    assert all(isinstance(d["recordid"], str) for d in deleted)
    total = engine.execute("SELECT id FROM transaction ORDER BY id", limit=7, offset=0)
    assert total.total_results == run(engine, "SELECT COUNT(*) AS n FROM transaction")[0]["n"]
