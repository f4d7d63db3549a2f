"""What an operator and a manager see in a real browser while calls come in over AMI.

The pages' Content-Security-Policy allows no ``eval``: conditions waited for are written as
functions (``"() => ..."``), which Playwright runs without evaluating a string in the page."""

from __future__ import annotations

import re
import time

import pytest

from tests.e2e.conftest import SCREENSHOTS, sign_in

pytestmark = pytest.mark.browser

KNOWN_CALLER = "0721234567"  # stored as +40 721 234 567
WALL_VIEWPORT = {"width": 1920, "height": 1080}


def wait_popup(page, timeout_ms: int = 2000):
    """The popup must be on screen within 2 s of the PBX starting the call."""
    started = time.monotonic()
    popup = page.wait_for_selector(".popup", timeout=timeout_ms)
    return popup, time.monotonic() - started


def test_known_caller_pops_up_with_the_card_and_goes_in_call(browser, site):
    page = sign_in(browser, site, "ana")
    site.pbx.call("direct_answered", KNOWN_CALLER, "Stefan T", extension="101", ring_s=4, talk_s=4)
    popup, elapsed = wait_popup(page)
    assert elapsed < 2.0
    text = popup.inner_text()
    assert "Ștefan Țurcanu" in text
    assert "Transilvania Logistic SRL" in text  # organization
    assert "Ana Popescu" in text  # owner
    assert popup.query_selector(".badge.vip") is not None  # VIP stands out
    assert "Trimite oferta pentru 12 camioane" in text  # open task
    assert page.query_selector(".popup.vip") is not None
    page.wait_for_timeout(300)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "workspace-popup.png"))
    # answered by me: the popup turns into the call in progress, where the note is written
    page.wait_for_selector(".popup.incall", timeout=6000)
    assert "In call" in page.text_content(".popup .popup-status")
    page.fill(".popup textarea", "Wants the offer by Friday")
    page.wait_for_selector(".popup .note-state:has-text('Note saved')", timeout=5000)
    page.wait_for_selector(".popup.ended", timeout=8000)
    assert page.text_content(".popup .popup-status").startswith("Call ended")
    page.context.close()


def test_missed_call_is_dismissed_and_waits_to_be_returned(browser, site):
    page = sign_in(browser, site, "bob")
    number = "+40731000222"
    site.pbx.call("direct_missed", number, "", extension="102", ring_s=2.5)
    popup, _ = wait_popup(page)
    assert "Unknown number" in popup.inner_text()
    page.wait_for_selector(".popup", state="detached", timeout=6000)
    row = page.wait_for_selector(f"#calls-to-return li:has-text('{number}')", timeout=6000)
    assert "Missed" in row.inner_text()
    # one click calls back: the PBX rings bob's phone first (AMI Originate)
    row.query_selector("[data-call-number]").click()
    page.wait_for_selector(".toast:has-text('Calling')", timeout=5000)
    page.context.close()


def test_answered_elsewhere_closes_the_other_operators_popup(browser, site):
    ana = sign_in(browser, site, "ana")
    bob = sign_in(browser, site, "bob")
    site.pbx.call("queue_answered", "0744333444", "", ring_s=2.5, talk_s=2)
    wait_popup(ana, 3000)
    wait_popup(bob, 3000)
    # one of them answers: the other one's popup closes, the winner's shows the call
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline:
        states = [p.query_selector(".popup.incall") is not None for p in (ana, bob)]
        gone = [p.query_selector(".popup") is None for p in (ana, bob)]
        if sorted(states) == [False, True] and sorted(gone) == [False, True]:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("expected one popup in call and the other dismissed")
    ana.context.close()
    bob.context.close()


def test_create_client_from_an_unknown_callers_popup(browser, site):
    page = sign_in(browser, site, "ana")
    site.pbx.call("direct_missed", "0755 123 987", "", extension="101", ring_s=6)
    popup, _ = wait_popup(page)
    with page.context.expect_page() as new_tab:
        popup.query_selector("a:has-text('Create client')").click()
    form = new_tab.value
    form.wait_for_load_state()
    assert form.input_value("input[name='phones.0.number']") in ("+40755123987", "0755123987")
    form.fill("input[name=first_name]", "Ioana")
    form.fill("input[name=last_name]", "Vlad")
    form.click("#client-form button[type=submit]")
    form.wait_for_url(re.compile(r"/clients/\d+$"))
    assert "Ioana Vlad" in form.inner_text("h1")
    assert "+40755123987" in form.content() or "0755" in form.inner_text("#h-contacts ~ *, body")
    page.context.close()


def test_caller_of_another_team_shows_name_only_and_no_create_button(browser, site):
    """Operators see only their team's clients: a caller who is another team's client gets
    the name and category, no card to open, and is not offered as a new client (that would
    duplicate them)."""
    from crm_core.auth.principal import SYSTEM
    from crm_core.auth.service import create_user
    from crm_core.clients.schemas import ClientIn
    from crm_core.clients.service import create_client
    from crm_core.database import session_scope
    from crm_core.history import choices

    with session_scope() as db:
        sorin = create_user(
            db, username="sorin", password="password-sorin", role="operator", team="Support"
        )
        create_client(
            db,
            SYSTEM,
            ClientIn(
                first_name="Radu",
                last_name="Ciobanu",
                team_id=sorin.team_id,
                category="partner",
                phones=[{"number": "+40 766 100 200"}],
                comment="Negotiating the support contract",
            ),
        )
        # the category as the admin named it, not its code
        partner = next(c for c in choices.items(db, "client_category") if c.code == "partner")
        choices.update_item(db, SYSTEM, partner.id, label="Partener strategic")
    page = sign_in(browser, site, "ana")
    site.pbx.call("direct_missed", "0766 100 200", "", extension="101", ring_s=4)
    # (an earlier test's call may still be ringing for ana: find this call's popup)
    popup = page.wait_for_selector(".popup:has-text('+40766100200'), .popup:has-text('0766')")
    text = popup.inner_text()
    assert "Radu Ciobanu" in text
    assert "Partener strategic" in text
    assert "A client of another team" in text
    assert popup.query_selector("a:has-text('Create client')") is None
    assert popup.query_selector("a:has-text('Open card')") is None
    page.context.close()


def test_quick_search_finds_a_number_typed_in_another_format(browser, site):
    page = sign_in(browser, site, "ana")
    page.fill("#quick-search", "0040-721-234-567")
    item = page.wait_for_selector(".qr-item", timeout=5000)
    assert "Ștefan Țurcanu" in item.inner_text()
    page.press("#quick-search", "Enter")
    page.wait_for_url(f"{site.url}/clients/{site.data['vip_id']}")
    page.context.close()


def test_quick_search_says_in_romanian_that_search_is_being_updated(browser, site):
    """A field made searchable: until the clients' search text is refreshed, the results say
    so, in the user's language, with the field and the progress."""
    from crm_core.auth.principal import SYSTEM
    from crm_core.auth.service import create_user
    from crm_core.clients.schemas import ClientIn
    from crm_core.clients.service import create_client
    from crm_core.customfields.service import create_field, delete_field, update_field
    from crm_core.database import session_scope
    from crm_core.search import refresh

    with session_scope() as db:
        create_user(
            db,
            username="dorina",
            password="password-dorina",
            team="Sales",
            full_name="Dorina Lungu",
            language="ro",
        )
        field_id = create_field(
            db,
            SYSTEM,
            entity="client",
            key="contract",
            label="Contract",
            kind="text",
            searchable=False,
        ).id
        for first in ("Vlad", "Irina"):
            create_client(
                db,
                SYSTEM,
                ClientIn(first_name=first, last_name="Zamfir", custom={"contract": f"ZF-{first}"}),
                force=True,
            )
    with session_scope() as db:  # the admin's change, left for the test to refresh
        update_field(db, SYSTEM, field_id, searchable=True)
        db.info.pop("search_refresh_wake")
    try:
        page = sign_in(browser, site, "dorina")
        page.fill("#quick-search", "zamfir")
        notice = page.wait_for_selector(".qr-notice", timeout=5000)
        assert notice.is_visible()
        assert notice.inner_text() == (
            "Căutarea se actualizează după modificarea câmpului „Contract” "
            "(clienți actualizați: 0 din 2); rezultatele pot fi incomplete."
        )
        names = page.inner_text("#quick-results")
        assert "Vlad Zamfir" in names and "Irina Zamfir" in names

        assert refresh.run() == 2
        page.fill("#quick-search", "zf-vlad")
        page.wait_for_function(
            "() => document.querySelector('.qr-item') && !document.querySelector('.qr-notice')",
            timeout=5000,
        )
        assert "Vlad Zamfir" in page.inner_text("#quick-results")
        page.context.close()
    finally:  # the site is shared by the module: leave nothing queued behind
        refresh.run()
        with session_scope() as db:
            delete_field(db, SYSTEM, field_id)
            db.info.pop("search_refresh_wake", None)
        refresh.run()


def test_editing_a_client_with_an_invalid_phone_names_the_field(browser, site):
    page = sign_in(browser, site, "ana")
    page.goto(f"{site.url}/clients/{site.data['vip_id']}")
    page.wait_for_selector(".timeline li")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "client-card.png"), full_page=True)
    page.click("a:has-text('Edit')")
    page.wait_for_selector("#client-form")
    page.fill("input[name='phones.1.number']", "12ab")
    page.click("#client-form button[type=submit]")
    error = page.wait_for_selector("label.has-error .field-error", timeout=5000)
    assert error.is_visible() and error.inner_text()
    field = page.query_selector("input[name='phones.1.number']")
    assert field.get_attribute("aria-invalid") == "true"
    # the first phone is fine: only the wrong one is marked
    assert page.query_selector("input[name='phones.0.number'][aria-invalid]") is None
    assert page.url.endswith("/edit")  # nothing saved, still on the form
    page.context.close()


def test_wall_counts_change_as_calls_come_and_go(browser, site):
    from crm_core.auth.principal import SYSTEM
    from crm_core.database import session_scope
    from dashboard.wall.tokens import create_wall_token

    with session_scope() as db:
        token = create_wall_token(db, SYSTEM, label="e2e TV").token
    context = browser.new_context(viewport=WALL_VIEWPORT)  # a TV: no login
    wall = context.new_page()
    wall.goto(f"{site.url}/wall?token={token}")
    wall.wait_for_selector("#live-status[data-state=open]", timeout=5000)

    def value(key: str) -> int:
        return int(wall.inner_text(f"[data-k='{key}']").replace(",", "") or 0)

    answered = value("today.inbound_answered")
    site.pbx.call("queue_answered", "+40721234567", "", ring_s=2.5, talk_s=3)
    wall.wait_for_function(
        "() => document.querySelector(\"[data-k='now.ringing']\").textContent === '1'",
        timeout=3000,
    )
    wall.wait_for_timeout(400)
    wall.screenshot(path=str(SCREENSHOTS / "wall.png"))
    wall.wait_for_function(
        "() => document.querySelector(\"[data-k='now.in_progress']\").textContent === '1'",
        timeout=6000,
    )
    wall.wait_for_function(
        "() => document.querySelector(\"[data-k='today.inbound_answered']\").textContent"
        f" === '{answered + 1}'",
        timeout=8000,
    )
    assert value("now.in_progress") == 0
    # the whole wall fits the screen: no scrolling on a TV
    assert wall.evaluate("document.documentElement.scrollHeight <= window.innerHeight + 1")
    context.close()


def test_switch_language_to_romanian(browser, site):
    from crm_core.auth.service import create_user
    from crm_core.database import session_scope

    with session_scope() as db:
        create_user(
            db, username="carmen", password="password-carmen", team="Sales", full_name="Carmen Stan"
        )
    page = sign_in(browser, site, "carmen")
    page.select_option("select[name=language]", "ro")
    page.wait_for_selector("html[lang=ro]")
    assert "Spațiu de lucru" in page.inner_text("nav.mainnav")
    assert "Apeluri de returnat" in page.inner_text("main")
    page.goto(f"{site.url}/clients")
    assert "Client nou" in page.inner_text("main")
    page.context.close()


def test_phone_sized_screen_has_no_sideways_scrolling(browser, site):
    page = sign_in(browser, site, "ana", viewport={"width": 390, "height": 844})
    for path in ("/", "/clients", f"/clients/{site.data['vip_id']}", "/tasks"):
        page.goto(site.url + path)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), path
    page.context.close()


def test_task_reminder_shows_only_to_the_assignee(browser, site):
    from crm_core.bus import get_bus

    ana = sign_in(browser, site, "ana")
    bob = sign_in(browser, site, "bob")
    get_bus().publish_sync(
        {
            "type": "task.due",
            "audience": [f"user:{site.data['ana_id']}"],
            "task_id": 1,
            "title": "Sună clientul înapoi",
            "due_at": "2026-11-26T16:00:00Z",
            "client_id": None,
            "kind": "task",
        }
    )
    toast = ana.wait_for_selector(".toast:has-text('Sună clientul înapoi')", timeout=3000)
    assert "Reminder" in toast.inner_text()
    bob.wait_for_timeout(500)
    assert bob.query_selector(".toast") is None
    ana.context.close()
    bob.context.close()


@pytest.mark.parametrize("lang", ["ro", "ru"])
def test_long_romanian_and_russian_labels_fit_on_the_wall(browser, site, lang):
    from crm_core.auth.principal import SYSTEM
    from crm_core.database import session_scope
    from dashboard.wall.tokens import create_wall_token

    with session_scope() as db:
        token = create_wall_token(db, SYSTEM, label=f"TV {lang}").token
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    wall = context.new_page()
    wall.goto(f"{site.url}/wall?token={token}&lang={lang}")
    wall.wait_for_selector("#live-status[data-state=open]", timeout=5000)
    overflowing = wall.evaluate(
        """[...document.querySelectorAll('.tile .label, .tile .value, .op-name')]
             .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent)"""
    )
    assert overflowing == []
    assert wall.evaluate("document.documentElement.scrollHeight <= window.innerHeight + 1")
    if lang == "ru":
        wall.screenshot(path=str(SCREENSHOTS / "wall-ru.png"))
    context.close()


def test_simulated_handset_shows_the_conversation_and_replies(browser, site):
    page = sign_in(browser, site, "ana")
    page.goto(f"{site.url}/handset?number=0721%20234%20567")
    page.wait_for_selector("#handset-title:has-text('+40721234567')", timeout=5000)
    page.fill("#handset-body", "5")
    page.click("#handset-reply button[type=submit]")
    bubble = page.wait_for_selector(".bubble.out", timeout=5000)
    assert bubble.inner_text().startswith("5")
    page.context.close()


def test_handset_opens_a_conversation_from_the_numbers_texted_last(browser, site):
    from crm_core.database import session_scope
    from notifier.outbox.service import enqueue

    with session_scope() as db:  # the embedded dispatcher sends it on the console channel
        enqueue(db, channel="sms", recipient="+40744333444", body="Mâine la 10:00, vă așteptăm.",
                idempotency_key="e2e-handset-recent")  # fmt: skip
    page = sign_in(browser, site, "ana")
    page.goto(f"{site.url}/handset")
    entry = page.wait_for_selector("#handset-recent button:has-text('+40744333444')", timeout=15000)
    entry.click()
    page.wait_for_selector("#handset-title:has-text('+40744333444')", timeout=5000)
    page.wait_for_selector(".bubble.in:has-text('Mâine la 10:00')", timeout=5000)
    page.context.close()


def test_lost_connection_reconnects_and_gets_the_call_still_ringing(browser, site):
    page = sign_in(browser, site, "bob")
    page.evaluate("Callcard.socket.close()")  # the network drops for a moment
    page.wait_for_selector("#live-status[data-state=closed], #live-status[data-state=connecting]")
    site.pbx.call("direct_missed", "+40731000999", "", extension="102", ring_s=5)
    page.wait_for_selector("#live-status[data-state=open]", timeout=5000)
    popup = page.wait_for_selector(".popup", timeout=3000)  # replayed by the hub (sticky)
    assert "+40731000999" in popup.inner_text()
    page.context.close()


def test_outbox_words_statuses_and_channels_in_the_admins_language(browser, site):
    from datetime import timedelta

    from crm_core.auth.service import create_user
    from crm_core.database import session_scope, utcnow
    from notifier.outbox import service as outbox

    with session_scope() as db:
        create_user(db, username="dana", password="password-dana", role="admin", language="ro")
        outbox.enqueue(
            db,
            channel="email",
            recipient="client@example.ro",
            subject="Programare",
            body="Vă așteptăm mâine la 10:00.",
            idempotency_key="e2e-outbox-ro",
            due_at=utcnow() + timedelta(days=1),
        )
    page = sign_in(browser, site, "dana")
    page.goto(f"{site.url}/outbox")
    row = page.wait_for_selector("#outbox-rows tr:has-text('client@example.ro')", timeout=5000)
    text = row.inner_text()
    assert "În așteptare" in text and "pending" not in text  # the status, in Romanian
    assert "E-mail" in text
    page.context.close()
