"""The outbox: enqueue/withdraw/opt-outs and the claim step (opt-outs, quiet hours, leases).

Runs on SQLite and PostgreSQL (the ``db``/``database`` fixtures); validation-only tests on SQLite. The channel is the real
console channel or the real Twilio channel against the local simulator.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from crm_core.database import session_scope, utcnow
from crm_core.errors import Invalid
from tests.notifier.notifier_engine_support import (
    engine_settings,
    enqueue_sms,
    message,
    run_until,
    sim_fixture,  # noqa: F401 - the `sim` fixture
    status_counts,
    twilio_settings,
)


@pytest.fixture
def sqlite_db(sqlite_database):
    """For tests whose subject is validation, not the database."""
    from crm_core.database import session_factory

    session = session_factory()()
    yield session
    session.rollback()
    session.close()


def _count(db) -> int:
    from notifier.outbox.models import OutboxMessage

    return db.scalar(select(func.count()).select_from(OutboxMessage))


# --------------------------------------------------------------------------- enqueue


def test_enqueue_normalises_the_number_and_a_repeated_key_inserts_nothing(db):
    from notifier.outbox.service import enqueue

    first = enqueue(
        db,
        channel="sms",
        recipient="0721 234 567",
        body="Your appointment is tomorrow at 10:00",
        idempotency_key="event:7:24h",
        purpose="reminder",
    )
    db.commit()
    again = enqueue(
        db,
        channel="sms",
        recipient="+40 721 234 567",
        body="a different text",
        idempotency_key="event:7:24h",
    )
    db.commit()
    assert again.id == first.id
    assert again.body == "Your appointment is tomorrow at 10:00"
    assert first.recipient == "+40721234567"
    assert first.status == "pending" and first.segments == 1
    assert _count(db) == 1


def test_enqueue_is_part_of_the_callers_transaction(db):
    """A business change that rolls back takes its message with it."""
    from crm_core.clients.models import Client
    from notifier.outbox.service import enqueue

    db.add(Client(display_name="Ana"))
    enqueue(db, channel="sms", recipient="+40721234567", body="hi", idempotency_key="k1")
    db.rollback()
    assert _count(db) == 0


def test_enqueue_duplicate_inside_the_same_transaction_keeps_the_callers_work(db):
    from crm_core.clients.models import Client
    from notifier.outbox.service import enqueue

    client = Client(display_name="Ion")
    db.add(client)
    a = enqueue(db, channel="sms", recipient="+40721234567", body="x", idempotency_key="same")
    b = enqueue(db, channel="sms", recipient="+40721234567", body="x", idempotency_key="same")
    db.commit()
    assert a.id == b.id
    assert client.id is not None
    assert _count(db) == 1


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"channel": "sms", "recipient": "12"}, "recipient"),
        ({"channel": "sms", "recipient": "not a number"}, "recipient"),
        ({"channel": "voice", "recipient": ""}, "recipient"),
        ({"channel": "email", "recipient": "ana@"}, "recipient"),
        ({"channel": "email", "recipient": "ana example.com"}, "recipient"),
        ({"channel": "fax", "recipient": "+40721234567"}, "channel"),
        ({"channel": "sms", "recipient": "+40721234567", "body": "  "}, "body"),
        ({"channel": "sms", "recipient": "+40721234567", "idempotency_key": ""}, "idempotency_key"),
        (
            {"channel": "sms", "recipient": "+40721234567", "due_at": datetime(2030, 1, 1)},
            "due_at",
        ),
    ],
)
def test_enqueue_rejects_bad_input_naming_the_field(sqlite_db, kwargs, field):
    from notifier.outbox.service import enqueue

    args = {"body": "hello", "idempotency_key": "k", **kwargs}
    with pytest.raises(Invalid) as info:
        enqueue(sqlite_db, **args)
    assert info.value.loc == [field]
    assert _count(sqlite_db) == 0


def test_enqueue_email_keeps_a_normalised_address(sqlite_db):
    from notifier.outbox.service import enqueue

    row = enqueue(
        sqlite_db,
        channel="email",
        recipient="  Ana@Example.COM ",
        subject="Hello",
        body="Body",
        idempotency_key="mail:1",
    )
    assert row.recipient == "Ana@example.com"
    assert row.segments == 0


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    digits=st.text("0123456789", min_size=7, max_size=7),
    style=st.sampled_from(
        ["0721{d}", "+40721{d}", "0040721{d}", "(0721) {a}-{b}", "+40 721 {a} {b}"]
    ),
)
def test_any_way_of_typing_a_number_reaches_the_same_recipient(sqlite_database, digits, style):
    """Numbers typed in any usual format land on the same E.164 recipient (one key, one row)."""
    from notifier.outbox.service import enqueue

    typed = style.format(d=digits[1:], a=digits[1:4], b=digits[4:])
    with session_scope() as db:
        row = enqueue(db, channel="sms", recipient=typed, body="x", idempotency_key=f"h:{typed}")
        assert row.recipient == f"+40721{digits[1:]}"


def test_bulk_enqueue_skips_known_and_repeated_keys(db):
    from notifier.outbox.service import enqueue, enqueue_many

    enqueue(db, channel="sms", recipient="+40721234567", body="old", idempotency_key="b:1")
    inserted = enqueue_many(
        db,
        [
            {"channel": "sms", "recipient": "0721234567", "body": "x", "idempotency_key": "b:1"},
            {"channel": "sms", "recipient": "0721234568", "body": "y", "idempotency_key": "b:2"},
            {"channel": "sms", "recipient": "0721234568", "body": "y", "idempotency_key": "b:2"},
            {"channel": "email", "recipient": "a@b.ro", "body": "z", "idempotency_key": "b:3"},
        ],
    )
    db.commit()
    assert inserted == 2
    assert _count(db) == 3
    with pytest.raises(Invalid) as info:
        enqueue_many(
            db, [{"channel": "sms", "recipient": "x", "body": "y", "idempotency_key": "z"}]
        )
    assert info.value.loc == ["recipient"]


# --------------------------------------------------------------------------- withdraw


def test_withdraw_cancels_only_what_has_not_left(db):
    from notifier.outbox.models import OutboxMessage
    from notifier.outbox.service import enqueue, withdraw

    for key in ("event:5:24h", "event:5:2h", "event:51:24h", "event:6:24h"):
        enqueue(db, channel="sms", recipient="+40721234567", body=key, idempotency_key=key)
    sent = enqueue(
        db, channel="sms", recipient="+40721234567", body="s", idempotency_key="event:5:1w"
    )
    sent.status = "queued"
    db.commit()
    assert withdraw(db, idempotency_key_prefix="event:5:") == 2
    db.commit()
    statuses = dict(db.execute(select(OutboxMessage.idempotency_key, OutboxMessage.status)).all())
    assert statuses == {
        "event:5:24h": "cancelled",
        "event:5:2h": "cancelled",
        "event:51:24h": "pending",
        "event:6:24h": "pending",
        "event:5:1w": "queued",
    }
    cancelled = db.scalar(
        select(OutboxMessage).where(OutboxMessage.idempotency_key == "event:5:2h")
    )
    assert [h.status for h in cancelled.history] == ["cancelled"]


def test_withdraw_treats_like_wildcards_literally(sqlite_db):
    from notifier.outbox.service import enqueue, withdraw

    enqueue(sqlite_db, channel="sms", recipient="+40721234567", body="a", idempotency_key="a_b:1")
    enqueue(sqlite_db, channel="sms", recipient="+40721234567", body="a", idempotency_key="axb:1")
    enqueue(sqlite_db, channel="sms", recipient="+40721234567", body="a", idempotency_key="100%:1")
    enqueue(sqlite_db, channel="sms", recipient="+40721234567", body="a", idempotency_key="1000:1")
    assert withdraw(sqlite_db, idempotency_key_prefix="a_b") == 1
    assert withdraw(sqlite_db, idempotency_key_prefix="100%") == 1
    with pytest.raises(Invalid):
        withdraw(sqlite_db, idempotency_key_prefix="")


# --------------------------------------------------------------------------- opt-outs


def test_opt_out_matches_any_format_and_covers_voice(sqlite_db):
    from notifier.outbox.service import is_opted_out, record_opt_out, remove_opt_out

    record_opt_out(sqlite_db, "0721 234 567", "sms", source="inbound STOP")
    record_opt_out(sqlite_db, "+40721234567", "sms", source="again")  # idempotent
    assert is_opted_out(sqlite_db, "+40 721 234 567", "sms")
    assert is_opted_out(sqlite_db, "0721234567", "voice")
    assert not is_opted_out(sqlite_db, "0721234568", "sms")
    assert not is_opted_out(sqlite_db, "ana@example.com", "email")
    assert remove_opt_out(sqlite_db, "+40721234567", "sms")
    assert not is_opted_out(sqlite_db, "+40721234567", "sms")


def test_an_opted_out_number_is_failed_at_claim_and_never_sent(database, sim):
    from notifier.outbox.dispatch import Dispatcher
    from notifier.outbox.service import record_opt_out

    ids = enqueue_sms(3)
    with session_scope() as db:
        record_opt_out(db, "+40720000001", "sms", source="inbound STOP")
    d = Dispatcher(twilio_settings(sim))
    d.run_once()
    d.close()
    blocked = message(ids[1])
    assert blocked.status == "failed"
    assert blocked.error_message == "opted out"
    assert [h.status for h in blocked.history] == ["failed"]
    assert sim.count("+40720000001", "Reminder 1") == 0
    assert sim.count("+40720000000", "Reminder 0") == 1
    assert message(ids[2]).status == "queued"


# --------------------------------------------------------------------------- quiet hours


def test_a_message_due_at_night_waits_for_the_morning(database, sim):
    """Quiet hours in the client's timezone: deferred to the end of the window, then sent."""
    from crm_core.clients.models import Client
    from notifier.outbox.dispatch import Dispatcher

    zone = ZoneInfo("Asia/Tokyo")
    now = utcnow()
    local_hour = now.astimezone(zone).hour
    # a window that is on right now in Tokyo (and most likely not in Bucharest)
    start, end = local_hour, (local_hour + 2) % 24
    with session_scope() as db:
        client = Client(display_name="Kenji", timezone="Asia/Tokyo")
        db.add(client)
        db.flush()
        client_id = client.id
    [night] = enqueue_sms(1, prefix="tokyo", client_id=client_id)
    s = twilio_settings(sim, quiet_hours_start=start, quiet_hours_end=end)
    d = Dispatcher(s)
    d.run_once()
    row = message(night)
    assert row.status == "pending"
    expected = (
        now.astimezone(zone).replace(minute=0, second=0, microsecond=0) + timedelta(hours=2)
    ).astimezone(UTC)
    assert row.next_attempt_at == expected
    assert row.history[-1].source == "quiet-hours"
    assert "Asia/Tokyo" in row.history[-1].detail
    assert sim.stats()["accepted"] == 0
    # the morning comes: the same claim step now sends it
    claim = d.claim(now=expected + timedelta(seconds=1))
    assert claim.ids == [night]
    d.deliver(claim)
    d.close()
    assert message(night).status == "queued"
    assert sim.stats()["accepted"] == 1


def test_quiet_hours_default_to_the_numbers_region():
    from notifier.outbox.quiet_hours import quiet_until, recipient_zone

    s = engine_settings(timezone="Europe/Bucharest")
    assert recipient_zone("+12025550123", "", s).key == "America/New_York"
    assert recipient_zone("+40721234567", "", s).key == "Europe/Bucharest"
    assert recipient_zone("+40721234567", "Asia/Tokyo", s).key == "Asia/Tokyo"
    ny = ZoneInfo("America/New_York")
    late = datetime(2026, 11, 26, 23, 30, tzinfo=ny).astimezone(UTC)
    assert quiet_until(late, ny, 21, 9) == datetime(2026, 11, 27, 9, 0, tzinfo=ny).astimezone(UTC)
    early = datetime(2026, 11, 27, 3, 0, tzinfo=ny).astimezone(UTC)
    assert quiet_until(early, ny, 21, 9) == datetime(2026, 11, 27, 9, tzinfo=ny).astimezone(UTC)
    day = datetime(2026, 11, 27, 12, 0, tzinfo=ny).astimezone(UTC)
    assert quiet_until(day, ny, 21, 9) is None
    assert quiet_until(late, ny, 9, 9) is None


# --------------------------------------------------------------------------- claim and leases


def test_concurrent_claims_never_share_a_row(database):
    from notifier.outbox.dispatch import Dispatcher

    enqueue_sms(300, prefix="c")
    s = engine_settings()
    claimed: list[list[int]] = []
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        d = Dispatcher(s, worker=f"w{n}")
        try:
            while True:
                claim = d.claim(25)
                if not claim.ids:
                    return
                claimed.append(claim.ids)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    flat = [i for ids in claimed for i in ids]
    assert len(flat) == 300
    assert len(set(flat)) == 300
    assert status_counts() == {"claimed": 300}


def test_expired_leases_are_recovered_without_sending_twice(database, sim):
    """A dispatcher that died after claiming (nothing left) or while sending (maybe left)."""
    from notifier.outbox.dispatch import Dispatcher

    ids = enqueue_sms(4, prefix="lease")
    s = twilio_settings(sim, dispatch_lease_seconds=30)
    dead = Dispatcher(s, worker="dead")
    claim = dead.claim(4)
    assert sorted(claim.ids) == sorted(ids)
    # the dead dispatcher had moved two rows to "sending" and one of them reached Twilio
    from sqlalchemy import update

    from notifier.channels.base import OutgoingMessage
    from notifier.channels.twilio import TwilioSMS
    from notifier.outbox.models import OutboxMessage

    with session_scope() as db:
        db.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids[:2]))
            .values(status="sending", attempts=1, last_attempt_at=utcnow())
        )
        # ... and then it died: its leases run out
        db.execute(update(OutboxMessage).values(claimed_until=utcnow() - timedelta(seconds=1)))
    row0 = message(ids[0])
    TwilioSMS(s).send(OutgoingMessage(row0.id, "sms", row0.recipient, row0.body))
    assert sim.stats()["accepted"] == 1
    alive = Dispatcher(s, worker="alive")
    assert alive.housekeeping() == 4
    assert status_counts() == {"unknown": 2, "retry": 2}
    run_until(alive, lambda: status_counts().get("queued") == 4)
    alive.close()
    for i in range(4):
        assert sim.count(f"+4072{i:07d}", f"Reminder {i}") == 1
    assert sim.stats()["duplicates"] == 0
    found = message(ids[0])
    assert [h.status for h in found.history][-1] == "queued"
    assert found.history[-1].source == "reconcile"


def test_a_stale_claim_token_sends_nothing(database, sim):
    """A deliver task delivered twice (Celery redelivery) finds its rows gone and does nothing."""
    from notifier.outbox.dispatch import Dispatcher

    enqueue_sms(5, prefix="stale")
    d = Dispatcher(twilio_settings(sim))
    claim = d.claim(5)
    assert d.deliver(claim).sent == 5
    assert d.deliver(claim).sent == 0
    d.close()
    assert sim.stats()["accepted"] == 5


def test_console_channel_marks_messages_delivered(database):
    from notifier.outbox.dispatch import Dispatcher

    ids = enqueue_sms(2, prefix="console")
    d = Dispatcher(engine_settings(sms_channel="console"))
    stats = d.run_once()
    d.close()
    assert stats.sent == 2
    row = message(ids[0])
    assert row.status == "delivered"
    assert row.provider_id == f"console-{ids[0]}"
    assert row.attempts == 1 and row.sent_at is not None


def test_future_messages_are_not_claimed(database):
    from notifier.outbox.dispatch import Dispatcher

    [later] = enqueue_sms(1, prefix="future", due_at=utcnow() + timedelta(hours=1))
    d = Dispatcher(engine_settings(sms_channel="console"))
    assert d.run_once().claimed == 0
    assert message(later).status == "pending"
    claim = d.claim(now=utcnow() + timedelta(hours=1, seconds=1))
    assert claim.ids == [later]


@settings(max_examples=300, deadline=None)
@given(
    instant=st.datetimes(
        min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
    ),
    zone=st.sampled_from(
        ["Europe/Bucharest", "Europe/Moscow", "America/New_York", "Asia/Kolkata", "Pacific/Chatham"]
    ),
    start=st.integers(0, 23),
    end=st.integers(0, 23),
)
def test_quiet_hours_always_defer_to_the_next_end_of_the_window(instant, zone, start, end):
    """Property: inside the window -> the next local ``end`` o'clock, later and within a day;
    outside -> not deferred. Holds across DST changes."""
    from notifier.outbox.quiet_hours import quiet_until

    tz = ZoneInfo(zone)
    local = instant.astimezone(tz)
    until = quiet_until(instant, tz, start, end)
    inside = start != end and (
        (start <= local.hour < end) if start < end else (local.hour >= start or local.hour < end)
    )
    if not inside:
        assert until is None
        return
    assert until is not None
    assert instant < until <= instant + timedelta(hours=25)
    assert until.astimezone(tz).hour == end or until.astimezone(tz).hour == (end + 1) % 24
    assert until.astimezone(tz).minute == 0


def test_an_unsubscribed_address_gets_no_email_whatever_its_case(database):
    from notifier.outbox.dispatch import Dispatcher
    from notifier.outbox.service import enqueue, record_opt_out

    with session_scope() as db:
        record_opt_out(db, "ana@example.com", "email", source="newsletter unsubscribe")
        mid = enqueue(
            db,
            channel="email",
            recipient="Ana@Example.com",
            subject="News",
            body="Hello",
            idempotency_key="news:1:ana",
        ).id
    d = Dispatcher(engine_settings(email_channel="console"))
    d.run_once()
    d.close()
    row = message(mid)
    assert (row.status, row.error_message) == ("failed", "opted out")
