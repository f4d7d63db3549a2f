"""The reports: calls (from the per-hour figures of ``cti.daystats``), CSAT (the notifier's
answered surveys) and tasks, for a :class:`~dashboard.reports.periods.Period`.

Each returns plain dicts (numbers, dates, names) that the page, the JSON API, the XLSX export
and the scheduled e-mail all show. Reports are for managers and admins (every team).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from crm_core.auth.models import Team, User
from crm_core.database import utcnow
from crm_core.tasks.models import Task
from cti.daystats import service as daystats
from dashboard.reports.periods import Period

DIRECTIONS = {"inbound": ("inbound",), "outbound": ("outbound",), "all": ("inbound", "outbound")}
OPEN_STATUSES = ("open", "in_progress")


def call_figures(row: dict[str, int] | None) -> dict[str, Any]:
    """Counts, service level (%) and average wait/talk (s) of summed per-hour rows."""
    row = row or dict.fromkeys(daystats.FIGURES, 0)
    calls, answered = row["calls"], row["answered"]
    return {
        "calls": calls,
        "answered": answered,
        "missed": row["missed"] + row["busy"],
        "abandoned": row["abandoned"],
        "failed": row["failed"],
        "service_level": round(100.0 * row["answered_in_sl"] / calls, 1) if calls else None,
        "avg_wait": round(row["wait_ms"] / calls / 1000, 1) if calls else None,
        "avg_talk": round(row["talk_ms"] / answered / 1000, 1) if answered else None,
    }


def _add(into: dict[str, int], row: dict[str, Any]) -> None:
    for name in daystats.FIGURES:
        into[name] = into.get(name, 0) + int(row[name])


def _user_names(db: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = db.execute(select(User.id, User.full_name, User.username).where(User.id.in_(ids)))
    return {i: full or name for i, full, name in rows}


def _team_names(db: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(db.execute(select(Team.id, Team.name).where(Team.id.in_(ids))).all())


def call_report(db: Session, period: Period, direction: str = "inbound") -> dict[str, Any]:
    """Calls per local day, per local hour of the day, per operator and per queue."""
    directions = DIRECTIONS.get(direction, DIRECTIONS["inbound"])
    span = {"since": period.start, "until": period.end, "directions": directions}
    per_day: dict = {day: {} for day in period.days}
    per_hour: dict[int, dict[str, int]] = {h: {} for h in range(24)}
    total: dict[str, int] = {}
    for row in daystats.sums(db, cut="total", by_hour=True, **span):
        local = row["hour"].astimezone(period.zone)
        if local.date() in per_day:
            _add(per_day[local.date()], row)
            _add(per_hour[local.hour], row)
            _add(total, row)
    operators = daystats.sums(db, cut="operator", **span)
    names = _user_names(db, {int(r["key"]) for r in operators if r["key"]})
    queues = daystats.sums(db, cut="queue", **span)
    return {
        "direction": direction if direction in DIRECTIONS else "inbound",
        "sl_seconds": daystats.service_level_seconds(),
        "total": call_figures(total or None),
        "days": [{"day": d, **call_figures(v or None)} for d, v in per_day.items()],
        "hours": [{"hour": h, **call_figures(v or None)} for h, v in per_hour.items()],
        "operators": sorted(
            (
                {
                    "user_id": int(r["key"]) if r["key"] else None,
                    "name": names.get(int(r["key"]), f"#{r['key']}") if r["key"] else None,
                    **call_figures(r),
                }
                for r in operators
            ),
            key=lambda r: (r["user_id"] is None, -r["calls"]),
        ),  # fmt: skip
        "queues": sorted(
            ({"queue": r["key"], **call_figures(r)} for r in queues),
            key=lambda r: (r["queue"] == "", r["queue"]),
        ),
    }


def _csat(count: int, total: int, happy: int) -> dict[str, Any]:
    return {
        "responses": count,
        "average": round(total / count, 2) if count else None,
        "csat": round(100.0 * happy / count, 1) if count else None,
    }


def csat_report(db: Session, period: Period) -> dict[str, Any]:
    """Answered surveys of the period: per operator, per team, and each team's daily trend."""
    from notifier.surveys.models import Survey

    happy = func.sum(case((Survey.rating >= 4, 1), else_=0))
    where = (
        Survey.status == "answered",
        Survey.rating.is_not(None),
        Survey.answered_at >= period.start,
        Survey.answered_at < period.end,
    )
    grouped = db.execute(
        select(
            Survey.operator_user_id, Survey.team_id, func.count(), func.sum(Survey.rating), happy
        )
        .where(*where)
        .group_by(Survey.operator_user_id, Survey.team_id)
    ).all()
    per_op: dict = defaultdict(lambda: [0, 0, 0])
    per_team: dict = defaultdict(lambda: [0, 0, 0])
    overall = [0, 0, 0]
    for user_id, team_id, count, total, good in grouped:
        for bucket in (per_op[user_id], per_team[team_id], overall):
            for i, value in enumerate((count, total, good)):
                bucket[i] += int(value or 0)
    trend: dict = defaultdict(lambda: {d: [0, 0, 0] for d in period.days})
    for answered_at, team_id, rating in db.execute(
        select(Survey.answered_at, Survey.team_id, Survey.rating).where(*where)
    ):
        day = answered_at.astimezone(period.zone).date()
        if day in trend[team_id]:
            values = trend[team_id][day]
            values[0] += 1
            values[1] += rating
            values[2] += int(rating >= 4)
    users = _user_names(db, {u for u in per_op if u})
    teams = _team_names(db, {t for t in per_team if t})
    return {
        "overall": _csat(*overall),
        "operators": sorted(
            (
                {"user_id": u, "name": users.get(u) if u else None, **_csat(*v)}
                for u, v in per_op.items()
            ),
            key=lambda r: (r["user_id"] is None, -r["responses"]),
        ),  # fmt: skip
        "teams": [
            {"team_id": t, "name": teams.get(t) if t else None, **_csat(*v)}
            for t, v in sorted(per_team.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))
        ],
        "trend": [
            {
                "team_id": t,
                "name": teams.get(t) if t else None,
                "days": [{"day": d, **_csat(*v)} for d, v in days.items()],
            }
            for t, days in sorted(trend.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))
        ],  # fmt: skip
    }


def tasks_report(db: Session, period: Period, now: datetime | None = None) -> dict[str, Any]:
    """Per employee: tasks done within the period, and tasks overdue now."""
    now = now or utcnow()
    done = db.execute(
        select(Task.assignee_id, func.count())
        .where(
            Task.status == "done",
            Task.completed_at >= period.start,
            Task.completed_at < period.end,
        )
        .group_by(Task.assignee_id)
    ).all()
    overdue = db.execute(
        select(Task.assignee_id, func.count())
        .where(Task.status.in_(OPEN_STATUSES), Task.due_at.is_not(None), Task.due_at < now)
        .group_by(Task.assignee_id)
    ).all()
    rows: dict = defaultdict(lambda: {"done": 0, "overdue": 0})
    for user_id, count in done:
        rows[user_id]["done"] = int(count)
    for user_id, count in overdue:
        rows[user_id]["overdue"] = int(count)
    names = _user_names(db, {u for u in rows if u})
    people = sorted(
        ({"user_id": u, "name": names.get(u) if u else None, **v} for u, v in rows.items()),
        key=lambda r: (r["user_id"] is None, -r["overdue"], -r["done"], r["name"] or ""),
    )
    return {
        "people": people,
        "done": sum(r["done"] for r in people),
        "overdue": sum(r["overdue"] for r in people),
    }


def sales_summary(db: Session, period: Period) -> list[dict[str, Any]] | None:
    """Invoices issued in the period per currency, if the sales part is installed (else None)."""
    try:
        from crm_core.invoices.models import Invoice
    except ImportError:
        return None
    try:
        with db.begin_nested():
            rows = db.execute(
                select(
                    Invoice.currency, func.count(), func.sum(Invoice.total), func.sum(Invoice.paid)
                )
                .where(
                    Invoice.kind == "invoice",
                    Invoice.status.not_in(("draft", "cancelled")),
                    Invoice.issued_at >= period.start,
                    Invoice.issued_at < period.end,
                )
                .group_by(Invoice.currency)
            ).all()
    except Exception:  # an older database without the sales tables: leave the figures out
        return None
    return [
        {"currency": cur, "invoices": int(n), "total": str(total or 0), "paid": str(paid or 0)}
        for cur, n, total, paid in rows
    ]
