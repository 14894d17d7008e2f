"""Money as integer minor units with an ISO 4217 currency code; never float."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from ops.errors import ValidationError

# The largest amount stored, in minor units: far above any budget or rate, and inside the
# 64-bit integers both databases keep money in.
MAX_MINOR = 10**15
# Currencies whose minor unit is not the cent.
MINOR_DIGITS = {"JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "BHD": 3, "KWD": 3, "TND": 3}


def minor_digits(currency: str) -> int:
    """Digits after the decimal point for ``currency`` (2 unless listed)."""
    return MINOR_DIGITS.get(currency.upper(), 2)


def validate_currency(currency: str, *, field: str = "currency") -> str:
    """The upper-cased code, or a ValidationError naming the field."""
    code = currency.strip().upper()
    if len(code) != 3 or not code.isalpha():
        raise ValidationError(
            f"Currency {currency!r} is not a three-letter ISO code such as USD or EUR.",
            field=field,
        )
    return code


def parse_amount(text: str, currency: str, *, field: str = "amount") -> int:
    """'1234.5' in ``currency`` -> 123450 minor units; refuses negatives and excess digits."""
    try:
        value = Decimal(str(text).replace(",", "").strip())
    except InvalidOperation:
        raise ValidationError(f"{text!r} is not an amount of money.", field=field) from None
    if not value.is_finite() or value < 0:
        raise ValidationError(f"Amount {text!r} must be zero or more.", field=field)
    digits = minor_digits(currency)
    scaled = value.scaleb(digits)
    if scaled != scaled.to_integral_value():
        raise ValidationError(
            f"Amount {text!r} has more than {digits} decimal places for {currency}.", field=field
        )
    if scaled > MAX_MINOR:
        raise ValidationError(
            f"Amount {quote_amount(text)} is too large; the most annops keeps is "
            f"{to_major(MAX_MINOR, currency):,} {currency}.",
            field=field,
        )
    return int(scaled)


def quote_amount(text: str) -> str:
    """An amount as typed, shortened if someone typed a very long one."""
    shown = str(text).strip()
    return repr(shown if len(shown) <= 40 else shown[:39] + "…")


def to_major(amount_minor: int, currency: str) -> Decimal:
    """Minor units back to a Decimal amount in major units."""
    return Decimal(amount_minor).scaleb(-minor_digits(currency))


def format_money(amount_minor: int | None, currency: str | None) -> str:
    """'USD 1,234.50' for display; an em dash when unknown."""
    if amount_minor is None or currency is None:
        return "—"
    digits = minor_digits(currency)
    major = to_major(int(amount_minor), currency).quantize(
        Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP
    )
    return f"{currency} {major:,.{digits}f}"


def format_costs(costs: Mapping[str, int]) -> str:
    """Amounts in several currencies, one after another ('EUR 12.00 + USD 3.50');
    'nothing priced' without any."""
    if not costs:
        return "nothing priced"
    return " + ".join(format_money(amount, currency) for currency, amount in sorted(costs.items()))
