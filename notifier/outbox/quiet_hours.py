"""Quiet hours: no SMS or call reaches a client at night, in the client's own timezone.

Checked at claim time; a message due in the quiet hours stays in the outbox until the morning.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as pn_timezone

from notifier.config import NotifierSettings


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


@lru_cache(maxsize=4096)
def _number_zone(e164: str) -> str:
    """The first timezone of the number's region ("" when unknown)."""
    try:
        zones = pn_timezone.time_zones_for_number(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return ""
    zones = [z for z in zones if z != "Etc/Unknown"]
    return zones[0] if zones else ""


def recipient_zone(e164: str, client_zone: str, settings: NotifierSettings) -> ZoneInfo:
    """The client's timezone, else the number's region's, else the installation's."""
    return (
        _zone(client_zone or "")
        or _zone(_number_zone(e164))
        or _zone(settings.timezone)
        or ZoneInfo("UTC")
    )


def quiet_until(now: datetime, zone: ZoneInfo, start: int, end: int) -> datetime | None:
    """When the quiet hours around ``now`` end (UTC), or None if ``now`` is not in them.

    ``start == end`` turns quiet hours off. The window may wrap midnight (21 -> 9).
    """
    if start == end:
        return None
    local = now.astimezone(zone)
    hour = local.hour
    inside = (start <= hour < end) if start < end else (hour >= start or hour < end)
    if not inside:
        return None
    morning = local.replace(hour=end, minute=0, second=0, microsecond=0)
    if morning <= local:
        morning = (local + timedelta(days=1)).replace(hour=end, minute=0, second=0, microsecond=0)
        # re-localise across a DST change
        morning = morning.replace(tzinfo=zone)
    return morning.astimezone(now.tzinfo)
