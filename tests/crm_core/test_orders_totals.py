"""Order totals: each line's net and VAT rounded half-up to the cent, totals = sum of lines,
checked against cents computed with integers only (never a float), through the API."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_core.catalog.money import line_amounts, sum_lines
from tests.factories import add_client, colleagues

RATES_HUNDREDTHS = (2100, 1100, 2200, 1000, 0)  # the shipped VAT rates, in 1/100 %


def half_up(numerator: int, denominator: int) -> int:
    """round(numerator / denominator) with halves away from zero, for non-negative values."""
    return (2 * numerator + denominator) // (2 * denominator)


def expected_cents(qty_milli: int, price_cents: int, disc_hundredths: int, rate_hundredths: int):
    net = half_up(qty_milli * price_cents * (10_000 - disc_hundredths), 1000 * 10_000)
    vat = half_up(net * rate_hundredths, 10_000)
    return net, vat


def as_decimal(units: int, places: int) -> str:
    return str(Decimal(units).scaleb(-places))


lines_strategy = st.lists(
    st.tuples(
        st.integers(1, 5_000_000),  # quantity in thousandths (0.001 .. 5000)
        st.integers(0, 10_000_000),  # unit price in cents
        st.integers(0, 10_000),  # discount in hundredths of a percent
        st.sampled_from(RATES_HUNDREDTHS),
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=200, deadline=None)
@given(lines=lines_strategy)
def test_line_amounts_match_integer_cents(lines):
    amounts = []
    for q, p, d, r in lines:
        got = line_amounts(
            Decimal(as_decimal(q, 3)), Decimal(as_decimal(p, 2)),
            Decimal(as_decimal(d, 2)), Decimal(as_decimal(r, 2)),
        )  # fmt: skip
        net, vat = expected_cents(q, p, d, r)
        assert (got.net, got.vat) == (Decimal(net).scaleb(-2), Decimal(vat).scaleb(-2))
        amounts.append(got)
    totals = sum_lines(amounts)
    assert totals.gross == totals.net + totals.vat


def test_a_float_is_refused():
    import pytest

    with pytest.raises(TypeError):
        line_amounts(0.1, Decimal("1"))  # type: ignore[arg-type]


def test_the_classic_half_cent_cases():
    # 3 x 0.335 = 1.005 -> 1.01 (half up, not banker's); VAT 21 % of 1.01 = 0.2121 -> 0.21
    assert line_amounts(Decimal("3"), Decimal("0.335"), Decimal("0"), Decimal("21"))[:2] == (
        Decimal("1.01"),
        Decimal("0.21"),
    )
    # 10 % off 0.25 = 0.225 -> 0.23; VAT 10 % = 0.023 -> 0.02
    assert line_amounts(Decimal("1"), Decimal("0.25"), Decimal("10"), Decimal("10"))[:2] == (
        Decimal("0.23"),
        Decimal("0.02"),
    )


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(lines=lines_strategy)
def test_order_totals_through_the_api(client, lines):
    if "boss" not in _HEADERS:
        _HEADERS.update(colleagues(boss=("manager", "Sales")))
        _HEADERS["client"] = add_client("Ana Popescu")
    body = {
        "client_id": _HEADERS["client"],
        "lines": [
            {"description": f"line {i}", "quantity": as_decimal(q, 3),
             "unit_price": as_decimal(p, 2), "discount_percent": as_decimal(d, 2),
             "vat_rate": as_decimal(r, 2)}
            for i, (q, p, d, r) in enumerate(lines)
        ],
    }  # fmt: skip
    response = client.post("/api/orders", json=body, headers=_HEADERS["boss"])
    assert response.status_code == 201, response.text
    order = response.json()
    cents = [expected_cents(*line) for line in lines]
    net, vat = sum(n for n, _ in cents), sum(v for _, v in cents)
    assert order["net_total"] == as_decimal(net, 2)
    assert order["vat_total"] == as_decimal(vat, 2)
    assert order["total"] == as_decimal(net + vat, 2)
    assert [ln["net"] for ln in order["lines"]] == [as_decimal(n, 2) for n, _ in cents]
    assert [ln["vat"] for ln in order["lines"]] == [as_decimal(v, 2) for _, v in cents]


_HEADERS: dict = {}


def setup_function():
    _HEADERS.clear()
