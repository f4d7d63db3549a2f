"""Admin API for reminder rules and message templates; CSAT endpoint; rights per role."""

from __future__ import annotations

import pytest

from crm_core.database import session_scope, utcnow
from notifier.surveys.models import Survey
from tests.factories import client_row


@pytest.fixture(autouse=True)
def no_background_sending(monkeypatch):
    monkeypatch.setenv("CALLCARD_EMBEDDED_DISPATCHER", "false")


def test_rules_start_from_defaults_and_admins_edit_them(client, as_user):
    admin, manager = as_user("root", role="admin"), as_user("maria", role="manager")
    rules = client.get("/api/notifier/reminder-rules", headers=manager).json()
    assert {(r["event_type"], r["channel"], r["offset_minutes"]) for r in rules} >= {
        ("appointment", "sms", 1440), ("appointment", "sms", 120),
    }  # fmt: skip
    assert all(r["default"] for r in rules)
    created = client.post(
        "/api/notifier/reminder-rules",
        json={"event_type": "meeting", "channel": "email", "offset_minutes": 30},
        headers=admin,
    )
    assert created.status_code == 201
    rules = client.get("/api/notifier/reminder-rules", headers=manager).json()
    assert not any(r["default"] for r in rules)  # the defaults became rows, the new one joined
    assert ("meeting", "email", 30) in {
        (r["event_type"], r["channel"], r["offset_minutes"]) for r in rules
    }
    dup = client.post(
        "/api/notifier/reminder-rules",
        json={"event_type": "meeting", "channel": "email", "offset_minutes": 30},
        headers=admin,
    )
    assert dup.status_code == 409
    rid = created.json()["id"]
    off = client.patch(f"/api/notifier/reminder-rules/{rid}", json={"active": False}, headers=admin)
    assert off.status_code == 200 and off.json()["active"] is False
    bad = client.post(
        "/api/notifier/reminder-rules",
        json={"event_type": "meeting", "channel": "pigeon", "offset_minutes": 30},
        headers=admin,
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "channel"]
    assert client.post("/api/notifier/reminder-rules", json={}, headers=manager).status_code == 403
    assert client.delete(f"/api/notifier/reminder-rules/{rid}", headers=admin).status_code == 204


def test_template_edit_shows_segments_and_refuses_unsafe_templates(client, as_user):
    admin = as_user("root", role="admin")
    url = "/api/notifier/templates/reminder.appointment.sms/ro"
    saved = client.put(
        url, json={"body": "Bună {{ first_name }}, programarea dvs. e pe {{ date }} la {{ time }}."},
        headers=admin,
    )  # fmt: skip
    assert saved.status_code == 200, saved.text
    assert saved.json()["custom"] is True
    assert saved.json()["segments"]["encoding"] == "UCS-2"
    assert "Bună Ana" in saved.json()["preview"]
    plain = client.put(
        url,
        json={"body": "Bună {{ first_name }}, programarea e pe {{ date }}.", "transliterate": True},
        headers=admin,
    )
    assert plain.json()["body"].startswith("Buna ")
    assert plain.json()["segments"]["encoding"] == "GSM-7"
    escape = client.put(url, json={"body": "{{ first_name.__class__.__base__ }}"}, headers=admin)
    assert escape.status_code == 422 and escape.json()["detail"][0]["loc"] == ["body", "body"]
    unknown = client.put(url, json={"body": "{{ secret_key }}"}, headers=admin)
    assert unknown.status_code == 422
    assert client.put("/api/notifier/templates/reminder.appointment.sms/de", json={"body": "x"},
                      headers=admin).status_code == 422  # fmt: skip
    assert (
        client.put("/api/notifier/templates/nope/en", json={"body": "x"}, headers=admin).status_code
        == 404
    )
    listing = client.get("/api/notifier/templates", headers=admin).json()
    mine = next(
        t for t in listing if t["key"] == "reminder.appointment.sms" and t["language"] == "ro"
    )
    assert mine["body"].startswith("Buna ") and mine["custom"] is True
    assert client.delete(url, headers=admin).status_code == 204
    listing = client.get("/api/notifier/templates", headers=admin).json()
    mine = next(
        t for t in listing if t["key"] == "reminder.appointment.sms" and t["language"] == "ro"
    )
    assert mine["custom"] is False


def test_saved_template_is_used_for_the_next_reminder(client, as_user, users):
    from datetime import timedelta

    from crm_core.auth.principal import SYSTEM
    from crm_core.tasks.service import create_task
    from tests.factories import outbox_rows

    admin = as_user("root", role="admin")
    client.put(
        "/api/notifier/templates/reminder.appointment.sms/en",
        json={"body": "Hi {{ first_name }}! See you {{ date }} {{ time }}."},
        headers=admin,
    )
    with session_scope() as s:
        c = client_row(s)
        create_task(s, SYSTEM, title="Check-up", client_id=c.id, kind="event", event_type="appointment",
                    starts_at=utcnow() + timedelta(days=3))  # fmt: skip
    with session_scope() as s:
        bodies = {r.body for r in outbox_rows(s, "reminder:")}
    assert len(bodies) == 1 and next(iter(bodies)).startswith("Hi Ana! See you ")


def test_csat_endpoint(client, as_user, users):
    manager = as_user("maria", role="manager")
    op = users.add("ion", role="operator", team="Sales")
    with session_scope() as s:
        c = client_row(s)
        s.add(Survey(client_id=c.id, phone_e164="+40712345678", source="call", source_ref="1",
                     operator_user_id=op.id, team_id=op.team_id, status="answered", rating=4,
                     answered_at=utcnow()))  # fmt: skip
    r = client.get("/api/notifier/csat", params={"period": "today"}, headers=manager)
    assert r.status_code == 200
    assert r.json()["overall"] == {"responses": 1, "average": 4.0, "csat": 100.0}
    assert r.json()["operators"][0]["username"] == "ion"
    bad = client.get("/api/notifier/csat", params={"period": "forever"}, headers=manager)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "period"]
    assert client.get("/api/notifier/csat").status_code == 401


def test_a_template_failing_on_real_data_falls_back_and_never_blocks_the_event(client, as_user):
    from datetime import timedelta

    from crm_core.auth.principal import SYSTEM
    from crm_core.tasks.service import create_task
    from tests.factories import outbox_rows

    admin = as_user("root", role="admin")
    fragile = "Hi {{ first_name }} {{ 10 // (first_name | length - 4) }}"  # fine for "Ana"
    saved = client.put(
        "/api/notifier/templates/reminder.appointment.sms/en", json={"body": fragile}, headers=admin
    )
    assert saved.status_code == 200
    with session_scope() as s:
        c = client_row(s, name="Ioan Pop")  # four letters: division by zero
        create_task(s, SYSTEM, title="Check-up", client_id=c.id, kind="event",
                    event_type="appointment", starts_at=utcnow() + timedelta(days=3))  # fmt: skip
    with session_scope() as s:
        bodies = {r.body for r in outbox_rows(s, "reminder:")}
    assert len(bodies) == 1 and next(iter(bodies)).startswith("Hello Ioan, a reminder")
