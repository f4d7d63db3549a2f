"""Scheduled report e-mails: a manager who opted in gets yesterday's figures once, in Romanian,
as HTML with an XLSX attachment, through the outbox's e-mail channel to a real SMTP server."""

from __future__ import annotations

import email
from datetime import timedelta
from io import BytesIO

import pytest
from openpyxl import load_workbook

from tests.conftest import free_port
from tests.factories import CALL_START, finished_call
from tests.notifier.notifier_engine_support import engine_settings


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    mailbox = _Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    mailbox.port = controller.port
    yield mailbox
    controller.stop()


def _manager(language: str = "ro") -> int:
    from crm_core.auth.service import create_user
    from crm_core.database import session_scope

    with session_scope() as s:
        user = create_user(s, username="mara", password="password-mara", role="manager",
                           email="mara@example.com", language=language, full_name="Mara")  # fmt: skip
        s.flush()
        return user.id


def test_a_daily_report_reaches_the_smtp_server_in_romanian_with_its_xlsx(database, smtp_server):
    from crm_core.auth.principal import Principal
    from crm_core.database import session_scope
    from cti.calllog.finished import log_call
    from dashboard.reports.scheduled import queue_due_reports
    from dashboard.reports.subscriptions import set_frequency
    from notifier.outbox.dispatch import Dispatcher

    user_id = _manager("ro")
    with session_scope() as s:
        set_frequency(s, Principal(user_id, "mara", "manager"), "daily")
        for n, disposition in enumerate(("answered", "answered", "missed")):
            log_call(s, finished_call(f"1900000000.{n}", disposition=disposition,
                                      withheld=True, client_looked_up=True))  # fmt: skip
    morning = CALL_START + timedelta(days=1)
    assert queue_due_reports(now=morning) == 1
    assert queue_due_reports(now=morning + timedelta(hours=1)) == 0  # once per period
    s = engine_settings(email_channel="smtp", smtp_host="127.0.0.1", smtp_port=smtp_server.port)
    dispatcher = Dispatcher(s)
    dispatcher.run_once()
    dispatcher.close()
    from notifier.outbox.models import OutboxMessage

    with session_scope() as db:
        row = db.query(OutboxMessage).one()
        assert (row.status, row.error_message) == ("sent", ""), row.error_message
    assert len(smtp_server.messages) == 1
    envelope = smtp_server.messages[0]
    assert envelope.rcpt_tos == ["mara@example.com"]
    parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert parsed["Subject"].startswith("Raportul zilnic Callcard")
    html = parsed.get_body(("html",)).get_content()
    assert "Nivel de serviciu" in html and "Apeluri" in html
    [attachment] = list(parsed.iter_attachments())
    assert attachment.get_filename() == "callcard-report-2026-11-26.xlsx"
    book = load_workbook(BytesIO(attachment.get_content()))
    assert book.sheetnames[:2] == ["Zile", "Ore"]
    rows = list(book["Zile"].iter_rows(values_only=True))
    assert rows[0][:4] == ("Zi", "Apeluri", "Preluate", "Pierdute")
    assert rows[1][1:4] == (3, 2, 1)


def test_weekly_reports_cover_last_monday_to_sunday(database):
    from dashboard.reports.scheduled import due_period

    label, period = due_period("weekly", "Europe/Bucharest", CALL_START)  # a Thursday
    assert label == "2026-W47"
    assert (period.first_day.isoformat(), period.last_day.isoformat()) == (
        "2026-11-16",
        "2026-11-22",
    )


def test_the_opt_in_is_saved_from_the_reports_api(client, as_user):
    headers = as_user("mara", "manager")
    r = client.put("/api/reports/subscription", json={"frequency": "weekly"}, headers=headers)
    assert r.status_code == 200 and r.json() == {"frequency": "weekly"}
    bad = client.put("/api/reports/subscription", json={"frequency": "hourly"}, headers=headers)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "frequency"
    denied = client.put(
        "/api/reports/subscription", json={"frequency": "daily"}, headers=as_user("olga")
    )
    assert denied.status_code == 403
