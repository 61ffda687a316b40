"""NetSuite internal ids the payloads need, read with two SuiteQL queries (reads only)."""
from __future__ import annotations

from ns_pipelines.netsuite import NetSuiteClient

from .model import References
from .settings import WritebackSettings


def load_references(client: NetSuiteClient, settings: WritebackSettings) -> References:
    """Currency ids by ISO code and the active bank accounts (id, currency code, subsidiary)."""
    currencies = {str(row["symbol"]).upper(): int(row["id"])
                  for row in client.suiteql.query_all("SELECT c.id, c.symbol FROM currency c")}
    code_of = {cid: code for code, cid in currencies.items()}
    banks = tuple(
        (int(row["id"]), code_of.get(int(row["currency"]), "?"),
         int(row["subsidiary"]) if row.get("subsidiary") is not None else None)
        for row in client.suiteql.query_all(
            "SELECT a.id, a.currency, a.subsidiary FROM account a "
            "WHERE a.accttype = 'Bank' AND a.isinactive = 'F' AND a.currency IS NOT NULL")
    )
    return References(currency_ids=currencies, bank_accounts=banks,
                      bank_account_by_currency=dict(settings.bank_account_ids))
