"""Planning reminders: from an event, its client's contact and the rules, the outbox rows.

Planning makes no query: what it needs is read beforehand (``notifier.reminders.store``), so
the bulk run can plan one batch while the previous one is being written. A task's reminders
depend on a *signature* of everything they are computed from; an unchanged signature means
nothing to do, a changed one a new revision (see ``notifier.reminders.service``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from crm_core.auth.models import User
from crm_core.clients.models import Client
from crm_core.database import utcnow
from crm_core.errors import Invalid
from crm_core.tasks.models import Task
from notifier.outbox import service as outbox
from notifier.reminders.rules import rules_by_type
from notifier.templates import service as templates
from notifier.voice_calls.service import call_message

OPEN = ("open", "in_progress")
E164 = re.compile(r"^\+[1-9]\d{6,14}$")


@dataclass(slots=True)
class Contact:
    client: ClientRow | None
    phone: str | None = None  # E.164
    email: str | None = None
    phone_kind: str = ""


def schedule_signature(
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


def stamp(when: datetime) -> str:
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


def event_row(task: Task) -> EventRow:
    return EventRow(*(getattr(task, c.key) for c in TASK_COLUMNS))


def contacts_of(
    clients: list[tuple], phones: list[tuple], emails: list[tuple]
) -> dict[int, Contact]:
    """Client, best SMS number (a mobile first) and first e-mail, from ``store``."""
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
class Batch:
    """Events planned and not yet written: planning makes no query, so the bulk run can plan
    the next batch while this one is written (``store.write_rows`` on a worker thread)."""

    events: int = 0
    #: tasks whose pending reminders are withdrawn before the new ones go in
    withdraw: list[int] = field(default_factory=list)
    new_states: list[tuple[int, int, str]] = field(default_factory=list)
    changed_states: list[tuple[int, str, int]] = field(default_factory=list)
    rows: outbox.BulkRows = field(default_factory=outbox.BulkRows)
    calls: list[str] = field(default_factory=list)  # voice: addressed after the insert


@dataclass(slots=True)
class Reads:
    """What planning a batch needs from the database, as fetched: the schedule rows (task id,
    revision, signature), the clients' rows (``store``) and the assignees. Turning
    rows into objects is left to ``plan``, which the bulk run overlaps with the writes."""

    states: list[tuple]
    contacts: tuple[list, list, list]
    assignees: dict[int, User]


class _Texts:
    """One event's rendered texts per template key (an event type without its own text yet
    uses the appointment's)."""

    def __init__(
        self, cache: templates.TemplateCache, language: str, context: dict[str, Any]
    ) -> None:
        self.cache, self.language, self.context = cache, language, context
        self.rendered: dict[str, tuple[str, str]] = {}

    def render(self, key: str, fallback: str) -> tuple[str, str]:
        if key not in self.rendered:
            try:
                self.rendered[key] = self.cache.render(key, self.language, self.context)
            except KeyError:
                self.rendered[key] = self.cache.render(fallback, self.language, self.context)
        return self.rendered[key]


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
        self, task: EventRow, contact: Contact | None, revision: int, batch: Batch
    ) -> int:
        """Add the client's reminders of the task to ``batch.rows``. Returns how many were
        planned, counting those dropped for an unusable recipient."""
        rules = self._client_rules(task, contact)
        if not rules:
            return 0
        client = contact.client
        language = self._language_of(client)
        day, time, starts = self._local_start(task.starts_at, client)
        context = templates.client_context(client)
        context.update(
            title=task.title, date=day, time=time, location=task.location or "",
            event_type=task.event_type,
        )  # fmt: skip
        texts = _Texts(self.templates, language, context)
        meta = {"task_id": task.id}  # shared by the task's messages (its JSON is made once)
        planned = 0
        for channel, offset, before, key, fallback in rules:
            due = task.starts_at - before
            if due < self.now:
                continue  # too late for this one; a nearer reminder may still go
            recipient = contact.email if channel == "email" else contact.phone
            if not recipient:
                continue
            subject, body = texts.render(key, fallback)
            planned += 1
            address = self.address(channel, recipient)
            if address is None:
                continue
            idempotency_key = f"reminder:{task.id}:{revision}:{offset}m:{channel}:{starts}"
            if channel == "voice":
                self._add_call(batch, task, client, address, body, language, due, idempotency_key)
            else:
                batch.rows.add(
                    channel, address, body, idempotency_key, due, subject=subject,
                    client_id=client.id, purpose="reminder", template=key, meta=meta,
                )  # fmt: skip
        return planned

    def _client_rules(
        self, task: EventRow, contact: Contact | None
    ) -> list[tuple[str, int, timedelta, str, str]]:
        """The rules of an open event still to come whose client we know; else none."""
        if (
            task.kind != "event"
            or task.status not in OPEN
            or task.starts_at is None
            or task.starts_at <= self.now
            or contact is None
            or contact.client is None
        ):
            return []
        return self._plans.get(task.event_type or "", [])

    def _language_of(self, client: ClientRow) -> str:
        """The template language for the client's language field (cached per value)."""
        language = self._languages.get(client.language)
        if language is None:
            language = self._languages[client.language] = templates.client_language(client)
        return language

    def _local_start(self, starts_at: datetime, client: ClientRow) -> tuple[str, str, str]:
        """Local date and time of the start in the client's zone, and its UTC key stamp
        (cached: slots repeat in bulk runs)."""
        zone_name = client.timezone or ""
        when = self._starts.get((starts_at, zone_name))
        if when is None:
            zone = self._zones.get(zone_name)
            if zone is None:
                zone = self._zones[zone_name] = templates.client_zone(client)
            when = (*templates.local_date_time(starts_at, zone), stamp(starts_at))
            self._starts[(starts_at, zone_name)] = when
        return when

    @staticmethod
    def _add_call(
        batch: Batch, task: EventRow, client: ClientRow, number: str, body: str, language: str,
        due: datetime, idempotency_key: str,
    ) -> None:  # fmt: skip
        """An automated call playing the "reminder" script: it reads the text, then asks for 1
        (confirm) or 2 (cancel); the outcome goes on the message and in the client's history."""
        batch.rows.add_message(
            call_message(
                script="reminder", recipient=number, idempotency_key=idempotency_key, body=body,
                client_id=client.id, language=language, due_at=due, purpose="reminder",
                task_id=task.id,
            )
        )  # fmt: skip
        batch.calls.append(idempotency_key)  # its webhook URL carries the row's id

    def assignee_messages(
        self, task: EventRow, assignee: User | None, revision: int, batch: Batch,
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
                "email", address, body, f"task-remind:{task.id}:{revision}:{stamp(task.remind_at)}",
                task.remind_at, subject=subject, purpose="task_reminder",
                template="task.due.email", meta={"task_id": task.id, "user_id": assignee.id},
            )  # fmt: skip
        return 1


def plan(planner: Planner, tasks: list[EventRow], reads: Reads) -> Batch:
    """The outbox and schedule rows for the tasks whose signature changed (no query)."""
    batch = Batch(events=len(tasks))
    states = {task_id: (revision, signature) for task_id, revision, signature in reads.states}
    contacts = contacts_of(*reads.contacts)
    assignees = reads.assignees
    stamps: dict[datetime, str] = {}

    def isoformat(when: datetime) -> str:
        text = stamps.get(when)
        if text is None:
            text = stamps[when] = when.isoformat()
        return text

    for task in tasks:
        contact = contacts.get(task.client_id) if task.client_id else None
        signature = schedule_signature(task, contact, isoformat, planner.rules_of(task))
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
