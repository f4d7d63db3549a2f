"""Tasks and events: who has to do what for which client, and when.

Rights: admins and managers see every task; an operator sees the tasks assigned to them or
created by them, the tasks of clients they may see, and client-less tasks of their team (or of
no team). Any other task is reported missing (404). Only managers and admins delete; everyone
who sees a task may update, assign, complete or cancel it.

Overdue is derived (open or in progress and due in the past), never stored.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from crm_core import signals
from crm_core.attachments import service as attachments
from crm_core.audit.service import record, snapshot
from crm_core.auth.models import Team, User
from crm_core.auth.principal import Principal
from crm_core.auth.rights import get_visible_client, visible_tasks
from crm_core.clients.models import Client
from crm_core.customfields import service as customfields
from crm_core.database import utcnow
from crm_core.errors import Forbidden, Invalid, NotFound, said
from crm_core.tasks.models import PRIORITIES, TASK_KINDS, TASK_STATUSES, Task

OPEN_STATUSES = ("open", "in_progress")
EDITABLE = (
    "title",
    "description",
    "client_id",
    "assignee_id",
    "team_id",
    "due_at",
    "remind_at",
    "kind",
    "event_type",
    "priority",
    "status",
    "starts_at",
    "ends_at",
    "location",
)


def is_overdue(task: Task, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return task.status in OPEN_STATUSES and task.due_at is not None and task.due_at < now


def local_day_start(now: datetime) -> datetime:
    """Midnight of ``now``'s day in the installation's time zone (settings.timezone)."""
    from zoneinfo import ZoneInfo

    from crm_core.config import get_settings

    local = now.astimezone(ZoneInfo(get_settings().timezone))
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def overdue_clause(now: datetime) -> ColumnElement[bool]:
    return and_(Task.status.in_(OPEN_STATUSES), Task.due_at.is_not(None), Task.due_at < now)


def get_task(db: Session, actor: Principal, task_id: int) -> Task:
    task = db.scalar(select(Task).where(Task.id == task_id, visible_tasks(actor)))
    if task is None:
        raise NotFound(f"task {task_id} not found")
    return task


# --- checks -----------------------------------------------------------------------------


def _aware(value: datetime | None, loc: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise Invalid(loc, said("must include a timezone, e.g. 2024-05-01T10:00:00Z"))
    return value


def _check_client(db: Session, actor: Principal, client_id: int | None) -> Client | None:
    if client_id is None:
        return None
    if actor.role == "system":
        client = db.get(Client, client_id)
        if client is None or client.deleted_at is not None:
            raise Invalid("client_id", f"no client {client_id}")
        return client
    try:
        return get_visible_client(db, actor, client_id)
    except NotFound:
        raise Invalid("client_id", f"no client {client_id}") from None


def _check_assignee(db: Session, user_id: int | None) -> User | None:
    if user_id is None:
        return None
    user = db.get(User, user_id)
    if user is None or not user.is_active:
        raise Invalid("assignee_id", f"no active user {user_id}")
    return user


def _check_team(db: Session, actor: Principal, team_id: int | None) -> None:
    """The team must exist, and an operator may only put tasks in their own team (row rights
    on writes as on reads)."""
    if team_id is not None and db.get(Team, team_id) is None:
        raise Invalid("team_id", f"no team {team_id}")
    if actor.role == "operator" and team_id not in (None, actor.team_id):
        raise Invalid("team_id", said("operators may only assign their own team"))


def _check(db: Session, actor: Principal, task: Task) -> None:
    """Validate a task's fields as they are about to be stored."""
    title = (task.title or "").strip()
    if not title:
        raise Invalid("title", said("must not be empty"))
    if len(title) > 250:
        raise Invalid("title", said("must be at most 250 characters"))
    task.title = title
    if task.kind not in TASK_KINDS:
        raise Invalid(
            "kind", said("must be one of %(choices)s"), params={"choices": ", ".join(TASK_KINDS)}
        )
    if task.priority not in PRIORITIES:
        raise Invalid(
            "priority",
            said("must be one of %(choices)s"),
            params={"choices": ", ".join(PRIORITIES)},
        )
    if task.status not in TASK_STATUSES:
        raise Invalid(
            "status",
            said("must be one of %(choices)s"),
            params={"choices": ", ".join(TASK_STATUSES)},
        )
    for name, limit in (("event_type", 40), ("location", 250), ("source", 40)):
        if len(getattr(task, name) or "") > limit:
            raise Invalid(name, f"must be at most {limit} characters")
    if len(task.description or "") > 100_000:
        raise Invalid("description", said("must be at most 100000 characters"))
    for name in ("due_at", "remind_at", "starts_at", "ends_at"):
        _aware(getattr(task, name), name)
    if task.kind == "event" and task.starts_at is None:
        raise Invalid("starts_at", said("an event needs a start time"))
    if task.starts_at and task.ends_at and task.ends_at < task.starts_at:
        raise Invalid("ends_at", said("must not be before starts_at"))
    if task.kind == "event" and task.due_at is None:
        task.due_at = task.starts_at


def _client_team(db: Session, client_id: int | None) -> int | None:
    return db.scalar(select(Client.team_id).where(Client.id == client_id)) if client_id else None


# --- writes -----------------------------------------------------------------------------


def create_task(
    db: Session,
    actor: Principal,
    *,
    title: str,
    client_id: int | None = None,
    assignee_id: int | None = None,
    team_id: int | None = None,
    due_at: datetime | None = None,
    remind_at: datetime | None = None,
    kind: str = "task",
    event_type: str = "",
    description: str = "",
    priority: str = "normal",
    source: str = "",
    call_id: str | None = None,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    location: str = "",
    custom: dict[str, Any] | None = None,
) -> Task:
    """Create a task or event; the creator is the actor, the team defaults to the client's
    (or, for a task without client, the assignee's or the actor's)."""
    _check_client(db, actor, client_id)
    assignee = _check_assignee(db, assignee_id)
    _check_team(db, actor, team_id)
    if team_id is None:
        team_id = _client_team(db, client_id)
    if team_id is None and client_id is None:
        team_id = assignee.team_id if assignee else actor.team_id
    task = Task(
        title=title,
        client_id=client_id,
        assignee_id=assignee_id,
        team_id=team_id,
        creator_id=actor.id,
        due_at=due_at,
        remind_at=remind_at,
        kind=kind,
        event_type=event_type or "",
        description=description or "",
        priority=priority,
        status="open",
        source=source or "",
        call_id=call_id,
        starts_at=starts_at,
        ends_at=ends_at,
        location=location or "",
        created_at=utcnow(),
    )
    _check(db, actor, task)
    if call_id is not None and len(call_id) > 64:
        raise Invalid("call_id", said("must be at most 64 characters"))
    values = customfields.validate_values(db, "task", custom, partial=actor.role == "system")
    db.add(task)
    db.flush()
    customfields.save_values(db, "task", task.id, values)
    record(db, actor, "create", "task", task.id, None, snapshot(task))
    signals.task_saved.send(db, task=task, actor=actor, created=True, before=None)
    return task


def update_task(db: Session, actor: Principal, task_id: int, changes: dict[str, Any]) -> Task:
    task = get_task(db, actor, task_id)
    before = snapshot(task)
    for name, value in changes.items():
        if name == "custom":
            continue
        if name not in EDITABLE:
            raise Invalid(name, said("cannot be changed"))
        if name in ("title", "kind", "priority", "status") and value is None:
            raise Invalid(name, said("must not be empty"))
        if name in ("description", "event_type", "location") and value is None:
            value = ""
        if name == "client_id" and value != task.client_id:
            _check_client(db, actor, value)
            if "team_id" not in changes and value is not None:
                task.team_id = _client_team(db, value)
        if name == "assignee_id" and value != task.assignee_id:
            _check_assignee(db, value)
        if name == "team_id" and value != task.team_id:
            _check_team(db, actor, value)
        setattr(task, name, value)
    if "remind_at" in changes and changes["remind_at"] != before["remind_at"]:
        task.reminded_at = None  # a new reminder time is a new reminder
    if task.status in ("done", "cancelled"):
        task.completed_at = task.completed_at or utcnow()
    else:
        task.completed_at = None
    _check(db, actor, task)
    if changes.get("custom") is not None:
        values = customfields.validate_values(db, "task", changes["custom"], partial=True)
        customfields.save_values(db, "task", task.id, values)
    db.flush()
    record(db, actor, "update", "task", task.id, before, snapshot(task))
    signals.task_saved.send(db, task=task, actor=actor, created=False, before=before)
    return task


def assign_task(db: Session, actor: Principal, task_id: int, assignee_id: int | None) -> Task:
    return update_task(db, actor, task_id, {"assignee_id": assignee_id})


def complete_task(db: Session, actor: Principal, task_id: int) -> Task:
    return update_task(db, actor, task_id, {"status": "done"})


def cancel_task(db: Session, actor: Principal, task_id: int) -> Task:
    return update_task(db, actor, task_id, {"status": "cancelled"})


def delete_task(db: Session, actor: Principal, task_id: int) -> None:
    task = get_task(db, actor, task_id)
    if not actor.can_delete:
        raise Forbidden(said("Your role may not delete tasks; cancel the task instead"))
    before = snapshot(task)
    signals.task_deleted.send(db, task=task, actor=actor)
    customfields.delete_values(db, "task", task.id)
    attachments.rehome(db, "task", task.id, task.client_id)
    db.delete(task)
    db.flush()
    record(db, actor, "delete", "task", task_id, before, None)


# --- reads ------------------------------------------------------------------------------


def list_tasks(
    db: Session,
    actor: Principal,
    *,
    mine: bool = False,
    today: bool = False,
    overdue: bool = False,
    client_id: int | None = None,
    assignee_id: int | None = None,
    status: list[str] | None = None,
    kind: str | None = None,
    now: datetime | None = None,
    day_start: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Task], int]:
    """Filtered tasks the actor may see, soonest due first (no due time last)."""
    now = now or utcnow()
    query = select(Task).where(visible_tasks(actor))
    if mine:
        query = query.where(Task.assignee_id == actor.id)
    if today:
        start = day_start or local_day_start(now)
        query = query.where(Task.due_at >= start, Task.due_at < start + timedelta(days=1))
    if overdue:
        query = query.where(overdue_clause(now))
    if client_id is not None:
        get_visible_client(db, actor, client_id)
        query = query.where(Task.client_id == client_id)
    if assignee_id is not None:
        query = query.where(Task.assignee_id == assignee_id)
    if status:
        for value in status:
            if value not in TASK_STATUSES:
                raise Invalid(
                    "status",
                    said("must be one of %(choices)s"),
                    params={"choices": ", ".join(TASK_STATUSES)},
                )
        query = query.where(Task.status.in_(status))
    if kind:
        if kind not in TASK_KINDS:
            raise Invalid(
                "kind",
                said("must be one of %(choices)s"),
                params={"choices": ", ".join(TASK_KINDS)},
            )
        query = query.where(Task.kind == kind)
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.scalars(
        query.order_by(Task.due_at.is_(None), Task.due_at, Task.id).limit(limit).offset(offset)
    )
    return list(rows), total


def due_reminders(db: Session, now: datetime | None = None, limit: int = 500) -> list[Task]:
    """Open tasks whose reminder time has come and that were not reminded yet."""
    now = now or utcnow()
    return list(
        db.scalars(
            select(Task)
            .where(
                Task.status.in_(OPEN_STATUSES),
                Task.remind_at.is_not(None),
                Task.remind_at <= now,
                Task.reminded_at.is_(None),
            )
            .order_by(Task.remind_at)
            .limit(limit)
        )
    )
