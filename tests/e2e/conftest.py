"""Browser tests: the real app on a real port, CTI listening to the AMI replay server over TCP,
and headless Chromium driven by Playwright.

One server per module (starting Chromium and the app for every test would dominate the run);
tests use distinct callers and compare counts before and after, so their order does not matter.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import LiveServer, _reset_caches, _wipe, free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
#: docs/screenshots with CALLCARD_SCREENSHOTS=1 (refreshing the README's pictures), else a
#: scratch folder, so that a test run leaves the checkout as it was
SCREENSHOTS = (
    Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    if os.environ.get("CALLCARD_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "callcard-screenshots"
)
AMI_USER, AMI_SECRET = "callcard", "e2e-secret"


class AmiPbx:
    """The AMI replay server in its own thread and loop: our stand-in for Asterisk."""

    def __init__(self) -> None:
        from cti.simulator.calls import SyntheticConfig
        from cti.simulator.server import AmiReplayServer

        self.loop = asyncio.new_event_loop()
        self.server = AmiReplayServer(
            port=0,
            username=AMI_USER,
            secret=AMI_SECRET,
            synthetic=SyntheticConfig(extensions=["101", "102"], queue_members=["101", "102"]),
            seed=7,
        )
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def start(self) -> int:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(10)
        return self.server.port

    def call(self, kind: str, number: str, name: str = "", **kw) -> str:
        """Start one call now (``direct_answered``, ``direct_missed``, ``queue_answered``, ...)."""

        async def start() -> str:
            return self.server.start_call(kind, number=(number, name), **kw)

        return asyncio.run_coroutine_threadsafe(start(), self.loop).result(5)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


class Site:
    """Everything a browser test needs: the server URL, the PBX and helpers."""

    def __init__(self, server: LiveServer, pbx: AmiPbx, data: dict) -> None:
        self.server = server
        self.url = server.url
        self.pbx = pbx
        self.data = data


def seed() -> dict:
    """Users and a small client base with history, like a real office."""
    from datetime import timedelta

    from crm_core.auth.principal import SYSTEM
    from crm_core.auth.service import create_user
    from crm_core.clients.schemas import ClientIn
    from crm_core.clients.service import create_client
    from crm_core.database import session_scope, utcnow
    from crm_core.history.service import add_interaction
    from crm_core.tasks.models import Task

    with session_scope() as db:
        ana = create_user(
            db,
            username="ana",
            password="password-ana",
            role="operator",
            team="Sales",
            extension="101",
            full_name="Ana Popescu",
        )
        bob = create_user(
            db,
            username="bob",
            password="password-bob",
            role="operator",
            team="Sales",
            extension="102",
            full_name="Bogdan Ionescu",
        )
        create_user(
            db, username="boss", password="password-boss", role="manager", full_name="Maria Dumitru"
        )
        for username, full_name, ext in (
            ("cristina", "Cristina Dobre", "103"),
            ("dan", "Dan Marinescu", "104"),
            ("elena", "Elena Georgescu", "105"),
            ("florin", "Florin Stoica", "106"),
        ):
            create_user(
                db,
                username=username,
                password=f"password-{username}",
                team="Sales",
                extension=ext,
                full_name=full_name,
            )
        org = create_client(
            db,
            SYSTEM,
            ClientIn(
                kind="organization",
                org_name="Transilvania Logistic SRL",
                team_id=ana.team_id,
                category="partner",
                phones=[{"kind": "work", "number": "+40 264 450 000"}],
                addresses=[
                    {
                        "kind": "work",
                        "street": "Str. Fabricii 12",
                        "city": "Cluj-Napoca",
                        "country": "RO",
                    }
                ],
            ),
        )
        vip = create_client(
            db,
            SYSTEM,
            ClientIn(
                first_name="Ștefan",
                last_name="Țurcanu",
                job_title="Director achiziții",
                organization_id=org.id,
                owner_id=ana.id,
                team_id=ana.team_id,
                category="vip",
                tags=["contract-2026"],
                phones=[
                    {"kind": "mobile", "number": "+40 721 234 567"},
                    {"kind": "work", "number": "0264 450 001"},
                ],
                emails=[{"kind": "work", "address": "stefan.turcanu@translog.ro"}],
                addresses=[
                    {
                        "kind": "work",
                        "street": "Str. Fabricii 12",
                        "city": "Cluj-Napoca",
                        "country": "RO",
                    }
                ],
            ),
        )
        create_client(
            db,
            SYSTEM,
            ClientIn(
                first_name="Elena",
                last_name="Matei",
                team_id=ana.team_id,
                phones=[{"number": "0744 333 444"}],
            ),
        )
        now = utcnow()
        for days, kind, extra in (
            (
                9,
                "call",
                {
                    "direction": "inbound",
                    "result_code": "answered",
                    "duration_s": 312,
                    "subject": "Întrebare despre factura 2026-114",
                },
            ),
            (6, "meeting", {"subject": "Prezentare ofertă transport frigorific"}),
            (
                3,
                "sms",
                {
                    "direction": "outbound",
                    "body": "Bună ziua! Vă reamintim întâlnirea de mâine la 10:00.",
                },
            ),
            (2, "call", {"direction": "outbound", "result_code": "no_answer", "duration_s": 0}),
            (1, "note", {"body": "Dorește ofertă pentru 12 camioane până vineri."}),
        ):
            add_interaction(
                db,
                SYSTEM,
                client_id=vip.id,
                kind=kind,
                occurred_at=now - timedelta(days=days),
                **extra,
            )
        db.add(
            Task(
                title="Trimite oferta pentru 12 camioane",
                client_id=vip.id,
                assignee_id=ana.id,
                team_id=ana.team_id,
                status="open",
                due_at=now + timedelta(hours=3),
            )
        )
        from crm_core.clients.models import Client
        from notifier.surveys.models import Survey

        vip_row = db.get(Client, vip.id)
        vip_row.last_rating, vip_row.last_rated_at = 5, now - timedelta(days=9)

        for n, (rating, operator) in enumerate(((5, ana), (4, bob), (5, ana), (3, bob))):
            db.add(
                Survey(
                    client_id=vip.id,
                    phone_e164="+40721234567",
                    source="call",
                    source_ref=f"seed-{n}",
                    operator_user_id=operator.id,
                    status="answered",
                    rating=rating,
                    answered_at=now - timedelta(minutes=30 + n),
                )
            )
        db.add(
            Task(
                title="Confirmă datele de facturare",
                client_id=vip.id,
                assignee_id=ana.id,
                team_id=ana.team_id,
                status="open",
                due_at=now - timedelta(days=1),
            )
        )
        return {"vip_id": vip.id, "org_id": org.id, "ana_id": ana.id, "bob_id": bob.id}


@pytest.fixture(scope="module")
def site(sqlite_url) -> Iterator[Site]:
    keys = (
        "CALLCARD_DATABASE_URL",
        "CALLCARD_AMI_HOST",
        "CALLCARD_AMI_PORT",
        "CALLCARD_AMI_USERNAME",
        "CALLCARD_AMI_SECRET",
        "CALLCARD_BUS_URL",
        "CALLCARD_ATTACHMENTS_DIR",
        "CALLCARD_SIMULATOR",
    )
    saved = {k: os.environ.get(k) for k in keys}
    pbx = AmiPbx()
    port = pbx.start()
    os.environ.update(
        {
            "CALLCARD_DATABASE_URL": sqlite_url,
            "CALLCARD_AMI_HOST": "127.0.0.1",
            "CALLCARD_AMI_PORT": str(port),
            "CALLCARD_AMI_USERNAME": AMI_USER,
            "CALLCARD_AMI_SECRET": AMI_SECRET,
            "CALLCARD_BUS_URL": "",
            "CALLCARD_SIMULATOR": "false",
        }
    )
    _reset_caches()
    _wipe(sqlite_url)
    data = seed()
    from callcard.app import create_app

    server = LiveServer(create_app(), free_port())
    server.start()
    try:
        yield Site(server, pbx, data)
    finally:
        server.stop()
        pbx.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        _reset_caches()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def sign_in(browser, site: Site, username: str, viewport=None):
    """A new browser context signed in through the login form; returns its page."""
    context = browser.new_context(
        viewport=viewport or {"width": 1440, "height": 900},
        locale="en-US",
        timezone_id="Europe/Bucharest",
    )
    page = context.new_page()
    page.goto(f"{site.url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", f"password-{username}")
    try:
        with page.expect_navigation(url=f"{site.url}/", timeout=30_000):
            page.click("button[type=submit]")
    except Exception:
        # a sign-in that never completes: show where every thread of the server stands
        import faulthandler
        import sys

        faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
        raise AssertionError(
            f"{username} could not sign in: the page is at {page.url} and says "
            f"{page.inner_text('body')[:300]!r}"
        ) from None
    page.wait_for_selector("#live-status[data-state=open]", timeout=5000)
    return page
