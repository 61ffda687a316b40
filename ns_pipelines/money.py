"""Money in minor units: currency exponents and exact conversions (never floats).

Stripe sends every amount as an integer in the currency's minor unit (`1000` is 10.00 USD but
¥1,000); NetSuite takes decimal amounts. The exponents are a data table, as Stripe documents them
(docs.stripe.com/currencies): zero-decimal currencies, three-decimal currencies (whose last digit
must be 0 when sent to Stripe), and two decimals for everything else.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

ZERO_DECIMAL_CURRENCIES = frozenset(
    "bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split()
)
THREE_DECIMAL_CURRENCIES = frozenset("bhd jod kwd omr tnd".split())


class CurrencyError(ValueError):
    """A currency code that is not a three-letter ISO code, or an amount it cannot represent."""


def normalize_currency(currency: str) -> str:
    """Lower-case ISO 4217 code, as Stripe writes it; raises CurrencyError on anything else."""
    code = (currency or "").strip().lower()
    if len(code) != 3 or not code.isalpha() or not code.isascii():
        raise CurrencyError(f"not an ISO 4217 currency code: {currency!r}")
    return code


def exponent(currency: str) -> int:
    """Digits after the decimal point in the currency's minor unit (0, 2 or 3)."""
    code = normalize_currency(currency)
    if code in ZERO_DECIMAL_CURRENCIES:
        return 0
    if code in THREE_DECIMAL_CURRENCIES:
        return 3
    return 2


def quantum(currency: str) -> Decimal:
    """The smallest amount of the currency as a Decimal (Decimal('0.01') for USD, Decimal('1') for JPY)."""
    return Decimal(1).scaleb(-exponent(currency))


def to_major(minor: int, currency: str) -> Decimal:
    """Minor units to an exact decimal amount: to_major(1234, 'usd') == Decimal('12.34')."""
    if isinstance(minor, bool) or not isinstance(minor, int):
        raise CurrencyError(f"minor-unit amount must be an integer, got {minor!r}")
    return Decimal(minor).scaleb(-exponent(currency)).quantize(quantum(currency))


def to_minor(amount: Decimal | int | str, currency: str) -> int:
    """An exact decimal amount to minor units; raises CurrencyError if it has more digits than the currency."""
    value = Decimal(str(amount)) if not isinstance(amount, Decimal) else amount
    scaled = value.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        raise CurrencyError(f"{amount} {currency.upper()} has more decimals than the currency allows")
    return int(scaled)


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Round half-up to the currency's minor unit (for computed amounts such as FX conversions)."""
    return amount.quantize(quantum(currency), rounding=ROUND_HALF_UP)
