"""Invoice totals for any lines: each line's net and VAT within half a cent of the exact
value (rounded half-up), the totals exactly the sums of the rounded lines, all Decimal."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import make_client

RATES = [Decimal("21"), Decimal("11"), Decimal("0"), Decimal("22"), Decimal("10")]
CENT = Decimal("0.01")

lines = st.lists(
    st.fixed_dictionaries(
        {
            "description": st.just("Line"),
            "quantity": st.decimals(Decimal("0.001"), Decimal("9999"), places=3),
            "unit_price": st.decimals(Decimal("0"), Decimal("99999"), places=2),
            "discount_percent": st.decimals(Decimal("0"), Decimal("100"), places=2),
            "vat_rate": st.sampled_from(RATES),
        }
    ),
    min_size=1,
    max_size=12,
)


@pytest.fixture
def client_id(database) -> int:
    return make_client()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=lines)
def test_totals_are_the_sums_of_lines_rounded_half_up(db, client_id, raw):
    from crm_core.auth.principal import SYSTEM
    from crm_core.invoices.service import create_invoice

    try:
        invoice = create_invoice(db, SYSTEM, {"client_id": client_id, "lines": raw})
        for given_line, line in zip(raw, invoice.lines, strict=True):
            exact = given_line["quantity"] * given_line["unit_price"]
            exact = exact * (100 - given_line["discount_percent"]) / 100
            assert line.net == exact.quantize(CENT, ROUND_HALF_UP)
            assert abs(line.net - exact) <= Decimal("0.005")
            vat = line.net * given_line["vat_rate"] / 100
            assert line.vat == vat.quantize(CENT, ROUND_HALF_UP)
            assert line.total == line.net + line.vat
            assert all(isinstance(v, Decimal) for v in (line.net, line.vat, line.total))
        assert invoice.net_total == sum((line.net for line in invoice.lines), Decimal("0"))
        assert invoice.vat_total == sum((line.vat for line in invoice.lines), Decimal("0"))
        assert invoice.total == invoice.net_total + invoice.vat_total
        db.flush()
        db.expire_all()
        stored = db.get(type(invoice), invoice.id)
        assert (stored.net_total, stored.vat_total, stored.total) == (
            invoice.net_total, invoice.vat_total, invoice.total
        )  # fmt: skip
    finally:
        db.rollback()
