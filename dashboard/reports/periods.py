"""The period of a report: whole local days in the reader's time zone, as UTC bounds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crm_core.database import utcnow
from crm_core.errors import Invalid

PERIODS = ("today", "7d", "30d", "custom")
MAX_DAYS = 366


@dataclass(frozen=True)
class Period:
    key: str
    first_day: date
    last_day: date  # inclusive
    zone: ZoneInfo

    @property
    def start(self) -> datetime:
        return local_midnight(self.first_day, self.zone)

    @property
    def end(self) -> datetime:
        return local_midnight(self.last_day + timedelta(days=1), self.zone)

    @property
    def days(self) -> list[date]:
        count = (self.last_day - self.first_day).days + 1
        return [self.first_day + timedelta(days=i) for i in range(count)]


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def zone_of(name: str | None) -> ZoneInfo:
    """The user's time zone, else the company's (settings.timezone)."""
    from crm_core.config import get_settings

    for candidate in (name, get_settings().timezone, "UTC"):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def _parse(value: str | None, field: str) -> date:
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        raise Invalid(field, "must be a date like 2024-05-31") from None


def resolve(
    key: str | None,
    zone: ZoneInfo,
    *,
    date_from: str | None = None,
    date_to: str | None = None,
    now: datetime | None = None,
) -> Period:
    """``today``, the last 7 or 30 days (today included), or ``custom`` from/to (inclusive)."""
    key = key or "7d"
    if key not in PERIODS:
        raise Invalid("period", f"must be one of {', '.join(PERIODS)}")
    today = (now or utcnow()).astimezone(zone).date()
    if key == "today":
        return Period(key, today, today, zone)
    if key in ("7d", "30d"):
        return Period(key, today - timedelta(days=int(key[:-1]) - 1), today, zone)
    first, last = _parse(date_from, "from"), _parse(date_to, "to")
    if last < first:
        raise Invalid("to", "must not be before the start date")
    if (last - first).days + 1 > MAX_DAYS:
        raise Invalid("to", f"a report covers at most {MAX_DAYS} days")
    return Period(key, first, last, zone)
