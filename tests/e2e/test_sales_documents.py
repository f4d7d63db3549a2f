"""Company details, print-form templates and sales reports in a real browser (1280 and 375 px):
an inline error naming the field, a broken template's message, the report's tables."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from tests.e2e.conftest import SCREENSHOTS, sign_in

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}


def shot(page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"sales-documents-{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def admin(site) -> str:
    """An admin (Romanian) and a few invoices of the seed's clients, one paid in part, two
    overdue."""
    from crm_core.auth.models import User
    from crm_core.auth.service import create_user
    from crm_core.database import session_scope
    from crm_core.invoices import payments, service
    from tests.factories import principal_of

    with session_scope() as db:
        user = create_user(
            db, username="sdadmin", password="password-sdadmin", role="admin", language="ro"
        )
        actor = principal_of(db.get(User, user.id))
        today = service.today()
        line = {
            "description": "Consultanță",
            "quantity": "2",
            "unit_price": "150",
            "vat_rate": "21",
        }
        made = []
        for days, currency in ((None, "RON"), (20, "RON"), (75, "EUR"), (None, "EUR")):
            data = {"client_id": site.data["vip_id"], "currency": currency, "lines": [line]}
            if days is not None:
                data["due_date"] = today - timedelta(days=days)
            made.append(service.create_invoice(db, actor, {**data, "issue": True}).id)
        payments.add_payment(db, actor, made[0], amount=Decimal("100.00"), method="card")
    return "sdadmin"


def no_sideways_scroll(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_company_form_inline_error_then_saved(browser, site, admin):
    page = sign_in(browser, site, admin, viewport=DESKTOP)
    page.goto(f"{site.url}/admin/company")
    page.fill("input[name=name]", "Țesătoria Ștefan")
    page.fill("input[name=tax_id]", "RO12345678")
    page.fill("input[name=default_currency]", "lei")
    page.click("#company-form button[type=submit]")
    error = page.wait_for_selector("label:has(input[name=default_currency]) .field-error")
    assert error.inner_text() == "Formatul nu este corect."
    page.fill("input[name=default_currency]", "RON")
    page.click("#company-form button[type=submit]")
    page.wait_for_selector(".toast")
    page.reload()
    assert page.input_value("input[name=name]") == "Țesătoria Ștefan"
    shot(page, "company-1280")
    page.set_viewport_size(PHONE)
    assert no_sideways_scroll(page)
    shot(page, "company-375")


def test_broken_template_shows_the_message_naming_it(browser, site, admin):
    page = sign_in(browser, site, admin, viewport=DESKTOP)
    page.goto(f"{site.url}/admin/document-templates?kind=act&language=ro")
    page.fill("#html-form textarea", "{% for x in %}")
    page.click("#html-form button[type=submit]")
    box = page.wait_for_selector("#html-form .form-errors:not([hidden])")
    assert "act/ro/html" in box.inner_text()
    shot(page, "templates-1280")
    page.set_viewport_size(PHONE)
    shot(page, "templates-375")


def test_sales_report_tables(browser, site, admin):
    page = sign_in(browser, site, admin, viewport=DESKTOP)
    page.goto(f"{site.url}/reports/sales")
    text = page.inner_text("main")
    assert "Vânzări pe operator" in text and "Datorii după vechime" in text
    assert "726,00" in text  # 2 x 363.00 RON issued today
    shot(page, "reports-1280")
    page.set_viewport_size(PHONE)
    assert no_sideways_scroll(page)
    shot(page, "reports-375")
