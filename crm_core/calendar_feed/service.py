"""A user's tasks and events as an iCalendar feed at a secret address.

Outlook and Google Calendar subscribe to ``/ical/<secret>.ics`` and read it every few hours:
the seed's Outlook sync without a sync server. Only the SHA-256 of the secret is stored, so
the address is shown once when made; making a new one or revoking it ends the old one.
Times are written in UTC, with the user's zone as ``X-WR-TIMEZONE``; a task with a reminder
gets a ``VALARM``.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core import wording
from crm_core.audit.service import record
from crm_core.auth.models import User
from crm_core.auth.principal import Principal
from crm_core.auth.service import principal_of
from crm_core.calendar_feed.models import CalendarFeed
from crm_core.clients.models import Client
from crm_core.config import get_settings
from crm_core.database import utcnow
from crm_core.errors import Forbidden
from crm_core.tasks.models import Task

#: how far back the feed goes (later ones are all in it)
PAST_DAYS = 90
TASK_MINUTES = 30


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def feed_of(db: Session, actor: Principal) -> CalendarFeed | None:
    return db.scalar(select(CalendarFeed).where(CalendarFeed.user_id == actor.id))


def make_feed(db: Session, actor: Principal) -> str:
    """A new secret for the actor's feed (the old address stops working); returns it."""
    if actor.id is None:
        raise Forbidden("only a user has a calendar")
    secret = secrets.token_urlsafe(32)
    feed = feed_of(db, actor)
    action = "update" if feed else "create"
    if feed is None:
        feed = CalendarFeed(user_id=actor.id, token_hash="")
        db.add(feed)
    feed.token_hash, feed.created_at, feed.last_read_at = _hash(secret), utcnow(), None
    db.flush()
    record(db, actor, action, "calendar_feed", feed.id, None, {"user_id": actor.id, "new": True})
    return secret


def revoke_feed(db: Session, actor: Principal) -> bool:
    feed = feed_of(db, actor)
    if feed is None:
        return False
    record(db, actor, "delete", "calendar_feed", feed.id, {"user_id": actor.id}, None)
    db.delete(feed)
    db.flush()
    return True


def user_of_secret(db: Session, secret: str) -> User | None:
    """The active user whose feed has this secret; None for any other text."""
    if not secret or len(secret) > 100:
        return None
    feed = db.scalar(select(CalendarFeed).where(CalendarFeed.token_hash == _hash(secret)))
    if feed is None:
        return None
    user = db.get(User, feed.user_id)
    if user is None or not user.is_active:
        return None
    feed.last_read_at = utcnow()
    return user


def calendar_ics(db: Session, user: User) -> bytes:
    """The user's open and recent tasks and events as one VCALENDAR."""
    from icalendar import Alarm, Calendar, Event

    zone = getattr(user, "timezone", "") or get_settings().timezone
    cal = Calendar()
    cal.add("prodid", "-//Callcard//Tasks and events//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"Callcard: {user.full_name or user.username}")
    cal.add("x-wr-timezone", zone)
    since = utcnow() - timedelta(days=PAST_DAYS)
    rows = db.execute(
        select(Task, Client.display_name)
        .outerjoin(Client, Client.id == Task.client_id)
        .where(Task.assignee_id == user.id, Task.status != "cancelled")
        .where((Task.due_at >= since) | (Task.starts_at >= since))
        .order_by(Task.id)
    ).all()
    stamp = utcnow()
    with wording.reading_as(principal_of(user)):  # the system's texts in the user's words
        shown = wording.shown_tasks(db, [task for task, _ in rows])
    for (task, client_name), words in zip(rows, shown, strict=True):
        start = task.starts_at if task.kind == "event" and task.starts_at else task.due_at
        if start is None:
            continue
        end = task.ends_at if task.kind == "event" and task.ends_at else None
        event = Event()
        event.add("uid", f"task-{task.id}@callcard")
        event.add("dtstamp", stamp)
        event.add("dtstart", start)
        event.add("dtend", end if end and end > start else start + timedelta(minutes=TASK_MINUTES))
        event.add("summary", words.title)
        description = "\n".join(x for x in (client_name or "", words.description) if x)
        if description:
            event.add("description", description)
        if task.location:
            event.add("location", task.location)
        event.add("status", "CANCELLED" if task.status == "cancelled" else "CONFIRMED")
        event.add("categories", [task.kind])
        if task.remind_at is not None:
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", words.title)
            alarm.add("trigger", task.remind_at)
            event.add_component(alarm)
        cal.add_component(event)
    return cal.to_ical()
