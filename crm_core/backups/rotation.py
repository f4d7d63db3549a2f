"""Which archives to keep: the newest of each of the last N days, weeks and months.

A pure function of the archives' times, so it is property-tested; :func:`prune` applies it to a
directory, deleting only files named like our archives.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

PREFIX = "callcard-backup-"
STAMP = "%Y%m%dT%H%M%SZ"
NAME_RE = re.compile(r"^callcard-backup-(\d{8}T\d{6}Z)\.tar(\.gz)?(\.enc)?$")


@dataclass(frozen=True)
class Policy:
    daily: int = 7
    weekly: int = 4
    monthly: int = 12


def archive_name(at: datetime, *, compressed: bool, encrypted: bool) -> str:
    suffix = ".tar" + (".gz" if compressed else "") + (".enc" if encrypted else "")
    return f"{PREFIX}{at.astimezone(UTC).strftime(STAMP)}{suffix}"


def archive_time(name: str) -> datetime | None:
    found = NAME_RE.match(name)
    if found is None:
        return None
    return datetime.strptime(found.group(1), STAMP).replace(tzinfo=UTC)


def _newest_per_bucket(times: list[datetime], bucket: Callable[[datetime], object], count: int):
    """The newest time of each of the ``count`` most recent buckets that hold any time."""
    kept: dict[object, datetime] = {}
    for at in sorted(times, reverse=True):
        key = bucket(at)
        if key not in kept:
            if len(kept) == count:
                break
            kept[key] = at
    return set(kept.values())


def _week(at: datetime) -> tuple[int, int]:
    iso = at.date().isocalendar()
    return iso.year, iso.week


def _day(at: datetime) -> date:
    return at.date()


def _month(at: datetime) -> tuple[int, int]:
    return at.year, at.month


def to_keep(times: Iterable[datetime], policy: Policy) -> set[datetime]:
    """The times to keep: the newest overall, and the newest of each of the last
    ``policy.daily`` days, ``weekly`` ISO weeks and ``monthly`` months that have archives."""
    times = list(times)
    if not times:
        return set()
    keep = {max(times)}
    keep |= _newest_per_bucket(times, _day, policy.daily)
    keep |= _newest_per_bucket(times, _week, policy.weekly)
    keep |= _newest_per_bucket(times, _month, policy.monthly)
    return keep


def prune(directory: Path, policy: Policy, *, spare: Iterable[str] = ()) -> list[Path]:
    """Delete the archives in ``directory`` the policy does not keep; returns what went.
    ``spare``: names to leave alone and out of the count (archives that failed verification)."""
    spared = set(spare)
    found: dict[datetime, list[Path]] = {}
    for path in directory.iterdir() if directory.is_dir() else ():
        at = archive_time(path.name)
        if at is not None and path.name not in spared and path.is_file():
            found.setdefault(at, []).append(path)
    keep = to_keep(found, policy)
    removed = []
    for at, paths in found.items():
        if at not in keep:
            for path in paths:
                path.unlink(missing_ok=True)
                removed.append(path)
    return sorted(removed)
