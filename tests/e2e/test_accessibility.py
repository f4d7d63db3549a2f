"""WCAG 2.1 A and AA, checked by axe-core in Chromium on every page the menu reaches, for each
role and a wall TV, in English, Romanian and Russian, with live popups on the workspace; and
what axe cannot see: the keyboard path to a popup and its announcement to screen readers.

A new page linked from the main menu, the administration hub or the sales sub-menu is checked
by the same test as soon as it lands (the pages are read from those menus, not listed here),
with the records' own pages; every page is also watched for console errors, uncaught exceptions
and CSP refusals, and opened once at phone width to check that nothing scrolls sideways."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import SCREENSHOTS, sign_in

try:
    from axe_playwright_python.sync_playwright import Axe
except ImportError:  # pragma: no cover - the test extras install it
    if os.environ.get("CI"):
        raise
    pytest.skip(
        "axe-playwright-python is missing: install the test extras (pip install -e '.[test]')",
        allow_module_level=True,
    )

pytestmark = pytest.mark.browser

LANGUAGES = ("en", "ro", "ru")
ROLES = ("admin", "manager", "operator")
WCAG_21_AA = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}
KNOWN_CALLER = "0721234567"  # Ștefan Țurcanu, VIP, Ana's client
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}

axe = Axe()


def violations(page, where: str) -> list[str]:
    """axe-core's WCAG 2.1 A/AA violations on the page as it is now, one line per element
    (after slide-ins and fades: colours half-way through an animation are not the page's)."""
    page.wait_for_function(
        """() => document.getAnimations().every(a => a.playState !== 'running'
                 || a.effect.getComputedTiming().iterations === Infinity)""",
        timeout=5000,
    )
    found = axe.run(page, options=WCAG_21_AA).response["violations"]
    return [
        f"{where}: {v['id']} ({v['impact']}) {', '.join(map(str, node['target']))}: "
        f"{node.get('failureSummary', '').splitlines()[-1].strip()}"
        for v in found
        for node in v["nodes"]
    ]


@pytest.fixture(scope="module")
def people(site) -> Iterator[dict]:
    """An admin and a manager beside the seeded operators; a wall token; an SMS on the handset
    and messages in the outbox, so that those pages show rows.

    At the end, waits for the calls placed here to end: the hub remembers a ringing call
    (process-wide) and would replay it to the next module's operators."""
    from datetime import timedelta

    from crm_core.auth.principal import SYSTEM
    from crm_core.auth.service import create_user
    from crm_core.database import session_scope, utcnow
    from dashboard.wall.tokens import create_wall_token
    from notifier.outbox.service import enqueue

    with session_scope() as db:
        create_user(db, username="root", password="password-root", role="admin", full_name="Ion")
        token = create_wall_token(db, SYSTEM, label="a11y TV").token
        enqueue(db, channel="sms", recipient="+40721234567", body="Mâine la 10:00, vă așteptăm.",
                idempotency_key="a11y-sms")  # fmt: skip
        enqueue(db, channel="email", recipient="client@example.ro", subject="Programare",
                body="Vă așteptăm mâine.", idempotency_key="a11y-email",
                due_at=utcnow() + timedelta(days=1))  # fmt: skip
    yield {"admin": "root", "manager": "boss", "operator": "ana", "wall_token": token}
    from dashboard.hub import hub

    deadline = time.monotonic() + 15
    while any(hub.sticky.values()) and time.monotonic() < deadline:
        time.sleep(0.2)


def report_refusals(page, found: list[str]) -> None:
    """Add to ``found`` whatever the page's Content-Security-Policy refuses (a script or style
    left inline, a request to another origin)."""

    def seen(message) -> None:
        if "Content Security Policy" in message.text:
            found.append(f"{page.url}: {message.text}")

    page.on("console", seen)


def switch_language(page, lang: str) -> None:
    """The language picker of the user menu (submits on change, no button)."""
    if page.get_attribute("html", "lang") != lang:
        page.select_option("select[name=language]", lang)
        page.wait_for_selector(f"html[lang={lang}]")


def open_page(page, url: str) -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle")


class Console:
    """Console errors, uncaught exceptions and CSP refusals of a page, each told with the path
    it was seen on; a page skipped (403 for this role) takes its own messages away."""

    def __init__(self, page, where: str) -> None:
        self.where, self.path, self.found = where, "", []
        page.on("console", self.console)
        page.on("pageerror", lambda error: self.found.append(f"{self.at}: uncaught {error}"))

    @property
    def at(self) -> str:
        return f"{self.where} {self.path}"

    def console(self, message) -> None:
        if message.type == "error" or "Content Security Policy" in message.text:
            source = message.location.get("url", "") if message.location else ""
            self.found.append(f"{self.at}: console {message.type}: {message.text} ({source})")

    def open(self, page, site, path: str) -> bool:
        """Open ``path``; False (and no messages kept) when the role gets a 403 page."""
        self.path, before = path, len(self.found)
        response = page.goto(site.url + path)
        page.wait_for_load_state("networkidle")
        if response is not None and response.status == 403:
            del self.found[before:]
            return False
        if response is None or response.status >= 400:
            self.found.append(f"{self.at}: HTTP {response.status if response else '-'}")
        return True


def menu_pages(page, site, data: dict) -> list[str]:
    """Every page of the main menu and the user menu, and the client pages reached from the
    list."""
    links = page.eval_on_selector_all(
        "nav.mainnav a, .topbar .me a", "links => links.map(a => a.pathname)"
    )
    vip, org = data["vip_id"], data["org_id"]
    return [*links, f"/clients/{vip}", f"/clients/{org}", "/clients/new", f"/clients/{vip}/edit"]


def linked_pages(page, site, console: Console, path: str, selector: str) -> list[str]:
    """The links of a hub or sub-menu (none when the role may not open ``path``)."""
    if not console.open(page, site, path):
        return []
    return page.eval_on_selector_all(selector, "links => links.map(a => a.pathname + a.search)")


TEMPLATE_LINK = "main a[href^='/admin/templates/']"


def more_pages(page, site, console: Console, records: dict) -> list[str]:
    """The administration hub's tiles, the sales sub-menu, the pages reached from them and a
    record of each kind opened: a role that may not open one gets a 403 page, skipped."""
    vip = site.data["vip_id"]
    return [
        "/admin",
        *linked_pages(page, site, console, "/admin", "a.admin-tile"),
        *linked_pages(page, site, console, "/orders", "nav.subnav a"),
        "/reports",
        "/reports/sales",
        "/calls",
        "/newsletters",
        "/import",
        "/admin/users/new",
        f"/admin/users/{site.data['ana_id']}",
        *linked_pages(page, site, console, "/admin/templates", TEMPLATE_LINK)[:1],
        f"/newsletters/{records['newsletter_id']}",
        f"/orders/{records['order_id']}",
        f"/orders/new?client={vip}",
        f"/invoices/{records['invoice_id']}",
        f"/invoices/new?client={vip}",
        f"/contracts/{records['contract_id']}",
        records["public_order"],
    ]


def unique(paths: list[str]) -> list[str]:
    return list(dict.fromkeys(paths))


@pytest.fixture(scope="module")
def records(browser, site, people) -> dict:
    """An order, an issued invoice, a contract of the VIP client and a newsletter draft, made
    through the API as the admin, so that their pages have something to show."""
    page = sign_in(browser, site, people["admin"])
    csrf = page.get_attribute("body", "data-csrf")

    def post(path: str, body: dict) -> dict:
        response = page.request.post(
            f"{site.url}/api{path}", data=body, headers={"X-CSRF-Token": csrf}
        )
        assert response.ok, f"POST {path}: {response.status} {response.text()}"
        return response.json()

    vip = site.data["vip_id"]
    line = {"description": "Transport frigorific Cluj-Iași", "quantity": "2",
            "unit_price": "1250.50", "vat_rate": "21"}  # fmt: skip
    order = post("/orders", {"client_id": vip, "lines": [line], "note": "12 camioane"})
    invoice = post("/invoices", {"client_id": vip, "order_id": order["id"], "issue": True})
    contract = post("/contracts", {"client_id": vip, "title": "Transport 2026",
                                   "starts_on": "2026-01-01", "ends_on": "2026-12-31",
                                   "amount": "15000.00"})  # fmt: skip
    newsletter = post(
        "/notifier/newsletters",
        {"name": "Oferta de primăvară", "subject": "Transport la preț redus",
         "body": "Bună ziua! Dezabonare: {{ unsubscribe_url }}"},
    )  # fmt: skip
    page.context.close()
    public = order["public_url"]
    return {
        "order_id": order["id"],
        "invoice_id": invoice["id"],
        "contract_id": contract["id"],
        "newsletter_id": newsletter["id"],
        "public_order": public[public.index("/o/") :] if "/o/" in public else public,
    }


def visit(page, site, console: Console, paths: list[str], where: str) -> list[str]:
    """axe-core's violations on each page the role may open (403 pages skipped)."""
    found: list[str] = []
    console.where = where
    for path in paths:
        if not console.open(page, site, path):
            continue
        if path == "/handset":  # a conversation on the phone's screen
            page.fill("#handset-number", KNOWN_CALLER)
            page.click("#handset-pick button[type=submit]")
            page.wait_for_selector(".bubble", timeout=15_000)
        found += violations(page, f"{where} {path}")
    return found


@pytest.mark.parametrize("role", ROLES)
def test_every_page_of_the_menu_passes_axe_in_every_language(browser, site, people, records, role):
    """The menu's pages in en, ro and ru for every role; the administration hub's and the sales
    sub-menu's pages and the records' pages in every language for the admin, in Russian (the
    longest words) for the others; no console error and no CSP refusal on any of them."""
    page = sign_in(browser, site, people[role])
    console = Console(page, role)
    found: list[str] = []
    for lang in LANGUAGES:
        switch_language(page, lang)
        console.where = f"{role} {lang}"
        menu = menu_pages(page, site, site.data)
        extra = more_pages(page, site, console, records) if role == "admin" or lang == "ru" else []
        found += visit(page, site, console, unique([*menu, *extra]), f"{role} {lang}")
        # quick search with its results open
        open_page(page, site.url + "/clients")
        page.fill("#quick-search", "turcanu")
        page.wait_for_selector(".qr-item", timeout=15_000)
        found += violations(page, f"{role} {lang} quick search")
    switch_language(page, "en")
    page.context.close()
    found += console.found
    assert found == [], "\n".join(found)


#: the first elements past a phone's right edge that do not scroll inside a box of their own
#: (an absolutely placed one escapes its box's scrolling)
WIDE_ELEMENTS = """() => {
  const scrolls = e => { for (let a = e.parentElement; a; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== 'visible') return a !== document.body
                                                        && a !== document.documentElement; }
    return false; };
  const name = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
    + (typeof e.className === 'string' && e.className.trim()
       ? '.' + e.className.trim().split(/\\s+/).join('.') : '');
  return [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1
                 && (!scrolls(e) || getComputedStyle(e).position === 'absolute'))
    .slice(0, 3).map(name);
}"""


def test_no_page_scrolls_sideways_on_a_phone(browser, site, people, records):
    """At 375 px every page fits the screen's width (wide tables scroll inside their own box),
    and logs no console error there either."""
    page = sign_in(browser, site, people["admin"], viewport={"width": 375, "height": 812})
    console = Console(page, "phone ro")
    switch_language(page, "ro")
    paths = unique([*menu_pages(page, site, site.data), *more_pages(page, site, console, records)])
    found: list[str] = []
    for path in paths:
        if not console.open(page, site, path):
            continue
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 375:
            wide = page.evaluate(WIDE_ELEMENTS)
            found.append(f"phone ro {path}: {width} px wide, past the edge: {', '.join(wide)}")
    switch_language(page, "en")
    page.context.close()
    found += console.found
    assert found == [], "\n".join(found)


def test_login_and_wall_tv_pass_axe_in_every_language(browser, site, people):
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    found: list[str] = []
    report_refusals(page, found)
    for lang in LANGUAGES:
        open_page(page, f"{site.url}/login?lang={lang}")
        found += violations(page, f"login {lang}")
        page.goto(f"{site.url}/wall?token={people['wall_token']}&lang={lang}")
        page.wait_for_selector("#live-status[data-state=open]", timeout=5000)
        found += violations(page, f"wall {lang}")
    # a call ringing and waiting: the tiles that light up
    site.pbx.call("queue_answered", "+40721234567", "", ring_s=3, talk_s=1)
    page.wait_for_selector("[data-tile=ringing].hot", timeout=3000)
    found += violations(page, "wall ru, call ringing")
    page.screenshot(path=str(SCREENSHOTS / "a11y-wall-ru.png"))
    context.close()
    assert found == [], "\n".join(found)


def test_workspace_with_live_popups_passes_axe_in_every_language(browser, site, people):
    page = sign_in(browser, site, "ana")
    found: list[str] = []
    for lang in LANGUAGES:
        switch_language(page, lang)
        page.wait_for_selector("#live-status[data-state=open]", timeout=5000)
        site.pbx.call("direct_answered", KNOWN_CALLER, "", extension="101", ring_s=2.5, talk_s=2)
        page.wait_for_selector(".popup.vip", timeout=3000)
        found += violations(page, f"{lang} popup ringing")
        page.wait_for_selector(".popup.incall", timeout=6000)
        found += violations(page, f"{lang} popup in call")
        page.wait_for_selector(".popup.ended", timeout=8000)
        found += violations(page, f"{lang} popup ended")
        page.screenshot(path=str(SCREENSHOTS / f"a11y-workspace-{lang}.png"))
        page.click(".popup.ended .popup-actions button")
        page.wait_for_selector(".popup", state="detached", timeout=3000)
    site.pbx.call("direct_missed", "0755 000 111", "", extension="101", ring_s=2.5)
    page.wait_for_selector(".popup.unknown", timeout=3000)
    found += violations(page, "unknown caller popup")
    page.wait_for_selector(".popup", state="detached", timeout=6000)
    page.wait_for_selector("#calls-to-return .badge", timeout=6000)
    found += violations(page, "calls to return")
    switch_language(page, "en")
    page.context.close()
    assert found == [], "\n".join(found)


def test_form_with_errors_passes_axe(browser, site, people):
    page = sign_in(browser, site, "ana")
    page.goto(f"{site.url}/clients/{site.data['vip_id']}/edit")
    page.fill("input[name='phones.1.number']", "12ab")
    page.click("#client-form button[type=submit]")
    page.wait_for_selector("label.has-error .field-error", timeout=5000)
    found = violations(page, "client form with an error")
    page.context.close()
    assert found == [], "\n".join(found)


def test_popup_is_announced_and_reached_by_keyboard_without_stealing_focus(browser, site, people):
    """An operator typing a history note when a call comes in keeps typing: the popup is
    announced by a live region, and the keyboard gets to its buttons through a skip link."""
    page = sign_in(browser, site, "bob")
    page.goto(f"{site.url}/clients/{site.data['vip_id']}")
    page.wait_for_selector("#live-status[data-state=open]", timeout=5000)
    page.click("textarea[name=body]")
    page.keyboard.type("Wants ")
    site.pbx.call("direct_missed", "+40731000333", "", extension="102", ring_s=6)
    page.wait_for_selector(".popup", timeout=3000)
    page.keyboard.type("a discount")
    assert page.input_value("textarea[name=body]") == "Wants a discount"
    assert page.evaluate("document.activeElement.name") == "body"
    announcer = page.locator("#call-announcer")
    assert announcer.get_attribute("aria-live") in ("polite", "assertive")
    # the announcer is filled just after the popup is drawn (a fresh text is what a screen
    # reader announces): wait for it rather than read it in the same instant
    page.wait_for_function(
        "document.querySelector('#call-announcer').innerText.includes('+40731000333')",
        timeout=3000,
    )

    # back to the top of the page: the skip links come first, one of them to the popup
    page.focus(".topbar .brand")
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#popups"
    box = page.evaluate("document.activeElement.getBoundingClientRect().toJSON()")
    assert box["width"] > 0 and box["top"] >= 0  # shown when focused
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#main"
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("!!document.activeElement.closest('.popup')")
    # the popup's own buttons are reached in turn and work with Enter
    for _ in range(6):
        if page.evaluate("document.activeElement.matches('.popup-actions button')"):
            break
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector(".popup", state="detached", timeout=3000)
    page.context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_focus_is_visible_on_every_control_of_the_workspace(browser, site, people, viewport):
    """Tabbing through the workspace: each focused control draws a visible outline."""
    page = sign_in(browser, site, "ana", viewport=viewport)
    page.wait_for_load_state("networkidle")
    page.keyboard.press("Tab")  # the first stop of the page: its skip link
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#main"
    unseen: list[str] = []
    for _ in range(25):
        page.keyboard.press("Tab")
        seen = page.evaluate(
            """() => { const e = document.activeElement; const s = getComputedStyle(e);
                 return [e.outerHTML.slice(0, 80), s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2
                         || s.boxShadow !== 'none'] }"""
        )
        if not seen[1] and not seen[0].startswith("<body"):  # past the last control
            unseen.append(seen[0])
    page.context.close()
    assert unseen == []


def test_popup_drawn_again_keeps_the_note_being_typed_and_its_focus(browser, site, people):
    """The hub replays a ringing call when the socket reconnects: the popup is drawn again
    with the words typed so far and the cursor still in them."""
    page = sign_in(browser, site, "bob")
    site.pbx.call("direct_missed", "+40731000444", "", extension="102", ring_s=6)
    page.wait_for_selector(".popup:has-text('+40731000444')", timeout=3000)
    page.click(".popup .popup-note")
    page.keyboard.type("Wants ")
    page.evaluate("document.querySelector('.popup').dataset.drawn = 'before'")
    page.evaluate("Callcard.socket.close()")
    page.wait_for_selector("#live-status[data-state=closed], #live-status[data-state=connecting]")
    page.wait_for_selector("#live-status[data-state=open]", timeout=5000)
    page.wait_for_selector(".popup:not([data-drawn])", timeout=3000)  # drawn again
    page.keyboard.type("a discount")
    assert page.input_value(".popup .popup-note") == "Wants a discount"
    page.context.close()
