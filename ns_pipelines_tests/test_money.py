"""Currency exponents and exact minor-unit conversions."""
from decimal import Decimal

import pytest

from ns_pipelines.money import CurrencyError, exponent, normalize_currency, quantum, round_money, to_major, to_minor


@pytest.mark.parametrize(
    ("currency", "expected"),
    [("usd", 2), ("EUR", 2), ("jpy", 0), ("KRW", 0), ("xof", 0), ("kwd", 3), ("BHD", 3), ("isk", 2)],
)
def test_exponent_follows_stripe_currency_table(currency: str, expected: int) -> None:
    assert exponent(currency) == expected


@pytest.mark.parametrize(
    ("minor", "currency", "major"),
    [(1234, "usd", Decimal("12.34")), (1000, "jpy", Decimal("1000")), (1230, "kwd", Decimal("1.230")),
     (-5, "eur", Decimal("-0.05")), (0, "jpy", Decimal("0"))],
)
def test_minor_and_major_round_trip(minor: int, currency: str, major: Decimal) -> None:
    assert to_major(minor, currency) == major
    assert str(to_major(minor, currency)) == str(major)
    assert to_minor(major, currency) == minor


def test_to_minor_refuses_digits_the_currency_does_not_have() -> None:
    with pytest.raises(CurrencyError, match="JPY"):
        to_minor(Decimal("10.5"), "jpy")
    with pytest.raises(CurrencyError):
        to_minor("0.001", "usd")


def test_to_major_refuses_floats_and_bools() -> None:
    with pytest.raises(CurrencyError):
        to_major(12.5, "usd")  # type: ignore[arg-type]
    with pytest.raises(CurrencyError):
        to_major(True, "usd")  # type: ignore[arg-type]


def test_bad_currency_codes_are_named() -> None:
    with pytest.raises(CurrencyError, match="'US'"):
        normalize_currency("US")
    with pytest.raises(CurrencyError):
        exponent("u$d")


def test_round_money_is_half_up_to_the_minor_unit() -> None:
    assert round_money(Decimal("1.005"), "usd") == Decimal("1.01")
    assert round_money(Decimal("99.5"), "jpy") == Decimal("100")
    assert quantum("kwd") == Decimal("0.001")
