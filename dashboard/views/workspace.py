"""``/``: the operator's workspace (state, live popups, calls to return, today's tasks)."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session

from crm_core.auth.principal import Principal
from crm_core.database import request_session, utcnow
from crm_core.tasks import service as tasks
from dashboard.i18n import local_zone
from dashboard.views.common import page_user, render, task_words

router = APIRouter(include_in_schema=False)


def local_day_start(now: datetime | None = None) -> datetime:
    now = (now or utcnow()).astimezone(local_zone())
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def my_state(principal: Principal) -> dict:
    """The operator's presence as the CTI part knows it (offline when unknown)."""
    if not principal.extension:
        return {"state": "offline", "since": None}
    try:
        from cti.presence import presence_snapshot

        for item in presence_snapshot():
            if str(item.get("extension")) == principal.extension:
                return {"state": item.get("state", "offline"), "since": item.get("since")}
    except Exception:  # no CTI process or its store is unreachable: show offline
        pass
    return {"state": "offline", "since": None}


@router.get("/")
def workspace(
    request: Request,
    user: Principal = Depends(page_user),
    db: Session = request_session,
):
    now = utcnow()
    overdue, _ = tasks.list_tasks(db, user, mine=True, overdue=True, now=now, limit=20)
    today, _ = tasks.list_tasks(
        db,
        user,
        mine=True,
        today=True,
        status=["open", "in_progress"],
        now=now,
        day_start=local_day_start(now),
        limit=20,
    )
    seen = {t.id for t in overdue}
    today = [t for t in today if t.id not in seen]
    return render(
        request,
        "workspace.html",
        {
            "state": my_state(user),
            "overdue": overdue,
            "today": today,
            "shown": task_words(db, overdue + today),
            "now": now,
            "tomorrow": local_day_start(now) + timedelta(days=1),
        },
        user=user,
    )
