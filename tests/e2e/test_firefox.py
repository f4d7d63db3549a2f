"""The same pages in real headless Firefox (Debian's firefox-esr over WebDriver BiDi): sign in,
live popup, the wall, a phone-sized screen."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import Site
from tests.e2e.firefox import Firefox, Page, find_firefox

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
#: what Firefox showed, for a look when a test fails (never the README's pictures)
SCREENSHOTS = Path(tempfile.gettempdir()) / "callcard-screenshots" / "firefox"


@pytest.fixture(scope="module")
def firefox() -> Iterator[Firefox]:
    executable = find_firefox()
    if executable is None:
        reason = "Firefox is not installed (apt-get install firefox-esr)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    browser = Firefox(executable)
    yield browser
    browser.stop()


@pytest.fixture(autouse=True)
def no_script_errors(firefox):
    """A page that throws in Firefox is broken for the user even when the test's own checks
    pass: every test ends with no uncaught exception and no console.error in any page."""
    seen = len(firefox.page_errors)
    yield
    firefox.command("session.status")  # takes in the events still on their way
    assert firefox.page_errors[seen:] == []


def sign_in(firefox: Firefox, site: Site, username: str, viewport: dict = DESKTOP) -> Page:
    """A new page signed in through the login form (which posts and sets the session cookie)."""
    page = firefox.new_page(viewport)
    page.goto(f"{site.url}/login")
    page.type("input[name=username]", username)
    page.type("input[name=password]", f"password-{username}")
    page.click("button[type=submit]")
    page.wait_for(
        f"location.href === {json.dumps(site.url + '/')} && document.readyState === 'complete'",
        timeout=30,
    )
    page.wait_for("document.querySelector('#live-status[data-state=open]')")
    return page


def test_signs_in_and_the_known_callers_popup_shows_the_card(firefox, site):
    page = sign_in(firefox, site, "ana")
    assert "Ana Popescu" in page.text("body")
    # the VIP's work phone, in another format than stored
    site.pbx.call("direct_answered", "0264450001", "", extension="101", ring_s=3, talk_s=2)
    page.wait_for("document.querySelector('.popup')")
    popup = page.text(".popup")
    assert "Ștefan Țurcanu" in popup
    assert "Transilvania Logistic SRL" in popup
    assert page.evaluate("!!document.querySelector('.popup.vip .badge.vip')")
    page.screenshot(SCREENSHOTS / "workspace-popup.png")
    page.wait_for("document.querySelector('.popup.incall')", timeout=6)
    page.wait_for("document.querySelector('.popup.ended')", timeout=8)
    page.close()


def test_wall_counts_change_live(firefox, site):
    from crm_core.auth.principal import SYSTEM
    from crm_core.database import session_scope
    from dashboard.wall.tokens import create_wall_token

    with session_scope() as db:
        token = create_wall_token(db, SYSTEM, label="Firefox TV").token
    wall = firefox.new_page({"width": 1920, "height": 1080})  # a TV: no login
    wall.goto(f"{site.url}/wall?token={token}")
    wall.wait_for("document.querySelector('#live-status[data-state=open]')")

    def counter(key: str) -> str:
        return f"document.querySelector(\"[data-k='{key}']\").textContent"

    answered = int(wall.evaluate(counter("today.inbound_answered")) or 0)
    site.pbx.call("queue_answered", "+40733000555", "", ring_s=2, talk_s=2)
    wall.wait_for(f"{counter('now.ringing')} === '1'")
    wall.screenshot(SCREENSHOTS / "wall.png")
    wall.wait_for(f"{counter('now.in_progress')} === '1'", timeout=6)
    wall.wait_for(f"{counter('today.inbound_answered')} === '{answered + 1}'", timeout=8)
    assert wall.evaluate(counter("now.in_progress")) == "0"
    # the whole wall fits the screen: no scrolling on a TV
    assert wall.evaluate("document.documentElement.scrollHeight <= window.innerHeight + 1")
    wall.close()


def test_phone_sized_screen_has_no_sideways_scrolling(firefox, site):
    page = sign_in(firefox, site, "bob", viewport=PHONE)
    assert page.evaluate("window.innerWidth") == PHONE["width"]
    pages = {
        "workspace": "/",
        "clients": "/clients",
        "client": f"/clients/{site.data['vip_id']}",
        "tasks": "/tasks",
    }
    for name, path in pages.items():
        page.goto(site.url + path)
        page.screenshot(SCREENSHOTS / f"phone-{name}.png")
        # headless Firefox has classic scrollbars: the page must fit beside the vertical one
        too_wide = page.evaluate(
            """[...document.querySelectorAll('body *')]
                 .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
                 .slice(0, 5).map(e => e.tagName + '.' + e.className)"""
        )
        width = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert width[0] <= width[1], f"{path} scrolls sideways ({width}); too wide: {too_wide}"
    page.close()


@pytest.mark.parametrize("lang", ["ro", "ru"])
def test_long_romanian_and_russian_labels_fit_on_the_wall(firefox, site, lang):
    """Firefox measures text in its own way: the wall's fitting must hold there too."""
    from crm_core.auth.principal import SYSTEM
    from crm_core.database import session_scope
    from dashboard.wall.tokens import create_wall_token

    with session_scope() as db:
        token = create_wall_token(db, SYSTEM, label=f"Firefox TV {lang}").token
    wall = firefox.new_page({"width": 1366, "height": 768})
    wall.goto(f"{site.url}/wall?token={token}&lang={lang}")
    wall.wait_for("document.querySelector('#live-status[data-state=open]')")
    overflowing = wall.evaluate(
        """[...document.querySelectorAll('.tile .label, .tile .value, .op-name')]
             .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent)"""
    )
    assert overflowing == []
    assert wall.evaluate("document.documentElement.scrollHeight <= window.innerHeight + 1")
    wall.screenshot(SCREENSHOTS / f"wall-{lang}.png")
    wall.close()
