"""Reminders: the client of an event hears from us before it starts (SMS, e-mail or an automated
call played by the voicebots' ``reminder`` script, where a key press confirms or asks to cancel);
the assignee of a task or event gets an in-app reminder (bus ``task.due``) and an e-mail when it
is due.

Everything is written to the outbox in the transaction that creates or changes the task (the
``task_saved`` / ``task_deleted`` signals, see ``notifier.hooks``). A change that affects the
reminders withdraws the pending ones and schedules new ones under a new revision; cancelling,
completing or deleting withdraws them. No reminder is scheduled for a time already past, nor for a
past or cancelled event. Quiet hours are the delivery engine's business (at claim time).

Idempotency keys:
- ``reminder:<task_id>:<revision>:<offset>m:<channel>:<starts_at>`` (client, per rule)
- ``task-remind:<task_id>:<revision>:<remind_at>`` (assignee e-mail)
"""

from __future__ import annotations

import gc
import hashlib
import json
import re
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from crm_core.auth.models import User
from crm_core.auth.principal import Principal
from crm_core.clients.models import Client
from crm_core.database import utcnow
from crm_core.errors import Conflict, Invalid, NotFound
from crm_core.tasks.models import Task
from notifier import templates
from notifier.engagement_models import REMINDER_CHANNELS, ReminderRule
from notifier.outbox import service as outbox
from notifier.publish import publish_after_commit
from notifier.reminders.models import ReminderSchedule

EVENT_TYPES = ("appointment", "meeting", "call")
OPEN = ("open", "in_progress")
#: used while the rules table is empty (a type with only inactive rules gets no reminders)
DEFAULT_RULES: dict[str, list[tuple[str, int]]] = {
    "appointment": [("sms", 24 * 60), ("sms", 120)],
    "meeting": [("email", 24 * 60), ("sms", 60)],
    "call": [("sms", 60)],
}
MAX_OFFSET_MINUTES = 60 * 24 * 60  # 60 days


# --- rules (admin) ----------------------------------------------------------------------


def rules_by_type(db: Session) -> dict[str, list[tuple[str, int]]]:
    rows = list(db.scalars(select(ReminderRule).order_by(ReminderRule.offset_minutes.desc())))
    if not rows:
        return {k: list(v) for k, v in DEFAULT_RULES.items()}
    rules: dict[str, list[tuple[str, int]]] = {}
    for row in rows:
        if row.active:
            rules.setdefault(row.event_type, []).append((row.channel, row.offset_minutes))
    return rules


def list_rules(db: Session) -> list[dict[str, Any]]:
    rows = list(db.scalars(select(ReminderRule).order_by(ReminderRule.event_type, ReminderRule.id)))
    if rows:
        return [_rule_out(r) for r in rows]
    return [
        {"id": None, "event_type": t, "channel": c, "offset_minutes": o, "active": True,
         "default": True}
        for t, items in DEFAULT_RULES.items()
        for c, o in items
    ]  # fmt: skip


def _rule_out(row: ReminderRule) -> dict[str, Any]:
    return {
        "id": row.id,
        "event_type": row.event_type,
        "channel": row.channel,
        "offset_minutes": row.offset_minutes,
        "active": row.active,
        "default": False,
    }


def _check_rule(event_type: str, channel: str, offset_minutes: int) -> None:
    if not event_type or len(event_type) > 40 or not event_type.replace("_", "").isalnum():
        raise Invalid("event_type", "must be a short word such as appointment, meeting, call")
    if channel not in REMINDER_CHANNELS:
        raise Invalid("channel", f"must be one of {', '.join(REMINDER_CHANNELS)}")
    if not 1 <= offset_minutes <= MAX_OFFSET_MINUTES:
        raise Invalid("offset_minutes", f"must be between 1 and {MAX_OFFSET_MINUTES}")


def _materialise_defaults(db: Session) -> None:
    """The first admin edit turns the built-in defaults into rows, so editing one keeps the rest."""
    if db.scalar(select(ReminderRule.id).limit(1)) is None:
        for event_type, items in DEFAULT_RULES.items():
            for channel, offset in items:
                db.add(ReminderRule(event_type=event_type, channel=channel, offset_minutes=offset))
        db.flush()


def add_rule(
    db: Session, actor: Principal, *, event_type: str, channel: str, offset_minutes: int,
    active: bool = True,
) -> dict[str, Any]:  # fmt: skip
    _check_rule(event_type, channel, offset_minutes)
    _materialise_defaults(db)
    exists = db.scalar(
        select(ReminderRule).where(
            ReminderRule.event_type == event_type,
            ReminderRule.channel == channel,
            ReminderRule.offset_minutes == offset_minutes,
        )
    )
    if exists is not None:
        raise Conflict(f"a {channel} reminder {offset_minutes} minutes before {event_type} exists")
    row = ReminderRule(
        event_type=event_type, channel=channel, offset_minutes=offset_minutes, active=active
    )
    db.add(row)
    db.flush()
    schedule_upcoming(db)
    return _rule_out(row)


def update_rule(db: Session, actor: Principal, rule_id: int, changes: dict[str, Any]) -> dict:
    row = db.get(ReminderRule, rule_id)
    if row is None:
        raise NotFound(f"reminder rule {rule_id} not found")
    for name, value in changes.items():
        if name not in ("channel", "offset_minutes", "active", "event_type"):
            raise Invalid(name, "cannot be changed")
        if value is None:
            raise Invalid(name, "must not be empty")
        setattr(row, name, value)
    _check_rule(row.event_type, row.channel, row.offset_minutes)
    db.flush()
    schedule_upcoming(db)
    return _rule_out(row)


def delete_rule(db: Session, actor: Principal, rule_id: int) -> None:
    row = db.get(ReminderRule, rule_id)
    if row is None:
        raise NotFound(f"reminder rule {rule_id} not found")
    # keep one row so that an emptied table does not bring the defaults back
    row.active = False
    others = db.scalar(
        select(ReminderRule.id).where(ReminderRule.id != rule_id, ReminderRule.active).limit(1)
    )
    if others is not None:
        db.delete(row)
    db.flush()
    schedule_upcoming(db)


# --- planning ---------------------------------------------------------------------------


@dataclass(slots=True)
class Contact:
    client: ClientRow | None
    phone: str | None = None  # E.164
    email: str | None = None
    phone_kind: str = ""


def _signature(
    task: EventRow, contact: Contact | None = None,
    isoformat: Callable[[datetime], str] = datetime.isoformat,
    rules: tuple[tuple[str, int], ...] = (),
) -> str:  # fmt: skip
    """What the reminders are computed from: the task, its client's name, numbers, language,
    and the rules of its event type (a rule added, changed or removed reschedules its events).

    ``isoformat``: a memoised ``datetime.isoformat`` for bulk runs (events share start times)."""
    client = contact.client if contact is not None else None
    parts = (
        task.kind, task.event_type, task.status, task.client_id, task.title, task.location,
        isoformat(task.starts_at) if task.starts_at else "",
        task.assignee_id, isoformat(task.remind_at) if task.remind_at else "",
        contact.phone if contact else None, contact.email if contact else None,
        (client.first_name, client.last_name, client.display_name, client.language,
         client.timezone) if client else None,
        rules,
    )  # fmt: skip
    return hashlib.sha1(repr(parts).encode()).hexdigest()


def _stamp(when: datetime) -> str:
    return f"{when.year:04d}{when.month:02d}{when.day:02d}T{when.hour:02d}{when.minute:02d}Z"


@dataclass(slots=True)
class ClientRow:
    """The client fields templates and reminders use (plain values: no ORM object per row)."""

    id: int
    first_name: str
    last_name: str
    middle_name: str
    display_name: str
    org_name: str
    job_title: str
    category: str
    language: str
    timezone: str


CLIENT_COLUMNS = (
    Client.id, Client.first_name, Client.last_name, Client.middle_name, Client.display_name,
    Client.org_name, Client.job_title, Client.category, Client.language, Client.timezone,
)  # fmt: skip
_CLIENT_SQL = ", ".join(f"c.{c.property.columns[0].name}" for c in CLIENT_COLUMNS)


@dataclass(slots=True)
class EventRow:
    """The task fields its reminders depend on."""

    id: int
    kind: str
    event_type: str
    status: str
    client_id: int | None
    title: str
    location: str
    starts_at: datetime | None
    due_at: datetime | None
    remind_at: datetime | None
    assignee_id: int | None


TASK_COLUMNS = (
    Task.id, Task.kind, Task.event_type, Task.status, Task.client_id, Task.title, Task.location,
    Task.starts_at, Task.due_at, Task.remind_at, Task.assignee_id,
)  # fmt: skip


def _event_row(task: Task) -> EventRow:
    return EventRow(*(getattr(task, c.key) for c in TASK_COLUMNS))


_TASK_SQL = ", ".join(c.property.columns[0].name for c in TASK_COLUMNS)
_OPEN_SQL = ", ".join(f"'{status}'" for status in OPEN)


def _raw_cursor(db: Session) -> tuple[Any, str]:
    """A DBAPI cursor on the session's own connection (same transaction) and the dialect name.

    The bulk paths read and write through it: plain values, no per-value conversion by
    SQLAlchemy (which cost more than the queries at 100,000 events). Pending ORM changes are
    flushed first."""
    db.flush()
    connection = db.connection()
    return connection.connection.driver_connection.cursor(), connection.dialect.name


def _utc_reader() -> Callable[[Any], datetime | None]:
    """Stored time (SQLite text, PostgreSQL datetime) -> aware UTC datetime, as ``UTCDateTime``
    returns it; each distinct value is converted once (events share their start times)."""
    seen: dict[Any, datetime] = {}

    def read(value: Any) -> datetime | None:
        if value is None:
            return None
        when = seen.get(value)
        if when is None:
            when = datetime.fromisoformat(value) if isinstance(value, str) else value
            when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
            seen[value] = when
        return when

    return read


def _upcoming_events(db: Session, after_id: int, now: datetime, limit: int) -> list[tuple]:
    """Open events starting after ``now``, by id, read through the DBAPI cursor: rows as
    fetched, in ``TASK_COLUMNS`` order (``_event_rows`` converts them)."""
    cursor, dialect = _raw_cursor(db)
    mark = "?" if dialect == "sqlite" else "%s"
    try:
        cursor.execute(
            f"SELECT {_TASK_SQL} FROM tasks WHERE id > {mark} AND kind = 'event' "
            f"AND status IN ({_OPEN_SQL}) AND starts_at > {mark} ORDER BY id LIMIT {mark}",
            (after_id, outbox.sqlite_time(now) if dialect == "sqlite" else now, limit),
        )
        return cursor.fetchall()
    finally:
        cursor.close()


def _event_rows(rows: list[tuple]) -> list[EventRow]:
    utc = _utc_reader()
    return [
        EventRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], utc(r[7]), utc(r[8]), utc(r[9]), r[10])
        for r in rows
    ]


def _write_schedules(
    raw: Any, dialect: str, new: list[tuple[int, int, str]], changed: list[tuple[int, str, int]]
) -> None:
    """Insert ``new`` (task_id, revision, signature) and update ``changed`` (revision,
    signature, task_id) ``reminder_schedules`` rows, through the DBAPI connection ``raw``
    (``outbox.driver_connection``; never the session: see ``_write_rows``)."""
    cursor = raw.cursor()
    mark = "?" if dialect == "sqlite" else "%s"
    try:
        if changed:
            cursor.executemany(
                f"UPDATE reminder_schedules SET revision = {mark}, signature = {mark} "
                f"WHERE task_id = {mark}",
                changed,
            )
        if new and dialect == "postgresql":
            with cursor.copy(
                "COPY reminder_schedules (task_id, revision, signature) FROM STDIN"
            ) as copy:
                for row in new:
                    copy.write_row(row)
        elif new:
            cursor.executemany(
                "INSERT INTO reminder_schedules (task_id, revision, signature) VALUES (?, ?, ?)",
                new,
            )
    finally:
        cursor.close()


def _rows_for_ids(
    cursor: Any, dialect: str, select: str, column: str, ids: list[int], where: str = "TRUE",
    order: str = "",
) -> list[tuple]:  # fmt: skip
    """Rows of ``select`` (``SELECT ... FROM table alias``) whose ``column`` is one of ``ids``.

    The ids travel as ONE parameter: a JSON array read by ``json_each`` on SQLite, an array
    joined by ``unnest`` on PostgreSQL, so the index on ``column`` drives the query whatever
    the statistics say (``= ANY(array)`` / long IN lists were planned as a filter over the
    whole table right after a bulk import: 20 s for 20,000 clients), and no statement with
    thousands of placeholders is parsed per batch."""
    if dialect == "sqlite":
        cursor.execute(
            f"{select} WHERE {column} IN (SELECT value FROM json_each(?)) AND {where} {order}",
            (json.dumps(ids),),
        )
    else:
        cursor.execute(  # binary: a fifth of the client CPU of dumping the array as text
            f"{select} JOIN unnest(%b::integer[]) AS wanted(id) ON {column} = wanted.id "
            f"WHERE {where} {order}",
            (ids,),
        )
    return cursor.fetchall()


def _fetch_contacts(cursor: Any, dialect: str, ids: list[int]) -> tuple[list, list, list]:
    """Rows of the clients (not deleted), their phones and e-mails, by client and position
    (``_contacts`` turns them into ``Contact``)."""
    clients = _rows_for_ids(
        cursor, dialect, f"SELECT {_CLIENT_SQL} FROM clients c", "c.id", ids,
        where="c.deleted_at IS NULL",
    )  # fmt: skip
    phones = _rows_for_ids(
        cursor, dialect, "SELECT p.client_id, p.e164, p.kind FROM client_phones p",
        "p.client_id", ids, order="ORDER BY p.client_id, p.position, p.id",
    )  # fmt: skip
    emails = _rows_for_ids(
        cursor, dialect, "SELECT e.client_id, e.address FROM client_emails e",
        "e.client_id", ids, order="ORDER BY e.client_id, e.position, e.id",
    )  # fmt: skip
    return clients, phones, emails


def _contacts(clients: list[tuple], phones: list[tuple], emails: list[tuple]) -> dict[int, Contact]:
    """Client, best SMS number (a mobile first) and first e-mail, from ``_fetch_contacts``."""
    out: dict[int, Contact] = {}
    for row in clients:
        out[row[0]] = Contact(ClientRow(row[0], *[v or "" for v in row[1:]]))
    for client_id, e164, kind in phones:
        contact = out.get(client_id)
        if contact is None or not e164:
            continue
        if contact.phone is None or (kind == "mobile" and contact.phone_kind != "mobile"):
            contact.phone = e164
            contact.phone_kind = kind
    for client_id, address in emails:
        contact = out.get(client_id)
        if contact is not None and contact.email is None:
            contact.email = address
    return out


@dataclass(slots=True)
class _Batch:
    """Events planned and not yet written: planning makes no query, so the bulk run can plan
    the next batch while this one is written (``_write_rows`` on a worker thread)."""

    events: int = 0
    #: tasks whose pending reminders are withdrawn before the new ones go in
    withdraw: list[int] = field(default_factory=list)
    new_states: list[tuple[int, int, str]] = field(default_factory=list)
    changed_states: list[tuple[int, str, int]] = field(default_factory=list)
    rows: outbox.BulkRows = field(default_factory=outbox.BulkRows)
    calls: list[str] = field(default_factory=list)  # voice: addressed after the insert


class Planner:
    """Turns tasks into outbox rows; caches rules, templates and contexts for bulk runs."""

    def __init__(self, db: Session, now: datetime | None = None) -> None:
        self.now = now or utcnow()
        self.rules = rules_by_type(db)
        #: event type -> (channel, offset, offset as timedelta, template key, fallback key)
        self._plans: dict[str, list[tuple[str, int, timedelta, str, str]]] = {
            event_type: [
                (channel, offset, timedelta(minutes=offset),
                 f"reminder.{event_type}.{channel}", f"reminder.appointment.{channel}")
                for channel, offset in rules
            ]
            for event_type, rules in self.rules.items()
        }  # fmt: skip
        self._rule_keys = {t: tuple(rules) for t, rules in self.rules.items()}
        self.templates = templates.TemplateCache(db)
        self._call_message: Callable[..., dict[str, Any]] | None = None  # voicebots', on demand
        self._zones: dict[str, Any] = {}
        self._languages: dict[str, str] = {}  # client's language field -> template language
        #: (starts_at, timezone) -> local date, local time, key stamp (slots repeat in bulk runs)
        self._starts: dict[tuple[datetime, str], tuple[str, str, str]] = {}
        self._emails: dict[str, str | None] = {}  # address -> stored form (None: unusable)

    def rules_of(self, task: EventRow) -> tuple[tuple[str, int], ...]:
        """(channel, offset) of the rules for the task's event type; none for plain tasks."""
        return self._rule_keys.get(task.event_type or "", ()) if task.kind == "event" else ()

    def address(self, channel: str, recipient: str) -> str | None:
        """The recipient in stored form; None when unusable (the message is dropped: a bad
        address never fails the event change).

        SMS and voice numbers come from ``client_phones.e164`` (validated when the phone was
        saved): a format check is enough. E-mail addresses are normalised once per address."""
        if channel != "email":
            return recipient if E164.match(recipient) else None
        if recipient not in self._emails:
            try:
                self._emails[recipient] = outbox.normalise_recipient("email", recipient)
            except Invalid:
                self._emails[recipient] = None
        return self._emails[recipient]

    def client_messages(
        self, task: EventRow, contact: Contact | None, revision: int, batch: _Batch
    ) -> int:
        """Add the client's reminders of the task to ``batch.rows``. Returns how many were
        planned, counting those dropped for an unusable recipient."""
        if (
            task.kind != "event"
            or task.status not in OPEN
            or task.starts_at is None
            or task.starts_at <= self.now
            or contact is None
            or contact.client is None
        ):
            return 0
        rules = self._plans.get(task.event_type or "")
        if not rules:
            return 0
        client = contact.client
        language = self._languages.get(client.language)
        if language is None:
            language = self._languages[client.language] = templates.client_language(client)
        zone_name = client.timezone or ""
        when = self._starts.get((task.starts_at, zone_name))
        if when is None:
            zone = self._zones.get(zone_name)
            if zone is None:
                zone = self._zones[zone_name] = templates.client_zone(client)
            when = (*templates.local_date_time(task.starts_at, zone), _stamp(task.starts_at))
            self._starts[(task.starts_at, zone_name)] = when
        day, time, starts = when
        context = templates.client_context(client)
        context.update(
            title=task.title, date=day, time=time, location=task.location or "",
            event_type=task.event_type,
        )  # fmt: skip
        planned = 0
        rendered: dict[str, tuple[str, str]] = {}
        meta = {"task_id": task.id}  # shared by the task's messages (its JSON is made once)
        for channel, offset, before, key, fallback in rules:
            due = task.starts_at - before
            if due < self.now:
                continue  # too late for this one; a nearer reminder may still go
            recipient = contact.email if channel == "email" else contact.phone
            if not recipient:
                continue
            if key not in rendered:
                try:
                    rendered[key] = self.templates.render(key, language, context)
                except KeyError:  # an event type without its own text yet
                    rendered[key] = self.templates.render(fallback, language, context)
            subject, body = rendered[key]
            idempotency_key = f"reminder:{task.id}:{revision}:{offset}m:{channel}:{starts}"
            planned += 1
            address = self.address(channel, recipient)
            if address is None:
                continue
            if channel == "voice":
                # the voicebots' "reminder" script reads the text, then asks for 1 (confirm) or
                # 2 (cancel); the outcome goes on the message and in the client's history
                if self._call_message is None:
                    from voicebots.service import call_message

                    self._call_message = call_message
                batch.rows.add_message(
                    self._call_message(
                        script="reminder", recipient=address, idempotency_key=idempotency_key,
                        body=body, client_id=client.id, language=language, due_at=due,
                        purpose="reminder", task_id=task.id,
                    )
                )  # fmt: skip
                batch.calls.append(idempotency_key)  # its webhook URL carries the row's id
                continue
            batch.rows.add(
                channel, address, body, idempotency_key, due, subject=subject,
                client_id=client.id, purpose="reminder", template=key, meta=meta,
            )  # fmt: skip
        return planned

    def assignee_messages(
        self, task: EventRow, assignee: User | None, revision: int, batch: _Batch,
        client_name: str = "",
    ) -> int:  # fmt: skip
        """Add the assignee's e-mail reminder of the task to ``batch.rows``; returns 1 when it
        was planned (even if the address turns out unusable), else 0."""
        if (
            task.status not in OPEN
            or task.remind_at is None
            or task.remind_at <= self.now
            or assignee is None
            or not assignee.email
            or not assignee.is_active
        ):
            return 0
        language = assignee.language if assignee.language in templates.LANGUAGES else "en"
        zone = templates.client_zone(None)
        due = task.starts_at or task.due_at
        context = {
            "title": task.title,
            "due": " ".join(templates.local_date_time(due, zone)) if due else "",
            "client_name": client_name,
        }
        subject, body = self.templates.render("task.due.email", language, context)
        address = self.address("email", assignee.email)
        if address is not None:
            batch.rows.add(
                "email", address, body, f"task-remind:{task.id}:{revision}:{_stamp(task.remind_at)}",
                task.remind_at, subject=subject, purpose="task_reminder",
                template="task.due.email", meta={"task_id": task.id, "user_id": assignee.id},
            )  # fmt: skip
        return 1


def _withdraw(db: Session, task_id: int) -> int:
    return outbox.withdraw(db, idempotency_key_prefix=f"reminder:{task_id}:") + outbox.withdraw(
        db, idempotency_key_prefix=f"task-remind:{task_id}:"
    )


E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def schedule_events(db: Session, tasks: Sequence[Task], *, now: datetime | None = None) -> int:
    """(Re)compute the reminders of these tasks; returns the outbox rows written.

    Tasks whose reminder-relevant fields did not change since the last run are left alone.
    """
    return _schedule(db, [_event_row(t) for t in tasks], now or utcnow())


def schedule_upcoming(
    db: Session,
    *,
    now: datetime | None = None,
    batch: int = 20_000,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Every open event still to come (after a bulk import or a change of rules or templates).

    ``progress(n)`` is called after each batch is written with the number of events it covered.

    One transaction on the session's connection. Batch k is written (outbox rows and schedule
    rows, through the DBAPI connection) on a worker thread while this thread plans batch k + 1,
    whose events, schedules and contacts were read just before: the server's work on one batch
    overlaps the Python work on the next. The two never use the connection at the same time."""
    now = now or utcnow()
    planner = Planner(db, now)
    written, last_id = 0, 0
    pending: _Batch | None = None  # planned, not written yet
    with (
        _collector_paused(),
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="reminders-write") as writer,
    ):
        while True:
            rows = _upcoming_events(db, last_id, now, batch)
            reads = _read_rows(db, rows) if rows else None
            job = None
            if pending is not None:
                job = writer.submit(_write_rows, *_write_start(db, pending), pending)
            try:
                planned = _plan(planner, _event_rows(rows), reads) if reads is not None else None
            finally:
                if job is not None:
                    futures_wait([job])  # the connection is free again, whatever happened
            if pending is not None and job is not None:
                written += job.result()
                _write_end(db, pending)
                if progress is not None:
                    progress(pending.events)
            if planned is None:
                return written
            pending = planned
            last_id = rows[-1][0]  # (id first)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for the duration (back on after, if it was on).

    A bulk run creates and keeps a few hundred thousand objects per batch (rows, events,
    contacts, outbox tuples), none in a reference cycle; the collections that this growth
    triggers walked them again and again: a tenth of the run's CPU at 100,000 events. The
    objects are freed by their reference counts as usual; only cycles (made by anything,
    in any thread) wait for the end of the run."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@dataclass(slots=True)
class _Reads:
    """What planning a batch needs from the database, as fetched: the schedule rows (task id,
    revision, signature), the clients' rows (``_fetch_contacts``) and the assignees. Turning
    rows into objects is left to ``_plan``, which the bulk run overlaps with the writes."""

    states: list[tuple]
    contacts: tuple[list, list, list]
    assignees: dict[int, User]


def _read(db: Session, task_ids: list[int], client_ids: set[int], assignee_ids: set[int]) -> _Reads:
    """The rows planning these tasks needs (the session's pending changes flushed first: a
    number just added counts)."""
    cursor, dialect = _raw_cursor(db)
    try:
        states = _rows_for_ids(
            cursor, dialect, "SELECT s.task_id, s.revision, s.signature FROM reminder_schedules s",
            "s.task_id", sorted(set(task_ids)),
        )  # fmt: skip
        ids = sorted(client_ids)
        contacts = _fetch_contacts(cursor, dialect, ids) if ids else ([], [], [])
    finally:
        cursor.close()
    assignees = (
        {u.id: u for u in db.scalars(select(User).where(User.id.in_(assignee_ids)))}
        if assignee_ids
        else {}
    )
    return _Reads(states, contacts, assignees)


def _read_events(db: Session, tasks: list[EventRow]) -> _Reads:
    return _read(
        db,
        [t.id for t in tasks],
        {t.client_id for t in tasks if t.client_id},
        {t.assignee_id for t in tasks if t.assignee_id and t.remind_at},
    )


def _read_rows(db: Session, rows: list[tuple]) -> _Reads:
    """``_read`` for events as ``_upcoming_events`` fetched them (``TASK_COLUMNS`` order)."""
    i = {column.key: n for n, column in enumerate(TASK_COLUMNS)}
    task_id, client_id, remind_at, assignee_id = (
        i["id"], i["client_id"], i["remind_at"], i["assignee_id"],
    )  # fmt: skip
    return _read(
        db,
        [r[task_id] for r in rows],
        {r[client_id] for r in rows if r[client_id]},
        {r[assignee_id] for r in rows if r[assignee_id] and r[remind_at]},
    )


def _plan(planner: Planner, tasks: list[EventRow], reads: _Reads) -> _Batch:
    """The outbox and schedule rows for the tasks whose signature changed (no query)."""
    batch = _Batch(events=len(tasks))
    states = {task_id: (revision, signature) for task_id, revision, signature in reads.states}
    contacts = _contacts(*reads.contacts)
    assignees = reads.assignees
    stamps: dict[datetime, str] = {}

    def isoformat(when: datetime) -> str:
        text = stamps.get(when)
        if text is None:
            text = stamps[when] = when.isoformat()
        return text

    for task in tasks:
        contact = contacts.get(task.client_id) if task.client_id else None
        signature = _signature(task, contact, isoformat, planner.rules_of(task))
        state = states.get(task.id)
        if state is not None and state[1] == signature:
            continue
        if state is not None:
            batch.withdraw.append(task.id)
            revision = state[0] + 1
            states[task.id] = (revision, signature)  # the same task twice in one call
            batch.changed_states.append((revision, signature, task.id))
        else:
            revision = 1
        planned = planner.client_messages(task, contact, revision, batch)
        if task.remind_at is not None:  # (the assignee's own reminder)
            client_name = contact.client.display_name if contact and contact.client else ""
            planned += planner.assignee_messages(
                task, assignees.get(task.assignee_id), revision, batch, client_name
            )
        if state is None and planned:  # tasks without reminders keep no schedule row
            batch.new_states.append((task.id, 1, signature))
            states[task.id] = (1, signature)
    return batch


def _write_start(db: Session, batch: _Batch) -> tuple[Any, str]:
    """The session's part of writing a batch (before ``_write_rows``): withdraw the reminders
    being replaced, flush; returns the DBAPI connection and dialect for ``_write_rows``."""
    for task_id in batch.withdraw:
        _withdraw(db, task_id)
    return outbox.driver_connection(db)


def _write_rows(raw: Any, dialect: str, batch: _Batch) -> int:
    """Schedule rows and outbox rows of a batch through the DBAPI connection only (it may run
    on a worker thread: the session is not thread-safe). Returns the outbox rows written."""
    if batch.new_states or batch.changed_states:
        _write_schedules(raw, dialect, batch.new_states, batch.changed_states)
    return outbox.write_rows(raw, dialect, batch.rows)


def _write_end(db: Session, batch: _Batch) -> None:
    if batch.calls:  # their webhook URL carries the new row's id
        from voicebots.service import address_calls

        address_calls(db, batch.calls)


def _schedule(db: Session, tasks: list[EventRow], now: datetime) -> int:
    """Read, plan and write one batch of tasks, in this thread."""
    batch = _plan(Planner(db, now), tasks, _read_events(db, tasks))
    written = _write_rows(*_write_start(db, batch), batch)
    _write_end(db, batch)
    return written


def on_task_saved(db: Session, *, task: Task, actor=None, created: bool = False, before=None):
    schedule_events(db, [task])


def on_task_deleted(db: Session, *, task: Task, actor=None) -> None:
    _withdraw(db, task.id)
    # SQLite may give this id to the next task: nothing of this one may pass for its reminders
    for prefix in (f"reminder:{task.id}:", f"task-remind:{task.id}:"):
        outbox.retire_keys(db, idempotency_key_prefix=prefix)
    db.execute(delete(ReminderSchedule).where(ReminderSchedule.task_id == task.id))


def on_client_saved(db: Session, *, client: Client, actor=None, created: bool = False) -> None:
    """A client's number, address, name or language may have changed: their upcoming reminders
    are recomputed where that changes them (the schedule signature includes those fields)."""
    if created:
        return
    rows = [
        EventRow(*row)
        for row in db.execute(
            select(*TASK_COLUMNS).where(
                Task.client_id == client.id,
                Task.status.in_(OPEN),
                ((Task.kind == "event") & (Task.starts_at > utcnow()))
                | Task.remind_at.is_not(None),
            )
        )
    ]
    if rows:
        _schedule(db, rows, utcnow())


def on_client_deleted(db: Session, *, client: Client, actor=None) -> None:
    """A deleted client hears nothing more from us: their pending event reminders are withdrawn
    (the assignees' own reminders stay; restoring the client schedules them again)."""
    task_ids = list(db.scalars(select(Task.id).where(Task.client_id == client.id)))
    for task_id in task_ids:
        outbox.withdraw(db, idempotency_key_prefix=f"reminder:{task_id}:")
    if task_ids:  # forget the schedules, so that a restore computes fresh ones
        db.execute(
            update(ReminderSchedule)
            .where(ReminderSchedule.task_id.in_(task_ids))
            .values(signature="")
        )


# --- assignee in-app reminders (periodic job) ------------------------------------------


def publish_due_task_reminders(db: Session, now: datetime | None = None, limit: int = 500) -> int:
    """Tell each assignee (only them) about their tasks whose reminder time has come.

    Claims each task with a conditional UPDATE (``reminded_at IS NULL``) so two processes running
    the job at once never remind twice. Returns the number of reminders published.
    """
    from crm_core.tasks.service import due_reminders

    now = now or utcnow()
    count = 0
    for task in due_reminders(db, now, limit):
        claimed = db.execute(
            update(Task)
            .where(Task.id == task.id, Task.reminded_at.is_(None))
            .values(reminded_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not claimed or task.assignee_id is None:
            continue
        publish_after_commit(
            db,
            {
                "type": "task.due",
                "audience": [f"user:{task.assignee_id}"],
                "task_id": task.id,
                "title": task.title,
                "due_at": (task.starts_at or task.due_at or task.remind_at).isoformat(),
                "client_id": task.client_id,
                "kind": task.kind,
            },
        )
        count += 1
    return count
