"""Browser: the reports page draws its charts and switches the period; a newsletter is composed
with a live recipient count, tested and sent, and its delivery figures shown."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from tests.e2e.conftest import SCREENSHOTS, sign_in


def _calls_today(n: int) -> None:
    from crm_core.config import get_settings
    from crm_core.database import session_scope, utcnow
    from cti.calllog.finished import log_call
    from tests.factories import finished_call

    # an hour ago, but never before midnight where the reader lives ("Today" is their day:
    # run between 22:00 and 24:00 UTC, an hour ago was yesterday in Bucharest)
    now = utcnow()
    midnight = now.astimezone(ZoneInfo(get_settings().timezone)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    start = max(now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1), midnight)
    with session_scope() as s:
        for i in range(n):
            log_call(
                s,
                finished_call(f"e2e-report.{i}", start=start + timedelta(minutes=i),
                              disposition="answered" if i % 3 else "missed",
                              withheld=True, client_looked_up=True),
            )  # fmt: skip
    with session_scope() as s:  # and two days ago, seen in "7 days" only
        log_call(s, finished_call("e2e-report.old", start=start - timedelta(days=2),
                                  withheld=True, client_looked_up=True))  # fmt: skip


def test_reports_draw_charts_and_switch_the_period(site, browser):
    _calls_today(6)
    page = sign_in(browser, site, "boss")
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{site.url}/reports?period=7d")
    chart = page.locator("[data-chart=calls_days] svg.chart-svg")
    chart.wait_for(state="visible")
    assert chart.locator("rect.bar").count() > 0
    assert page.locator("#kpi-calls").inner_text() == "7"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "reports-7d.png"), full_page=True)
    page.get_by_role("link", name="Today", exact=True).click()
    page.wait_for_url(re.compile(r"period=today"))
    assert page.locator("#kpi-calls").inner_text() == "6"
    assert page.locator(".period-links a[aria-current]").inner_text() == "Today"
    page.locator("[data-chart=calls_hours] svg.chart-svg").wait_for(state="visible")
    page.set_viewport_size({"width": 375, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=str(SCREENSHOTS / "reports-phone.png"), full_page=True)
    assert errors == []
    page.context.close()


def test_newsletter_compose_count_test_and_send(site, browser):
    page = sign_in(browser, site, "boss")
    page.goto(f"{site.url}/newsletters")
    count = page.locator("#recipient-count")
    count.wait_for(state="visible")
    expect(count).to_have_text(re.compile(r"\d"))
    recipients = int(re.search(r"(\d+)", count.inner_text()).group(1))
    page.fill("input[name=name]", "Spring offer")
    page.fill("input[name=subject]", "Our spring offer")
    page.screenshot(path=str(SCREENSHOTS / "newsletters.png"), full_page=True)
    page.click("#compose button[type=submit]")
    page.wait_for_url(re.compile(r"/newsletters/\d+$"))
    page.fill("input[name=email]", "boss@example.com")
    page.click("#test-form button[type=submit]")
    expect(page.locator("#test-state")).to_contain_text("boss@example.com")
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.click("#send")
    expect(page.locator("[data-stat=queued]")).to_have_text(str(recipients))
    assert "Sent" in page.locator(".badge.ok").first.inner_text()
    page.screenshot(path=str(SCREENSHOTS / "newsletter-sent.png"), full_page=True)
    page.context.close()
