"""An admin adds an operator in real Chromium; the operator signs in and gets a call's popup.

The pages' Content-Security-Policy allows no ``eval``: scripts run as functions."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import SCREENSHOTS, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def admin(site):
    from crm_core.auth.service import create_user
    from crm_core.database import session_scope

    with session_scope() as db:
        create_user(db, username="root", password="password-root", role="admin", full_name="Root")
    return "root"


def test_admin_adds_an_operator_with_extension_104_who_gets_a_popup(browser, site, admin):
    page = sign_in(browser, site, admin)
    page.goto(f"{site.url}/admin/users/new")
    page.fill("input[name=username]", "irina")
    page.fill("input[name=full_name]", "Irina Lungu")
    page.select_option("select[name=team_id]", label="Sales")
    page.fill("input[name=extension]", "104")
    page.select_option("select[name=timezone]", "UTC")
    page.fill("input[name=password]", "irina-first-pass")
    page.click("#user-form button[type=submit]")
    # dan has 104 in this office: the form says so beside the extension, and stays
    error = page.wait_for_selector("label:has(input[name=extension]) .field-error", timeout=5000)
    assert error.inner_text() == "Extension 104 is already taken by dan"
    assert page.get_attribute("input[name=extension]", "aria-invalid") == "true"
    page.screenshot(path=str(SCREENSHOTS / "admin-user-taken-extension.png"))
    # dan moves to 124 through his own form; then 104 is free for irina
    page.goto(f"{site.url}/admin/users")
    page.click("tr[data-user=dan] a.btn")
    page.fill("input[name=extension]", "124")
    with page.expect_navigation(url=f"{site.url}/admin/users"):
        page.click("#user-form button[type=submit]")
    page.goto(f"{site.url}/admin/users/new")
    page.fill("input[name=username]", "irina")
    page.fill("input[name=full_name]", "Irina Lungu")
    page.select_option("select[name=team_id]", label="Sales")
    page.fill("input[name=extension]", "104")
    page.select_option("select[name=timezone]", "UTC")
    page.fill("input[name=password]", "irina-first-pass")
    with page.expect_navigation(url=f"{site.url}/admin/users"):
        page.click("#user-form button[type=submit]")
    row = page.wait_for_selector("tr[data-user=irina]")
    assert "104" in row.inner_text() and "UTC" in row.inner_text()
    page.screenshot(path=str(SCREENSHOTS / "admin-users.png"), full_page=True)
    page.context.close()

    context = browser.new_context(locale="en-US", timezone_id="Europe/Bucharest")
    irina = context.new_page()
    irina.goto(f"{site.url}/login")
    irina.fill("input[name=username]", "irina")
    irina.fill("input[name=password]", "irina-first-pass")
    with irina.expect_navigation(url=f"{site.url}/"):
        irina.click("button[type=submit]")
    irina.wait_for_selector("#live-status[data-state=open]", timeout=5000)
    # her chosen zone (UTC), not the browser's (Bucharest), in the scripts' clocks
    shown = irina.evaluate("() => Callcard.fmtTime('2026-11-27T01:42:00Z')")
    assert shown.startswith("01:42"), shown
    # no waiting for the directory's 30 s refresh: saving the user told the CTI at once
    site.pbx.call("direct_answered", "0721234567", "Stefan T", extension="104", ring_s=3, talk_s=1)
    popup = irina.wait_for_selector(".popup", timeout=3000)
    assert "Ștefan Țurcanu" in popup.inner_text()
    context.close()


def test_call_log_export_in_the_browser(browser, site, admin):
    page = sign_in(browser, site, "boss")
    page.goto(f"{site.url}/calls")
    assert page.inner_text("h1") == "Calls"
    with page.expect_download() as download:
        page.click("a[href^='/calls/export.xlsx']")
    import io
    from pathlib import Path

    from openpyxl import load_workbook

    assert download.value.suggested_filename.endswith(".xlsx")
    data = Path(download.value.path()).read_bytes()
    sheet = load_workbook(io.BytesIO(data), read_only=True).active
    assert next(sheet.iter_rows(values_only=True))[0] == "Started"
    page.context.close()


def test_admin_reads_the_audit_of_an_edit_before_and_after(browser, site, admin):
    """An edit made in the browser (the page's own API call, as the client form makes it) is
    in the audit log with the old and the new value side by side, and the record's history."""
    from sqlalchemy import select

    from crm_core.clients.models import Client
    from crm_core.database import session_scope

    with session_scope() as db:
        stefan = db.scalar(select(Client.id).where(Client.first_name == "Ștefan"))
    page = sign_in(browser, site, admin)
    page.goto(f"{site.url}/clients/{stefan}")
    page.evaluate(
        "id => Callcard.api('PATCH', `/api/clients/${id}`, {job_title: 'Director general'})",
        stefan,
    )
    page.goto(f"{site.url}/admin/audit")
    entry = page.wait_for_selector(f"li.audit-entry[data-entity-id='{stefan}']")
    changed = entry.query_selector("tr.changed[data-field=job_title]")
    assert changed.query_selector("th").text_content() == "Job title"  # the field's label
    assert changed.query_selector("td.before").inner_text() == "Director achiziții"
    assert changed.query_selector("td.after").inner_text() == "Director general"
    entry.query_selector("a.btn").click()  # the record's history
    page.wait_for_url(f"**/admin/audit?entity=*&entity_id={stefan}")
    assert page.query_selector_all("li.audit-entry") and all(
        e.get_attribute("data-entity-id") == str(stefan)
        for e in page.query_selector_all("li.audit-entry")
    )
    page.screenshot(path=str(SCREENSHOTS / "admin-audit-edit.png"), full_page=True)
    page.context.close()
