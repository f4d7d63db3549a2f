"""Quiet hours an admin sets in the browser, stored in the database; while none are stored the
settings' ``quiet_hours_start``/``quiet_hours_end`` apply (``CALLCARD_QUIET_HOURS_*``).

The outbox reads :func:`effective_settings` at claim time, so a change applies to the next
claim of every process without a restart.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.audit.service import record, snapshot
from crm_core.auth.principal import Principal
from crm_core.database import utcnow
from crm_core.errors import Invalid
from notifier.config import NotifierSettings, get_settings
from notifier.outbox.quiet_hours import quiet_until
from notifier.quiet_hours.models import QuietHours
from notifier.quiet_hours.schemas import QuietHoursOut


def stored(db: Session) -> QuietHours | None:
    return db.scalar(select(QuietHours).order_by(QuietHours.id).limit(1))


def effective_settings(db: Session, settings: NotifierSettings) -> NotifierSettings:
    """``settings`` with the admin's quiet hours (and fallback zone) when some are stored."""
    row = stored(db)
    if row is None:
        return settings
    changes = {"quiet_hours_start": row.start_hour, "quiet_hours_end": row.end_hour}
    if row.timezone:
        changes["timezone"] = row.timezone
    return settings.model_copy(update=changes)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def view(db: Session, now: datetime | None = None) -> QuietHoursOut:
    """The quiet hours in effect, and when a message may leave next."""
    base = get_settings()
    row = stored(db)
    s = effective_settings(db, base)
    zone = _zone(s.timezone)
    now = now or utcnow()
    until = quiet_until(now, zone, s.quiet_hours_start, s.quiet_hours_end)
    return QuietHoursOut(
        start_hour=s.quiet_hours_start,
        end_hour=s.quiet_hours_end,
        timezone=row.timezone if row is not None else "",
        zone=zone.key,
        overridden=row is not None,
        active_now=until is not None,
        next_departure=(until or now).astimezone(zone),
        settings_start_hour=base.quiet_hours_start,
        settings_end_hour=base.quiet_hours_end,
    )


def save(
    db: Session, actor: Principal, *, start_hour: int, end_hour: int, timezone: str = ""
) -> QuietHoursOut:
    for name, hour in (("start_hour", start_hour), ("end_hour", end_hour)):
        if not 0 <= hour <= 23:
            raise Invalid(name, "must be an hour from 0 to 23")
    timezone = timezone.strip()
    if timezone and timezone not in available_timezones():
        raise Invalid("timezone", "unknown time zone; use a name such as Europe/Bucharest")
    row = stored(db)
    before = snapshot(row) if row is not None else None
    if row is None:
        row = QuietHours(start_hour=start_hour, end_hour=end_hour)
        db.add(row)
    row.start_hour, row.end_hour, row.timezone = start_hour, end_hour, timezone
    row.updated_by_id = actor.id
    db.flush()
    action = "create" if before is None else "update"
    record(db, actor, action, "quiet_hours", row.id, before, snapshot(row))
    return view(db)


def reset(db: Session, actor: Principal) -> QuietHoursOut:
    """Back to the settings' quiet hours."""
    row = stored(db)
    if row is not None:
        before = snapshot(row)
        db.delete(row)
        db.flush()
        record(db, actor, "delete", "quiet_hours", before["id"], before, None)
    return view(db)
