"""In Chromium, as an admin: a custom field created through the form is on the client form at once;
the SMS template editor counts segments as one types (160 GSM-7 characters: 1, one more: 2; an
"ă" turns it to UCS-2) and the preview comes from the server. Screenshots at 1280 and 375 px."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import SCREENSHOTS, sign_in

SCREENS = (
    "/admin/fields",
    "/admin/choices",
    "/admin/labels",
    "/admin/templates",
    "/admin/templates/reminder.appointment.sms/ro",
    "/admin/reminder-rules",
    "/admin/quiet-hours",
)


@pytest.fixture(scope="module")
def admin(site) -> Iterator[str]:
    from crm_core.auth.service import create_user
    from crm_core.database import session_scope

    with session_scope() as db:
        create_user(
            db, username="setup", password="password-setup", role="admin", full_name="Irina"
        )
    yield "setup"


def watch_console(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def test_a_field_created_in_the_form_is_on_the_client_form(browser, site, admin):
    page = sign_in(browser, site, admin)
    errors = watch_console(page)
    page.goto(f"{site.url}/admin/fields")
    form = page.locator("#new-field")
    form.get_by_label("Label").fill("Contract number")
    form.get_by_label("Key").fill("contract_no")
    form.get_by_label("Type").select_option("choice")
    form.get_by_label("Choices").fill("Gold, Silver")
    with page.expect_navigation():
        form.get_by_role("button", name="Add field").click()
    assert page.locator("tr[data-field=contract_no]").count() == 1
    page.goto(f"{site.url}/clients/new")
    select = page.get_by_label("Contract number")
    assert select.evaluate("el => el.name") == "custom.contract_no"
    assert select.locator("option").all_inner_texts() == ["—", "Gold", "Silver"]
    assert errors == []
    page.context.close()


def test_the_sms_editor_counts_segments_and_encoding_as_one_types(browser, site, admin):
    page = sign_in(browser, site, admin)
    errors = watch_console(page)
    page.goto(f"{site.url}/admin/templates/survey.thanks.sms/en")
    body = page.locator("#template-body")
    counter = page.locator("#sms-counter")

    def shown(name: str) -> str:
        return counter.locator(f"[data-count={name}]").inner_text()

    body.fill("a" * 160)
    assert (shown("characters"), shown("encoding"), shown("segments")) == ("160", "GSM-7", "1")
    body.press("End")
    body.type("a")
    assert (shown("characters"), shown("segments")) == ("161", "2")
    body.fill("Mulțumim, ă")
    assert (shown("encoding"), shown("segments")) == ("UCS-2", "1")
    # the server's preview agrees (rendered through the sandbox)
    expect(page.locator("#preview-segments")).to_contain_text("UCS-2")
    expect(page.locator("#preview-body")).to_have_text("Mulțumim, ă")
    # an unknown variable is named on the field
    body.fill("Hello {{ shoe_size }}")
    expect(page.locator("#preview-errors")).to_contain_text("shoe_size")
    assert page.locator("#template-body").get_attribute("aria-invalid") == "true"
    assert [e for e in errors if "422" not in e] == []  # the 422 is the check, not a fault
    page.context.close()


@pytest.mark.parametrize("width", [1280, 375])
def test_every_screen_draws_without_errors(browser, site, admin, width):
    page = sign_in(browser, site, admin, viewport={"width": width, "height": 900})
    errors = watch_console(page)
    for path in SCREENS:
        page.goto(f"{site.url}{path}")
        assert page.locator("h1").count() == 1
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{path} scrolls sideways at {width} px"
        name = path.strip("/").replace("/", "_").replace(".", "-")
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
    assert errors == []
    page.context.close()
