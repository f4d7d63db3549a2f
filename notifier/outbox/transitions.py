"""Status transitions of outbox rows, as the delivery engine writes them: in batches, with
their history, announced to the admins' outbox page.

Every step of the engine (claim, deliver, reconcile, callbacks) decides a list of
:class:`Change` and hands it to :func:`write_changes` or :func:`record_history`.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import String, bindparam, func, literal_column, or_, select, update
from sqlalchemy.orm import Session

from crm_core.bus import get_bus
from crm_core.database import UTCDateTime
from crm_core.events import OutboxStatus
from notifier.config import NotifierSettings
from notifier.outbox.models import OutboxMessage, OutboxStatusChange

log = logging.getLogger("callcard.notifier.dispatch")

T = OutboxMessage.__table__


@dataclass
class Change:
    """One status transition to write (and to announce on the bus)."""

    id: int
    status: str
    source: str
    values: dict[str, Any] = field(default_factory=dict)
    error_code: str = ""
    detail: str = ""


@dataclass
class Claim:
    """Rows leased by one dispatcher under one token (the token proves the lease is ours)."""

    token: str
    ids: list[int]


@dataclass
class Stats:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    unknown: int = 0
    reconciled: int = 0

    def count(self, field_name: str) -> None:
        """One more in ``field_name`` ("" counts nothing)."""
        if field_name:
            setattr(self, field_name, getattr(self, field_name) + 1)

    def add(self, other: Stats) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def backoff(attempts: int, settings: NotifierSettings) -> float:
    """Exponential backoff with jitter: base * 2^(n-1), times 0.5..1.5, capped."""
    raw = settings.retry_base_seconds * (2 ** max(0, attempts - 1))
    return min(settings.retry_max_seconds, raw) * (0.5 + random.random())


def reconcile_delay(settings: NotifierSettings) -> timedelta:
    """How long an ``unknown`` row waits before the provider is asked (again)."""
    return timedelta(seconds=max(0.5, min(30.0, settings.unknown_grace_seconds / 4)))


def record_history(db: Session, changes: Iterable[Change], now: datetime) -> None:
    rows = [
        {
            "message_id": c.id,
            "status": c.status,
            "at": now,
            "source": c.source,
            "error_code": c.error_code[:20],
            "detail": c.detail,
        }
        for c in changes
    ]
    if rows:
        db.execute(OutboxStatusChange.__table__.insert(), rows)


def announce(changes: Iterable[Change]) -> None:
    """``outbox.status`` for the admins' outbox page; never lets a bus problem stop delivery."""
    try:
        bus = get_bus()
        for c in changes:
            bus.publish_sync(OutboxStatus(message_id=c.id, status=c.status))
    except Exception as exc:  # pragma: no cover - bus trouble must not block sending
        log.warning("could not announce outbox status: %s", exc)


def write_changes(
    db: Session, changes: list[Change], now: datetime, from_statuses: tuple[str, ...]
) -> list[Change]:
    """Write results in one round trip; returns the changes that took effect.

    A row a status callback already moved on keeps its status (the provider id is filled in
    if it was missing)."""
    if not changes:
        return []
    db.execute(_write_statement(from_statuses, now), [_write_params(c) for c in changes])
    current = dict(
        db.execute(
            select(OutboxMessage.id, OutboxMessage.status).where(
                OutboxMessage.id.in_([c.id for c in changes])
            )
        )
        .tuples()
        .all()
    )
    written = [c for c in changes if current.get(c.id) == c.status]
    _fill_late_provider_ids(db, changes, {c.id for c in written}, now)
    record_history(db, written, now)
    return written


def _write_params(change: Change) -> dict[str, Any]:
    return {
        "_id": change.id,
        "_status": change.status,
        "_code": change.error_code[:20],
        "_msg": change.detail,
        "_next": change.values.get("next_attempt_at"),
        "_pid": change.values.get("provider_id"),
        "_sent": change.values.get("sent_at"),
    }


def _fill_late_provider_ids(
    db: Session, changes: list[Change], written: set[int], now: datetime
) -> None:
    """Rows a callback got to first still learn the provider id they were sent as."""
    late = [
        {"_id": c.id, "_pid": c.values["provider_id"]}
        for c in changes
        if c.id not in written and c.values.get("provider_id")
    ]
    if late:
        db.execute(
            update(T)
            .where(T.c.id == bindparam("_id"), T.c.provider_id.is_(None))
            .values(provider_id=bindparam("_pid"), sent_at=now),
            late,
        )


def _write_statement(from_statuses: tuple[str, ...], now: datetime):
    """One UPDATE for a whole batch of results (executemany)."""
    return (
        update(T)
        .where(
            T.c.id == bindparam("_id"),
            or_(*(T.c.status == literal_column(f"'{status}'") for status in from_statuses)),
        )
        .values(
            status=bindparam("_status"),
            claimed_by="",
            claimed_until=None,
            updated_at=now,
            error_code=bindparam("_code"),
            error_message=bindparam("_msg"),
            next_attempt_at=func.coalesce(
                bindparam("_next", type_=UTCDateTime()), T.c.next_attempt_at
            ),
            provider_id=func.coalesce(bindparam("_pid", type_=String()), T.c.provider_id),
            sent_at=func.coalesce(bindparam("_sent", type_=UTCDateTime()), T.c.sent_at),
        )
    )


def meta_dict(value: Any) -> dict[str, Any]:
    """A row's ``meta`` as a dict, whether the driver returned it parsed or as JSON text."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value:
        try:
            loaded = json.loads(value)
        except ValueError:
            return {}
        return loaded if isinstance(loaded, dict) else {}
    return {}


def aware(value: datetime | str | None) -> datetime | None:
    """A timestamp read through a raw statement, as an aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value
