"""The sandbox account's ground truth: SQLite tables that carry SuiteQL's table and column names.

Values are stored the way SuiteQL presents them, so anyone can open the file and check the truth:
- booleans are the strings 'T' / 'F';
- DATE columns are ISO text 'YYYY-MM-DD'; DATETIME columns are ISO text 'YYYY-MM-DD HH:MM:SS'
  in the account's time zone (SuiteQL datetimes are account-local, netsuite-api.md section 3.2);
- money columns have NUMERIC affinity; writers store decimals quantized to the currency's
  precision, readers quantize again (SQLite may hold them as REAL).

Decisions where the reference is uncertain (netsuite-api.md, open questions):
- `transaction` has no `subsidiary`: it is read from the main line (`transactionline.mainline='T'`).
- `transactionline.expenseaccount` holds the line's account (journal entry lines, deposit fee
  lines, the posting account of a main line); A/R lines of journal entries have `entity` set and
  an `expenseaccount` whose `accttype` is 'AcctRec'. Journal line `foreignamount` = debit - credit.
- Applications live in `nexttransactionlinelink`: previousdoc = the document paid (invoice, or a
  journal entry's A/R line), nextdoc = the payment or credit memo, linktype 'Payment'. Customer
  refunds link to the credit memo or payment they pay out (linktype 'Payment'); deposits link to
  the payments they deposit (linktype 'Deposit'). `previoustransactionlinelink` is the same set of
  links seen from the other side (a view).
- `customer.balancesearch` is the customer's open balance in the subsidiary's base currency:
  sum of open invoice amounts and A/R journal lines minus unapplied payments and credits, each
  converted at the transaction's exchange rate; voided and deleted transactions count zero.
- `customercurrency` lists the currencies a customer may transact in (NetSuite's customer
  currency sublist); a transaction in another currency is refused.
"""
from __future__ import annotations

DDL = """
CREATE TABLE IF NOT EXISTS currency (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    symbol TEXT NOT NULL UNIQUE,          -- ISO 4217 code
    displaysymbol TEXT,
    currencyprecision INTEGER NOT NULL,   -- 0 for JPY, 2 for USD
    exchangerate NUMERIC NOT NULL,        -- to the root subsidiary's base currency
    isbasecurrency TEXT NOT NULL DEFAULT 'F',
    isinactive TEXT NOT NULL DEFAULT 'F',
    lastmodifieddate TEXT
);

CREATE TABLE IF NOT EXISTS subsidiary (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    fullname TEXT NOT NULL,
    parent INTEGER REFERENCES subsidiary(id),
    iselimination TEXT NOT NULL DEFAULT 'F',
    isinactive TEXT NOT NULL DEFAULT 'F',
    currency INTEGER NOT NULL REFERENCES currency(id),
    country TEXT,
    lastmodifieddate TEXT
);

CREATE TABLE IF NOT EXISTS account (
    id INTEGER PRIMARY KEY,
    acctnumber TEXT,
    acctname TEXT,
    fullname TEXT NOT NULL,
    accttype TEXT NOT NULL,               -- AcctRec, Bank, UnDepFunds, Expense, Income, OthCurrAsset
    currency INTEGER REFERENCES currency(id),
    subsidiary INTEGER REFERENCES subsidiary(id),
    isinactive TEXT NOT NULL DEFAULT 'F',
    parent INTEGER REFERENCES account(id),
    lastmodifieddate TEXT
);

CREATE TABLE IF NOT EXISTS customer (
    id INTEGER PRIMARY KEY,
    entityid TEXT NOT NULL,
    companyname TEXT,
    isperson TEXT NOT NULL DEFAULT 'F',
    email TEXT,
    phone TEXT,
    currency INTEGER NOT NULL REFERENCES currency(id),
    subsidiary INTEGER NOT NULL REFERENCES subsidiary(id),
    parent INTEGER REFERENCES customer(id),
    representingsubsidiary INTEGER REFERENCES subsidiary(id),  -- set on intercompany customers
    terms INTEGER,                        -- days until due, for invoices without a due date
    creditlimit NUMERIC,
    balancesearch NUMERIC NOT NULL DEFAULT 0,
    consolbalancesearch NUMERIC NOT NULL DEFAULT 0,
    overduebalancesearch NUMERIC NOT NULL DEFAULT 0,
    isinactive TEXT NOT NULL DEFAULT 'F',
    externalid TEXT UNIQUE,
    datecreated TEXT NOT NULL,
    lastmodifieddate TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS customer_lastmodifieddate ON customer(lastmodifieddate);

CREATE TABLE IF NOT EXISTS customercurrency (
    entity INTEGER NOT NULL REFERENCES customer(id),
    currency INTEGER NOT NULL REFERENCES currency(id),
    PRIMARY KEY (entity, currency)
);

CREATE TABLE IF NOT EXISTS customersubsidiaryrelationship (
    id INTEGER PRIMARY KEY,
    entity INTEGER NOT NULL REFERENCES customer(id),
    subsidiary INTEGER NOT NULL REFERENCES subsidiary(id),
    isprimarysub TEXT NOT NULL DEFAULT 'F',
    primarycurrency INTEGER REFERENCES currency(id),
    balance NUMERIC NOT NULL DEFAULT 0,
    depositbalance NUMERIC NOT NULL DEFAULT 0,
    lastmodifieddate TEXT
);
CREATE INDEX IF NOT EXISTS csr_entity ON customersubsidiaryrelationship(entity);

CREATE TABLE IF NOT EXISTS "transaction" (
    id INTEGER PRIMARY KEY,
    tranid TEXT,                          -- document number, e.g. INV10042
    transactionnumber TEXT,
    type TEXT NOT NULL,                   -- CustInvc, CustPymt, CustCred, CustRfnd, Deposit, Journal
    recordtype TEXT NOT NULL,             -- invoice, customerpayment, creditmemo, customerrefund, deposit, journalentry
    status TEXT,                          -- the letter; BUILTIN.CF gives Type:Letter
    trandate TEXT NOT NULL,
    duedate TEXT,
    postingperiod INTEGER,
    posting TEXT NOT NULL DEFAULT 'T',
    voided TEXT NOT NULL DEFAULT 'F',
    void TEXT NOT NULL DEFAULT 'F',
    entity INTEGER REFERENCES customer(id),
    currency INTEGER NOT NULL REFERENCES currency(id),
    exchangerate NUMERIC NOT NULL DEFAULT 1,
    foreigntotal NUMERIC NOT NULL DEFAULT 0,
    foreignamountpaid NUMERIC,
    foreignamountunpaid NUMERIC,
    foreignpaymentamountused NUMERIC,
    foreignpaymentamountunused NUMERIC,
    memo TEXT,
    externalid TEXT,
    intercompany TEXT NOT NULL DEFAULT 'F',
    tosubsidiary INTEGER REFERENCES subsidiary(id),
    journaltype TEXT,
    terms INTEGER,
    createddate TEXT NOT NULL,
    lastmodifieddate TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS transaction_lastmodifieddate ON "transaction"(lastmodifieddate);
CREATE INDEX IF NOT EXISTS transaction_type_id ON "transaction"(type, id);
CREATE INDEX IF NOT EXISTS transaction_entity ON "transaction"(entity);
-- external ids are unique per record type, as in NetSuite
CREATE UNIQUE INDEX IF NOT EXISTS transaction_externalid ON "transaction"(recordtype, externalid)
    WHERE externalid IS NOT NULL;

CREATE TABLE IF NOT EXISTS transactionline (
    "transaction" INTEGER NOT NULL REFERENCES "transaction"(id),
    id INTEGER NOT NULL,                  -- 0 is the main line; unique only within a transaction
    linesequencenumber INTEGER NOT NULL,
    uniquekey INTEGER NOT NULL UNIQUE,
    mainline TEXT NOT NULL DEFAULT 'F',
    taxline TEXT NOT NULL DEFAULT 'F',
    subsidiary INTEGER REFERENCES subsidiary(id),
    entity INTEGER REFERENCES customer(id),
    expenseaccount INTEGER REFERENCES account(id),
    foreignamount NUMERIC,
    netamount NUMERIC,
    debitforeignamount NUMERIC,
    creditforeignamount NUMERIC,
    foreignamountpaid NUMERIC,
    foreignamountunpaid NUMERIC,
    foreignpaymentamountused NUMERIC,
    foreignpaymentamountunused NUMERIC,
    memo TEXT,
    eliminate TEXT NOT NULL DEFAULT 'F',
    isclosed TEXT NOT NULL DEFAULT 'F',
    linelastmodifieddate TEXT NOT NULL,
    PRIMARY KEY ("transaction", id)
);
CREATE INDEX IF NOT EXISTS transactionline_entity ON transactionline(entity);

CREATE TABLE IF NOT EXISTS nexttransactionlinelink (
    previousdoc INTEGER NOT NULL,
    previousline INTEGER NOT NULL,
    previoustype TEXT NOT NULL,
    nextdoc INTEGER NOT NULL,
    nextline INTEGER NOT NULL,
    nexttype TEXT NOT NULL,
    linktype TEXT NOT NULL,
    foreignamount NUMERIC NOT NULL,
    linkdate TEXT,
    lastmodifieddate TEXT NOT NULL,
    PRIMARY KEY (previousdoc, previousline, nextdoc, nextline)
);
CREATE INDEX IF NOT EXISTS ntll_nextdoc ON nexttransactionlinelink(nextdoc);
CREATE INDEX IF NOT EXISTS ntll_lastmodifieddate ON nexttransactionlinelink(lastmodifieddate);

CREATE VIEW IF NOT EXISTS previoustransactionlinelink AS
    SELECT previousdoc, previousline, previoustype, nextdoc, nextline, nexttype, linktype,
           foreignamount, linkdate, lastmodifieddate
    FROM nexttransactionlinelink;

CREATE TABLE IF NOT EXISTS deletedrecord (
    id INTEGER PRIMARY KEY,               -- not a SuiteQL column; kept for a stable order
    recordid INTEGER NOT NULL,
    recordtypeid INTEGER,
    scriptid TEXT NOT NULL,               -- record type: invoice, customer, customerpayment, ...
    type TEXT NOT NULL,                   -- display name: Invoice, Customer, Customer Payment, ...
    name TEXT,
    externalid TEXT,
    context TEXT,                         -- UI, WebServices, ...
    deletedby INTEGER,
    deleteddate TEXT NOT NULL,
    iscustomlist TEXT NOT NULL DEFAULT 'F',
    iscustomrecord TEXT NOT NULL DEFAULT 'F',
    iscustomtransaction TEXT NOT NULL DEFAULT 'F'
);
CREATE INDEX IF NOT EXISTS deletedrecord_deleteddate ON deletedrecord(deleteddate);

-- Sandbox bookkeeping; not visible to SuiteQL (names start with sandbox_).
CREATE TABLE IF NOT EXISTS sandbox_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sandbox_outbox (
    id INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    delivered_at TEXT,
    last_error TEXT
);
"""

# The tables SuiteQL may name; anything else answers "Invalid search" in the engine.
SUITEQL_TABLES = (
    "currency", "subsidiary", "account", "customer", "customercurrency",
    "customersubsidiaryrelationship", "transaction", "transactionline",
    "nexttransactionlinelink", "previoustransactionlinelink", "deletedrecord",
)

BOOLEAN_COLUMNS = {
    "isbasecurrency", "isinactive", "iselimination", "isperson", "isprimarysub", "posting",
    "voided", "void", "intercompany", "mainline", "taxline", "eliminate", "isclosed",
    "iscustomlist", "iscustomrecord", "iscustomtransaction",
}
DATE_COLUMNS = {"trandate", "duedate", "linkdate"}
DATETIME_COLUMNS = {"createddate", "lastmodifieddate", "datecreated", "linelastmodifieddate", "deleteddate"}
# Columns holding internal ids: SuiteQL returns them as strings.
ID_COLUMNS = {
    "id", "parent", "currency", "subsidiary", "entity", "representingsubsidiary", "transaction",
    "expenseaccount", "previousdoc", "nextdoc", "previousline", "nextline", "recordid",
    "recordtypeid", "tosubsidiary", "postingperiod", "deletedby", "primarycurrency", "uniquekey",
}
MONEY_COLUMNS = {
    "exchangerate", "foreigntotal", "foreignamountpaid", "foreignamountunpaid",
    "foreignpaymentamountused", "foreignpaymentamountunused", "foreignamount", "netamount",
    "debitforeignamount", "creditforeignamount", "balancesearch", "consolbalancesearch",
    "overduebalancesearch", "creditlimit", "balance", "depositbalance",
}

# transaction.type -> (recordtype, REST record name, display name)
TRANSACTION_TYPES = {
    "CustInvc": ("invoice", "invoice", "Invoice"),
    "CustPymt": ("customerpayment", "customerPayment", "Customer Payment"),
    "CustCred": ("creditmemo", "creditMemo", "Credit Memo"),
    "CustRfnd": ("customerrefund", "customerRefund", "Customer Refund"),
    "Deposit": ("deposit", "deposit", "Deposit"),
    "Journal": ("journalentry", "journalEntry", "Journal Entry"),
}

# Status letters and their display text (BUILTIN.DF(status) gives "<Type display> : <text>").
STATUS_TEXT = {
    "CustInvc": {"A": "Open", "B": "Paid In Full", "V": "Voided", "D": "Pending Approval", "E": "Rejected"},
    "CustPymt": {"A": "Unapproved Payment", "B": "Not Deposited", "C": "Deposited", "V": "Voided"},
    "CustCred": {"A": "Open", "B": "Fully Applied", "V": "Voided"},
    "CustRfnd": {"A": "Not Voided", "V": "Voided"},
    "Deposit": {"A": "Deposited", "V": "Voided"},
    "Journal": {"A": "Pending Approval", "B": "Approved for Posting", "R": "Rejected", "V": "Voided"},
}
