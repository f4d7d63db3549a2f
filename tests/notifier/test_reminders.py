"""Event reminders to clients and task reminders to assignees, written with the event change."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

import notifier.hooks  # noqa: F401  (connects the task signals, as the app does)
from crm_core.auth.principal import SYSTEM
from crm_core.bus import get_bus
from crm_core.database import session_scope, utcnow
from crm_core.errors import Invalid
from crm_core.tasks import service as tasks
from crm_core.tasks.models import Task
from notifier.reminders import service as reminders
from notifier.reminders.models import ReminderRule
from tests.factories import client_row, later, outbox_rows


def _event(db, client, starts_at, event_type="appointment", **kw):
    return tasks.create_task(
        db, SYSTEM, title=kw.pop("title", "Consultation"), client_id=client.id, kind="event",
        event_type=event_type, starts_at=starts_at, location=kw.pop("location", "Main office"), **kw,
    )  # fmt: skip


def test_booking_an_appointment_schedules_sms_24h_and_2h_before(db):
    client = client_row(db, name="Ana Popescu")
    starts = later(days=3)
    event = _event(db, client, starts)
    db.commit()
    rows = outbox_rows(db, "reminder:")
    assert sorted((r.channel, r.due_at) for r in rows) == [
        ("sms", starts - timedelta(hours=24)),
        ("sms", starts - timedelta(hours=2)),
    ]
    for row in rows:
        assert row.recipient == "+40712345678"
        assert row.client_id == client.id
        assert row.idempotency_key.startswith(f"reminder:{event.id}:")
        assert "Ana" in row.body and "Main office" in row.body
        assert row.status == "pending"


def test_reminder_is_written_in_the_same_transaction_as_the_event(db):
    client = client_row(db)
    db.commit()
    _event(db, client, later(days=2))
    db.rollback()  # the booking is abandoned: no reminder may survive it
    assert outbox_rows(db, "reminder:") == []
    assert db.scalar(select(Task.id)) is None


def test_templates_follow_the_client_language(db):
    ro = client_row(db, name="Ion Ionescu", phone="+40722000001", language="ro")
    ru = client_row(db, name="Ivan Petrov", phone="+40722000002", language="ru")
    _event(db, ro, later(days=2))
    _event(db, ru, later(days=2))
    db.commit()
    bodies = {r.recipient: r.body for r in outbox_rows(db, "reminder:")}
    assert "programarea" in bodies["+40722000001"] and "Ion" in bodies["+40722000001"]
    assert "Напоминаем" in bodies["+40722000002"] and "Ivan" in bodies["+40722000002"]


def test_moving_an_event_withdraws_pending_reminders_and_schedules_new_ones(db):
    client = client_row(db)
    first = later(days=3)
    event = _event(db, client, first)
    db.commit()
    moved = first + timedelta(days=1, hours=3)
    tasks.update_task(db, SYSTEM, event.id, {"starts_at": moved})
    db.commit()
    pending = outbox_rows(db, "reminder:", status="pending")
    cancelled = outbox_rows(db, "reminder:", status="cancelled")
    assert len(cancelled) == 2
    assert sorted(r.due_at for r in pending) == [
        moved - timedelta(hours=24),
        moved - timedelta(hours=2),
    ]
    # ...and back again: fresh reminders, not the withdrawn rows
    tasks.update_task(db, SYSTEM, event.id, {"starts_at": first})
    db.commit()
    pending = outbox_rows(db, "reminder:", status="pending")
    assert sorted(r.due_at for r in pending) == [
        first - timedelta(hours=24),
        first - timedelta(hours=2),
    ]


def test_an_unrelated_save_keeps_the_same_reminders(db):
    client = client_row(db)
    event = _event(db, client, later(days=3))
    db.commit()
    before = [r.id for r in outbox_rows(db, "reminder:", status="pending")]
    tasks.update_task(db, SYSTEM, event.id, {"priority": "high"})
    db.commit()
    assert [r.id for r in outbox_rows(db, "reminder:", status="pending")] == before


@pytest.mark.parametrize("how", ["cancel", "delete", "complete"])
def test_cancelling_or_deleting_an_event_withdraws_its_reminders(db, how):
    client = client_row(db)
    event = _event(db, client, later(days=3))
    db.commit()
    if how == "cancel":
        tasks.cancel_task(db, SYSTEM, event.id)
    elif how == "complete":
        tasks.complete_task(db, SYSTEM, event.id)
    else:
        tasks.delete_task(db, SYSTEM, event.id)
    db.commit()
    assert outbox_rows(db, "reminder:", status="pending") == []
    assert len(outbox_rows(db, "reminder:", status="cancelled")) == 2


def test_no_reminder_for_a_past_event_nor_for_a_reminder_time_already_past(db):
    client = client_row(db)
    _event(db, client, utcnow() - timedelta(hours=1))
    soon = later(hours=5)  # the 24 h reminder is already late; only the 2 h one is scheduled
    _event(db, client, soon)
    db.commit()
    rows = outbox_rows(db, "reminder:")
    assert [r.due_at for r in rows] == [soon - timedelta(hours=2)]


def test_rules_table_decides_channels_and_offsets(db):
    client = client_row(db)
    db.add(ReminderRule(event_type="meeting", channel="email", offset_minutes=30))
    db.add(ReminderRule(event_type="meeting", channel="sms", offset_minutes=90, active=False))
    db.flush()
    starts = later(days=1)
    _event(db, client, starts, event_type="meeting", title="Contract review")
    _event(db, client, later(days=1), event_type="appointment")  # no active rule any more
    db.commit()
    rows = outbox_rows(db, "reminder:")
    assert [(r.channel, r.recipient, r.due_at) for r in rows] == [
        ("email", "ana@example.com", starts - timedelta(minutes=30))
    ]
    assert "Contract review" in rows[0].subject


def test_rule_validation_names_the_field(db):
    with pytest.raises(Invalid) as exc:
        reminders.add_rule(db, SYSTEM, event_type="meeting", channel="fax", offset_minutes=10)
    assert exc.value.loc == ["channel"]
    with pytest.raises(Invalid) as exc:
        reminders.add_rule(db, SYSTEM, event_type="meeting", channel="sms", offset_minutes=0)
    assert exc.value.loc == ["offset_minutes"]


def test_deleting_the_client_withdraws_their_pending_reminders(db):
    from crm_core.clients.service import delete_client

    client = client_row(db, name="Ana Popescu")
    _event(db, client, later(days=3))
    db.commit()
    assert {r.status for r in outbox_rows(db, "reminder:")} == {"pending"}
    delete_client(db, SYSTEM, client.id)
    db.commit()
    rows = outbox_rows(db, "reminder:")
    assert len(rows) == 2 and {r.status for r in rows} == {"cancelled"}


def test_client_without_phone_gets_no_sms_and_the_event_still_saves(db):
    client = client_row(db, phone=None)
    event = _event(db, client, later(days=2))
    db.commit()
    assert event.id is not None
    assert outbox_rows(db, "reminder:") == []


def test_assignee_gets_an_email_and_an_in_app_reminder_only_them(db, users):
    ana = users.add("ana", role="operator", team="Sales")
    users.add("bob", role="operator", team="Sales")
    from crm_core.auth.models import User

    db.get(User, ana.id).email = "ana@example.org"
    client = client_row(db)
    remind = later(minutes=30)
    task = tasks.create_task(
        db, SYSTEM, title="Call back about the offer", client_id=client.id,
        assignee_id=ana.id, due_at=later(hours=1), remind_at=remind,
    )  # fmt: skip
    db.commit()
    mails = outbox_rows(db, "task-remind:")
    assert [(m.channel, m.recipient, m.due_at) for m in mails] == [
        ("email", "ana@example.org", remind)
    ]
    assert "Call back about the offer" in mails[0].subject

    async def run_job() -> list[dict]:
        bus = get_bus()
        async with bus.subscribe() as sub:
            with session_scope() as s:
                assert (
                    reminders.publish_due_task_reminders(s, now=remind + timedelta(seconds=1)) == 1
                )
            with session_scope() as s:  # a second run (or another process) reminds nobody again
                assert (
                    reminders.publish_due_task_reminders(s, now=remind + timedelta(seconds=5)) == 0
                )
            await asyncio.sleep(0.05)
            got = []
            while not sub.queue.empty():
                got.append(sub.queue.get_nowait())
            return got

    messages = [m for m in asyncio.run(run_job()) if m["type"] == "task.due"]
    assert len(messages) == 1
    assert messages[0]["audience"] == [f"user:{ana.id}"]
    assert messages[0]["task_id"] == task.id


def test_bulk_scheduling_matches_the_one_by_one_path(db):
    clients = [
        client_row(db, name=f"C {i}", phone=f"+4072200{i:04d}", email=None) for i in range(20)
    ]
    starts = later(days=4)
    rows = [
        Task(kind="event", event_type="appointment", title=f"Visit {i}", client_id=c.id,
             starts_at=starts, due_at=starts, status="open", priority="normal", created_at=utcnow())
        for i, c in enumerate(clients)
    ]  # fmt: skip
    db.add_all(rows)
    db.flush()
    assert reminders.schedule_events(db, rows) == 40
    assert reminders.schedule_events(db, rows) == 0  # nothing changed: nothing written twice
    db.commit()
    assert len(outbox_rows(db, "reminder:")) == 40


def test_a_new_phone_number_moves_the_pending_reminders_to_it(db):
    from crm_core.clients.schemas import ClientUpdate
    from crm_core.clients.service import update_client

    client = client_row(db)
    _event(db, client, later(days=3))
    db.commit()
    update_client(db, SYSTEM, client.id, ClientUpdate(comment="prefers mornings"))
    db.commit()
    assert len(outbox_rows(db, "reminder:", status="pending")) == 2  # nothing relevant changed
    assert outbox_rows(db, "reminder:", status="cancelled") == []
    update_client(
        db, SYSTEM, client.id, ClientUpdate(phones=[{"kind": "mobile", "number": "0722 111 222"}])
    )
    db.commit()
    pending = outbox_rows(db, "reminder:", status="pending")
    assert {r.recipient for r in pending} == {"+40722111222"} and len(pending) == 2
    assert len(outbox_rows(db, "reminder:", status="cancelled")) == 2


def test_cli_reschedule_covers_events_written_without_the_signal(db):
    """E.g. rows imported in bulk: `callcard reminders reschedule` schedules them all."""
    from typer.testing import CliRunner

    from callcard.cli import app

    clients = [
        client_row(db, name=f"I {i}", phone=f"+4072300{i:04d}", email=None) for i in range(3)
    ]
    starts = later(days=5)
    db.add_all(
        Task(kind="event", event_type="appointment", title="Imported", client_id=c.id,
             starts_at=starts, due_at=starts, status="open", priority="normal", created_at=utcnow())
        for c in clients
    )  # fmt: skip
    db.commit()
    assert outbox_rows(db, "reminder:") == []
    result = CliRunner().invoke(app, ["reminders", "reschedule"])
    assert result.exit_code == 0, result.output
    assert "3 upcoming events, 6 new reminder messages" in result.output
    assert len(outbox_rows(db, "reminder:")) == 6
    again = CliRunner().invoke(app, ["reminders", "reschedule"])
    assert "0 new reminder messages" in again.output


def test_restoring_a_deleted_client_schedules_their_reminders_again(db):
    from crm_core.auth.principal import Principal
    from crm_core.clients.service import delete_client, restore_client

    admin = Principal(id=None, username="admin", role="admin")
    client = client_row(db, name="Ana Popescu")
    _event(db, client, later(days=3))
    db.commit()
    delete_client(db, admin, client.id)
    db.commit()
    restore_client(db, admin, client.id)
    db.commit()
    pending = [r for r in outbox_rows(db, "reminder:") if r.status == "pending"]
    assert len(pending) == 2


def test_a_large_import_reminds_every_client_at_their_own_number(db):
    """More events than one query batch: each client's two reminders name them and go to their
    mobile (a landline listed first is passed over); a deleted client gets none; running the
    bulk scheduler again writes nothing."""
    from crm_core.clients.models import Client, Phone

    count, now = 1_000, utcnow()
    db.execute(
        Client.__table__.insert(),
        [
            {"id": 50_000 + i, "kind": "person", "first_name": f"Imported{i}", "last_name": "Client",
             "display_name": f"Imported{i} Client", "language": ("en", "ro", "ru")[i % 3],
             "created_at": now, "updated_at": now,
             "deleted_at": now if i == 7 else None}
            for i in range(count)
        ],
    )  # fmt: skip
    phones = []
    for i in range(count):
        if i % 10 == 0:  # a landline first, the mobile second
            phones.append({"client_id": 50_000 + i, "kind": "landline", "position": 0,
                           "number": f"+4021{i:07d}", "e164": f"+4021{i:07d}"})  # fmt: skip
        phones.append({"client_id": 50_000 + i, "kind": "mobile", "position": 1,
                       "number": f"+4074{i:07d}", "e164": f"+4074{i:07d}"})  # fmt: skip
    db.execute(Phone.__table__.insert(), phones)
    starts = later(days=6)
    db.execute(
        Task.__table__.insert(),
        [
            {"kind": "event", "event_type": "appointment", "title": f"Visit {i}",
             "client_id": 50_000 + i, "starts_at": starts + timedelta(minutes=i), "due_at": starts,
             "location": "", "status": "open", "priority": "normal", "source": "",
             "description": "", "created_at": now}
            for i in range(count)
        ],
    )  # fmt: skip
    db.commit()

    assert reminders.schedule_upcoming(db, batch=700) == 2 * (count - 1)
    db.commit()
    rows = outbox_rows(db, "reminder:")
    by_client: dict[int, list] = {}
    for row in rows:
        by_client.setdefault(row.client_id, []).append(row)
    assert 50_007 not in by_client  # deleted
    assert len(by_client) == count - 1
    for client_id, sent in by_client.items():
        i = client_id - 50_000
        assert [r.recipient for r in sent] == [f"+4074{i:07d}"] * 2
        assert all(f"Imported{i}" in r.body for r in sent)
        assert sorted(r.due_at for r in sent) == [
            starts + timedelta(minutes=i) - timedelta(hours=24),
            starts + timedelta(minutes=i) - timedelta(hours=2),
        ]
    assert reminders.schedule_upcoming(db) == 0


def test_an_event_booked_again_after_deleting_the_first_gets_its_reminders(db):
    """Booked by mistake, deleted, booked again at the same time: SQLite gives the new event the
    deleted one's id; its reminders must not be taken for the deleted event's and dropped."""
    client = client_row(db)
    starts = later(days=3)
    first = _event(db, client, starts)
    db.commit()
    first_id = first.id
    tasks.delete_task(db, SYSTEM, first_id)
    db.commit()
    second = _event(db, client, starts)
    db.commit()
    pending = outbox_rows(db, f"reminder:{second.id}:", status="pending")
    assert sorted(r.due_at for r in pending) == [
        starts - timedelta(hours=24),
        starts - timedelta(hours=2),
    ]
    assert len(outbox_rows(db, "reminder:", status="cancelled")) == 2  # the first event's, kept


def test_changing_the_rules_reaches_events_already_booked(db):
    """An admin adds an e-mail 1 h before appointments and switches off the SMS 2 h before: the
    appointments already in the calendar follow, without waiting for each one to be edited."""
    client = client_row(db)
    starts = later(days=3)
    event = _event(db, client, starts)
    db.commit()
    assert {(r.channel, r.due_at) for r in outbox_rows(db, "reminder:", "pending")} == {
        ("sms", starts - timedelta(hours=24)), ("sms", starts - timedelta(hours=2)),
    }  # fmt: skip

    reminders.add_rule(db, SYSTEM, event_type="appointment", channel="email", offset_minutes=60)
    two_hours = db.scalar(
        select(ReminderRule.id).where(
            ReminderRule.event_type == "appointment", ReminderRule.offset_minutes == 120
        )
    )
    reminders.update_rule(db, SYSTEM, two_hours, {"active": False})
    db.commit()
    pending = outbox_rows(db, f"reminder:{event.id}:", "pending")
    assert sorted((r.channel, r.due_at) for r in pending) == [
        ("email", starts - timedelta(hours=1)), ("sms", starts - timedelta(hours=24)),
    ]  # fmt: skip
    assert len([r for r in pending if r.channel == "sms"]) == 1  # never twice


def _import_events(db, count: int, first_id: int, location=lambda i: "Main office") -> list[int]:
    """``count`` clients with a mobile and one appointment each, written in bulk (no signal)."""
    from crm_core.clients.models import Client, Phone

    now = utcnow()
    db.execute(
        Client.__table__.insert(),
        [
            {"id": first_id + i, "kind": "person", "first_name": f"Bulk{i}", "last_name": "Client",
             "display_name": f"Bulk{i} Client", "language": "en", "created_at": now,
             "updated_at": now}
            for i in range(count)
        ],
    )  # fmt: skip
    db.execute(
        Phone.__table__.insert(),
        [
            {"client_id": first_id + i, "kind": "mobile", "position": 0,
             "number": f"+4075{i:07d}", "e164": f"+4075{i:07d}"}
            for i in range(count)
        ],
    )  # fmt: skip
    starts = later(days=5)
    db.execute(
        Task.__table__.insert(),
        [
            {"id": first_id + i, "kind": "event", "event_type": "appointment",
             "title": f"Visit {i}", "client_id": first_id + i,
             "starts_at": starts + timedelta(minutes=i), "due_at": starts, "location": location(i),
             "status": "open", "priority": "normal", "source": "", "description": "",
             "created_at": now}
            for i in range(count)
        ],
    )  # fmt: skip
    return [first_id + i for i in range(count)]


def test_rescheduling_many_batches_replaces_every_events_reminders_once(db):
    """Each batch is written while the next one is planned: an event whose reminders change gets
    its old ones withdrawn and the new revision written, whatever batch it falls in."""
    from notifier.reminders.models import ReminderSchedule

    count = 250
    ids = _import_events(db, count, first_id=60_000)
    db.commit()
    assert reminders.schedule_upcoming(db, batch=60) == 2 * count
    db.commit()
    db.execute(Task.__table__.update().where(Task.id.in_(ids)).values(title="Visit, moved room"))
    db.commit()

    assert reminders.schedule_upcoming(db, batch=60) == 2 * count
    db.commit()
    pending = outbox_rows(db, "reminder:", status="pending")
    cancelled = outbox_rows(db, "reminder:", status="cancelled")
    assert sorted(r.idempotency_key.split(":")[1] for r in pending) == sorted(
        str(i) for i in ids for _ in range(2)
    )
    assert {r.idempotency_key.split(":")[2] for r in pending} == {"2"}
    assert len(cancelled) == 2 * count
    assert {r.idempotency_key.split(":")[2] for r in cancelled} == {"1"}
    assert set(db.scalars(select(ReminderSchedule.revision))) == {2}
    assert reminders.schedule_upcoming(db, batch=60) == 0


def test_a_bulk_run_failing_in_a_later_batch_leaves_nothing_written(db):
    """One transaction: the earlier batches, already written when a later one fails, go too."""
    from notifier.reminders.models import ReminderSchedule
    from notifier.templates.models import MessageTemplate

    db.add(
        MessageTemplate(
            key="reminder.appointment.sms", language="en",
            body="{% if location %}See you at {{ location }}{% endif %}",
        )
    )  # fmt: skip
    count = 200
    _import_events(db, count, first_id=70_000, location=lambda i: "" if i == count - 1 else "Desk")
    db.commit()

    with pytest.raises(Invalid) as failure:  # the last event's text comes out empty
        reminders.schedule_upcoming(db, batch=50)
    assert failure.value.loc == ["body"]
    db.rollback()
    assert outbox_rows(db, "reminder:") == []
    assert db.scalar(select(ReminderSchedule.task_id).limit(1)) is None

    db.execute(Task.__table__.update().where(Task.id == 70_000 + count - 1).values(location="Hall"))
    db.commit()
    assert reminders.schedule_upcoming(db, batch=50) == 2 * count
