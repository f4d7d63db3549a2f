"""Load today's figures from the database (at start, or after a day change)."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_core.auth.models import User
from crm_core.database import utcnow
from crm_core.events import OperatorState
from crm_core.tasks.models import Task
from dashboard.wall.counters import CSAT_DAYS, FinishedCall, WallCounters

log = logging.getLogger("callcard.wall")

OPEN_TASK_STATUSES = ("open", "in_progress")


def load_operators(db: Session, counters: WallCounters) -> None:
    rows = db.execute(
        select(User.id, User.username, User.full_name, User.extension).where(
            User.extension.is_not(None), User.is_active.is_(True)
        )
    )
    for user_id, username, full_name, extension in rows:
        counters.register_operator(extension, user_id, username, full_name)


def load_presence(counters: WallCounters) -> int:
    """Operators' current states from the CTI presence board (Redis in production), if any."""
    try:
        from cti.presence import presence_snapshot

        items = presence_snapshot()
    except Exception as exc:  # no CTI installed, or its store unreachable: states follow events
        log.info("wall: no presence snapshot at start (%s)", exc)
        return 0
    loaded = 0
    for item in items:
        loaded += counters.apply(OperatorState.parse(item))
    return loaded


def load_calls(db: Session, counters: WallCounters) -> int:
    """Today's finished calls from the CTI call log (absent when CTI is not installed)."""
    try:
        from cti.calllog.models import Call
    except ImportError:
        return 0
    loaded = 0
    query = select(
        Call.linkedid,
        Call.direction,
        Call.disposition,
        Call.started_at,
        Call.wait_s,
        Call.talk_s,
        Call.answered_extension,
        Call.rang,
    ).where(Call.started_at >= counters.day_start())
    for linkedid, direction, disposition, started, wait_s, talk_s, answered, rang in db.execute(
        query
    ):
        extension = answered or (rang[0] if direction == "outbound" and rang else None)
        loaded += counters.add_finished(
            FinishedCall(
                call_id=linkedid,
                direction=direction,
                disposition=disposition,
                started_at=started,
                wait_s=wait_s or 0.0,
                talk_s=talk_s or 0.0,
                extension=extension,
            )
        )
    return loaded


def load_ratings(db: Session, counters: WallCounters) -> int:
    """Ratings of the last days from the notifier's surveys (absent when not installed)."""
    try:
        from notifier.surveys.models import Survey
    except ImportError:
        return 0
    since = counters.day_start() - timedelta(days=CSAT_DAYS - 1)
    rows = db.execute(
        select(Survey.rating, Survey.answered_at, Survey.operator_user_id).where(
            Survey.answered_at >= since, Survey.rating.is_not(None)
        )
    )
    return sum(counters.add_rating(int(r), at, op) for r, at, op in rows)


def overdue_per_employee(db: Session) -> list[dict]:
    """Open tasks past their due time, per assignee: one grouped, indexed query."""
    now = utcnow()
    rows = db.execute(
        select(User.id, User.full_name, User.username, func.count(Task.id))
        .join(User, User.id == Task.assignee_id)
        .where(Task.status.in_(OPEN_TASK_STATUSES), Task.due_at < now)
        .group_by(User.id, User.full_name, User.username)
        .order_by(func.count(Task.id).desc(), User.username)
    )
    return [
        {"user_id": uid, "name": full_name or username, "count": count}
        for uid, full_name, username, count in rows
    ]


def load_sales(db: Session, counters: WallCounters) -> dict | None:
    from dashboard.wall.sales import sales_figures

    return sales_figures(db, counters.day, counters.day_start(), counters.day_end())


def rebuild(db: Session, counters: WallCounters) -> None:
    load_operators(db, counters)
    load_presence(counters)
    calls = load_calls(db, counters)
    ratings = load_ratings(db, counters)
    counters.set_overdue(overdue_per_employee(db))
    counters.set_sales(load_sales(db, counters))
    log.info("wall rebuilt: %d calls and %d ratings of today loaded", calls, ratings)
