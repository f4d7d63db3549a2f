"""Managers' opt-in to the scheduled report e-mail (daily or weekly, or none)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.audit import service as audit
from crm_core.auth.principal import Principal
from crm_core.errors import Invalid
from dashboard.reports.models import FREQUENCIES, ReportSubscription


def frequency_of(db: Session, user_id: int | None) -> str:
    if user_id is None:
        return "none"
    row = db.scalar(select(ReportSubscription).where(ReportSubscription.user_id == user_id))
    return row.frequency if row else "none"


def set_frequency(db: Session, actor: Principal, frequency: str) -> None:
    """``daily``, ``weekly`` or ``none`` (stop); audited."""
    if frequency not in (*FREQUENCIES, "none"):
        raise Invalid("frequency", "must be daily, weekly or none")
    if actor.id is None or actor.role not in ("admin", "manager"):
        raise Invalid("frequency", "only managers and admins receive reports")
    row = db.scalar(select(ReportSubscription).where(ReportSubscription.user_id == actor.id))
    before = {"frequency": row.frequency if row else "none"}
    if frequency == "none":
        if row is not None:
            db.delete(row)
    elif row is None:
        db.add(ReportSubscription(user_id=actor.id, frequency=frequency))
    else:
        row.frequency = frequency
    audit.record(
        db, actor, "update", "report_subscription", actor.id, before, {"frequency": frequency}
    )
    db.flush()
