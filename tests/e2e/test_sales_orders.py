"""Orders in the browser: a new order for a client with a catalog product (its price filled in
from the client's price list and discount), then moved to the next status; screenshots of the
sales pages at desktop and phone width."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from tests.e2e.conftest import SCREENSHOTS, sign_in

PHONE = {"width": 375, "height": 812}


@pytest.fixture(scope="module")
def catalog(site):
    from crm_core.auth.principal import SYSTEM
    from crm_core.catalog import pricelists
    from crm_core.catalog import service as catalog
    from crm_core.database import session_scope

    with session_scope() as db:
        cat = catalog.create_category(db, SYSTEM, {"name": "Echipamente"})
        grinder = catalog.create_product(
            db, SYSTEM, {"name": "Râșniță de cafea", "sku": "ECH-002", "unit": "buc",
                         "vat_rate": Decimal("21"), "category_id": cat.id},
        )  # fmt: skip
        pricelists.create_price_list(
            db, SYSTEM, {"name": "Retail", "is_default": True,
                         "items": [{"product_id": grinder.id, "price": Decimal("349.00")}]},
        )  # fmt: skip
        pricelists.create_price_list(
            db, SYSTEM, {"name": "Partners", "client_category": "partner",
                         "items": [{"product_id": grinder.id, "price": Decimal("309.00")}]},
        )  # fmt: skip
        pricelists.set_category_discount(db, SYSTEM, "partner", Decimal("10"))
        return grinder.id


def test_create_an_order_with_a_catalog_product_and_move_it_on(browser, site, catalog):
    page = sign_in(browser, site, "ana")
    org_id = site.data["org_id"]  # Transilvania Logistic SRL, category "partner"
    page.goto(f"{site.url}/orders/new?client={org_id}")
    page.select_option("select[name='lines.0.product_id']", str(catalog))
    price = page.locator("input[name='lines.0.unit_price']")
    from playwright.sync_api import expect

    expect(price).to_have_value("309.00")  # the partners' list
    assert page.locator("input[name='lines.0.discount_percent']").input_value() == "10.00"
    page.fill("input[name='lines.0.quantity']", "2")
    page.fill("input[name=deadline]", "2031-05-01")
    with page.expect_navigation(url=re.compile(r".*/orders/\d+$")):
        page.click("#order-form button[type=submit]")
    # 2 x 309.00 less 10 % = 556.20; VAT 21 % = 116.80 (116.802); total 673.00
    assert "673.00" in page.inner_text("#order-total")
    assert "New" in page.inner_text("h1")
    page.screenshot(path=str(SCREENSHOTS / "sales-order.png"), full_page=True)
    with page.expect_navigation():
        page.click("#status-buttons button.primary")
    assert "Confirmed" in page.inner_text("h1")
    assert "Confirmed" in page.inner_text(".history")
    public_url = page.input_value("#public-url")
    page.goto(public_url.replace("http://127.0.0.1:8000", site.url) + "?lang=ro")
    assert "Confirmată" in page.inner_text(".status-big")
    page.context.close()


def test_sales_pages_fit_a_phone(browser, site, catalog):
    for viewport, suffix in (({"width": 1280, "height": 900}, "desktop"), (PHONE, "phone")):
        page = sign_in(browser, site, "boss", viewport=viewport)
        for path, name in (("/orders", "orders"), ("/catalog", "catalog"),
                           ("/price-lists", "price-lists"), ("/orders/new", "order-new")):  # fmt: skip
            page.goto(site.url + path)
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"] + 1
            page.screenshot(path=str(SCREENSHOTS / f"sales-{name}-{suffix}.png"), full_page=True)
        page.context.close()
