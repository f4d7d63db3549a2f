"""The rows of the other list exports (tasks), as the list shows them, for the writers of
:mod:`crm_core.exchange.export_formats`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.auth.models import User
from crm_core.auth.principal import Principal
from crm_core.auth.rights import require
from crm_core.clients.models import Client
from crm_core.exchange.export import _cell
from crm_core.tasks import service as tasks

TASK_COLUMNS = (
    "id",
    "kind",
    "title",
    "status",
    "priority",
    "due_at",
    "starts_at",
    "ends_at",
    "location",
    "client",
    "assignee",
    "overdue",
    "description",
)
TASK_ROWS_MAX = 100_000


def task_rows(db: Session, actor: Principal, **filters: Any) -> Iterator[list[Any]]:
    """The header, then the tasks the actor may see with the list's filters."""
    require(actor.can_export, "export tasks")
    rows, _ = tasks.list_tasks(db, actor, limit=TASK_ROWS_MAX, offset=0, **filters)
    yield list(TASK_COLUMNS)
    client_ids = {t.client_id for t in rows if t.client_id}
    q = select(Client.id, Client.display_name).where(Client.id.in_(client_ids))
    names = dict(db.execute(q).tuples().all())
    users = dict(db.execute(select(User.id, User.username)).tuples().all())
    for t in rows:
        yield [
            _cell(value)
            for value in (
                t.id,
                t.kind,
                t.title,
                t.status,
                t.priority,
                t.due_at,
                t.starts_at,
                t.ends_at,
                t.location,
                names.get(t.client_id, ""),
                users.get(t.assignee_id, ""),
                "yes" if tasks.is_overdue(t) else "",
                t.description,
            )
        ]
