"""The sandbox's REST record service (records/): shapes, business rules, q filters, catalog."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from ns_pipelines.sandbox.netsuite import balances
from ns_pipelines.sandbox.netsuite.errors import ApiError
from ns_pipelines.sandbox.netsuite.records import RecordService
from ns_pipelines.sandbox.netsuite.records import catalog
from ns_pipelines.sandbox.netsuite.settings import SandboxSettings
from ns_pipelines.sandbox.netsuite.store import Store

BASE = "https://1234567-sb1.suitetalk.api.netsuite.com"
USD, EUR, JPY = 1, 2, 3
SUB = 1
AR, UNDEP, BANK_USD, INCOME, FEES, BANK_EUR = 1, 2, 3, 4, 5, 6
ACME, GLOBEX, TOKYO = 10, 11, 12


def _fixtures(store: Store) -> None:
    stamp = "2024-01-01 09:00:00"
    with store.write() as c:
        c.executemany("INSERT INTO currency (id, name, symbol, currencyprecision, exchangerate, isbasecurrency) "
                      "VALUES (?,?,?,?,?,?)", [(USD, "US Dollar", "USD", 2, "1", "T"),
                                               (EUR, "Euro", "EUR", 2, "1.10", "F"),
                                               (JPY, "Japanese Yen", "JPY", 0, "0.0067", "F")])
        c.execute("INSERT INTO subsidiary (id, name, fullname, currency) VALUES (?,?,?,?)",
                  (SUB, "Honeycomb US", "Honeycomb US", USD))
        c.executemany("INSERT INTO account (id, acctnumber, fullname, accttype, currency, subsidiary) "
                      "VALUES (?,?,?,?,?,?)",
                      [(AR, "1100", "1100 Accounts Receivable", "AcctRec", None, SUB),
                       (UNDEP, "1200", "1200 Undeposited Funds", "UnDepFunds", None, SUB),
                       (BANK_USD, "1001", "1001 Operating (USD)", "Bank", USD, SUB),
                       (INCOME, "4000", "4000 Revenue", "Income", None, SUB),
                       (FEES, "6150", "6150 Stripe Fees", "Expense", None, SUB),
                       (BANK_EUR, "1002", "1002 Operating (EUR)", "Bank", EUR, SUB)])
        for cid, name, cur, terms in ((ACME, "Acme Inc.", USD, 30), (GLOBEX, "Globex LLC", USD, 0),
                                      (TOKYO, "Tokyo K.K.", JPY, 30)):
            c.execute("INSERT INTO customer (id, entityid, companyname, currency, subsidiary, terms, datecreated, "
                      "lastmodifieddate) VALUES (?,?,?,?,?,?,?,?)",
                      (cid, f"CUST{cid}", name, cur, SUB, terms, stamp, stamp))
            c.execute("INSERT INTO customersubsidiaryrelationship (entity, subsidiary, isprimarysub, primarycurrency) "
                      "VALUES (?,?,'T',?)", (cid, SUB, cur))
            c.execute("INSERT INTO customercurrency (entity, currency) VALUES (?,?)", (cid, cur))
        c.execute("INSERT INTO customercurrency (entity, currency) VALUES (?,?)", (ACME, EUR))


class Env:
    def __init__(self, tmp_path) -> None:
        self.store = Store(tmp_path)
        _fixtures(self.store)
        self.settings = SandboxSettings()
        self.events: list[tuple[str, int, str]] = []
        self.svc = RecordService(self.store, self.settings, notify=lambda *e: self.events.append(e))

    def invoice(self, amount="100.00", customer=ACME, currency=None, **extra) -> int:
        body = {"entity": {"id": str(customer)}, "tranDate": "2024-03-01",
                "item": {"items": [{"amount": float(amount), "description": "Subscription"}]}, **extra}
        if currency is not None:
            body["currency"] = {"id": str(currency)}
        return self.svc.create("invoice", body)

    def payment(self, applies, payment=None, customer=ACME, **extra) -> int:
        body = {"customer": {"id": str(customer)}, "undepFunds": True, "tranDate": "2024-03-05",
                "apply": {"items": [{"doc": {"id": str(doc)}, "apply": True, "amount": amt}
                                    for doc, amt in applies]}, **extra}
        if payment is not None:
            body["payment"] = payment
        return self.svc.create("customerPayment", body)

    def get(self, rtype, rid, expand=True):
        return self.svc.get(rtype, str(rid), expand=expand, base_url=BASE)

    def row(self, sql, *args):
        return self.store.connect().execute(sql, args).fetchone()

    def tick(self, minutes=5) -> None:
        self.store.clock_offset += timedelta(minutes=minutes)


@pytest.fixture
def env(tmp_path) -> Env:
    e = Env(tmp_path)
    yield e
    e.store.close()


def _err(excinfo) -> tuple[int, str, str]:
    e = excinfo.value
    return e.status, e.code, e.detail


# ---- create + get, per record type -------------------------------------------------------------

def test_customer_round_trip(env: Env) -> None:
    cid = env.svc.create("customer", {"companyName": "Initech", "subsidiary": {"id": "1"}, "email": "ap@initech.test",
                                      "externalId": "crm-42", "terms": {"id": "45"}, "creditLimit": 5000,
                                      "currencyList": {"items": [{"currency": {"id": "2"}}]}})
    got = env.get("customer", cid)
    assert got["id"] == str(cid) and got["companyName"] == "Initech" and got["entityId"] == "Initech"
    assert got["links"] == [{"rel": "self", "href": f"{BASE}/services/rest/record/v1/customer/{cid}"}]
    assert got["currency"]["id"] == "1" and got["currency"]["refName"] == "US Dollar"
    assert got["isPerson"] is False and got["isInactive"] is False
    assert got["balance"] == 0.0 and got["creditLimit"] == 5000.0 and got["terms"]["id"] == "45"
    assert got["dateCreated"].endswith("Z") and "T" in got["dateCreated"]
    assert sorted(i["currency"]["id"] for i in got["currencyList"]["items"]) == ["1", "2"]
    assert env.svc.get("customer", "eid:crm-42", base_url=BASE)["id"] == str(cid)
    assert env.events == [("customer", cid, "create")]


def test_datetimes_are_utc(env: Env) -> None:
    # fixture customers were created 2024-01-01 09:00 account-local (America/Los_Angeles, UTC-8)
    assert env.get("customer", ACME)["dateCreated"] == "2024-01-01T17:00:00Z"


def test_invoice_round_trip(env: Env) -> None:
    inv = env.svc.create("invoice", {"entity": {"id": str(ACME)}, "tranDate": "2024-03-01", "memo": "PO 1",
                                     "externalId": "bill-1",
                                     "item": {"items": [{"amount": 120.5, "description": "Seats"},
                                                        {"quantity": 2, "rate": 10, "memo": "Support"}]}})
    got = env.get("invoice", inv)
    assert got["total"] == 140.5 and got["amountRemaining"] == 140.5 and got["amountPaid"] == 0.0
    assert got["status"] == {"id": "Open", "refName": "Open"}
    assert got["dueDate"] == "2024-03-31"  # customer terms: 30 days
    assert got["entity"]["id"] == str(ACME) and got["entity"]["refName"] == "Acme Inc."
    assert got["subsidiary"]["id"] == "1" and got["account"]["id"] == str(AR)
    assert got["tranId"].startswith("INV") and got["externalId"] == "bill-1"
    assert [(i["line"], i["amount"], i["description"]) for i in got["item"]["items"]] == [
        (1, 120.5, "Seats"), (2, 20.0, "Support")]
    assert got["item"]["items"][0]["account"]["id"] == str(INCOME)
    row = env.row('SELECT foreigntotal, foreignamountunpaid, status, recordtype FROM "transaction" WHERE id = ?', inv)
    assert Decimal(str(row[0])) == Decimal("140.50") and row[2] == "A" and row[3] == "invoice"
    assert env.row("SELECT balancesearch FROM customer WHERE id = ?", ACME)[0] == 140.5


def test_sublists_are_links_unless_expanded(env: Env) -> None:
    inv = env.invoice()
    got = env.get("invoice", inv, expand=False)
    assert got["item"] == {"links": [{"rel": "self", "href": f"{BASE}/services/rest/record/v1/invoice/{inv}/item"}]}
    expanded = env.get("invoice", inv)
    assert expanded["item"]["totalResults"] == 1 and expanded["item"]["hasMore"] is False


def test_payment_round_trip_and_apply_sublist(env: Env) -> None:
    inv1, inv2 = env.invoice("100"), env.invoice("50")
    other_currency = env.invoice("70", currency=EUR)
    pay = env.svc.create("customerPayment", {
        "customer": {"id": str(ACME)}, "account": {"id": str(UNDEP)}, "currency": {"id": "1"}, "memo": "ACH",
        "payment": 250, "externalId": "pay-abc-123", "toBeEmailed": False,
        "apply": {"items": [{"doc": {"id": str(inv1)}, "apply": True, "amount": 100.0, "line": 0}]}})
    got = env.get("customerPayment", pay)
    assert got["payment"] == 250.0 and got["applied"] == 100.0 and got["unapplied"] == 150.0
    assert got["undepFunds"] is True and got["status"]["refName"] == "Not Deposited"
    assert got["customer"]["id"] == str(ACME) and got["externalId"] == "pay-abc-123"
    items = {i["doc"]["id"]: i for i in got["apply"]["items"]}
    assert set(items) == {str(inv1), str(inv2)}  # open invoices in the payment's currency only
    assert items[str(inv1)]["apply"] is True and items[str(inv1)]["amount"] == 100.0
    assert items[str(inv1)]["due"] == 100.0 and items[str(inv1)]["type"] == "Invoice"
    assert items[str(inv2)]["apply"] is False and items[str(inv2)]["due"] == 50.0
    assert str(other_currency) not in items
    assert env.get("invoice", inv1)["status"]["refName"] == "Paid In Full"


def test_credit_memo_applies_to_invoice(env: Env) -> None:
    inv = env.invoice("100")
    cm = env.svc.create("creditMemo", {"entity": {"id": str(ACME)}, "item": {"items": [{"amount": 30}]},
                                       "apply": {"items": [{"doc": {"id": str(inv)}, "amount": 30}]}})
    got = env.get("creditMemo", cm)
    assert got["total"] == 30.0 and got["applied"] == 30.0 and got["unapplied"] == 0.0
    assert got["status"]["refName"] == "Fully Applied"
    assert [i["doc"]["id"] for i in got["apply"]["items"] if i["apply"]] == [str(inv)]
    assert env.get("invoice", inv)["amountRemaining"] == 70.0


def test_refund_of_credit_memo(env: Env) -> None:
    cm = env.svc.create("creditMemo", {"entity": {"id": str(ACME)}, "item": {"items": [{"amount": 40}]}})
    ref = env.svc.create("customerRefund", {"customer": {"id": str(ACME)}, "account": {"id": str(BANK_USD)},
                                            "apply": {"items": [{"doc": {"id": str(cm)}, "apply": True,
                                                                 "amount": 25}]}})
    got = env.get("customerRefund", ref)
    assert got["total"] == 25.0 and got["account"]["id"] == str(BANK_USD)
    assert [(i["doc"]["id"], i["amount"]) for i in got["apply"]["items"] if i["apply"]] == [(str(cm), 25.0)]
    cm_after = env.get("creditMemo", cm)
    assert cm_after["unapplied"] == 15.0 and cm_after["status"]["refName"] == "Open"
    link = env.row("SELECT previoustype, nexttype, linktype FROM nexttransactionlinelink WHERE nextdoc = ?", ref)
    assert tuple(link) == ("CustCred", "CustRfnd", "Payment")
    with pytest.raises(ApiError) as ex:  # more than the credit left
        env.svc.create("customerRefund", {"customer": {"id": str(ACME)}, "account": {"id": str(BANK_USD)},
                                          "apply": {"items": [{"doc": {"id": str(cm)}, "amount": 20}]}})
    assert _err(ex)[:2] == (400, "USER_ERROR")


def test_deposit_of_payments_with_fee(env: Env) -> None:
    inv = env.invoice("100")
    p1 = env.payment([(inv, 100)])
    p2 = env.payment([], payment=40)
    dep = env.svc.create("deposit", {
        "account": {"id": str(BANK_USD)}, "memo": "Stripe payout po_1", "externalId": "stripe:po_1",
        "payment": {"items": [{"id": str(p1), "deposit": True, "paymentAmount": 100}, {"id": str(p2)}]},
        "other": {"items": [{"account": {"id": str(FEES)}, "amount": -3.2, "memo": "Stripe fees"}]}})
    got = env.get("deposit", dep)
    assert got["total"] == 136.8 and got["account"]["id"] == str(BANK_USD)
    assert sorted(i["id"] for i in got["payment"]["items"]) == sorted([str(p1), str(p2)])
    assert [(i["amount"], i["account"]["id"]) for i in got["other"]["items"]] == [(-3.2, str(FEES))]
    assert env.get("customerPayment", p1)["status"]["refName"] == "Deposited"
    # cashBack lines are stored as negative lines and read back in `other`
    dep2 = env.svc.create("deposit", {"account": {"id": str(BANK_USD)},
                                      "payment": {"items": [{"id": str(env.payment([], payment=10))}]},
                                      "cashBack": {"items": [{"account": {"id": str(FEES)}, "amount": 1}]}})
    assert env.get("deposit", dep2)["total"] == 9.0


def test_journal_entry_and_payment_of_its_ar_line(env: Env) -> None:
    je = env.svc.create("journalEntry", {
        "subsidiary": {"id": "1"}, "memo": "Late fee", "tranDate": "2024-03-02",
        "line": {"items": [{"account": {"id": str(AR)}, "debit": 25, "entity": {"id": str(ACME)}},
                           {"account": {"id": str(INCOME)}, "credit": 25}]}})
    got = env.get("journalEntry", je)
    assert got["currency"]["id"] == "1" and got["status"]["refName"] == "Approved for Posting"
    lines = got["line"]["items"]
    assert [(ln["line"], ln.get("debit"), ln.get("credit")) for ln in lines] == [(1, 25.0, None), (2, None, 25.0)]
    assert lines[0]["entity"]["id"] == str(ACME)
    assert env.row("SELECT balancesearch FROM customer WHERE id = ?", ACME)[0] == 25
    pay = env.svc.create("customerPayment", {"customer": {"id": str(ACME)}, "payment": 25,
                                             "apply": {"items": [{"doc": {"id": str(je)}, "line": 1, "amount": 25}]}})
    assert env.row("SELECT foreignamountunpaid FROM transactionline WHERE \"transaction\" = ? AND id = 1", je)[0] == 0
    assert env.row("SELECT balancesearch FROM customer WHERE id = ?", ACME)[0] == 0
    assert [i["doc"]["id"] for i in env.get("customerPayment", pay)["apply"]["items"] if i["apply"]] == [str(je)]
    with pytest.raises(ApiError) as ex:
        env.svc.create("journalEntry", {"subsidiary": {"id": "1"}, "line": {"items": [
            {"account": {"id": str(AR)}, "debit": 25, "entity": {"id": str(ACME)}},
            {"account": {"id": str(INCOME)}, "credit": 20}]}})
    assert _err(ex)[1] == "USER_ERROR" and "not in balance" in _err(ex)[2]
    with pytest.raises(ApiError) as ex:
        env.svc.create("journalEntry", {"subsidiary": {"id": "1"}, "line": {"items": [
            {"account": {"id": str(AR)}, "debit": 5}, {"account": {"id": str(INCOME)}, "credit": 5}]}})
    assert _err(ex)[1] == "USER_ERROR" and "Name" in _err(ex)[2]


def test_jpy_has_no_decimals(env: Env) -> None:
    inv = env.invoice("1000.4", customer=TOKYO)
    assert env.get("invoice", inv)["total"] == 1000.0
    assert env.row('SELECT foreigntotal FROM "transaction" WHERE id = ?', inv)[0] == 1000


# ---- application rules -------------------------------------------------------------------------

def test_partial_then_full_application(env: Env) -> None:
    inv = env.invoice("100")
    env.payment([(inv, 40)])
    got = env.get("invoice", inv)
    assert (got["amountPaid"], got["amountRemaining"], got["status"]["id"]) == (40.0, 60.0, "Open")
    env.payment([(inv, 60)])
    got = env.get("invoice", inv)
    assert (got["amountPaid"], got["amountRemaining"], got["status"]["id"]) == (100.0, 0.0, "Paid In Full")
    assert env.row('SELECT status FROM "transaction" WHERE id = ?', inv)[0] == "B"


def test_payment_defaults_to_applied_total_and_apply_without_amount(env: Env) -> None:
    inv1, inv2 = env.invoice("100"), env.invoice("80")
    pay = env.svc.create("customerPayment", {"customer": {"id": str(ACME)}, "apply": {"items": [
        {"doc": {"id": str(inv1)}, "apply": True}, {"doc": {"id": str(inv2)}, "amount": 30}]}})
    got = env.get("customerPayment", pay)
    assert got["payment"] == 130.0 and got["unapplied"] == 0.0
    pay2 = env.svc.create("customerPayment", {"customer": {"id": str(ACME)}, "payment": 20,
                                              "apply": {"items": [{"doc": {"id": str(inv2)}, "apply": True}]}})
    assert env.get("customerPayment", pay2)["applied"] == 20.0  # lesser of due (50) and payment left (20)


def test_over_application_refused(env: Env) -> None:
    inv = env.invoice("100")
    before = env.row('SELECT COUNT(*) FROM "transaction"')[0]
    with pytest.raises(ApiError) as ex:
        env.payment([(inv, 150)], payment=200)
    status, code, detail = _err(ex)
    assert (status, code) == (400, "USER_ERROR") and "amount due" in detail and "100.00" in detail
    with pytest.raises(ApiError) as ex:
        env.payment([(inv, 80)], payment=50)
    assert _err(ex)[1] == "USER_ERROR" and "cannot be greater than the payment amount" in _err(ex)[2]
    assert env.row('SELECT COUNT(*) FROM "transaction"')[0] == before  # rolled back
    env.payment([(inv, 100)])
    with pytest.raises(ApiError) as ex:  # already paid in full
        env.payment([(inv, 1)])
    assert _err(ex)[1] == "USER_ERROR"


def test_other_customers_invoice_refused(env: Env) -> None:
    inv = env.invoice("100", customer=GLOBEX)
    with pytest.raises(ApiError) as ex:
        env.payment([(inv, 10)])
    status, code, detail = _err(ex)
    assert (status, code) == (400, "INVALID_KEY_OR_REF") and "another customer" in detail
    assert ex.value.error_path == "apply.items[0].doc"


def test_currency_rules(env: Env) -> None:
    with pytest.raises(ApiError) as ex:  # Globex has no EUR in its currency list
        env.invoice("10", customer=GLOBEX, currency=EUR)
    assert _err(ex)[:2] == (400, "INVALID_KEY_OR_REF") and ex.value.error_path == "currency"
    eur_inv = env.invoice("10", currency=EUR)
    with pytest.raises(ApiError) as ex:  # a USD payment cannot pay a EUR invoice
        env.payment([(eur_inv, 10)])
    assert _err(ex)[1] == "INVALID_KEY_OR_REF" and "EUR" in _err(ex)[2]
    pay = env.payment([(eur_inv, 10)], currency={"id": str(EUR)})
    assert env.get("customerPayment", pay)["currency"]["id"] == str(EUR)


def test_deposit_twice_refused(env: Env) -> None:
    pay = env.payment([], payment=50)
    env.svc.create("deposit", {"account": {"id": str(BANK_USD)}, "payment": {"items": [{"id": str(pay)}]}})
    with pytest.raises(ApiError) as ex:
        env.svc.create("deposit", {"account": {"id": str(BANK_USD)}, "payment": {"items": [{"id": str(pay)}]}})
    assert _err(ex)[:2] == (400, "USER_ERROR") and "already been deposited" in _err(ex)[2]
    banked = env.svc.create("customerPayment", {"customer": {"id": str(ACME)}, "payment": 5,
                                                "account": {"id": str(BANK_USD)}})
    with pytest.raises(ApiError) as ex:
        env.svc.create("deposit", {"account": {"id": str(BANK_USD)}, "payment": {"items": [{"id": str(banked)}]}})
    assert "Undeposited Funds" in _err(ex)[2]
    eur_pay = env.payment([], payment=5, currency={"id": str(EUR)})
    with pytest.raises(ApiError) as ex:
        env.svc.create("deposit", {"account": {"id": str(BANK_USD)}, "payment": {"items": [{"id": str(eur_pay)}]}})
    assert "currency" in _err(ex)[2]


def test_duplicate_external_id_refused(env: Env) -> None:
    env.payment([], payment=10, externalId="stripe:ch_1")
    with pytest.raises(ApiError) as ex:
        env.payment([], payment=10, externalId="stripe:ch_1")
    status, code, detail = _err(ex)
    assert (status, code) == (400, "DUP_RCRD") and detail.startswith("This record already exists.")
    env.invoice("10", externalId="stripe:ch_1")  # unique per record type only


def test_upsert_is_idempotent(env: Env) -> None:
    inv = env.invoice("100")
    body = {"customer": {"id": str(ACME)}, "payment": 60, "undepFunds": True, "memo": "Stripe ch_9",
            "apply": {"items": [{"doc": {"id": str(inv)}, "apply": True, "amount": 60}]}}
    first = env.svc.upsert("customerPayment", "stripe:ch_9", body)
    second = env.svc.upsert("customerPayment", "stripe:ch_9", body)
    assert first == second
    assert env.row("SELECT COUNT(*) FROM \"transaction\" WHERE externalid = 'stripe:ch_9'")[0] == 1
    assert env.get("invoice", inv)["amountRemaining"] == 40.0
    env.svc.upsert("customerPayment", "eid:stripe:ch_9", {"memo": "changed"})
    assert env.get("customerPayment", "eid:stripe:ch_9")["memo"] == "changed"
    with pytest.raises(ApiError) as ex:
        env.svc.upsert("customerPayment", "stripe:ch_9", {"externalId": "other"})
    assert _err(ex)[1] == "USER_ERROR"
    bill = {"entity": {"id": str(ACME)}, "item": {"items": [{"amount": 10}, {"amount": 5}]}}
    assert env.svc.upsert("invoice", "bill-7", bill) == env.svc.upsert("invoice", "bill-7", bill)
    assert env.get("invoice", "eid:bill-7")["total"] == 15.0
    assert len(env.get("invoice", "eid:bill-7")["item"]["items"]) == 2


def test_unapply_restores_and_leaves_other_lines(env: Env) -> None:
    inv1, inv2 = env.invoice("100"), env.invoice("50")
    pay = env.payment([(inv1, 100), (inv2, 50)])
    env.tick()
    env.svc.update("customerPayment", str(pay), {"apply": {"items": [{"doc": {"id": str(inv1)}, "apply": False}]}})
    assert env.get("invoice", inv1)["status"]["id"] == "Open"
    assert env.get("invoice", inv1)["amountRemaining"] == 100.0
    assert env.get("invoice", inv2)["status"]["id"] == "Paid In Full"  # untouched
    got = env.get("customerPayment", pay)
    assert got["applied"] == 50.0 and got["unapplied"] == 100.0
    # amount 0 unapplies too; re-apply by amount
    env.svc.update("customerPayment", str(pay), {"apply": {"items": [{"doc": {"id": str(inv1)}, "amount": 70}]}})
    assert env.get("invoice", inv1)["amountRemaining"] == 30.0
    env.svc.update("customerPayment", str(pay), {"apply": {"items": [{"doc": {"id": str(inv2)}, "amount": 0}]}})
    assert env.get("invoice", inv2)["amountRemaining"] == 50.0


def test_replace_apply_removes_unnamed_lines(env: Env) -> None:
    inv1, inv2 = env.invoice("100"), env.invoice("50")
    pay = env.payment([(inv1, 100), (inv2, 50)])
    env.svc.update("customerPayment", str(pay), {"apply": {"items": [{"doc": {"id": str(inv2)}, "amount": 20}]}},
                   replace={"apply"})
    assert env.get("invoice", inv1)["amountRemaining"] == 100.0
    assert env.get("invoice", inv2)["amountRemaining"] == 30.0
    with pytest.raises(ApiError) as ex:
        env.svc.update("customerPayment", str(pay), {}, replace={"nosuch"})
    assert _err(ex)[1] == "INVALID_PARAMETER"


def test_payment_amount_cannot_drop_below_applied(env: Env) -> None:
    inv = env.invoice("100")
    pay = env.payment([(inv, 100)])
    with pytest.raises(ApiError) as ex:
        env.svc.update("customerPayment", str(pay), {"payment": 90})
    assert "cannot be greater than the payment amount" in _err(ex)[2]


# ---- delete, void, locks -----------------------------------------------------------------------

def test_delete_payment_reopens_invoice_and_writes_deletedrecord(env: Env) -> None:
    inv = env.invoice("100")
    pay = env.payment([(inv, 100)], externalId="stripe:ch_del")
    with pytest.raises(ApiError) as ex:  # the invoice has a payment applied
        env.svc.delete("invoice", str(inv))
    assert _err(ex) == (400, "USER_ERROR", "This record cannot be deleted because it has dependent records.")
    env.events.clear()
    env.svc.delete("customerPayment", str(pay))
    assert env.get("invoice", inv)["status"]["id"] == "Open"
    row = env.row("SELECT recordid, scriptid, type, externalid, context, deleteddate FROM deletedrecord")
    assert (row[0], row[1], row[2], row[3], row[4]) == (pay, "customerpayment", "Customer Payment", "stripe:ch_del",
                                                        "WebServices")
    assert row[5]
    assert env.row("SELECT COUNT(*) FROM nexttransactionlinelink")[0] == 0
    assert ("customerpayment", pay, "delete") in env.events and ("invoice", inv, "edit") in env.events
    with pytest.raises(ApiError) as ex:
        env.get("customerPayment", pay)
    assert _err(ex)[:2] == (404, "NONEXISTENT_ID")
    env.svc.delete("invoice", str(inv))
    assert env.row("SELECT COUNT(*) FROM transactionline WHERE \"transaction\" = ?", inv)[0] == 0
    tranid = env.row("SELECT name FROM deletedrecord WHERE recordid = ?", inv)[0]
    new = env.invoice("5")  # ids and document numbers of deleted records are not reused
    assert new > pay > inv  # pay, the highest id, was deleted too
    assert env.get("invoice", new)["tranId"] > tranid


def test_delete_customer(env: Env) -> None:
    env.invoice("10")
    with pytest.raises(ApiError) as ex:
        env.svc.delete("customer", str(ACME))
    assert _err(ex)[1] == "USER_ERROR"
    cid = env.svc.create("customer", {"companyName": "Gone Ltd", "subsidiary": {"id": "1"}})
    env.svc.delete("customer", str(cid), context="UI")
    assert tuple(env.row("SELECT scriptid, type, name, context FROM deletedrecord WHERE recordid = ?", cid)) == (
        "customer", "Customer", "Gone Ltd", "UI")


def test_void(env: Env) -> None:
    inv = env.invoice("100")
    pay = env.payment([(inv, 60)])
    env.svc.void("invoice", str(inv))
    got = env.get("invoice", inv)
    assert got["status"]["id"] == "Voided" and got["amountRemaining"] == 0.0
    assert env.row('SELECT voided FROM "transaction" WHERE id = ?', inv)[0] == "T"
    assert env.get("customerPayment", pay)["unapplied"] == 60.0
    with pytest.raises(ApiError):
        env.svc.void("invoice", str(inv))
    with pytest.raises(ApiError) as ex:
        env.svc.update("invoice", str(inv), {"memo": "x"})
    assert "voided" in _err(ex)[2]
    inv2 = env.invoice("30")
    pay2 = env.payment([(inv2, 30)])
    env.svc.void("customerPayment", str(pay2))
    assert env.get("invoice", inv2)["status"]["id"] == "Open"
    assert env.row("SELECT balancesearch FROM customer WHERE id = ?", ACME)[0] == -30  # pay's 60 unapplied + inv2 30


def test_locked_record_refused(env: Env) -> None:
    inv = env.invoice("100")
    pay = env.payment([], payment=10)
    env.settings.faults.locked_record_ids = {pay, inv}
    locked = "This record has been locked by a user defined workflow."
    for call in (lambda: env.svc.update("customerPayment", str(pay), {"memo": "x"}),
                 lambda: env.svc.delete("customerPayment", str(pay)),
                 lambda: env.svc.void("customerPayment", str(pay)),
                 lambda: env.payment([(inv, 10)])):
        with pytest.raises(ApiError) as ex:
            call()
        assert _err(ex) == (400, "USER_ERROR", locked)
    env.settings.faults.locked_record_ids = set()
    env.svc.update("customerPayment", str(pay), {"memo": "x"})


# ---- timestamps and notifications --------------------------------------------------------------

def test_lastmodifieddate_moves_on_every_changed_record(env: Env) -> None:
    inv1, inv2 = env.invoice("100"), env.invoice("50")
    pay = env.payment([(inv1, 100)])
    stamps = {t: env.row('SELECT lastmodifieddate FROM "transaction" WHERE id = ?', t)[0] for t in (inv1, inv2, pay)}
    env.tick(60)
    env.svc.update("customerPayment", str(pay), {"apply": {"items": [{"doc": {"id": str(inv1)}, "amount": 40}]}})
    after = {t: env.row('SELECT lastmodifieddate FROM "transaction" WHERE id = ?', t)[0] for t in (inv1, inv2, pay)}
    assert after[pay] > stamps[pay] and after[inv1] > stamps[inv1]
    assert after[inv2] == stamps[inv2]  # not touched
    link = env.row("SELECT lastmodifieddate FROM nexttransactionlinelink WHERE nextdoc = ?", pay)[0]
    assert link == after[pay]
    got = env.get("invoice", inv1)
    assert got["lastModifiedDate"] > env.get("invoice", inv2)["lastModifiedDate"]


def test_notify_events(env: Env) -> None:
    inv = env.invoice("100")
    assert env.events == [("invoice", inv, "create")]
    env.events.clear()
    pay = env.payment([(inv, 100)])
    assert env.events == [("customerpayment", pay, "create"), ("invoice", inv, "edit")]
    env.events.clear()
    env.svc.update("customerPayment", str(pay), {"memo": "m"})
    assert env.events == [("customerpayment", pay, "edit")]
    env.events.clear()
    with pytest.raises(ApiError):
        env.payment([(inv, 1)])
    assert env.events == []  # a refused write notifies nothing


# ---- validation --------------------------------------------------------------------------------

def test_request_validation(env: Env) -> None:
    with pytest.raises(ApiError) as ex:
        env.svc.create("customerPayment", {"payment": 10})
    assert _err(ex) == (400, "USER_ERROR", "Please enter value(s) for: Customer")
    with pytest.raises(ApiError) as ex:
        env.svc.create("customerPayment", {"customer": {"id": "99999"}, "payment": 10})
    assert _err(ex) == (400, "INVALID_KEY_OR_REF", "Invalid customer reference key 99999.")
    assert ex.value.error_path == "customer"
    with pytest.raises(ApiError) as ex:
        env.svc.create("customerPayment", {"customer": {"id": str(ACME)}, "payment": 10, "bogus": 1})
    assert _err(ex)[:2] == (400, "NONEXISTENT_FIELD") and "bogus" in _err(ex)[2]
    with pytest.raises(ApiError) as ex:
        env.svc.create("invoice", {"entity": {"id": str(ACME)}})
    assert _err(ex)[1] == "USER_ERROR" and "line item" in _err(ex)[2]
    with pytest.raises(ApiError) as ex:
        env.svc.get("salesOrder", "1")
    assert _err(ex)[0] == 404
    with pytest.raises(ApiError) as ex:
        env.svc.get("invoice", "424242")
    assert _err(ex)[:2] == (404, "NONEXISTENT_ID")
    pay = env.payment([], payment=5)
    with pytest.raises(ApiError):  # a payment id is not an invoice
        env.svc.get("invoice", str(pay))
    assert env.svc.get("CUSTOMERPAYMENT", str(pay))["id"] == str(pay)


# ---- collection GET and q ----------------------------------------------------------------------

def test_list_paging(env: Env) -> None:
    ids = [env.invoice(str(10 + i)) for i in range(5)]
    page = env.svc.list("invoice", limit=2, offset=0, q=None, base_url=BASE)
    assert page["count"] == 2 and page["hasMore"] is True and page["totalResults"] == 5 and page["offset"] == 0
    assert [i["id"] for i in page["items"]] == [str(x) for x in ids[:2]]
    assert page["items"][0]["links"][0]["href"] == f"{BASE}/services/rest/record/v1/invoice/{ids[0]}"
    rels = {ln["rel"]: ln["href"] for ln in page["links"]}
    assert rels["next"].endswith("/invoice?limit=2&offset=2") and rels["last"].endswith("offset=4")
    last = env.svc.list("invoice", limit=2, offset=4, q=None, base_url=BASE)
    assert last["count"] == 1 and last["hasMore"] is False and "next" not in {ln["rel"] for ln in last["links"]}
    with pytest.raises(ApiError) as ex:
        env.svc.list("invoice", limit=1001, offset=0, q=None, base_url=BASE)
    assert _err(ex)[1] == "INVALID_PARAMETER"


def _ids(env: Env, rtype: str, q: str) -> list[int]:
    return [int(i["id"]) for i in env.svc.list(rtype, limit=1000, offset=0, q=q, base_url=BASE)["items"]]


def test_q_filters(env: Env) -> None:
    with env.store.write() as c:  # pin modification dates (account-local)
        c.execute("UPDATE customer SET lastmodifieddate = '2024-01-31 10:00:00' WHERE id = ?", (ACME,))
        c.execute("UPDATE customer SET lastmodifieddate = '2024-02-01 00:30:00' WHERE id = ?", (GLOBEX,))
        c.execute("UPDATE customer SET lastmodifieddate = '2024-03-15 12:00:00', externalid = 'x-1' WHERE id = ?",
                  (TOKYO,))
    assert _ids(env, "customer", 'lastModifiedDate AFTER "01/31/2024"') == [GLOBEX, TOKYO]
    assert _ids(env, "customer", 'lastModifiedDate ON_OR_AFTER "1/31/2024"') == [ACME, GLOBEX, TOKYO]
    assert _ids(env, "customer", 'lastModifiedDate BEFORE "02/01/2024"') == [ACME]
    assert _ids(env, "customer", 'lastModifiedDate ON "2024-02-01"') == [GLOBEX]
    assert _ids(env, "customer",
                'lastModifiedDate AFTER "01/01/2024" AND lastModifiedDate BEFORE "03/01/2024"') == [ACME, GLOBEX]
    assert _ids(env, "customer", 'lastModifiedDate ON_OR_AFTER "1/31/2024 10:00 am"') == [ACME, GLOBEX, TOKYO]
    assert _ids(env, "customer", 'lastModifiedDate AFTER "1/31/2024 10:00 am"') == [GLOBEX, TOKYO]
    assert _ids(env, "customer", 'externalId IS "x-1"') == [TOKYO]
    assert _ids(env, "customer", f"id EQUAL {GLOBEX}") == [GLOBEX]
    assert _ids(env, "customer", f"id ANY_OF [{ACME}, {TOKYO}]") == [ACME, TOKYO]
    assert _ids(env, "customer", f'(id EQUAL {ACME} OR id EQUAL {TOKYO}) AND companyName START_WITH "tok"') == [TOKYO]
    inv_a, inv_g = env.invoice("10"), env.invoice("20", customer=GLOBEX)
    assert _ids(env, "invoice", f"entity ANY_OF [{GLOBEX}]") == [inv_g]
    assert _ids(env, "invoice", 'status ANY_OF ["CustInvc:A"]') == [inv_a, inv_g]
    assert _ids(env, "invoice", "total GREATER 15") == [inv_g]


def test_q_errors(env: Env) -> None:
    with pytest.raises(ApiError) as ex:
        _ids(env, "customer", 'lastModifiedDate AFTER "31/01/2024"')
    status, code, detail = _err(ex)
    assert (status, code) == (400, "INVALID_PARAMETER") and 'Unparseable date: "31/01/2024"' in detail
    for bad in ('nosuchfield IS "x"', 'lastModifiedDate FOO "1/1/2024"', 'lastModifiedDate AFTER', 'id EQUAL 1 AND'):
        with pytest.raises(ApiError) as ex:
            _ids(env, "customer", bad)
        assert _err(ex)[:2] == (400, "INVALID_PARAMETER")


def test_q_uses_account_date_format(tmp_path) -> None:
    e = Env(tmp_path)
    e.settings.date_format = "D/M/YYYY"
    with e.store.write() as c:
        c.execute("UPDATE customer SET lastmodifieddate = '2024-01-31 10:00:00'")
    assert _ids(e, "customer", 'lastModifiedDate ON "31/1/2024"') == [ACME, GLOBEX, TOKYO]
    assert _ids(e, "customer", 'lastModifiedDate ON "2024-01-31"') == [ACME, GLOBEX, TOKYO]  # ISO is accepted too
    with pytest.raises(ApiError) as ex:  # Airbyte's first try, M/D/YYYY, does not parse here
        _ids(e, "customer", 'lastModifiedDate AFTER "01/31/2024"')
    assert "Unparseable date:" in _err(ex)[2]
    e.store.close()


# ---- metadata catalog --------------------------------------------------------------------------

def test_metadata_catalog(env: Env) -> None:
    listing = env.svc.metadata_catalog(None, base_url=BASE, accept="application/json")
    names = {i["name"] for i in listing["items"]}
    assert {"customer", "invoice", "customerpayment", "creditmemo", "customerrefund", "deposit",
            "journalentry"} <= names
    entry = next(i for i in listing["items"] if i["name"] == "customerpayment")
    assert {ln["mediaType"] for ln in entry["links"]} >= {"application/schema+json", "application/swagger+json"}
    schema = env.svc.metadata_catalog("customerPayment", base_url=BASE, accept="application/schema+json")
    props = schema["properties"]
    assert props["payment"]["type"] == "number" and props["lastModifiedDate"]["format"] == "date-time"
    assert set(props["customer"]["properties"]) == {"id", "refName", "externalId", "links"}
    row = props["apply"]["properties"]["items"]["items"]
    assert {"doc", "line", "apply", "amount", "due"} <= set(row["properties"])
    assert row["x-ns-sublistkey"]["value"]["existing"] == ["doc", "line"]
    assert "lastModifiedDate" in schema["x-ns-filterable"]
    assert props["links"]["items"]["$ref"].endswith("/metadata-catalog/nsLink")
    assert "href" in env.svc.metadata_catalog("nsLink", base_url=BASE, accept="application/schema+json")["properties"]
    swagger = env.svc.metadata_catalog("invoice", base_url=BASE, accept="application/swagger+json")
    assert "invoice" in swagger["components"]["schemas"]
    with pytest.raises(ApiError):
        env.svc.metadata_catalog("nosuchrecord", base_url=BASE, accept="application/schema+json")


def test_records_only_emit_catalogued_fields(env: Env) -> None:
    inv = env.invoice("100")
    pay = env.payment([(inv, 50)])
    cm = env.svc.create("creditMemo", {"entity": {"id": str(ACME)}, "item": {"items": [{"amount": 5}]}})
    ref = env.svc.create("customerRefund", {"customer": {"id": str(ACME)}, "account": {"id": str(BANK_USD)},
                                            "apply": {"items": [{"doc": {"id": str(cm)}, "amount": 5}]}})
    dep = env.svc.create("deposit", {"account": {"id": str(BANK_USD)}, "payment": {"items": [{"id": str(pay)}]}})
    je = env.svc.create("journalEntry", {"subsidiary": {"id": "1"}, "line": {"items": [
        {"account": {"id": str(AR)}, "debit": 1, "entity": {"id": str(ACME)}},
        {"account": {"id": str(INCOME)}, "credit": 1}]}})
    from ns_pipelines.sandbox.netsuite.records.types import resolve
    for rtype, rid in (("customer", ACME), ("invoice", inv), ("customerPayment", pay), ("creditMemo", cm),
                       ("customerRefund", ref), ("deposit", dep), ("journalEntry", je)):
        record = env.get(rtype, rid)
        sp = catalog.spec(resolve(rtype))
        for key, value in record.items():
            if key == "links":
                continue
            sub = sp.sublist(key)
            assert sp.field(key) is not None or sub is not None, (rtype, key)
            if sub is not None:
                for item in value["items"]:
                    assert all(k == "links" or sub.field(k) is not None for k in item), (rtype, key, item)


# ---- against seeded data -----------------------------------------------------------------------

def test_seeded_account_reads_and_writes_stay_consistent(tmp_path) -> None:
    from ns_pipelines.sandbox.netsuite.seed import seed

    store = Store(tmp_path)
    seed(store, scale="tiny", seed=7)
    svc = RecordService(store, SandboxSettings())
    conn = store.connect()
    for rtype in ("customer", "invoice", "customerPayment", "creditMemo", "customerRefund", "deposit",
                  "journalEntry"):
        for item in svc.list(rtype, limit=1000, offset=0, q=None, base_url=BASE)["items"]:
            svc.get(rtype, item["id"], expand=True, base_url=BASE)
    # pay an open invoice in full, deposit the payment, then check balances.py finds nothing to fix
    inv = conn.execute('SELECT id, entity, currency, foreignamountunpaid FROM "transaction" WHERE type = \'CustInvc\' '
                       "AND status = 'A' AND voided = 'F' ORDER BY id LIMIT 1").fetchone()
    pay = svc.upsert("customerPayment", "stripe:ch_seeded", {
        "customer": {"id": str(inv["entity"])}, "currency": {"id": str(inv["currency"])}, "undepFunds": True,
        "apply": {"items": [{"doc": {"id": str(inv["id"])}, "apply": True}]}})
    assert svc.get("invoice", str(inv["id"]))["status"]["id"] == "Paid In Full"
    bank = conn.execute("SELECT a.id FROM account a JOIN customer c ON c.id = ? WHERE a.accttype = 'Bank' "
                        "AND a.currency = ? AND a.subsidiary = c.subsidiary", (inv["entity"], inv["currency"])).fetchone()
    svc.create("deposit", {"account": {"id": str(bank[0])}, "payment": {"items": [{"id": str(pay)}]}})
    before = [tuple(r) for r in conn.execute('SELECT * FROM "transaction" ORDER BY id')]
    before_c = [tuple(r) for r in conn.execute("SELECT * FROM customer ORDER BY id")]
    with store.write() as w:
        balances.recompute_document_amounts(w, [r[0] for r in before])
        balances.recompute_customer_balances(w, today=store.today())
    assert [tuple(r) for r in conn.execute('SELECT * FROM "transaction" ORDER BY id')] == before
    assert [tuple(r) for r in conn.execute("SELECT * FROM customer ORDER BY id")] == before_c
    store.close()


# ---- more writes -------------------------------------------------------------------------------

def test_refund_of_payment_from_undeposited_funds_is_deposited_negative(env: Env) -> None:
    pay = env.payment([], payment=100)
    ref = env.svc.create("customerRefund", {"customer": {"id": str(ACME)}, "undepFunds": True,
                                            "apply": {"items": [{"doc": {"id": str(pay)}, "apply": True}]}})
    assert env.get("customerRefund", ref)["total"] == 100.0
    assert env.get("customerPayment", pay)["unapplied"] == 0.0
    pay2 = env.payment([], payment=30)
    dep = env.svc.create("deposit", {"account": {"id": str(BANK_USD)},
                                     "payment": {"items": [{"id": str(pay)}, {"id": str(pay2)}, {"id": str(ref)}]}})
    got = env.get("deposit", dep)
    assert got["total"] == 30.0
    assert {i["id"]: i["paymentAmount"] for i in got["payment"]["items"]} == {str(pay): 100.0, str(pay2): 30.0,
                                                                             str(ref): -100.0}
    with pytest.raises(ApiError):  # the payment was refunded, so it cannot be deleted
        env.svc.delete("customerPayment", str(pay))
    env.svc.update("deposit", str(dep), {"payment": {"items": [{"id": str(pay2), "deposit": False}]}})
    assert env.get("deposit", dep)["total"] == 0.0
    assert env.get("customerPayment", pay2)["status"]["id"] == "Not Deposited"
    env.svc.delete("deposit", str(dep))
    assert env.get("customerPayment", pay)["status"]["id"] == "Not Deposited"


def test_invoice_item_update(env: Env) -> None:
    inv = env.invoice("100", terms={"id": "10"})
    assert env.get("invoice", inv)["dueDate"] == "2024-03-11"
    env.payment([(inv, 60)])
    env.svc.update("invoice", str(inv), {"item": {"items": [{"line": 1, "amount": 80}, {"amount": 5}]}})
    got = env.get("invoice", inv)
    assert got["total"] == 85.0 and got["amountRemaining"] == 25.0 and len(got["item"]["items"]) == 2
    env.svc.update("invoice", str(inv), {"item": {"items": [{"line": 2, "amount": 70}]}}, replace={"item"})
    assert env.get("invoice", inv)["total"] == 70.0
    with pytest.raises(ApiError) as ex:
        env.svc.update("invoice", str(inv), {"item": {"items": [{"line": 2, "amount": 50}]}})
    assert "already paid" in _err(ex)[2]
    with pytest.raises(ApiError) as ex:
        env.svc.update("invoice", str(inv), {"entity": {"id": str(GLOBEX)}})
    assert _err(ex)[1] == "USER_ERROR"


def test_journal_update_and_customer_update(env: Env) -> None:
    je = env.svc.create("journalEntry", {"subsidiary": {"id": "1"}, "line": {"items": [
        {"account": {"id": str(AR)}, "debit": 25, "entity": {"id": str(ACME)}},
        {"account": {"id": str(INCOME)}, "credit": 25}]}})
    env.svc.update("journalEntry", str(je), {"line": {"items": [
        {"account": {"id": str(AR)}, "debit": 40, "entity": {"id": str(GLOBEX)}},
        {"account": {"id": str(INCOME)}, "credit": 40}]}}, replace={"line"})
    assert [ln["entity"]["id"] for ln in env.get("journalEntry", je)["line"]["items"] if "entity" in ln] == [
        str(GLOBEX)]
    assert env.row("SELECT balancesearch FROM customer WHERE id = ?", ACME)[0] == 0
    assert env.row("SELECT balancesearch FROM customer WHERE id = ?", GLOBEX)[0] == 40
    env.svc.update("customer", str(GLOBEX), {"email": "ar@globex.test", "currencyList": {"items": [
        {"currency": {"id": str(EUR)}}]}})
    got = env.get("customer", GLOBEX)
    assert got["email"] == "ar@globex.test" and len(got["currencyList"]["items"]) == 2
    env.invoice("10", customer=GLOBEX, currency=EUR)  # now allowed
    with pytest.raises(ApiError) as ex:
        env.svc.update("customer", str(GLOBEX), {"currency": {"id": str(EUR)}})
    assert "has transactions" in _err(ex)[2]


def test_exchange_rate_to_subsidiary_currency(env: Env) -> None:
    inv = env.invoice("10", currency=EUR)
    assert env.get("invoice", inv)["exchangeRate"] == 1.1
    assert env.row('SELECT exchangerate FROM "transaction" WHERE id = ?', inv)[0] == 1.1
    inv2 = env.invoice("10", currency=EUR, exchangeRate=1.25)
    assert env.get("invoice", inv2)["exchangeRate"] == 1.25
    assert env.row("SELECT balancesearch FROM customer WHERE id = ?", ACME)[0] == 23.5  # 11.00 + 12.50
