"""Settlement amounts, exchange rates and fees, all in integer minor units (ns_pipelines.money).

The account settles in one currency (USD by default). A charge in another (presentment)
currency gets a balance transaction in the settlement currency with `exchange_rate` such that
presentment x rate = settlement. Rates drift a little with time (a deterministic function of
the instant), so a refund or dispute weeks later converts at its own rate, as on Stripe, and
the books see an FX difference. Fees follow Stripe's US list prices.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from ns_pipelines.money import exponent, round_money, to_major, to_minor

from .errors import invalid

SETTLEMENT_CURRENCY = "usd"
# units of USD per unit of the currency (mid-market, the sandbox's "today")
USD_RATES: dict[str, Decimal] = {
    "usd": Decimal("1"), "eur": Decimal("1.0842"), "gbp": Decimal("1.2715"), "cad": Decimal("0.7318"),
    "aud": Decimal("0.6571"), "chf": Decimal("1.1324"), "sek": Decimal("0.0951"), "nok": Decimal("0.0932"),
    "dkk": Decimal("0.1453"), "mxn": Decimal("0.0583"), "jpy": Decimal("0.006712"), "krw": Decimal("0.000731"),
    "kwd": Decimal("3.2550"), "bhd": Decimal("2.6525"), "jod": Decimal("1.4104"),
}
RATE_DRIFT = Decimal("0.015")  # rates move within +/-1.5% over a few weeks
DRIFT_PERIOD_S = 23 * 86400
CARD_PERCENT, CARD_FIXED_USD_MINOR = Decimal("0.029"), 30
FX_PERCENT = Decimal("0.01")
ACH_PERCENT, ACH_CAP_USD_MINOR = Decimal("0.008"), 500
DISPUTE_FEE_USD_MINOR = 1500


def check_amount(amount: int, currency: str, *, param: str = "amount") -> None:
    """Stripe's rules: positive; three-decimal currencies are sent in thousandths ending in 0."""
    if currency not in USD_RATES:
        raise invalid(f"Invalid currency: {currency}. Stripe sandbox supports: {', '.join(sorted(USD_RATES))}",
                      param="currency")
    if amount < 1:
        raise invalid("This value must be greater than or equal to 1.", param=param)
    if exponent(currency) == 3 and amount % 10 != 0:
        raise invalid(f"Invalid {param}: amounts in {currency.upper()} must be sent in thousandths ending in 0.",
                      param=param)


def rate_at(currency: str, instant: int) -> Decimal:
    """Units of settlement currency per unit of `currency` at `instant`, 6 significant decimals."""
    base = USD_RATES[currency] / USD_RATES[SETTLEMENT_CURRENCY]
    if currency == SETTLEMENT_CURRENCY:
        return Decimal(1)
    wobble = Decimal(str(round(math.sin(instant / DRIFT_PERIOD_S * 2 * math.pi), 6)))
    rate = base * (1 + RATE_DRIFT * wobble)
    return rate.quantize(Decimal(1).scaleb(rate.adjusted() - 5))


@dataclass(frozen=True)
class Settlement:
    amount: int  # settlement currency minor units
    currency: str
    exchange_rate: Decimal | None


def settle(amount: int, currency: str, instant: int) -> Settlement:
    """A presentment amount converted to the settlement currency at `instant`'s rate."""
    if currency == SETTLEMENT_CURRENCY:
        return Settlement(amount, currency, None)
    rate = rate_at(currency, instant)
    settled = round_money(to_major(amount, currency) * rate, SETTLEMENT_CURRENCY)
    return Settlement(to_minor(settled, SETTLEMENT_CURRENCY), SETTLEMENT_CURRENCY, rate)


def _percent(amount: int, percent: Decimal) -> int:
    return int((Decimal(amount) * percent).to_integral_value(rounding="ROUND_HALF_UP"))


def card_fees(settled: Settlement, presentment_currency: str) -> list[dict[str, object]]:
    """fee_details of a card charge: processing fee, plus a conversion fee when currencies differ."""
    details = [_fee(_percent(settled.amount, CARD_PERCENT) + CARD_FIXED_USD_MINOR, "Stripe processing fees")]
    if presentment_currency != settled.currency:
        details.append(_fee(_percent(settled.amount, FX_PERCENT), "Stripe currency conversion fee"))
    return details


def ach_fees(settled: Settlement) -> list[dict[str, object]]:
    return [_fee(min(ACH_CAP_USD_MINOR, _percent(settled.amount, ACH_PERCENT)), "Stripe processing fees")]


def dispute_fees(returned: bool = False) -> list[dict[str, object]]:
    amount = -DISPUTE_FEE_USD_MINOR if returned else DISPUTE_FEE_USD_MINOR
    return [_fee(amount, "Dispute fee refund" if returned else "Dispute fee")]


def _fee(amount: int, description: str) -> dict[str, object]:
    return {"amount": amount, "application": None, "currency": SETTLEMENT_CURRENCY,
            "description": description, "type": "stripe_fee"}


def json_rate(rate: Decimal | None) -> float | None:
    """Stripe sends exchange_rate as a JSON number; readers should parse it as a Decimal."""
    return None if rate is None else float(rate)
