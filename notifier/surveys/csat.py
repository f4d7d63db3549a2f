"""CSAT: the share of 4 and 5 ratings, per operator and per team, for a period."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from crm_core.auth.models import Team, User
from crm_core.auth.principal import Principal
from crm_core.database import utcnow
from crm_core.errors import Invalid
from notifier.surveys.models import Survey
from notifier.templates import service as templates

PERIODS = {"today": None, "7d": 7, "30d": 30, "90d": 90, "365d": 365}


def period_start(period: str, now: datetime | None = None) -> datetime:
    now = now or utcnow()
    if period not in PERIODS:
        raise Invalid("period", f"must be one of {', '.join(PERIODS)}")
    days = PERIODS[period]
    if days is None:
        zone = templates.client_zone(None)
        local = now.astimezone(zone)
        return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(ZoneInfo("UTC"))
    return now - timedelta(days=days)


def _figures(count: int, total: int, satisfied: int) -> dict[str, Any]:
    return {
        "responses": count,
        "average": round(total / count, 2) if count else None,
        "csat": round(100.0 * satisfied / count, 1) if count else None,  # share of 4 and 5
    }


def csat(db: Session, actor: Principal, period: str = "7d", now: datetime | None = None) -> dict:
    """CSAT per operator and per team (operators see their own team only)."""
    start = period_start(period, now)
    satisfied = func.sum(case((Survey.rating >= 4, 1), else_=0))
    query = select(
        Survey.operator_user_id,
        Survey.team_id,
        func.count(Survey.id),
        func.sum(Survey.rating),
        satisfied,
    ).where(Survey.status == "answered", Survey.answered_at >= start)
    if not actor.sees_all_clients:
        if actor.team_id is None:
            query = query.where(Survey.operator_user_id == actor.id)
        else:
            query = query.where(Survey.team_id == actor.team_id)
    rows = db.execute(query.group_by(Survey.operator_user_id, Survey.team_id)).all()
    users = {
        u.id: u for u in db.scalars(select(User).where(User.id.in_({r[0] for r in rows if r[0]})))
    }
    teams = {
        t.id: t for t in db.scalars(select(Team).where(Team.id.in_({r[1] for r in rows if r[1]})))
    }
    operators: list[dict[str, Any]] = []
    per_team: dict[int | None, list[int]] = {}
    overall = [0, 0, 0]
    for user_id, team_id, count, total, happy in rows:
        count, total, happy = int(count or 0), int(total or 0), int(happy or 0)
        user = users.get(user_id)
        operators.append(
            {
                "user_id": user_id,
                "username": user.username if user else None,
                "full_name": user.full_name if user else None,
                "team_id": team_id,
                **_figures(count, total, happy),
            }
        )
        bucket = per_team.setdefault(team_id, [0, 0, 0])
        for i, v in enumerate((count, total, happy)):
            bucket[i] += v
            overall[i] += v
    operators.sort(key=lambda o: (-(o["responses"]), o["user_id"] or 0))
    return {
        "period": period,
        "since": start.isoformat(),
        "overall": _figures(*overall),
        "operators": operators,
        "teams": [
            {
                "team_id": team_id,
                "name": teams[team_id].name if team_id in teams else None,
                **_figures(*values),
            }
            for team_id, values in sorted(per_team.items(), key=lambda kv: kv[0] or 0)
        ],
    }
