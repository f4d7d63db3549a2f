"""Voice reminders: a reminder rule may call the client (the voicebots' "reminder" script); the
key the client presses is kept on the call and in their history, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

import notifier.hooks  # noqa: F401  (connects the task signals, as the app does)
from crm_core.auth.principal import SYSTEM
from crm_core.database import session_scope, utcnow
from crm_core.tasks import service as tasks
from crm_core.tasks.models import Task
from notifier.reminders import service as reminders
from notifier.reminders.models import ReminderRule
from notifier.templates import service as templates
from notifier.voice_calls.service import twiml_url
from tests.factories import client_row, later, outbox_rows
from tests.voicebots.test_voicebots_webhooks import PUBLIC, history, outcome, voice  # noqa: F401


def _voice_rule(db, minutes: int = 60, event_type: str = "appointment") -> None:
    db.add(ReminderRule(event_type=event_type, channel="voice", offset_minutes=minutes))
    db.add(ReminderRule(event_type=event_type, channel="sms", offset_minutes=24 * 60))
    db.flush()


def _event(db, client, starts_at, **kw):
    return tasks.create_task(
        db, SYSTEM, title=kw.pop("title", "Consultation"), client_id=client.id, kind="event",
        event_type="appointment", starts_at=starts_at, location="Main office", **kw,
    )  # fmt: skip


def _calls(db):
    return [r for r in outbox_rows(db, "reminder:") if r.channel == "voice"]


def test_a_voice_rule_puts_a_reminder_call_in_the_outbox_at_its_time(db):
    _voice_rule(db, minutes=90)
    client = client_row(db, name="Ion Ionescu", phone="+40722000111", language="ro")
    starts = later(days=2)
    event = _event(db, client, starts)
    db.commit()

    (call,) = _calls(db)
    assert call.due_at == starts - timedelta(minutes=90)
    assert call.recipient == "+40722000111" and call.client_id == client.id
    assert call.status == "pending"
    assert call.template == "reminder"  # the voicebots script that plays it
    assert call.meta["twiml_url"] == twiml_url("reminder", call.id)
    assert call.meta["task_id"] == event.id and call.meta["language"] == "ro"
    local = starts.astimezone(templates.client_zone(None))
    assert call.body.startswith("Programarea dumneavoastră este pe")
    assert f"{local:%H:%M}" in call.body and "Main office" in call.body
    # the SMS rule of the same type still applies
    assert [r.channel for r in outbox_rows(db, "reminder:")].count("sms") == 1


def test_moving_or_cancelling_the_event_withdraws_the_call(db):
    _voice_rule(db)
    client = client_row(db)
    event = _event(db, client, later(days=2))
    db.commit()
    first = _calls(db)[0]

    moved_to = later(days=3)
    tasks.update_task(db, SYSTEM, event.id, {"starts_at": moved_to})
    db.commit()
    calls = {c.id: c for c in _calls(db)}
    db.refresh(first)
    assert first.status == "cancelled"
    (pending,) = [c for c in calls.values() if c.status == "pending"]
    assert pending.due_at == moved_to - timedelta(minutes=60)
    assert pending.meta["twiml_url"] == twiml_url("reminder", pending.id)

    tasks.update_task(db, SYSTEM, event.id, {"status": "cancelled"})
    db.commit()
    assert [c.status for c in _calls(db)] == ["cancelled", "cancelled"]


def test_bulk_rescheduling_addresses_every_call_to_its_own_webhook(db):
    _voice_rule(db)
    clients = [
        client_row(db, name=f"C {i}", phone=f"+4072211{i:04d}", email=None) for i in range(5)
    ]
    starts = later(days=4)
    db.add_all(
        Task(kind="event", event_type="appointment", title=f"Visit {i}", client_id=c.id,
             starts_at=starts, due_at=starts, status="open", priority="normal", created_at=utcnow())
        for i, c in enumerate(clients)
    )  # fmt: skip
    db.commit()
    assert reminders.schedule_upcoming(db) == 10  # a call and an SMS each
    db.commit()
    calls = _calls(db)
    assert sorted(c.recipient for c in calls) == sorted(f"+4072211{i:04d}" for i in range(5))
    assert all(c.meta["twiml_url"] == twiml_url("reminder", c.id) for c in calls)
    assert reminders.schedule_upcoming(db) == 0


def _scheduled_call(title: str = "Consultation") -> tuple[int, int, int, str]:
    """(message id, client id, event id, webhook URL) of a voice reminder booked as staff do."""
    with session_scope() as db:
        _voice_rule(db)
        client = client_row(db, name="Ana Popescu", phone="+40722123456", language="en")
        event = _event(db, client, later(days=2), title=title)
        db.flush()
        (call,) = _calls(db)
        return call.id, client.id, event.id, call.meta["twiml_url"]


def test_the_client_confirms_the_reminder_call_with_1(voice):  # noqa: F811
    message_id, client_id, _, url = _scheduled_call()
    assert url == f"{PUBLIC}/api/voice/reminder/{message_id}"
    first = voice.call(url)
    intro, gather = list(first)
    assert intro.text.startswith("Hello Ana. This is a reminder from")
    assert "Your appointment is on" in intro.text and "Main office" in intro.text
    done = voice.call(gather.attrib["action"], {"Digits": "1"})
    assert "confirmed" in done.find("Say").text
    assert outcome(message_id)["outcome"] == "confirmed"
    assert outcome(message_id)["digit"] == "1"
    assert ("call", "reminder", "confirmed", "Automated reminder call: confirmed", "outbound") in (
        history(client_id)
    )


def test_pressing_2_asks_for_a_call_back_about_that_event(voice):  # noqa: F811
    message_id, client_id, event_id, url = _scheduled_call(title="Dental check-up")
    gather = voice.call(url).find("Gather")
    voice.call(gather.attrib["action"], {"Digits": "2"})
    assert outcome(message_id)["outcome"] == "cancel_requested"
    with session_scope() as db:
        callback = db.scalar(
            select(Task).where(Task.client_id == client_id, Task.source == "voice_cancel")
        )
        assert callback is not None and "Dental check-up" in callback.title
        assert db.get(Task, event_id).status == "open"  # staff decide; the event stays booked


def test_admins_can_choose_the_voice_channel_for_a_rule(client, as_user):
    admin = as_user("root", role="admin")
    created = client.post(
        "/api/notifier/reminder-rules",
        json={"event_type": "appointment", "channel": "voice", "offset_minutes": 180},
        headers=admin,
    )
    assert created.status_code == 201 and created.json()["channel"] == "voice"
    rules = client.get("/api/notifier/reminder-rules", headers=admin).json()
    assert ("appointment", "voice", 180) in {
        (r["event_type"], r["channel"], r["offset_minutes"]) for r in rules
    }
