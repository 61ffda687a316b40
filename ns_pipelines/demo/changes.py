"""Changes made through the sandboxes' admin APIs before a demo run, as users would make them in the
NetSuite UI and as customers would pay in Stripe, so the run has something to pick up."""
from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import click
import requests
from sqlalchemy import Engine, func, select

from ..sandbox.netsuite.server import SandboxServer
from ..sandbox.stripe.server import StripeSandboxServer



def netsuite_changes(server: SandboxServer, engine: Engine) -> list[str]:
    """Edit a customer, invoice it, and record a payment: the three show up in the next sync."""
    from ..warehouse import customers, invoices

    c, i = customers.c, invoices.c
    with engine.connect() as conn:
        row = conn.execute(
            select(c.id, c.entity_id, c.currency, i.amount_unpaid)
            .join(invoices, i.customer_id == c.id)
            .where(
                c.is_deleted.is_(False), c.is_intercompany.is_(False), c.is_inactive.is_(False),
                i.is_deleted.is_(False), i.is_voided.is_(False), i.is_intercompany.is_(False),
                i.amount_unpaid > 0, i.currency == c.currency,
            )
            .order_by(func.coalesce(i.due_date, i.tran_date), i.id)
            .limit(1)
        ).first()
    if row is None:
        click.echo("(no open invoice to work with: the demo makes no changes)")
        return []
    admin = requests.Session()
    admin.headers["Authorization"] = f"Bearer {server.credentials.admin_token}"
    stamp = time.strftime("%H%M%S")
    changes: list[str] = []
    try:
        _admin(admin, "PATCH", f"{server.admin_url}/records/customer/{row.id}", {"phone": f"+1 555 01{stamp[-2:]}"})
        changes.append(f"edited customer {row.entity_id} (phone)")
        invoice = _admin(admin, "POST", f"{server.admin_url}/records/invoice", {
            "entity": {"id": str(row.id)}, "memo": f"demo add-on {stamp}",
            "item": {"items": [{"amount": 125.0, "description": "Demo add-on"}]},
        })
        changes.append(f"created invoice {invoice} for {row.entity_id} (125.00 {row.currency})")
        amount = Decimal(row.amount_unpaid)
        payment = _admin(admin, "POST", f"{server.admin_url}/records/customerPayment", {
            "customer": {"id": str(row.id)}, "payment": float(amount), "autoApply": True,
            "memo": f"demo payment {stamp}",
        })
        changes.append(f"recorded payment {payment} from {row.entity_id} ({amount:,.2f} {row.currency}, "
                       "applied to its oldest open invoices)")
    except requests.RequestException as exc:
        click.echo(f"(the admin API refused a demo change: {exc}; continuing with what was changed)")
    finally:
        admin.close()
    return changes


def _admin(session: requests.Session, method: str, url: str, body: dict[str, Any], key: str = "id") -> str:
    response = session.request(method, url, json=body, timeout=30)
    if response.status_code >= 400:
        raise requests.HTTPError(f"{method} {url.split('/v1', 1)[-1]}: {response.status_code} {response.text[:300]}")
    return str(response.json().get(key, ""))


def stripe_payment_and_payout(server: SandboxServer, stripe: StripeSandboxServer, *, subsidiary: int | None,
                              currency: str = "USD") -> list[str]:
    """A NetSuite user invoices a Stripe customer, the customer pays it by card in Stripe, and two days
    later Stripe pays the available balance out: the reconciliation applies the payment to the invoice
    and, once the payment is in NetSuite, turns the payout into a deposit with its fee line."""
    from ..netsuite import NetSuiteClient

    linked = {int(ns_id) for ns_id in _stripe_admin(stripe, "GET", "/scenarios")["customers"]}
    where = f"AND c.subsidiary = {int(subsidiary)} " if subsidiary is not None else ""
    with NetSuiteClient.from_env(server.environment()) as client:
        rows = client.suiteql.query_all(
            "SELECT c.id, c.entityid FROM customer c JOIN currency cur ON cur.id = c.currency "
            f"WHERE cur.symbol = '{currency}' AND c.isinactive = 'F' {where}ORDER BY c.id")
    customer = next((row for row in rows if int(row["id"]) in linked), None)
    if customer is None:
        click.echo(f"(no {currency} customer linked in Stripe: the demo makes no Stripe payment)")
        return []
    amount = _invoice_amount(stripe, currency)
    stamp = time.strftime("%H%M%S")
    admin = requests.Session()
    admin.headers["Authorization"] = f"Bearer {server.credentials.admin_token}"
    try:
        invoice = _admin(admin, "POST", f"{server.admin_url}/records/invoice", {
            "entity": {"id": str(customer["id"])}, "memo": f"demo Stripe order {stamp}",
            "item": {"items": [{"amount": float(amount), "description": "Platform subscription - annual"}]},
        })
    finally:
        admin.close()
    paid = _stripe_admin(stripe, "POST", "/payments", {"invoice_ids": [invoice]})
    _stripe_admin(stripe, "POST", "/clock", {"advance_seconds": 3 * 86400})
    payout = _stripe_admin(stripe, "POST", "/payouts", {"currency": currency.lower(), "paid": True})
    why = "" if amount == BASE_INVOICE else (" (sized to cover the negative Stripe balance that chargebacks and "
                                             "late ACH failures left, so the payout has something to pay out)")
    return [f"invoiced {customer['entityid']} {amount:,.2f} {currency} (invoice {invoice}) in NetSuite{why}",
            f"the customer paid it by card in Stripe (charge {(paid.get('charge') or {}).get('id')})",
            f"three days later Stripe paid out the available {currency} balance (payout {payout.get('id')})"]


BASE_INVOICE = Decimal(480)


def _invoice_amount(stripe: StripeSandboxServer, currency: str) -> Decimal:
    """480.00, plus enough to cover a negative Stripe balance (chargebacks and refunds since the last
    payout), so that the payout that follows has something to pay out."""
    balance = stripe.client().v1.balance.retrieve()
    total = sum(b.amount for b in [*balance.available, *balance.pending] if b.currency == currency.lower())
    deficit_hundreds = -(-max(0, -total) * 105 // 100 // 10000)  # minor units -> hundreds, rounded up
    return BASE_INVOICE + 100 * deficit_hundreds


def _stripe_admin(stripe: StripeSandboxServer, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    response = requests.request(method, f"{stripe.admin_url}{path}", json=body, timeout=30,
                                headers={"Authorization": f"Bearer {stripe.admin_token}"})
    if response.status_code >= 400:
        raise click.ClickException(f"the Stripe sandbox refused {method} {path}: {response.status_code} "
                                   f"{response.text[:300]}")
    return response.json()
