"""``/tasks``: mine, today, overdue, by client; create, assign, complete."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session

from crm_core.auth.principal import Principal
from crm_core.clients.models import Client
from crm_core.database import request_session, utcnow
from crm_core.errors import Invalid, NotFound
from crm_core.tasks import service as tasks
from crm_core.users import service as users
from dashboard.views.common import page_user, render, task_words
from dashboard.views.workspace import local_day_start

router = APIRouter(include_in_schema=False)

VIEWS = ("mine", "today", "overdue", "all")


@router.get("/tasks")
def task_list(
    request: Request,
    view: str = "mine",
    client: int | None = None,
    page: int = 1,
    user: Principal = Depends(page_user),
    db: Session = request_session,
):
    view = view if view in VIEWS else "mine"
    page = max(1, min(page, 10_000))
    now = utcnow()
    options: dict = {"now": now, "limit": 50, "offset": (page - 1) * 50}
    if client is None:
        options["status"] = ["open", "in_progress"]
        if view in ("mine", "today"):
            options["mine"] = True
        if view == "today":
            options.update(today=True, day_start=local_day_start(now))
        if view == "overdue":
            options["overdue"] = True
    error = ""
    rows: list = []
    total = 0
    client_name = ""
    try:
        if client is not None:
            options["client_id"] = client
            row = db.get(Client, client)
            client_name = row.display_name if row else ""
        rows, total = tasks.list_tasks(db, user, **options)
    except (NotFound, Invalid) as exc:
        error = exc.message
    colleagues = users.list_users(db, user)
    client_ids = {t.client_id for t in rows if t.client_id}
    client_names = (
        {c.id: c.display_name for c in db.query(Client).filter(Client.id.in_(client_ids))}
        if client_ids
        else {}
    )
    return render(
        request,
        "tasks.html",
        {
            "view": view,
            "rows": rows,
            "shown": task_words(db, rows),
            "total": total,
            "page": page,
            "error": error,
            "client_filter": client,
            "client_name": client_name,
            "client_names": client_names,
            "colleagues": colleagues,
            "names": {u.id: u.full_name or u.username for u in colleagues},
            "overdue_ids": {t.id for t in rows if tasks.is_overdue(t, now)},
            "views": VIEWS,
        },
        user=user,
    )
