"""Money arithmetic for sales documents: Decimal only, half-up to the cent.

The rule (orders and invoices share it): each line's net amount and each line's VAT are
rounded half-up to the cent on their own; a document's totals are the sums of the rounded
lines. VAT is computed on the line's rounded net.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import NamedTuple

CENT = Decimal("0.01")
HUNDRED = Decimal("100")


def to_decimal(value: object, field: str = "amount") -> Decimal:
    """A Decimal from a Decimal, int or numeric string; floats are refused (they lie)."""
    if isinstance(value, bool | float):
        raise TypeError(f"{field}: use a Decimal or a decimal string, not {type(value).__name__}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int | str):
        try:
            result = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError(f"{field}: not a number: {value!r}") from None
    else:
        raise TypeError(f"{field}: unsupported type {type(value).__name__}")
    if not result.is_finite():
        raise ValueError(f"{field}: must be a finite number")
    return result


def cents(value: Decimal) -> Decimal:
    """Round half-up to the cent."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


class LineAmounts(NamedTuple):
    net: Decimal  # quantity x unit price less discount, rounded to the cent
    vat: Decimal  # net x VAT rate, rounded to the cent
    gross: Decimal  # net + vat


def line_amounts(
    quantity: Decimal,
    unit_price: Decimal,
    discount_percent: Decimal = Decimal("0"),
    vat_rate: Decimal = Decimal("0"),
) -> LineAmounts:
    """One line's net, VAT and gross, each to the cent (see the module docstring)."""
    quantity = to_decimal(quantity, "quantity")
    unit_price = to_decimal(unit_price, "unit_price")
    discount_percent = to_decimal(discount_percent, "discount_percent")
    vat_rate = to_decimal(vat_rate, "vat_rate")
    net = cents(quantity * unit_price * (HUNDRED - discount_percent) / HUNDRED)
    vat = cents(net * vat_rate / HUNDRED)
    return LineAmounts(net, vat, net + vat)


class Totals(NamedTuple):
    net: Decimal
    vat: Decimal
    gross: Decimal


def sum_lines(lines: Iterable[LineAmounts]) -> Totals:
    """A document's totals: the sums of its rounded lines."""
    net = vat = Decimal("0.00")
    for line in lines:
        net += line.net
        vat += line.vat
    return Totals(cents(net), cents(vat), cents(net + vat))
