"""The top bar: one row at 1440 px even in Russian, a menu button on a phone, the user's menu."""

from __future__ import annotations

from tests.e2e.conftest import sign_in


def _switch_language(page, lang: str) -> None:
    if page.get_attribute("html", "lang") != lang:
        page.select_option("select[name=language]", lang)
        page.wait_for_selector(f"html[lang={lang}]")


def test_russian_labels_fit_the_top_bar_at_1440_px(browser, site):
    page = sign_in(browser, site, "boss")  # a manager: the longest menu
    try:
        _switch_language(page, "ru")
        page.goto(f"{site.url}/clients")
        bar = page.locator(".topbar").bounding_box()
        links = page.locator("nav.mainnav a")
        assert links.count() >= 9 and page.locator("nav.mainnav").is_visible()
        tops = {round(links.nth(i).bounding_box()["y"]) for i in range(links.count())}
        assert len(tops) == 1, "the menu wrapped onto a second line"
        assert bar["height"] < 70, f"the top bar takes {bar['height']} px: it wrapped"
        assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    finally:
        _switch_language(page, "en")
        page.context.close()


def test_on_a_phone_the_menu_is_behind_a_button(browser, site):
    page = sign_in(browser, site, "ana", viewport={"width": 375, "height": 740})
    try:
        page.goto(f"{site.url}/tasks")
        menu = page.locator("nav.mainnav")
        toggle = page.locator(".menu-toggle")
        assert toggle.is_visible() and not menu.is_visible()
        toggle.click()
        assert menu.is_visible() and toggle.get_attribute("aria-expanded") == "true"
        page.keyboard.press("Escape")
        assert not menu.is_visible() and toggle.get_attribute("aria-expanded") == "false"
        assert page.evaluate("document.documentElement.scrollWidth <= innerWidth"), "sideways"
        # settings and sign-out sit in the user's menu
        page.click(".usermenu summary")
        page.click(".usermenu-panel a[href='/settings']")
        page.wait_for_url(f"{site.url}/settings")
    finally:
        page.context.close()
