"""Reminders: the client of an event hears from us before it starts (SMS, e-mail or an automated
call playing the ``reminder`` script, where a key press confirms or asks to cancel);
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

Where the parts are: ``rules`` (what to send, admin-edited), ``planner`` (events -> outbox
rows, no queries), ``store`` (bulk reads and writes on the session's connection); this module
holds the public entry points.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from crm_core import wording
from crm_core.audit.service import record, snapshot
from crm_core.auth.principal import Principal
from crm_core.clients.models import Client
from crm_core.database import utcnow
from crm_core.events import TaskDue, user_audience
from crm_core.tasks.models import Task
from notifier.outbox import service as outbox
from notifier.publish import publish_after_commit
from notifier.reminders import rules, store
from notifier.reminders.models import ReminderSchedule
from notifier.reminders.planner import OPEN, TASK_COLUMNS, Batch, EventRow, Planner, event_row, plan
from notifier.reminders.schemas import RuleOut

# --- rules (admin): every change reschedules the upcoming events ---------------------------


def add_rule(
    db: Session, actor: Principal, *, event_type: str, channel: str, offset_minutes: int,
    active: bool = True,
) -> RuleOut:  # fmt: skip
    row = rules.insert_rule(
        db, event_type=event_type, channel=channel, offset_minutes=offset_minutes, active=active
    )
    record(db, actor, "create", "reminder_rule", row.id, None, snapshot(row))
    schedule_upcoming(db)
    return RuleOut.model_validate(row)


def update_rule(db: Session, actor: Principal, rule_id: int, changes: dict[str, Any]) -> RuleOut:
    before = rules.rule_snapshot(db, rule_id)
    row = rules.change_rule(db, rule_id, changes)
    record(db, actor, "update", "reminder_rule", row.id, before, snapshot(row))
    schedule_upcoming(db)
    return RuleOut.model_validate(row)


def delete_rule(db: Session, actor: Principal, rule_id: int) -> None:
    before = rules.rule_snapshot(db, rule_id)
    rules.remove_rule(db, rule_id)
    record(db, actor, "delete", "reminder_rule", rule_id, before, None)
    schedule_upcoming(db)


def keep_default_rules(db: Session, actor: Principal) -> list[RuleOut]:
    """Save the built-in rules as rows, so that each can be changed or turned off alone
    (nothing is rescheduled: the rules stay the same)."""
    if rules.materialise_defaults(db):
        record(db, actor, "create", "reminder_rule", None, None, {"defaults": "saved"})
    return rules.list_rules(db)


# --- scheduling -----------------------------------------------------------------------------


def schedule_events(db: Session, tasks: Sequence[Task], *, now: datetime | None = None) -> int:
    """(Re)compute the reminders of these tasks; returns the outbox rows written.

    Tasks whose reminder-relevant fields did not change since the last run are left alone.
    """
    return _schedule(db, [event_row(t) for t in tasks], now or utcnow())


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
    pending: Batch | None = None  # planned, not written yet
    with (
        store.collector_paused(),
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="reminders-write") as writer,
    ):
        while True:
            rows = store.upcoming_events(db, last_id, now, batch)
            reads = store.read_rows(db, rows) if rows else None
            job = None
            if pending is not None:
                job = writer.submit(store.write_rows, *store.write_start(db, pending), pending)
            try:
                planned = (
                    plan(planner, store.event_rows(rows), reads) if reads is not None else None
                )
            finally:
                if job is not None:
                    futures_wait([job])  # the connection is free again, whatever happened
            if pending is not None and job is not None:
                written += job.result()
                store.write_end(db, pending)
                if progress is not None:
                    progress(pending.events)
            if planned is None:
                return written
            pending = planned
            last_id = rows[-1][0]  # (id first)


def _schedule(db: Session, tasks: list[EventRow], now: datetime) -> int:
    """Read, plan and write one batch of tasks, in this thread."""
    batch = plan(Planner(db, now), tasks, store.read_events(db, tasks))
    written = store.write_rows(*store.write_start(db, batch), batch)
    store.write_end(db, batch)
    return written


def on_task_saved(db: Session, *, task: Task, actor=None, created: bool = False, before=None):
    schedule_events(db, [task])


def on_task_deleted(db: Session, *, task: Task, actor=None) -> None:
    store.withdraw(db, task.id)
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


def _title_for_assignee(db: Session, task: Task) -> str:
    """The title as the assignee reads it: one the system wrote (a missed call's callback) in
    their language and zone (:mod:`crm_core.wording`)."""
    from crm_core.auth.models import User
    from crm_core.auth.service import principal_of

    assignee = db.get(User, task.assignee_id)
    if assignee is None:
        return task.title
    with wording.reading_as(principal_of(assignee)):
        return wording.shown_tasks(db, [task])[0].title


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
        due = TaskDue(
            audience=user_audience(task.assignee_id),
            task_id=task.id,
            title=_title_for_assignee(db, task),
            due_at=(task.starts_at or task.due_at or task.remind_at).isoformat(),
            client_id=task.client_id,
            kind=task.kind,
        )
        publish_after_commit(db, due)
        count += 1
    return count
