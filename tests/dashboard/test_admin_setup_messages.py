"""Admin screens of the messages: template preview with a client's data (sandbox errors name the
field), reminder rules from the browser, quiet hours stored in the database and respected by the
outbox. Each test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.factories import add_client


def sign_in(client, username: str) -> None:
    page = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    data = {"username": username, "password": f"password-{username}", "csrf_token": csrf}
    assert client.post("/login", data=data, follow_redirects=False).status_code == 303


@pytest.fixture
def admin(as_user):
    return as_user("root", role="admin", team=None)


def test_the_preview_renders_with_the_chosen_clients_data(client, admin):
    ana = add_client("Ana Lungu")
    body = "Buna {{ first_name }}, ne vedem pe {{ date }}."
    r = client.post(
        "/api/notifier/templates/preview",
        json={"key": "reminder.appointment.sms", "language": "ro", "body": body, "client_id": ana},
        headers=admin,
    )
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["body"] == "Buna Ana, ne vedem pe 2025-05-01."
    assert out["segments"] == {
        "encoding": "GSM-7",
        "segments": 1,
        "characters": len(out["body"]),
        "units": len(out["body"]),
        "per_segment": 160,
        "text": out["body"],
    }
    r = client.post(
        "/api/notifier/templates/preview",
        json={"key": "reminder.appointment.sms", "language": "ro", "body": "Bună " + "a" * 70},
        headers=admin,
    )
    assert r.json()["segments"]["encoding"] == "UCS-2"
    assert r.json()["segments"]["segments"] == 2


@pytest.mark.parametrize(
    ("payload", "field", "words"),
    [
        ({"body": "Hello {{ shoe_size }}"}, "body", "unknown field"),
        ({"body": "{{ 'a' * 300000 }}"}, "body", "longer than"),
        ({"body": "ok", "subject": "{% if %}"}, "subject", "syntax error"),
    ],
)
def test_sandbox_errors_name_the_field(client, admin, payload, field, words):
    r = client.post(
        "/api/notifier/templates/preview",
        json={"key": "reminder.meeting.email", "language": "en", **payload},
        headers=admin,
    )
    assert r.status_code == 422, r.text
    [error] = r.json()["detail"]
    assert error["loc"][-1] == field
    assert words in error["msg"]


def test_the_preview_keeps_other_teams_clients_hidden(client, as_user, users):
    other = add_client("Vlad Stan", team="Support")
    manager = as_user("boss", role="manager")
    r = client.post(
        "/api/notifier/templates/preview",
        json={"key": "survey.thanks.sms", "language": "en", "body": "x", "client_id": other},
        headers=manager,
    )
    assert r.status_code == 403  # admins only: a manager reads templates but does not edit them


def test_a_saved_template_is_listed_as_changed(client, admin, as_user):
    r = client.put(
        "/api/notifier/templates/survey.thanks.sms/ro",
        json={"body": "Mulțumim, {{ first_name }}!"},
        headers=admin,
    )
    assert r.status_code == 200, r.text
    sign_in(client, "root")
    page = client.get("/admin/templates?channel=sms").text
    row = page[page.index('data-template="survey.thanks.sms"') :]
    row = row[: row.index("</tr>")]
    assert row.count("changed") == 1
    form = client.get("/admin/templates/survey.thanks.sms/ro").text
    assert "Mulțumim, {{ first_name }}!</textarea>" in form
    assert "Back to the built-in text" in form
    assert client.get("/admin/templates/no.such.key/ro").status_code == 404


def test_reminder_rules_from_the_browser_are_audited(client, admin):
    r = client.post("/api/notifier/reminder-rules/keep-defaults", headers=admin)
    assert r.status_code == 200
    assert all(rule["id"] for rule in r.json())
    first = r.json()[0]["id"]
    r = client.patch(
        f"/api/notifier/reminder-rules/{first}",
        json={"offset_minutes": 180, "active": False},
        headers=admin,
    )
    assert r.status_code == 200 and r.json()["active"] is False
    audit = client.get("/api/audit?entity=reminder_rule", headers=admin).json()
    items = audit["items"] if isinstance(audit, dict) else audit
    assert any(e.get("action") == "update" for e in items)
    sign_in(client, "root")
    page = client.get("/admin/reminder-rules").text
    assert "3 hours" in page and "Make them editable" not in page


def _enqueue_sms(number: str) -> int:
    from crm_core.database import session_scope
    from notifier.outbox.service import enqueue

    with session_scope() as db:
        row = enqueue(
            db, channel="sms", recipient=number, body="Hello", idempotency_key=f"qh:{number}"
        )
        db.flush()
        return row.id


def test_the_outbox_keeps_the_admins_quiet_hours(client, admin):
    """Settings say no quiet hours (tests); the admin sets 20:00-08:00 in Bucharest: a message
    due at 23:30 there waits until 08:00, and going back to the settings lets it go."""
    from crm_core.database import session_scope
    from notifier.config import get_settings
    from notifier.outbox.dispatch import Dispatcher
    from notifier.outbox.models import OutboxMessage

    assert get_settings().quiet_hours_start == get_settings().quiet_hours_end  # off by default
    r = client.put(
        "/api/notifier/quiet-hours",
        json={"start_hour": 20, "end_hour": 8, "timezone": "Europe/Bucharest"},
        headers=admin,
    )
    assert r.status_code == 200, r.text
    assert r.json()["overridden"] is True
    zone = ZoneInfo("Europe/Bucharest")
    tomorrow = datetime.now(zone).date() + timedelta(days=1)
    night = datetime.combine(tomorrow, time(23, 30), zone).astimezone(UTC)
    morning = datetime.combine(tomorrow + timedelta(days=1), time(8, 0), zone).astimezone(UTC)
    message_id = _enqueue_sms("+40721234567")  # a Romanian mobile: Bucharest time
    dispatcher = Dispatcher(get_settings())
    try:
        claim = dispatcher.claim(now=night)
        assert claim.ids == []
        with session_scope() as db:
            row = db.get(OutboxMessage, message_id)
            assert row.status == "pending"
            assert row.next_attempt_at == morning
        # back to the settings' hours (off in tests): the message may go at once
        assert (
            client.delete("/api/notifier/quiet-hours", headers=admin).json()["overridden"] is False
        )
        later = night + timedelta(hours=9)
        assert dispatcher.claim(now=later).ids == [message_id]
    finally:
        dispatcher.close()


def test_quiet_hours_are_checked_and_shown(client, admin):
    r = client.put(
        "/api/notifier/quiet-hours",
        json={"start_hour": 25, "end_hour": 8, "timezone": ""},
        headers=admin,
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "start_hour"
    r = client.put(
        "/api/notifier/quiet-hours",
        json={"start_hour": 22, "end_hour": 7, "timezone": "Mars/Olympus"},
        headers=admin,
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "timezone"
    client.put(
        "/api/notifier/quiet-hours",
        json={"start_hour": 22, "end_hour": 7, "timezone": "Asia/Tokyo"},
        headers=admin,
    )
    sign_in(client, "root")
    page = client.get("/admin/quiet-hours").text
    assert "22:00 – 07:00" in page and "Asia/Tokyo" in page
    assert "Next message may leave" in page
