"""Invoices in a real browser: from a client's card, issue an invoice, take a partial payment,
then the client's next call carries the debt to the operator's popup."""

from __future__ import annotations

import json
import re

import pytest

from tests.e2e.conftest import SCREENSHOTS, sign_in

pytestmark = pytest.mark.browser

KNOWN_CALLER = "0721234567"  # the VIP of the e2e seed, stored as +40 721 234 567
PHONE = {"width": 375, "height": 812}


def shot(page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"sales-invoices-{name}.png"), full_page=True)


def test_issue_from_the_card_pay_part_and_the_next_call_shows_the_debt(browser, site):
    page = sign_in(browser, site, "ana")
    frames: list[dict] = []
    page.on(
        "websocket",
        lambda ws: ws.on("framereceived", lambda f: frames.append(json.loads(f)) if "call." in f else None),
    )  # fmt: skip
    vip = site.data["vip_id"]
    page.goto(f"{site.url}/clients/{vip}")
    page.click(".sales-card a:has-text('New invoice')")
    page.wait_for_selector("#invoice-form .line-row")
    row = page.locator(".line-row").first
    row.locator("[data-field=description]").fill("Consultanță IT")
    row.locator("[data-field=quantity]").fill("3")
    row.locator("[data-field=unit_price]").fill("33.33")
    row.locator("[data-field=vat_rate]").select_option("21.00")
    page.wait_for_function("() => document.getElementById('sum-total').textContent === '120.99'")
    shot(page, "new")
    page.click("button[value=issue]")
    page.wait_for_url(re.compile(r".*/invoices/\d+$"))
    assert "Issued" in page.inner_text(".page-head")
    assert "120.99" in page.inner_text("#invoice-balance")
    page.fill("#payment-form input[name=amount]", "20.99")
    page.click("#payment-form button[type=submit]")
    page.wait_for_selector(".badge.inv-partially_paid")
    assert "100.00" in page.inner_text("#invoice-balance")
    shot(page, "invoice")
    page.goto(f"{site.url}/clients/{vip}")
    assert "Owes 100.00 RON" in page.inner_text("#client-balance")
    shot(page, "card")

    site.pbx.call("direct_answered", KNOWN_CALLER, "VIP", extension="101", ring_s=3, talk_s=1)
    popup = page.wait_for_selector(".popup", timeout=4000)
    page.wait_for_function("() => true")
    ringing = [f for f in frames if f.get("type") == "call.ringing"]
    assert ringing and ringing[-1]["card"]["debts"] == [{"currency": "RON", "amount": "100.00"}]
    debt = popup.wait_for_selector("dd.debt", timeout=4000)
    assert debt.inner_text() == "100.00 RON" and "Owes" in popup.inner_text()
    page.wait_for_selector(".popup.ended", timeout=8000)


def test_invoice_pages_fit_a_phone(browser, site):
    page = sign_in(browser, site, "ana", viewport=PHONE)
    for name, url in (("list", "/invoices"), ("contracts", "/contracts")):
        page.goto(f"{site.url}{url}")
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= PHONE["width"] + 1, f"{url} is {width}px wide"
        shot(page, f"{name}-phone")
    page.goto(f"{site.url}/invoices")
    page.click("table.invoices a[href^='/invoices/']")
    page.wait_for_selector("#h-lines")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"] + 1
    shot(page, "invoice-phone")
