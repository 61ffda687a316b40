"""Deterministic seeded data for the sandbox account: a realistic accounts-receivable history.

`seed(store, scale=..., seed=..., today=...)` empties the store's account tables and fills them
with about `SCALES[scale]` transactions spread over the two years before `today`: invoices (most
of them), customer payments applied in full, in part, to several invoices or not at all, credit
memos applied and unapplied, A/R journal entries (debits, some paid; credits; reclasses from a
child customer to its parent), customer refunds of credit memos and of unapplied payments,
deposits of payments (Stripe payouts with a fee line, and check/ACH bank deposits), voided and
deleted documents, in five currencies (JPY without decimals) across a parent, five subsidiaries
and an elimination subsidiary, with intercompany customers and invoices. The same
(scale, seed, today) always gives the same database.

It is a day-by-day simulation: events (an invoice, the payment planned for it, a deposit run...)
are queued on the day they happen and processed in order, so ids and timestamps grow with time
and every amount is known when a document is written. Documents are kept in memory only while a
later event may still change them. Open amounts follow balances.py's rules exactly (the tests
check that recomputing changes nothing); customer balances are computed at the end by
`balances.recompute_customer_balances`.

Conventions of the seeded rows (beyond docs/sandbox-design.md), for code that adds to them:
- Ids: customers from 101, transactions from 1001 (one id space; deleted records leave gaps).
  tranid = transactionnumber = prefix + number per type, at least five digits (INV00001,
  PYMT00001, CM00001, JE00001, RFND00001, DEP00001); deleted documents used theirs up.
- Every transaction has line 0 with mainline 'T' carrying the subsidiary. For documents it posts
  the total (foreignamount = foreigntotal) to the document's account: A/R (invoice, credit memo;
  'Intercompany Receivable' for intercompany invoices), Undeposited Funds (payment), the bank
  (refund, deposit). Invoice and credit memo item lines (1..n, income accounts) add up to the
  total; deposit lines are one per payment (Undeposited Funds, entity = the payment's customer)
  plus one negative Stripe fee line. A journal entry's line 0 is a summary line without account or
  amount; its lines 1..n carry the postings, A/R lines with entity set; header entity is NULL.
- Links: previousline is 0 for documents and the line id for journal lines; nextline is 0 except
  for deposits (the deposit line of that payment). A link's lastmodifieddate is the moment of the
  application (its linkdate that day); both documents' lastmodifieddate are at least that.
- Amounts of voided documents stay in foreigntotal and the lines; open amounts are 0.
- deletedrecord: recordtypeid from RECORD_TYPE_IDS, deletedby 7, context 'UI' or 'WebServices'.
- sandbox_meta keys 'seed.scale', 'seed.seed', 'seed.today' hold the parameters.
"""
from __future__ import annotations

import bisect
import math
import random
from collections.abc import Callable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from .balances import recompute_customer_balances
from .schema import TRANSACTION_TYPES
from .store import Store

__all__ = ["SCALES", "RECORD_TYPE_IDS", "HISTORY_DAYS", "seed"]

SCALES: dict[str, int] = {"tiny": 60, "small": 2_000, "medium": 100_000, "large": 1_000_000}
HISTORY_DAYS = 730  # the seeded history covers the two years before `today`
FIRST_CUSTOMER_ID = 101
FIRST_TRANSACTION_ID = 1001
# deletedrecord.recordtypeid: NetSuite's numeric transaction type ids; -2 is the customer record
RECORD_TYPE_IDS = {"invoice": 7, "customerpayment": 9, "creditmemo": 10, "customerrefund": 30,
                   "deposit": 4, "journalentry": 1, "customer": -2}
TRANID_PREFIX = {"CustInvc": "INV", "CustPymt": "PYMT", "CustCred": "CM", "Journal": "JE",
                 "CustRfnd": "RFND", "Deposit": "DEP"}

Progress = Callable[[str, int, int], None]

# --------------------------------------------------------------------------------------------
# Reference data
# --------------------------------------------------------------------------------------------
USD, EUR, GBP, CAD, JPY = 1, 2, 3, 4, 5
# id, name, ISO code, display symbol, precision, rate to USD today
CURRENCIES = [
    (USD, "US Dollar", "USD", "$", 2, "1"),
    (EUR, "Euro", "EUR", "€", 2, "1.0842"),
    (GBP, "British Pound", "GBP", "£", 2, "1.2715"),
    (CAD, "Canadian Dollar", "CAD", "CA$", 2, "0.7318"),
    (JPY, "Japanese Yen", "JPY", "¥", 0, "0.006712"),
]
PRECISION = {c[0]: c[4] for c in CURRENCIES}

HOLDINGS, SUB_US, SUB_UK, SUB_EU, SUB_JP, SUB_CA, SUB_ELIM = 1, 2, 3, 4, 5, 6, 7
# id, name, parent, currency, country, elimination, short name
SUBSIDIARIES = [
    (HOLDINGS, "Honeycomb Holdings Inc.", None, USD, "US", "F", "Holdings"),
    (SUB_US, "Honeycomb US Inc.", HOLDINGS, USD, "US", "F", "US"),
    (SUB_UK, "Honeycomb UK Ltd", HOLDINGS, GBP, "GB", "F", "UK"),
    (SUB_EU, "Honeycomb EU B.V.", HOLDINGS, EUR, "NL", "F", "EU"),
    (SUB_JP, "Honeycomb Japan K.K.", HOLDINGS, JPY, "JP", "F", "Japan"),
    (SUB_CA, "Honeycomb Canada Ltd", HOLDINGS, CAD, "CA", "F", "Canada"),
    (SUB_ELIM, "Honeycomb Elimination", HOLDINGS, USD, "US", "T", "Elimination"),
]
SUB_CURRENCY = {s[0]: s[3] for s in SUBSIDIARIES}
# currencies each operating subsidiary bills in (first = its base currency)
SUB_CURRENCIES = {HOLDINGS: [USD], SUB_US: [USD, CAD, EUR, GBP], SUB_UK: [GBP, EUR, USD],
                  SUB_EU: [EUR, USD, GBP], SUB_JP: [JPY, USD], SUB_CA: [CAD, USD]}
# customers per subsidiary (weights) and legal forms / e-mail domains by country
SUB_WEIGHTS = [(SUB_US, 50), (SUB_UK, 15), (SUB_EU, 15), (SUB_JP, 10), (SUB_CA, 10)]
LEGAL = {SUB_US: ["Inc.", "LLC", "Corp."], SUB_UK: ["Ltd", "PLC"], SUB_EU: ["B.V.", "GmbH", "SAS"],
         SUB_JP: ["K.K.", "Co., Ltd."], SUB_CA: ["Ltd.", "Inc."]}
TLD = {SUB_US: "com", SUB_UK: "co.uk", SUB_EU: "eu", SUB_JP: "co.jp", SUB_CA: "ca"}
# intercompany: (selling subsidiary, represented subsidiary)
INTERCOMPANY = [(SUB_US, SUB_UK), (SUB_US, SUB_JP), (SUB_US, SUB_EU), (SUB_US, SUB_CA), (SUB_UK, SUB_US)]

ACCT_AR, ACCT_AR_IC, ACCT_UNDEP = 1, 2, 3
ACCT_REV_SUB, ACCT_REV_SVC, ACCT_REV_USAGE, ACCT_LATE_FEE, ACCT_REV_IC = 4, 5, 6, 7, 8
ACCT_STRIPE_FEES, ACCT_BAD_DEBT, ACCT_DISCOUNTS = 9, 10, 11
# id, number, name, type
ACCOUNTS = [
    (ACCT_AR, "1100", "Accounts Receivable", "AcctRec"),
    (ACCT_AR_IC, "1150", "Intercompany Receivable", "AcctRec"),
    (ACCT_UNDEP, "1200", "Undeposited Funds", "UnDepFunds"),
    (ACCT_REV_SUB, "4000", "Subscription Revenue", "Income"),
    (ACCT_REV_SVC, "4100", "Professional Services Revenue", "Income"),
    (ACCT_REV_USAGE, "4200", "Usage Revenue", "Income"),
    (ACCT_LATE_FEE, "4900", "Late Fee Income", "Income"),
    (ACCT_REV_IC, "4950", "Intercompany Revenue", "Income"),
    (ACCT_STRIPE_FEES, "6150", "Stripe Fees", "Expense"),
    (ACCT_BAD_DEBT, "6800", "Bad Debt Expense", "Expense"),
    (ACCT_DISCOUNTS, "6810", "Sales Discounts", "Expense"),
]
FIRST_BANK_ACCOUNT = 21

# product memo, revenue account, typical unit price in USD, quantity range, cents in price
PRODUCTS = [
    ("Platform subscription - annual", ACCT_REV_SUB, 6000, (1, 1), False),
    ("Platform subscription - monthly", ACCT_REV_SUB, 600, (1, 1), False),
    ("Additional seats", ACCT_REV_SUB, 40, (1, 40), False),
    ("API usage overage", ACCT_REV_USAGE, 0.35, (100, 5000), True),
    ("Implementation services", ACCT_REV_SVC, 175, (4, 60), False),
    ("Training workshop", ACCT_REV_SVC, 1500, (1, 3), False),
    ("Premium support", ACCT_REV_SUB, 350, (1, 1), False),
]
PRODUCT_WEIGHTS = [14, 30, 16, 14, 10, 6, 10]
_PRODUCT_CHOICES = list(zip(range(len(PRODUCTS)), PRODUCT_WEIGHTS))

NAME_A = ["Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay", "Wonka",
          "Cyberdyne", "Soylent", "Tyrell", "Gringotts", "Monarch", "Pied Piper", "Aperture",
          "Black Mesa", "Oscorp", "Nakatomi", "Dunder", "Prestige", "Sterling", "Bluth", "Massive",
          "Zenith", "Nimbus", "Cobalt", "Ironwood", "Silverline", "Northwind", "Contoso", "Fabrikam",
          "Tailspin", "Litware", "Adatum", "Woodgrove", "Lucerne", "Proseware", "Alpine", "Coho",
          "Bellows", "Fourth", "Margie", "Relecloud", "Wingtip", "Trey", "Humongous", "Blue Yonder",
          "Graphic", "Southridge"]
NAME_B = ["Systems", "Logistics", "Analytics", "Foods", "Media", "Labs", "Dynamics", "Networks",
          "Holdings", "Partners", "Robotics", "Health", "Energy", "Capital", "Studios", "Retail",
          "Freight", "Software", "Consulting", "Pharma", "Motors", "Textiles", "Aerospace", "Security",
          "Travel", "Insurance", "Design", "Brewing", "Outdoor", "Learning", "Games", "Biotech",
          "Marine", "Optics", "Telecom", "Mining", "Farms", "Water", "Printing", "Finance", "Cloud",
          "Devices", "Ventures", "Supply", "Foundry", "Airlines", "Realty", "Apparel", "Chemicals",
          "Audio"]
NAME_C = ["Pacific", "Atlantic", "Northern", "Southern", "Central", "Western", "Eastern", "Midland",
          "Coastal", "Summit", "Valley", "Harbor", "Metro", "Global", "United", "Premier", "Frontier",
          "Capitol", "Lakeside", "Riverside"]
BRANCHES = ["West", "East", "North", "South", "EMEA", "APAC", "Retail", "Wholesale", "Online", "Services"]

TERMS = [(0, 5), (15, 15), (30, 50), (45, 15), (60, 15)]
PROFILES = [("autopay", 20), ("prompt", 35), ("late", 25), ("slow", 13), ("bad", 7)]
MONEY_FACTOR = {0: 1, 2: 100}


def _fmt(v: int, prec: int) -> str:
    """Minor units (cents, yen) as the stored decimal text."""
    if prec == 0:
        return str(v)
    sign = "-" if v < 0 else ""
    q, r = divmod(-v if v < 0 else v, 100)
    return f"{sign}{q}.{r:02d}"


def _weighted(rng: random.Random, pairs: list[tuple[object, int]]):
    total = sum(w for _, w in pairs)
    x = rng.random() * total
    for value, w in pairs:
        x -= w
        if x < 0:
            return value
    return pairs[-1][0]


class _Quota:
    """Takes a fraction `rate` of the events offered, spread evenly (error diffusion): a rare case
    still happens at a small scale, and at most about rate * n + 1 times."""

    __slots__ = ("rate", "acc")

    def __init__(self, rng: random.Random, rate: float, phase: float | None = None) -> None:
        self.rate = min(rate, 0.5)
        self.acc = rng.random() * 0.999 if phase is None else phase

    def take(self) -> bool:
        self.acc += self.rate
        if self.acc >= 1.0:
            self.acc -= 1.0
            return True
        return False


def _rate(p: float, minimum: int, expected: float) -> float:
    return max(p, minimum / max(expected, 1.0))


class _Cust:
    __slots__ = ("id", "entityid", "name", "email", "phone", "sub", "cur", "currencies", "terms",
                 "size", "weight", "start", "end", "parent", "ic_sub", "profile", "stripe_share",
                 "batch", "secondary_sub", "externalid", "created", "lmd", "inactive",
                 "creditlimit", "open", "children")


class _Doc:
    __slots__ = ("id", "type", "cust", "sub", "cur", "prec", "rate", "total", "done", "trandate",
                 "duedate", "created", "lmd", "voided", "pending", "tranid", "externalid", "memo",
                 "ic", "tosub", "terms", "deposited", "hold", "jelines", "period")

    def open(self) -> int:
        return 0 if self.voided else self.total - self.done


class _JELine:
    """An A/R line of a journal entry; payable when it is a debit."""
    __slots__ = ("je", "line", "amount", "done", "lmd", "entity", "account", "memo", "uniquekey",
                 "sub")

    def open(self) -> int:
        if self.je.voided:
            return 0
        return self.amount - self.done if self.amount >= 0 else self.amount + self.done


class _Generator:
    def __init__(self, store: Store, n: int, seed_value: int, today: date,
                 progress: Progress | None) -> None:
        self.store = store
        self.n = n
        self.rng = random.Random(seed_value)
        self.today = today
        self.progress = progress
        self.days = HISTORY_DAYS
        self.first_ord = today.toordinal() - self.days
        self.end_stamp = today.toordinal() * 86400  # every seeded stamp is before today 00:00
        self._daystr: dict[int, str] = {}
        self._periods: dict[int, int] = {}
        self.events: list[list | None] = [[] for _ in range(self.days)]
        self.batches: dict[tuple[int, int], list] = {}
        self.day = 0
        self.next_txn = FIRST_TRANSACTION_ID
        self.next_key = 1
        self.tranno = {t: 0 for t in TRANID_PREFIX}
        self.live: dict[int, _Doc] = {}
        self.txn_rows: list[tuple] = []
        self.line_rows: list[tuple] = []
        self.link_rows: list[tuple] = []
        self.deleted: list[tuple] = []  # (stamp, scriptid, recordid, externalid, name, context)
        self.counts: dict[str, int] = {t: 0 for t in TRANSACTION_TYPES}
        self.rows_written = {"transaction": 0, "transactionline": 0, "nexttransactionlinelink": 0}
        self.created_docs = 0
        self.dep_groups: dict[tuple[int, int, bool], list[_Doc]] = {}
        self.bank: dict[tuple[int, int], int] = {}
        # Stripe pays out every 2 days and checks go to the bank weekly; a small account batches
        # longer so that deposits stay a few percent of its transactions
        self.payout_days = min(30, max(2, round(2 * 40_000 / n)))
        self.deposit_days = min(60, max(7, round(7 * 40_000 / n)))
        self._rates()

    # ---- time ------------------------------------------------------------------------------
    def daystr(self, ordinal: int) -> str:
        s = self._daystr.get(ordinal)
        if s is None:
            s = self._daystr[ordinal] = date.fromordinal(ordinal).isoformat()
        return s

    def stampstr(self, stamp: int) -> str:
        d, s = divmod(stamp, 86400)
        h, s = divmod(s, 3600)
        m, s = divmod(s, 60)
        return f"{self.daystr(d)} {h:02d}:{m:02d}:{s:02d}"

    def stamp(self, day: int, after: int = 0) -> int:
        """A business-hours moment of simulation day `day`, later than `after`."""
        s = (self.first_ord + day) * 86400 + 28800 + int(self.rng.random() * 36000)
        if s <= after:
            s = after + 60 + int(self.rng.random() * 1800)
        return s

    def at(self, day: int, event: tuple) -> bool:
        """Queue an event; False when it would happen today or later (it never happens)."""
        if day < self.day:
            day = self.day
        if day >= self.days:
            return False
        self.events[day].append(event)
        return True

    def period(self, day: int) -> int:
        d = date.fromordinal(self.first_ord + day)
        return (d.year - 2000) * 12 + d.month

    # ---- exchange rates ----------------------------------------------------------------------
    def _rates(self) -> None:
        """A monthly random walk per currency, ending at today's rate; transaction rates are the
        cross rate to the subsidiary's base currency for the month of the transaction date."""
        rng = self.rng
        months = self.days // 30 + 3
        self.to_usd: dict[int, list[Decimal]] = {}
        for cid, _n, _code, _sym, _prec, rate in CURRENCIES:
            walk = [Decimal(rate)]
            for _ in range(months - 1):
                if cid == USD:
                    walk.append(Decimal(1))
                else:
                    walk.append((walk[-1] * Decimal(str(round(1 + rng.gauss(0, 0.012), 5))))
                                .quantize(Decimal("0.00000001")))
            walk.reverse()  # walk[-1] is today
            self.to_usd[cid] = walk
        self.months = months
        self._cross: dict[tuple[int, int, int], str] = {}

    def rate(self, cur: int, sub: int, day: int) -> str:
        base = SUB_CURRENCY[sub]
        if cur == base:
            return "1"
        month = self.months - 1 - (self.days - day) // 30
        key = (cur, base, month)
        r = self._cross.get(key)
        if r is None:
            value = (self.to_usd[cur][month] / self.to_usd[base][month]).quantize(
                Decimal("0.00000001"), rounding=ROUND_HALF_UP)
            r = self._cross[key] = str(value)
        return r

    def usd_to(self, cur: int, usd: float) -> float:
        return usd / float(self.to_usd[cur][-1])

    # ---- ids -------------------------------------------------------------------------------
    def new_txn(self, ttype: str) -> tuple[int, str]:
        tid = self.next_txn
        self.next_txn += 1
        self.tranno[ttype] += 1
        self.created_docs += 1
        return tid, f"{TRANID_PREFIX[ttype]}{self.tranno[ttype]:05d}"

    def key(self) -> int:
        k = self.next_key
        self.next_key += 1
        return k

    # ---- set-up ------------------------------------------------------------------------------
    def setup(self) -> None:
        rng = self.rng
        n = self.n
        ts0 = (self.first_ord - 120) * 86400 + 9 * 3600
        self.setup_stamp = self.stampstr(ts0)
        rates_stamp = self.stampstr((self.today.replace(day=1).toordinal() - 1) * 86400 + 64800)
        self.currency_rows = [
            (cid, name, code, sym, prec, str(self.to_usd[cid][-1]), "T" if cid == USD else "F", "F",
             self.setup_stamp if cid == USD else rates_stamp) for cid, name, code, sym, prec, _r in CURRENCIES]
        names = {s[0]: s[1] for s in SUBSIDIARIES}
        self.sub_rows = []
        for sid, name, parent, cur, country, elim, _short in SUBSIDIARIES:
            full = name if parent is None else f"{names[parent]} : {name}"
            self.sub_rows.append((sid, name, full, parent, elim, "F", cur, country, self.setup_stamp))
        self.account_rows = [(aid, num, name, f"{num} {name}", typ, None, HOLDINGS, "F", None,
                              self.setup_stamp) for aid, num, name, typ in ACCOUNTS]
        aid = FIRST_BANK_ACCOUNT
        short = {s[0]: s[6] for s in SUBSIDIARIES}
        codes = {c[0]: c[2] for c in CURRENCIES}
        for sid, currencies in SUB_CURRENCIES.items():
            for cur in currencies:
                name = f"Operating - {short[sid]} ({codes[cur]})"
                self.account_rows.append((aid, f"10{aid:02d}", name, f"10{aid:02d} {name}", "Bank", cur,
                                          sid, "F", None, self.setup_stamp))
                self.bank[(sid, cur)] = aid
                aid += 1

        # customers: ~ one per 40 transactions, at least 12
        n_ic = 2 if n < 1600 else len(INTERCOMPANY)
        n_cust = max(12, n // 40)
        n_regular = n_cust - n_ic
        n_deleted = max(1, n_cust // 150)
        deleted_at = set(rng.sample(range(1, n_cust + n_deleted), n_deleted))
        combos = [(a, b) for a in NAME_A for b in NAME_B]
        rng.shuffle(combos)
        self.customers: list[_Cust] = []
        self.deleted_customers: list[tuple] = []
        seq = 0
        cid = FIRST_CUSTOMER_ID
        regular_made = 0
        ic_made = 0
        pos = 0
        while regular_made + ic_made < n_cust:
            pos += 1
            seq += 1
            if pos in deleted_at:  # created by mistake, deleted a little later: the id is a gap
                c_day = rng.randrange(0, self.days - 5)
                created = self.stamp(c_day)
                gone = created + 3600 + int(rng.random() * 86400 * 3)
                entityid = f"CUST{seq:05d}"
                self.deleted.append((gone, "customer", cid, None, entityid, "UI"))
                cid += 1
                continue
            c = _Cust()
            c.id = cid
            cid += 1
            c.entityid = f"CUST{seq:05d}"
            c.open = []
            c.children = []
            c.parent = None
            c.secondary_sub = None
            c.ic_sub = None
            if regular_made < n_regular and (ic_made >= n_ic or pos % 9 != 4):
                self._regular_customer(c, regular_made)
                regular_made += 1
            else:
                self._ic_customer(c, ic_made)
                ic_made += 1
            self.customers.append(c)
        # parent/child hierarchies: some customers are branches of another in the same subsidiary
        regular = [c for c in self.customers if c.ic_sub is None]
        n_children = max(2, len(regular) // 12)
        for i, child in enumerate(rng.sample(regular[1:], min(n_children, len(regular) - 1))):
            candidates = [p for p in regular if p.id < child.id and p.sub == child.sub
                          and p.parent is None and p is not child and not child.children]
            if not candidates:
                continue
            parent = candidates[int(rng.random() * len(candidates))]
            child.parent = parent
            parent.children.append(child)
            child.name = f"{parent.name} - {BRANCHES[i % len(BRANCHES)]}"
            child.email = f"ap+{BRANCHES[i % len(BRANCHES)].lower()}@{parent.email.split('@')[1]}"
            child.cur = parent.cur
            child.currencies = list(dict.fromkeys([parent.cur] + child.currencies))
        if not any(c.parent for c in regular) and len(regular) > 2:
            # a small account still gets one branch: the last customer becomes one of the first's
            parent, child = regular[0], regular[-1]
            child.parent = parent
            parent.children.append(child)
            child.sub, child.cur, child.currencies = parent.sub, parent.cur, [parent.cur]
            child.secondary_sub = None
            child.name = f"{parent.name} - {BRANCHES[0]}"
            child.email = f"ap+{BRANCHES[0].lower()}@{parent.email.split('@')[1]}"
        self.regulars = regular
        # inactive customers: stop buying some time before today
        n_inactive = max(1, len(regular) // 14)
        for c in rng.sample(regular[1:], min(n_inactive, len(regular) - 1)):
            if c.end - c.start > 200:
                c.end = c.start + 120 + int(rng.random() * (c.end - c.start - 150))
                c.inactive = True
        for c in self.customers:
            c.created = self.stamp(c.start - 1 - int(rng.random() * 60)) if c.start > 0 else \
                (self.first_ord - 90 + int(rng.random() * 89)) * 86400 + 32400 + int(rng.random() * 30000)
            if c.inactive:
                c.lmd = self.stamp(c.end, c.created)
            elif rng.random() < 0.5:
                c.lmd = self.stamp(rng.randrange(max(c.start, 0), self.days), c.created)
            else:
                c.lmd = c.created + 60 + int(rng.random() * 600)

    def _regular_customer(self, c: _Cust, i: int) -> None:
        rng = self.rng
        # the first customers cover every subsidiary; then weighted
        c.sub = [SUB_US, SUB_UK, SUB_EU, SUB_JP, SUB_CA][i] if i < 5 else _weighted(rng, SUB_WEIGHTS)
        combo = None
        if i < 2500:
            a, b = NAME_A[(i * 7) % 50], NAME_B[(i * 13 + i // 50) % 50]
            combo = f"{a} {b}"
        else:
            a, b = NAME_A[rng.randrange(50)], NAME_B[rng.randrange(50)]
            combo = f"{a} {NAME_C[(i // 2500) % len(NAME_C)]} {b}"
            if i >= 2500 * (len(NAME_C) + 1):
                combo += f" {i // (2500 * len(NAME_C))}"
        legal = LEGAL[c.sub][i % len(LEGAL[c.sub])]
        c.name = f"{combo} {legal}"
        slug = combo.lower().replace(" ", "")
        c.email = f"ap@{slug}.{TLD[c.sub]}"
        c.phone = None if rng.random() < 0.3 else f"+1 555 {rng.randrange(1000):03d} {rng.randrange(10000):04d}"
        c.cur = SUB_CURRENCY[c.sub]
        c.currencies = [c.cur]
        # some bill in several currencies (the 2nd and 3rd customers always do)
        if i in (1, 2) or rng.random() < 0.15:
            others = [x for x in SUB_CURRENCIES[c.sub] if x != c.cur]
            c.currencies += rng.sample(others, 1 if len(others) == 1 or rng.random() < 0.7 else 2)
        c.terms = 30 if i == 0 else _weighted(rng, TERMS)
        c.size = math.exp(rng.gauss(0, 0.9))
        c.weight = min(rng.paretovariate(1.6), 25.0)
        if i < 6 or rng.random() < 0.75:
            c.start = 0
        else:
            c.start = rng.randrange(30, self.days - 60)
        c.end = self.days
        c.inactive = False
        # customer 0 pays promptly, customer 1 by card (Stripe autopay)
        c.profile = "prompt" if i == 0 else "autopay" if i == 1 else _weighted(rng, PROFILES)
        c.stripe_share = 1.0 if c.profile == "autopay" else (0.5 if rng.random() < 0.35 else 0.0)
        c.batch = c.profile in ("prompt", "late", "slow") and rng.random() < 0.3
        if c.sub == SUB_US and (i == 0 or rng.random() < 0.1):
            c.secondary_sub = HOLDINGS
        c.externalid = f"SFA-{i + 1:06d}" if rng.random() < 0.5 else None
        c.creditlimit = None if rng.random() < 0.6 else int(c.size * 20) * 1000

    def _ic_customer(self, c: _Cust, i: int) -> None:
        seller, represented = INTERCOMPANY[i]
        names = {s[0]: s[1] for s in SUBSIDIARIES}
        c.sub = seller
        c.ic_sub = represented
        c.name = names[represented]
        c.email = f"intercompany@honeycomb-{represented}.example"
        c.phone = None
        c.cur = SUB_CURRENCY[seller]
        c.currencies = [c.cur]
        c.terms = 60
        c.size = 4.0
        c.weight = 2.0
        c.start = 0
        c.end = self.days
        c.inactive = False
        c.profile = "slow"
        c.stripe_share = 0.0
        c.batch = False
        c.externalid = f"IC-{represented:03d}-{seller:03d}"
        c.creditlimit = None

    # ---- planning ----------------------------------------------------------------------------
    def plan(self) -> None:
        """Queue the invoices, standalone credit memos, on-account payments and journal entries."""
        rng = self.rng
        n = self.n
        n_inv = max(8, int(n * 0.47) - 22)  # the fixed minimums below fill a tiny account
        custs = self.customers
        cum: list[float] = []
        total = 0.0
        for c in custs:  # intercompany customers are billed on a schedule, below
            total += 0.0 if c.ic_sub is not None else c.weight * (c.end - c.start)
            cum.append(total)

        def pick() -> _Cust:
            return custs[min(bisect.bisect_right(cum, rng.random() * total), len(custs) - 1)]

        invoices: list[list] = []  # [day, cust, fate, in the customer's primary currency]
        for _ in range(n_inv):
            c = pick()
            day = c.start + int(rng.random() * (c.end - c.start))
            invoices.append([day, c, None, False])

        def early(c: _Cust) -> int:
            """A day early enough for what follows it (payments, refunds) to happen before today."""
            last = min(c.end, self.days - 90)
            return c.start + int(rng.random() * (last - c.start)) if last > c.start else c.start

        # whatever the scale: each intercompany customer, and the first customer of each
        # subsidiary, is invoiced; customer 1 in its second currency; customer 0 gets two
        # invoices paid by one payment
        ic_every = 30 if n >= 10_000 else 91 if n >= 1_000 else 0  # monthly, quarterly
        for c in custs:
            if c.ic_sub is not None:
                if ic_every:
                    invoices += [[day, c, None, True] for day in range(ic_every - 1, self.days, ic_every)]
                else:
                    invoices.append([early(c), c, None, True])
        for c in self.regulars[:5]:
            invoices.append([early(c), c, None, True])
        first = self.regulars[0]
        special: list[list] = []
        if len(self.regulars[1].currencies) > 1:
            special.append([early(self.regulars[1]), self.regulars[1], "fx", False])
        day = early(first)
        special += [[day, first, "batch2", True], [day, first, "batch2", True]]
        # fates decided up front so that even a tiny account has each of them
        eligible = [inv for inv in invoices[:n_inv] if inv[0] < self.days - 20]
        rng.shuffle(eligible)
        eligible += [inv for inv in invoices[n_inv:] if inv[0] < self.days - 20]
        fates = (["deleted"] * max(2, round(n_inv * 0.004)) + ["voided"] * max(2, round(n_inv * 0.008))
                 + ["cm"] * max(3, round(n_inv * 0.05)) + ["partial"] * max(3, round(n_inv * 0.07))
                 + ["unpaid"] * max(2, round(n_inv * 0.004)))
        for inv, fate in zip(eligible, fates):
            inv[2] = fate
        invoices += special
        # one open invoice in every ageing bucket, whatever the scale (customer 0: terms 30, active)
        regular = [c for c in custs if c.ic_sub is None and not c.inactive]
        for past_due in (0, 12, 45, 75, 150):
            c = regular[int(rng.random() * len(regular))]
            if past_due == 0:  # current: due today or later
                if c.terms < 15:
                    c = regular[0]
                day = self.days - 1 - int(rng.random() * (c.terms - 1))
            else:
                day = self.days - past_due - c.terms
                if day < c.start:
                    c = regular[0]
                    day = self.days - past_due - c.terms
            invoices.append([day, c, "hold_partial" if past_due == 75 else "hold", True])
        for day, c, fate, primary in invoices:
            self.events[day].append(("inv", c, fate, primary))
        expected_payments = len(invoices) * 0.8

        # standalone credit memos: refunded, applied later, or left open
        n_cm = max(4, round(n * 0.012))
        cm_fates = ["refund", "apply", "open", "deleted", "voided"] + [
            _weighted(rng, [("refund", 35), ("apply", 35), ("open", 30)]) for _ in range(n_cm - 5)]
        for i, fate in enumerate(cm_fates):
            c = pick()
            day = early(c) if i < 5 else c.start + int(rng.random() * (c.end - c.start))
            self.events[day].append(("cmfree", c, fate))
        # payments on account (not applied when received)
        n_onacct = max(3, round(n * 0.01))
        on_fates = ["apply", "refund", "open"] + [
            _weighted(rng, [("apply", 40), ("refund", 20), ("open", 40)]) for _ in range(n_onacct - 3)]
        for i, fate in enumerate(on_fates):
            c = pick()
            day = early(c) if i < 3 else c.start + int(rng.random() * (c.end - c.start))
            self.events[day].append(("onacct", c, fate))
        # A/R journal entries
        n_je = max(6, round(n * 0.03))
        with_parent = [c for c in custs if c.parent is not None]
        je_kinds = ["debit", "debit", "credit", "reclass", "voided", "deleted"] + [
            _weighted(rng, [("debit", 50), ("credit", 35), ("reclass", 10), ("voided", 3), ("deleted", 2)])
            for _ in range(n_je - 6)]
        for i, kind in enumerate(je_kinds):
            c = pick()
            if kind == "reclass":
                if not with_parent:
                    kind = "credit"
                else:
                    c = with_parent[int(rng.random() * len(with_parent))]
            day = early(c) if i < 6 else c.start + int(rng.random() * (c.end - c.start))
            if kind in ("voided", "deleted"):
                day = min(day, self.days - 20)
            self.events[day].append(("je", c, kind))

        self.q = {
            "pay_void": _Quota(rng, _rate(0.006, 3, expected_payments)),
            "pay_delete": _Quota(rng, _rate(0.003, 3, expected_payments)),
            "overpay": _Quota(rng, _rate(0.02, 4, expected_payments)),
            "undeposited": _Quota(rng, _rate(0.02, 2, expected_payments)),
            "je_paid": _Quota(rng, 0.5, phase=0.5),  # the first debit is paid
            "overpay_refund": _Quota(rng, 0.35),
        }

    # ---- documents ---------------------------------------------------------------------------
    def doc(self, ttype: str, c: _Cust | None, sub: int, cur: int, day: int, created: int,
            total: int) -> _Doc:
        d = _Doc()
        d.id, d.tranid = self.new_txn(ttype)
        d.type = ttype
        d.cust = c
        d.sub = sub
        d.cur = cur
        d.prec = PRECISION[cur]
        d.rate = self.rate(cur, sub, day)
        d.total = total
        d.done = 0
        d.trandate = self.daystr(self.first_ord + day)
        d.duedate = None
        d.created = created
        d.lmd = created
        d.voided = False
        d.pending = 0
        d.externalid = None
        d.memo = None
        d.ic = False
        d.tosub = None
        d.terms = None
        d.deposited = False
        d.hold = False
        d.jelines = None
        d.period = self._periods.get(day) or self._periods.setdefault(day, self.period(day))
        self.counts[ttype] += 1
        return d

    def mainline(self, d: _Doc, account: int | None, entity: int | None, amount: str | None) -> None:
        self.line_rows.append((d.id, 0, 0, self.key(), "T", "F", d.sub, entity, account, amount, amount,
                               None, None, None, None, None, None, d.memo, "T" if d.ic else "F", "F",
                               self.stampstr(d.created)))

    def item_lines(self, d: _Doc, amounts: list[tuple[int, int, str]]) -> None:
        stamp = self.stampstr(d.created)
        entity = d.cust.id
        elim = "T" if d.ic else "F"
        for i, (amount, account, memo) in enumerate(amounts, 1):
            a = _fmt(amount, d.prec)
            self.line_rows.append((d.id, i, i, self.key(), "F", "F", d.sub, entity, account, a, a,
                                   None, None, None, None, None, None, memo, elim, "F", stamp))

    def link(self, prev_id: int, prev_line: int, prev_type: str, nxt: _Doc, next_line: int,
             linktype: str, amount: int, stamp: int, day: int) -> None:
        self.link_rows.append((prev_id, prev_line, prev_type, nxt.id, next_line, nxt.type, linktype,
                               _fmt(amount, nxt.prec), self.daystr(self.first_ord + day),
                               self.stampstr(stamp)))

    def finish(self, d: _Doc) -> None:
        """Drop a document from memory once nothing can change it any more."""
        if d.pending > 0:
            return
        if d.type == "CustInvc" and not d.voided and d.done < d.total:
            return  # open invoices stay: a later payment, credit or application may close them
        self.flush_doc(d)

    def flush_doc(self, d: _Doc) -> None:
        if self.live.pop(d.id, None) is None:
            return
        t = d.type
        paid = unpaid = used = unused = None
        z = _fmt(0, d.prec)
        if t == "CustInvc":
            if d.voided:
                status, paid, unpaid = "V", z, z
            else:
                status = "A" if d.done < d.total else "B"
                paid, unpaid = _fmt(d.done, d.prec), _fmt(d.total - d.done, d.prec)
        elif t in ("CustPymt", "CustCred"):
            if d.voided:
                status, used, unused = "V", z, z
            else:
                used, unused = _fmt(d.done, d.prec), _fmt(d.total - d.done, d.prec)
                if t == "CustPymt":
                    status = "C" if d.deposited else "B"
                else:
                    status = "A" if d.done < d.total else "B"
        elif t == "Journal":
            status = "V" if d.voided else "B"
        else:
            status = "V" if d.voided else "A"
        recordtype = TRANSACTION_TYPES[t][0]
        entity = None if t in ("Journal", "Deposit") else d.cust.id
        self.txn_rows.append((
            d.id, d.tranid, d.tranid, t, recordtype, status, d.trandate, d.duedate, d.period, "T",
            "T" if d.voided else "F", "F", entity, d.cur, d.rate, _fmt(d.total, d.prec),
            paid, unpaid, used, unused, d.memo, d.externalid, "T" if d.ic else "F", d.tosub, None,
            d.terms, self.stampstr(d.created), self.stampstr(d.lmd)))
        if d.jelines is not None:
            self.flush_journal_lines(d)

    def flush_journal_lines(self, d: _Doc) -> None:
        created = self.stampstr(d.created)
        self.line_rows.append((d.id, 0, 0, d.jelines[0], "T", "F", d.sub, None, None, None, None, None,
                               None, None, None, None, None, d.memo, "F", "F", created))
        z = _fmt(0, d.prec)
        for ln in d.jelines[1:]:
            a = _fmt(ln.amount, d.prec)
            debit = a if ln.amount > 0 else None
            credit = _fmt(-ln.amount, d.prec) if ln.amount < 0 else None
            if ln.entity is not None:  # A/R line
                if d.voided:
                    paid = unpaid = z
                else:
                    paid = _fmt(ln.done, d.prec)
                    unpaid = _fmt(ln.open(), d.prec)
            else:
                paid = unpaid = None
            self.line_rows.append((d.id, ln.line, ln.line, ln.uniquekey, "F", "F", ln.sub, ln.entity,
                                   ln.account, a, a, debit, credit, paid, unpaid, None, None, ln.memo,
                                   "F", "F", self.stampstr(ln.lmd)))

    def delete(self, d_id: int, ttype: str, tranid: str, externalid: str | None, stamp: int) -> None:
        self.deleted.append((stamp, TRANSACTION_TYPES[ttype][0], d_id, externalid, tranid,
                             "UI" if self.rng.random() < 0.7 else "WebServices"))

    # ---- amounts -----------------------------------------------------------------------------
    def invoice_lines(self, c: _Cust, cur: int, scale: float = 1.0) -> list[tuple[int, int, str]]:
        rng = self.rng
        prec = PRECISION[cur]
        factor = MONEY_FACTOR[prec]
        n_lines = _weighted(rng, [(1, 45), (2, 30), (3, 15), (4, 10)])
        lines = []
        for _ in range(n_lines):
            k = _weighted(rng, _PRODUCT_CHOICES)
            memo, account, usd, (qlo, qhi), cents = PRODUCTS[k]
            if c.ic_sub is not None:
                memo, account = "Intercompany management fee", ACCT_REV_IC
            price = self.usd_to(cur, usd * c.size * scale * math.exp(rng.gauss(0, 0.25)))
            if cents and prec:
                unit = max(1, int(price * 100))  # in cents
            else:
                step = 100 if prec == 0 and price > 1000 else 1
                unit = max(1, int(round(price / step)) * step) * factor
            qty = qlo if qlo == qhi else rng.randint(qlo, qhi)
            lines.append((unit * qty, account, memo))
        return lines

    def random_amount(self, c: _Cust, cur: int, usd: float) -> int:
        v = self.usd_to(cur, usd * c.size * math.exp(self.rng.gauss(0, 0.5)))
        return max(1, int(round(v))) * MONEY_FACTOR[PRECISION[cur]]

    def pick_currency(self, c: _Cust) -> int:
        if len(c.currencies) > 1 and self.rng.random() < 0.3:
            return c.currencies[1 + int(self.rng.random() * (len(c.currencies) - 1))]
        return c.cur

    # ---- events ------------------------------------------------------------------------------
    def run(self) -> None:
        report_every = max(1, self.days // 50)
        for day in range(self.days):
            self.day = day
            events = self.events[day]
            i = 0
            while i < len(events):
                ev = events[i]
                i += 1
                kind = ev[0]
                if kind == "inv":
                    self.ev_invoice(day, ev[1], ev[2], ev[3])
                elif kind == "pay":
                    self.ev_pay(day, ev[1], ev[2])
                elif kind == "batch":
                    self.ev_pay(day, ev[1], self.batches.pop(ev[2]))
                elif kind == "dep":
                    self.ev_deposit(day, ev[1])
                elif kind == "cm":
                    self.ev_credit_memo(day, ev[1], ev[2], ev[3])
                elif kind == "cmfree":
                    self.ev_credit_memo(day, ev[1], None, ev[2])
                elif kind == "apply":
                    self.ev_apply(day, ev[1])
                elif kind == "refund":
                    self.ev_refund(day, ev[1])
                elif kind == "onacct":
                    self.ev_on_account(day, ev[1], ev[2])
                elif kind == "je":
                    self.ev_journal(day, ev[1], ev[2])
            self.events[day] = None
            if len(self.line_rows) >= 150_000:
                self.write_batch()
            if self.progress and day % report_every == 0:
                self.progress("transactions", self.created_docs, self.n)
        for d in list(self.live.values()):
            self.flush_doc(d)
        self.write_batch()
        if self.progress:
            self.progress("transactions", self.created_docs, self.n)

    def ev_invoice(self, day: int, c: _Cust, fate: str | None, primary: bool) -> None:
        rng = self.rng
        sub = c.sub
        if fate == "fx":
            cur, fate = c.currencies[1], None
        elif primary:
            cur = c.cur
        else:
            cur = self.pick_currency(c)
            if c.secondary_sub is not None and rng.random() < 0.15 and cur == SUB_CURRENCY[c.secondary_sub]:
                sub = c.secondary_sub
        created = self.stamp(day)
        lines = self.invoice_lines(c, cur)
        total = sum(a for a, _, _ in lines)
        d = self.doc("CustInvc", c, sub, cur, day, created, total)
        externalid = f"BILL-{self.tranno['CustInvc']:07d}" if rng.random() < 0.35 else None
        if fate == "deleted":
            gone = created + 600 + int(rng.random() * 86400 * 3)
            if gone < self.end_stamp:  # the id and the number stay used up, as in NetSuite
                self.counts["CustInvc"] -= 1
                self.delete(d.id, "CustInvc", d.tranid, externalid, gone)
                return
            fate = None
        d.externalid = externalid
        d.terms = c.terms
        d.duedate = self.daystr(self.first_ord + day + c.terms)
        if c.ic_sub is not None:
            d.ic = True
            d.tosub = c.ic_sub
            d.memo = "Intercompany management fee"
        elif rng.random() < 0.2:
            d.memo = f"PO {rng.randrange(10000, 99999)}"
        self.live[d.id] = d
        self.mainline(d, ACCT_AR_IC if d.ic else ACCT_AR, c.id, _fmt(total, d.prec))
        self.item_lines(d, lines)
        if fate == "voided":
            when = created + 3600 + int(rng.random() * 86400 * 10)
            if when < self.end_stamp:
                d.voided = True
                d.lmd = when
                d.memo = "VOID"
                self.flush_doc(d)
                return
        c.open.append(d)
        if len(c.open) > 40:
            c.open = [x for x in c.open if x.id in self.live and x.open() > 0]
        if fate in ("hold", "unpaid", "hold_partial"):
            d.hold = True  # stays open: nothing else is applied to it
            if fate == "hold_partial":
                self.schedule_payment(c, d, day + 5, 0.4)
            return
        if fate == "batch2":
            self.schedule_payment(c, d, day + c.terms + 2, None, force_batch=True)
            return
        if fate == "cm":
            amount = max(1, int(total * (0.1 + 0.9 * rng.random()))) if rng.random() < 0.6 else total
            if self.at(day + 3 + int(rng.random() * 37), ("cm", c, d, amount)):
                d.pending += 1
        # when and how it gets paid
        profile = c.profile
        if profile == "bad" and rng.random() < 0.4 or rng.random() < 0.01:
            return  # never paid: it ages
        due = day + c.terms
        if profile == "autopay":
            pay_day = day + int(rng.random() * 3)
        elif profile == "prompt":
            pay_day = due + int(rng.gauss(-3, 4))
        elif profile == "late":
            pay_day = due + 5 + int(rng.random() * 40)
        elif profile == "slow":
            pay_day = due + 30 + int(rng.random() * 90)
        else:
            pay_day = due + 60 + int(rng.random() * 140)
        pay_day = max(pay_day, day)
        if fate == "partial":
            frac = 0.3 + 0.4 * rng.random()
            self.schedule_payment(c, d, pay_day, frac)
            if rng.random() < 0.8:
                self.schedule_payment(c, d, pay_day + 15 + int(rng.random() * 45), None)
            return
        self.schedule_payment(c, d, pay_day, None)

    def schedule_payment(self, c: _Cust, payable, day: int, frac: float | None, *,
                         force_batch: bool = False) -> None:
        doc = payable if isinstance(payable, _Doc) else payable.je
        if (c.batch or force_batch) and frac is None:
            day += (4 - date.fromordinal(self.first_ord + day).weekday()) % 7  # next Friday
            key = (day, c.id)
            items = self.batches.get(key)
            if items is None:
                if not self.at(day, ("batch", c, key)):
                    return
                items = self.batches[key] = []
            items.append((payable, None))
            doc.pending += 1
        elif self.at(day, ("pay", c, [(payable, frac)])):
            doc.pending += 1

    def ev_pay(self, day: int, c: _Cust, items: list) -> None:
        groups: dict[tuple[int, int], dict[int, list]] = {}
        for payable, frac in items:
            is_doc = isinstance(payable, _Doc)
            doc = payable if is_doc else payable.je
            doc.pending -= 1
            open_amount = payable.open()
            if open_amount <= 0:
                continue
            if frac is None:
                amount = open_amount
            else:
                base = doc.total if is_doc else payable.amount
                amount = min(open_amount, max(1, int(base * frac)))
            g = groups.setdefault((doc.sub, doc.cur), {})
            slot = g.get(id(payable))
            if slot is None:
                g[id(payable)] = [payable, amount, frac]
            else:
                slot[1] = min(open_amount, slot[1] + amount)
                slot[2] = None
        for (sub, cur), g in groups.items():
            apps = [(p, a) for p, a, _f in g.values()]
            self.payment(day, c, sub, cur, apps, retry_items=[(p, f) for p, _a, f in g.values()])
        for payable, _frac in items:
            self.finish(payable if isinstance(payable, _Doc) else payable.je)

    def payment(self, day: int, c: _Cust, sub: int, cur: int, apps: list, *, extra: int = 0,
                retry_items: list | None = None, on_account_fate: str | None = None) -> _Doc | None:
        rng = self.rng
        after = 0
        for payable, _amount in apps:
            doc = payable if isinstance(payable, _Doc) else payable.je
            after = max(after, doc.created)
        created = self.stamp(day, after)
        if created >= self.end_stamp:
            return None
        applied = sum(a for _, a in apps)
        if apps and self.q["overpay"].take():
            extra = max(1, int(applied * (0.01 + 0.1 * rng.random()) / MONEY_FACTOR[PRECISION[cur]])) \
                * MONEY_FACTOR[PRECISION[cur]]
        total = applied + extra
        stripe = c.stripe_share > 0 and rng.random() < c.stripe_share
        fate = None
        if apps:
            if self.q["pay_void"].take():
                fate = "voided"
            elif self.q["pay_delete"].take():
                fate = "deleted"
        if fate is not None:
            gone = created + 3600 + int(rng.random() * 86400 * 5)
            if gone >= self.end_stamp:
                fate = None
        d = self.doc("CustPymt", c, sub, cur, day, created, total)
        if stripe:
            charge = f"ch_{rng.getrandbits(96):024x}"
            d.externalid = charge
            d.memo = f"Stripe {charge}"
        else:
            d.memo = _weighted(rng, [(f"Check #{rng.randrange(1000, 99999)}", 4), ("ACH", 4), ("Wire transfer", 2)])
        if fate == "deleted":
            self.counts["CustPymt"] -= 1
            self.delete(d.id, "CustPymt", d.tranid, d.externalid, gone)
        if fate is not None:
            # it was applied until voided/deleted: the invoices changed back then, and get paid again
            for payable, _amount in apps:
                doc = payable if isinstance(payable, _Doc) else payable.je
                doc.lmd = max(doc.lmd, gone)
                if isinstance(payable, _JELine):
                    payable.lmd = max(payable.lmd, gone)
            retry_day = (gone // 86400 - self.first_ord) + 3 + int(rng.random() * 18)
            if retry_items and self.at(retry_day, ("pay", c, retry_items)):  # paid again, together
                for payable, _frac in retry_items:
                    (payable if isinstance(payable, _Doc) else payable.je).pending += 1
            if fate == "deleted":
                return None
            self.live[d.id] = d
            self.mainline(d, ACCT_UNDEP, c.id, _fmt(total, d.prec))
            d.voided = True
            d.lmd = gone
            d.memo = f"VOID {d.memo}"
            self.flush_doc(d)
            return None
        self.live[d.id] = d
        self.mainline(d, ACCT_UNDEP, c.id, _fmt(total, d.prec))
        for payable, amount in apps:
            self.apply(payable, d, amount, created, day)
        if apps and extra and self.q["overpay_refund"].take():
            if self.at(day + 5 + int(rng.random() * 25), ("refund", d)):
                d.pending += 1
        if on_account_fate == "apply":
            if self.at(day + 7 + int(rng.random() * 30), ("apply", d)):
                d.pending += 1
        elif on_account_fate == "refund":
            if self.at(day + 5 + int(rng.random() * 30), ("refund", d)):
                d.pending += 1
        if not self.q["undeposited"].take():
            key = (sub, cur, stripe)
            group = self.dep_groups.get(key)
            if group is None:
                group = self.dep_groups[key] = []
            if not group:
                if self.at(day + (self.payout_days if stripe else self.deposit_days), ("dep", key)):
                    group.append(d)
                    d.pending += 1
            else:
                group.append(d)
                d.pending += 1
        self.finish(d)
        return d

    def apply(self, payable, by: _Doc, amount: int, stamp: int, day: int) -> None:
        """`by` (payment or credit memo) pays `amount` of `payable` (invoice or journal A/R line)."""
        if isinstance(payable, _Doc):
            self.link(payable.id, 0, payable.type, by, 0, "Payment", amount, stamp, day)
            payable.done += amount
            payable.lmd = max(payable.lmd, stamp)
        else:
            je = payable.je
            self.link(je.id, payable.line, "Journal", by, 0, "Payment", amount, stamp, day)
            payable.done += amount
            payable.lmd = max(payable.lmd, stamp)
            je.lmd = max(je.lmd, stamp)
        by.done += amount
        by.lmd = max(by.lmd, stamp)

    def ev_on_account(self, day: int, c: _Cust, fate: str) -> None:
        cur = self.pick_currency(c)
        amount = self.random_amount(c, cur, 800)
        self.payment(day, c, c.sub, cur, [], extra=amount, on_account_fate=fate)

    def ev_credit_memo(self, day: int, c: _Cust, invoice: _Doc | None, arg) -> None:
        rng = self.rng
        if invoice is not None:
            invoice.pending -= 1
            amount, fate, cur, sub = arg, None, invoice.cur, invoice.sub
            after = invoice.created
        else:
            fate, cur, sub = arg, self.pick_currency(c), c.sub
            amount = self.random_amount(c, cur, 300)
            after = 0
        created = self.stamp(day, after)
        if created >= self.end_stamp:
            if invoice is not None:
                self.finish(invoice)
            return
        d = self.doc("CustCred", c, sub, cur, day, created, amount)
        d.memo = "Service credit" if invoice is None else f"Credit for {invoice.tranid}"
        if rng.random() < 0.2:
            d.externalid = f"BILL-CN-{self.tranno['CustCred']:06d}"
        if fate in ("deleted", "voided"):
            gone = created + 3600 + int(rng.random() * 86400 * 5)
            if gone >= self.end_stamp:
                fate = "open"
            elif fate == "deleted":
                self.counts["CustCred"] -= 1
                self.delete(d.id, "CustCred", d.tranid, d.externalid, gone)
                return
        self.live[d.id] = d
        self.mainline(d, ACCT_AR, c.id, _fmt(amount, d.prec))
        account = ACCT_DISCOUNTS if invoice is None else ACCT_REV_SUB
        if amount >= 2 * MONEY_FACTOR[d.prec] and rng.random() < 0.3:
            first = amount // 2
            self.item_lines(d, [(first, account, d.memo), (amount - first, ACCT_REV_SVC, d.memo)])
        else:
            self.item_lines(d, [(amount, account, d.memo)])
        if fate == "voided":
            d.voided = True
            d.lmd = gone
            self.flush_doc(d)
            return
        if invoice is not None:
            open_amount = invoice.open()
            if open_amount > 0:
                self.apply(invoice, d, min(open_amount, amount), created, day)
            self.finish(invoice)
            if d.done < d.total and rng.random() < 0.5:
                fate = "refund"
        if fate == "refund":
            if self.at(day + 3 + int(rng.random() * 40), ("refund", d)):
                d.pending += 1
        elif fate == "apply":
            if self.at(day + 5 + int(rng.random() * 40), ("apply", d)):
                d.pending += 1
        self.finish(d)

    def ev_apply(self, day: int, d: _Doc) -> None:
        """An unapplied credit memo or payment is applied to the customer's oldest open invoices."""
        d.pending -= 1
        c = d.cust
        remaining = d.open()
        if remaining > 0:
            stamp = self.stamp(day, d.lmd)
            if stamp < self.end_stamp:
                c.open = [x for x in c.open if x.id in self.live and x.open() > 0]
                for inv in c.open:
                    if remaining <= 0:
                        break
                    if inv.hold or inv.cur != d.cur or inv.sub != d.sub or inv.created >= stamp:
                        continue
                    amount = min(remaining, inv.open())
                    self.apply(inv, d, amount, stamp, day)
                    remaining -= amount
                    self.finish(inv)
        self.finish(d)

    def ev_refund(self, day: int, source: _Doc) -> None:
        source.pending -= 1
        amount = source.open()
        if amount > 0:
            c = source.cust
            created = self.stamp(day, source.lmd)
            if created < self.end_stamp:
                d = self.doc("CustRfnd", c, source.sub, source.cur, day, created, amount)
                d.memo = f"Refund of {source.tranid}"
                if source.externalid and source.externalid.startswith("ch_"):
                    d.externalid = f"re_{self.rng.getrandbits(96):024x}"
                self.live[d.id] = d
                self.mainline(d, self.bank[(d.sub, d.cur)], c.id, _fmt(amount, d.prec))
                self.link(source.id, 0, source.type, d, 0, "Payment", amount, created, day)
                source.done += amount
                source.lmd = max(source.lmd, created)
                self.flush_doc(d)
        self.finish(source)

    def ev_deposit(self, day: int, key: tuple[int, int, bool]) -> None:
        sub, cur, stripe = key
        payments = self.dep_groups[key]
        self.dep_groups[key] = []
        prec = PRECISION[cur]
        for start in range(0, len(payments), 200):
            chunk = payments[start:start + 200]
            after = max(p.lmd for p in chunk)
            created = self.stamp(day, after)
            if created >= self.end_stamp:
                for p in chunk:
                    p.pending -= 1
                    self.finish(p)
                continue
            gross = sum(p.total for p in chunk)
            fee = 0
            if stripe:
                for p in chunk:
                    fee += min(p.total // 2, (p.total * 36 // 1000) if prec == 0 else (p.total * 29 // 1000 + 30))
            d = self.doc("Deposit", None, sub, cur, day, created, gross - fee)
            if stripe:
                payout = f"po_{self.rng.getrandbits(96):024x}"
                d.externalid = payout
                d.memo = f"Stripe payout {payout}"
            else:
                d.memo = "Bank deposit"
            self.live[d.id] = d
            self.mainline(d, self.bank[(sub, cur)], None, _fmt(d.total, prec))
            stamp = self.stampstr(created)
            for i, p in enumerate(chunk, 1):
                a = _fmt(p.total, prec)
                self.line_rows.append((d.id, i, i, self.key(), "F", "F", sub, p.cust.id, ACCT_UNDEP, a, a,
                                       None, None, None, None, None, None, p.tranid, "F", "F", stamp))
                self.link(p.id, 0, "CustPymt", d, i, "Deposit", p.total, created, day)
                p.deposited = True
                p.lmd = max(p.lmd, created)
                p.pending -= 1
                self.finish(p)
            if fee:
                i = len(chunk) + 1
                a = _fmt(-fee, prec)
                self.line_rows.append((d.id, i, i, self.key(), "F", "F", sub, None, ACCT_STRIPE_FEES, a, a,
                                       None, None, None, None, None, None, "Stripe fees", "F", "F", stamp))
            self.flush_doc(d)

    def ev_journal(self, day: int, c: _Cust, kind: str) -> None:
        rng = self.rng
        created = self.stamp(day)
        cur = c.cur
        amount = self.random_amount(c, cur, 150 if kind == "debit" else 400)
        d = self.doc("Journal", None, c.sub, cur, day, created, amount)
        ar = ACCT_AR_IC if c.ic_sub is not None else ACCT_AR
        if kind == "debit":
            d.memo = _weighted(rng, [("Late payment fee", 5), ("Rebill of bank charges", 2), ("FX adjustment", 1)])
            lines = [(c.id, ar, amount), (None, ACCT_LATE_FEE, -amount)]
        elif kind == "reclass":
            d.memo = f"Reclass A/R to {c.parent.entityid}"
            lines = [(c.id, ar, -amount), (c.parent.id, ar, amount)]
        else:
            d.memo = _weighted(rng, [("Bad debt write-off", 4), ("Early payment discount", 3),
                                     ("Small balance write-off", 2)])
            lines = [(c.id, ar, -amount), (None, ACCT_BAD_DEBT, amount)]
        if kind == "deleted":
            gone = created + 3600 + int(rng.random() * 86400 * 5)
            if gone < self.end_stamp:
                self.counts["Journal"] -= 1
                self.delete(d.id, "Journal", d.tranid, None, gone)
                return
        d.jelines = [self.key()]
        for i, (entity, account, signed) in enumerate(lines, 1):
            ln = _JELine()
            ln.je, ln.line, ln.amount, ln.done, ln.lmd = d, i, signed, 0, created
            ln.entity, ln.account, ln.memo, ln.uniquekey, ln.sub = entity, account, d.memo, self.key(), d.sub
            d.jelines.append(ln)
        self.live[d.id] = d
        if kind == "voided":
            gone = created + 3600 + int(rng.random() * 86400 * 5)
            if gone < self.end_stamp:
                d.voided = True
                d.lmd = gone
                self.flush_doc(d)
                return
        if kind == "debit" and self.q["je_paid"].take():
            self.schedule_payment(c, d.jelines[1], day + 10 + int(rng.random() * 50), None)
        self.finish(d)

    # ---- writing -----------------------------------------------------------------------------
    def write_batch(self) -> None:
        if not (self.txn_rows or self.line_rows or self.link_rows):
            return
        with self.store.write() as conn:
            if self.txn_rows:
                conn.executemany(_INSERT_TXN, self.txn_rows)
            if self.line_rows:
                conn.executemany(_INSERT_LINE, self.line_rows)
            if self.link_rows:
                conn.executemany(_INSERT_LINK, self.link_rows)
        self.rows_written["transaction"] += len(self.txn_rows)
        self.rows_written["transactionline"] += len(self.line_rows)
        self.rows_written["nexttransactionlinelink"] += len(self.link_rows)
        self.txn_rows, self.line_rows, self.link_rows = [], [], []

    def write_reference(self) -> dict[str, int]:
        customer_rows, currency_rows, csr_rows = [], [], []
        csr_id = 1
        for c in self.customers:
            created, lmd = self.stampstr(c.created), self.stampstr(c.lmd)
            customer_rows.append((
                c.id, c.entityid, c.name, "F", c.email, c.phone, c.cur, c.sub,
                c.parent.id if c.parent else None, c.ic_sub, c.terms,
                None if c.creditlimit is None else f"{c.creditlimit}.00",
                "T" if c.inactive else "F", c.externalid, created, lmd))
            for cur in c.currencies:
                currency_rows.append((c.id, cur))
            csr_rows.append((csr_id, c.id, c.sub, "T", c.cur, created))
            csr_id += 1
            if c.secondary_sub is not None:
                csr_rows.append((csr_id, c.id, c.secondary_sub, "F", SUB_CURRENCY[c.secondary_sub], created))
                csr_id += 1
        deleted_rows = []
        for i, (stamp, scriptid, recordid, externalid, name, context) in enumerate(sorted(self.deleted), 1):
            display = "Customer" if scriptid == "customer" else next(
                v[2] for v in TRANSACTION_TYPES.values() if v[0] == scriptid)
            deleted_rows.append((i, recordid, RECORD_TYPE_IDS[scriptid], scriptid, display, name, externalid,
                                 context, 7, self.stampstr(stamp)))
        with self.store.write() as conn:
            conn.executemany("INSERT INTO currency (id, name, symbol, displaysymbol, currencyprecision, "
                             "exchangerate, isbasecurrency, isinactive, lastmodifieddate) "
                             "VALUES (?,?,?,?,?,?,?,?,?)", self.currency_rows)
            conn.executemany("INSERT INTO subsidiary (id, name, fullname, parent, iselimination, isinactive, "
                             "currency, country, lastmodifieddate) VALUES (?,?,?,?,?,?,?,?,?)", self.sub_rows)
            conn.executemany("INSERT INTO account (id, acctnumber, acctname, fullname, accttype, currency, "
                             "subsidiary, isinactive, parent, lastmodifieddate) VALUES (?,?,?,?,?,?,?,?,?,?)",
                             self.account_rows)
            conn.executemany("INSERT INTO customer (id, entityid, companyname, isperson, email, phone, currency, "
                             "subsidiary, parent, representingsubsidiary, terms, creditlimit, isinactive, "
                             "externalid, datecreated, lastmodifieddate) VALUES "
                             "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", customer_rows)
            conn.executemany("INSERT INTO customercurrency (entity, currency) VALUES (?,?)", currency_rows)
            conn.executemany("INSERT INTO customersubsidiaryrelationship (id, entity, subsidiary, isprimarysub, "
                             "primarycurrency, lastmodifieddate) VALUES (?,?,?,?,?,?)", csr_rows)
            conn.executemany("INSERT INTO deletedrecord (id, recordid, recordtypeid, scriptid, type, name, "
                             "externalid, context, deletedby, deleteddate) VALUES (?,?,?,?,?,?,?,?,?,?)",
                             deleted_rows)
        return {"currency": len(self.currency_rows), "subsidiary": len(self.sub_rows),
                "account": len(self.account_rows), "customer": len(customer_rows),
                "customercurrency": len(currency_rows), "customersubsidiaryrelationship": len(csr_rows),
                "deletedrecord": len(deleted_rows)}


_INSERT_TXN = (
    'INSERT INTO "transaction" (id, tranid, transactionnumber, type, recordtype, status, trandate, duedate, '
    "postingperiod, posting, voided, void, entity, currency, exchangerate, foreigntotal, foreignamountpaid, "
    "foreignamountunpaid, foreignpaymentamountused, foreignpaymentamountunused, memo, externalid, "
    "intercompany, tosubsidiary, journaltype, terms, createddate, lastmodifieddate) "
    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
_INSERT_LINE = (
    'INSERT INTO transactionline ("transaction", id, linesequencenumber, uniquekey, mainline, taxline, '
    "subsidiary, entity, expenseaccount, foreignamount, netamount, debitforeignamount, creditforeignamount, "
    "foreignamountpaid, foreignamountunpaid, foreignpaymentamountused, foreignpaymentamountunused, memo, "
    "eliminate, isclosed, linelastmodifieddate) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
_INSERT_LINK = (
    "INSERT INTO nexttransactionlinelink (previousdoc, previousline, previoustype, nextdoc, nextline, "
    "nexttype, linktype, foreignamount, linkdate, lastmodifieddate) VALUES (?,?,?,?,?,?,?,?,?,?)")

_DATA_TABLES = ("nexttransactionlinelink", "transactionline", '"transaction"', "deletedrecord",
                "customersubsidiaryrelationship", "customercurrency", "customer", "account", "subsidiary",
                "currency")


def seed(store: Store, *, scale: str | int = "small", seed: int = 42, today: date | None = None,
         progress: Progress | None = None) -> dict[str, int]:
    """Replace the store's account data with a deterministic history of about
    `SCALES[scale]` (or `scale`, an int) transactions ending the day before `today`.

    Returns counts: rows per table (deletedrecord included) and documents per transaction type.
    """
    if isinstance(scale, str) and scale in SCALES:
        n = SCALES[scale]
    else:
        try:
            n = int(scale)
        except (TypeError, ValueError):
            raise ValueError(f"scale must be one of {', '.join(SCALES)} or a number of transactions, "
                             f"got {scale!r}") from None
    if n < 1:
        raise ValueError(f"scale must be a positive number of transactions, got {scale!r}")
    if today is None:
        today = date.fromisoformat(store.today())
    conn = store.connect()
    conn.execute("PRAGMA synchronous=OFF")
    try:
        with store.write() as w:
            for table in _DATA_TABLES:
                w.execute(f"DELETE FROM {table}")
            w.execute("DELETE FROM sandbox_meta WHERE key LIKE 'seed.%'")
        gen = _Generator(store, n, seed, today, progress)
        if progress:
            progress("setup", 0, 1)
        gen.setup()
        gen.plan()
        if progress:
            progress("setup", 1, 1)
        gen.run()
        counts = gen.write_reference()
        if progress:
            progress("balances", 0, 1)
        with store.write() as w:
            recompute_customer_balances(w, None, today.isoformat())
            w.executemany("INSERT INTO sandbox_meta(key, value) VALUES (?, ?) "
                          "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                          [("seed.scale", str(scale)), ("seed.seed", str(seed)),
                           ("seed.today", today.isoformat())])
        if progress:
            progress("balances", 1, 1)
    finally:
        conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    counts.update(gen.rows_written)
    for t, k in gen.counts.items():
        counts[t] = k
    return counts
