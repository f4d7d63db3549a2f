"""Claim due outbox rows and send them: the code Celery workers and the embedded loop share.

The steps, each its own short transaction:

1. ``housekeeping``: leases that ran out. A row still ``claimed`` never left: back to ``retry``.
   A row ``sending`` may have left: ``unknown``, to be reconciled. ``reconciling``: ``unknown``.
2. ``claim``: due ``pending``/``retry`` rows get a lease (``FOR UPDATE SKIP LOCKED`` on
   PostgreSQL, a conditional UPDATE on SQLite). Opt-outs fail here ("opted out") and messages due
   in the recipient's quiet hours are deferred to the morning.
3. ``deliver``: rows still claimed under this claim's token become ``sending`` (committed
   BEFORE any request leaves), then go out through their channel, rate-limited per sender, and
   the results are written back: accepted, retry with backoff, failed, or ``unknown``.
4. ``reconcile``: ``unknown`` rows are looked up at the provider; found -> its status, not found
   after ``unknown_grace_seconds`` -> ``retry``. So a client never gets the same SMS twice.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import (
    JSON,
    Integer,
    String,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from crm_core.config import Settings, get_settings
from crm_core.database import UTCDateTime, session_factory, utcnow
from notifier.channels import OutgoingMessage, SendResult, channel_for
from notifier.outbox.models import OutboxMessage, OutboxStatusChange
from notifier.outbox.service import opted_out_numbers, record_opt_out
from notifier.ratelimit import RateLimiter, limiter_for

log = logging.getLogger("callcard.notifier.dispatch")

T = OutboxMessage.__table__


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# --------------------------------------------------------------------------- quiet hours


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


@lru_cache(maxsize=4096)
def _number_zone(e164: str) -> str:
    import phonenumbers
    from phonenumbers import timezone as pn_timezone

    try:
        zones = pn_timezone.time_zones_for_number(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return ""
    zones = [z for z in zones if z != "Etc/Unknown"]
    return zones[0] if zones else ""


def recipient_zone(e164: str, client_zone: str, settings: Settings) -> ZoneInfo:
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


# --------------------------------------------------------------------------- bookkeeping


def backoff(attempts: int, settings: Settings) -> float:
    """Exponential backoff with jitter: base * 2^(n-1), times 0.5..1.5, capped."""
    raw = settings.retry_base_seconds * (2 ** max(0, attempts - 1))
    return min(settings.retry_max_seconds, raw) * (0.5 + random.random())


@dataclass
class Change:
    """One status transition to write (and to announce on the bus)."""

    id: int
    status: str
    source: str
    values: dict[str, Any] = field(default_factory=dict)
    error_code: str = ""
    detail: str = ""


def _history(db: Session, changes: Iterable[Change], now: datetime) -> None:
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
        from crm_core.bus import get_bus

        bus = get_bus()
        for c in changes:
            bus.publish_sync(
                {
                    "type": "outbox.status",
                    "audience": ["role:admin"],
                    "message_id": c.id,
                    "status": c.status,
                }
            )
    except Exception as exc:  # pragma: no cover - bus trouble must not block sending
        log.warning("could not announce outbox status: %s", exc)


# --------------------------------------------------------------------------- the dispatcher


@dataclass
class Claim:
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

    def add(self, other: Stats) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


class Dispatcher:
    """Claims and sends; one per process (it keeps channels, HTTP pools and a thread pool)."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        worker: str | None = None,
        limiter: RateLimiter | None = None,
        channels: dict[str, Any] | None = None,
    ) -> None:
        self.settings = settings or get_settings()
        self.worker = worker or worker_name()
        self.limiter = limiter or limiter_for(self.settings)
        self._channels: dict[str, Any] = dict(channels or {})
        self._pool: ThreadPoolExecutor | None = None
        self._sessions = session_factory(self.settings)

    # -- plumbing
    def channel(self, kind: str):
        if kind not in self._channels:
            self._channels[kind] = channel_for(kind, self.settings)
        return self._channels[kind]

    @property
    def pool(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                max(1, self.settings.send_concurrency), thread_name_prefix="notifier-send"
            )
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def _lease(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.settings.dispatch_lease_seconds)

    def _is_pg(self, db: Session) -> bool:
        return db.get_bind().dialect.name == "postgresql"

    # -- 1. leases that ran out
    def housekeeping(self, now: datetime | None = None) -> int:
        now = now or utcnow()
        changes: list[Change] = []
        with self._sessions.begin() as db:
            for old, new, note in (
                ("claimed", "retry", "lease expired before sending; nothing left"),
                ("sending", "unknown", "lease expired while sending; checking with the provider"),
                ("reconciling", "unknown", "lease expired while reconciling"),
            ):
                ids = list(
                    db.scalars(
                        update(OutboxMessage)
                        .where(OutboxMessage.status == old, OutboxMessage.claimed_until < now)
                        .values(
                            status=new,
                            claimed_by="",
                            claimed_until=None,
                            next_attempt_at=now,
                            updated_at=now,
                        )
                        .returning(OutboxMessage.id)
                        .execution_options(synchronize_session=False)
                    )
                )
                changes += [Change(i, new, "lease", detail=note) for i in ids]
            _history(db, changes, now)
        if changes:
            log.warning("recovered %d outbox rows from expired leases", len(changes))
            announce(changes)
        return len(changes)

    # -- 2. claim
    def _claim_sql(self, db: Session, statuses: tuple[str, ...], new_status: str, limit: int):
        status_list = ", ".join(f"'{s}'" for s in statuses)
        lock = " FOR UPDATE SKIP LOCKED" if self._is_pg(db) else ""
        return (
            text(
                f"UPDATE outbox_messages SET status = '{new_status}', claimed_by = :token, "
                "claimed_until = :until, updated_at = :now "
                "WHERE id IN (SELECT id FROM outbox_messages "
                f"WHERE status IN ({status_list}) AND next_attempt_at <= :now "
                f"ORDER BY next_attempt_at LIMIT :limit{lock}) "
                f"AND status IN ({status_list}) "
                "RETURNING id, channel, recipient, client_id, meta"
            )
            .bindparams(
                bindparam("now", type_=UTCDateTime()),
                bindparam("until", type_=UTCDateTime()),
                limit=limit,
            )
            .columns(id=Integer, channel=String, recipient=String, client_id=Integer, meta=JSON)
        )

    def claim(self, limit: int | None = None, now: datetime | None = None) -> Claim:
        """Lease up to ``limit`` due messages; apply opt-outs and quiet hours."""
        now = now or utcnow()
        limit = limit or self.settings.dispatch_batch_size
        token = f"{self.worker}:{uuid.uuid4().hex[:12]}"
        changes: list[Change] = []
        with self._sessions.begin() as db:
            stmt = self._claim_sql(db, ("pending", "retry"), "claimed", limit)
            params = {"token": token, "until": self._lease(now), "now": now}
            rows = db.execute(stmt, params).all()
            kept, changes = self._screen(db, rows, now)
            if changes:
                db.execute(
                    update(T)
                    .where(T.c.id == bindparam("_id"))
                    .values(
                        status=bindparam("_status"),
                        claimed_by="",
                        claimed_until=None,
                        next_attempt_at=bindparam("_next"),
                        error_code=bindparam("_code"),
                        error_message=bindparam("_msg"),
                        updated_at=now,
                    ),
                    [
                        {
                            "_id": c.id,
                            "_status": c.status,
                            "_next": c.values.get("next_attempt_at", now),
                            "_code": c.error_code,
                            "_msg": c.detail,
                        }
                        for c in changes
                    ],
                )
                _history(db, changes, now)
        if changes:
            announce([c for c in changes if c.status == "failed"])
        return Claim(token, kept)

    def _screen(self, db: Session, rows, now: datetime) -> tuple[list[int], list[Change]]:
        """Opt-outs fail, night-time messages wait for the morning; the rest may go."""
        if not rows:
            return [], []
        s = self.settings
        by_channel: dict[str, list[str]] = {}
        for row in rows:
            by_channel.setdefault(row.channel, []).append(row.recipient)
        blocked = {ch: opted_out_numbers(db, nums, ch) for ch, nums in by_channel.items()}
        client_zones: dict[int, str] = {}
        client_ids = {r.client_id for r in rows if r.client_id and r.channel in ("sms", "voice")}
        if client_ids:
            from crm_core.clients.models import Client

            client_zones = dict(
                db.execute(select(Client.id, Client.timezone).where(Client.id.in_(client_ids)))
                .tuples()
                .all()
            )
        kept: list[int] = []
        changes: list[Change] = []
        for row in rows:
            meta = _meta(row.meta)
            if row.recipient in blocked.get(row.channel, ()):
                changes.append(
                    Change(row.id, "failed", "claim", error_code="opted-out", detail="opted out")
                )
                continue
            quiet = s.quiet_hours_start != s.quiet_hours_end
            if quiet and row.channel in ("sms", "voice") and meta.get("quiet_hours", True):
                zone = recipient_zone(row.recipient, client_zones.get(row.client_id, ""), s)
                until = quiet_until(now, zone, s.quiet_hours_start, s.quiet_hours_end)
                if until is not None:
                    changes.append(
                        Change(
                            row.id,
                            "pending",
                            "quiet-hours",
                            values={"next_attempt_at": until},
                            detail=f"quiet hours in {zone.key}: deferred to "
                            f"{until.astimezone(zone):%Y-%m-%d %H:%M} local time",
                        )
                    )
                    continue
            kept.append(row.id)
        return kept, changes

    # -- 3. deliver
    def deliver(self, claim: Claim) -> Stats:
        """Send the rows still held under ``claim`` (idempotent: a repeat finds none)."""
        now = utcnow()
        with self._sessions.begin() as db:
            rows = db.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id.in_(claim.ids),
                    OutboxMessage.status == "claimed",
                    OutboxMessage.claimed_by == claim.token,
                )
                .values(
                    status="sending",
                    attempts=OutboxMessage.attempts + 1,
                    last_attempt_at=now,
                    claimed_until=self._lease(now),
                    updated_at=now,
                )
                .returning(
                    OutboxMessage.id,
                    OutboxMessage.channel,
                    OutboxMessage.recipient,
                    OutboxMessage.body,
                    OutboxMessage.subject,
                    OutboxMessage.meta,
                    OutboxMessage.attempts,
                    OutboxMessage.created_at,
                )
                .execution_options(synchronize_session=False)
            ).all()
        # committed: from here on, a crash leaves these rows "sending" -> "unknown", never resent
        if not rows:
            return Stats()
        messages = [
            (
                OutgoingMessage(
                    id=r.id,
                    channel=r.channel,
                    recipient=r.recipient,
                    body=r.body,
                    subject=r.subject,
                    meta=_meta(r.meta),
                    first_attempt_at=_aware(r.created_at),
                ),
                r.attempts,
            )
            for r in rows
        ]
        # No request may leave so late that it could still be in flight when the lease runs
        # out: after that another dispatcher may look the message up and, not finding it, resend.
        last_start = time.monotonic() + max(
            0.0, self.settings.dispatch_lease_seconds - 2 * self.settings.send_timeout_seconds
        )
        results = list(
            self.pool.map(lambda m: self._send_one(m, last_start), [m for m, _ in messages])
        )
        return self._record(
            [(m, attempts, result) for (m, attempts), result in zip(messages, results, strict=True)]
        )

    def _send_one(self, message: OutgoingMessage, last_start: float) -> SendResult:
        channel = self.channel(message.channel)
        self.limiter.wait(f"{message.channel}:{channel.sender}")
        if time.monotonic() > last_start:
            return SendResult.transient("lease", "not sent: the lease ran out while waiting")
        try:
            return channel.send(message)
        except Exception as exc:  # a bug in a channel: do not guess whether it left
            log.exception("channel %s crashed on outbox #%d", message.channel, message.id)
            return SendResult.unanswered(f"channel error: {exc}")

    def _record(self, outcomes: list[tuple[OutgoingMessage, int, SendResult]]) -> Stats:
        s = self.settings
        now = utcnow()
        stats = Stats()
        changes: list[Change] = []
        for message, attempts, result in outcomes:
            if result.accepted:
                stats.sent += 1
                changes.append(
                    Change(
                        message.id,
                        result.status,
                        "dispatch",
                        values={"provider_id": result.provider_id, "sent_at": now},
                    )
                )
            elif result.unknown:
                stats.unknown += 1
                changes.append(
                    Change(
                        message.id,
                        "unknown",
                        "dispatch",
                        values={"next_attempt_at": now + _reconcile_delay(s)},
                        error_code=result.error_code,
                        detail=result.error_message,
                    )
                )
            elif result.retryable and attempts < s.max_send_attempts:
                stats.retried += 1
                delay = backoff(attempts, s)
                changes.append(
                    Change(
                        message.id,
                        "retry",
                        "dispatch",
                        values={"next_attempt_at": now + timedelta(seconds=delay)},
                        error_code=result.error_code,
                        detail=f"{result.error_message} (attempt {attempts}; next in {delay:.0f}s)",
                    )
                )
            else:
                stats.failed += 1
                detail = result.error_message
                if result.retryable:
                    detail = f"gave up after {attempts} attempts: {detail}"
                changes.append(
                    Change(
                        message.id,
                        "failed",
                        "dispatch",
                        error_code=result.error_code,
                        detail=detail,
                    )
                )
        self._write(changes, now, from_statuses=("sending",))
        opted = [
            m for m, _, r in outcomes if r.error_code == "21610" and m.channel in ("sms", "voice")
        ]
        if opted:
            with self._sessions.begin() as db:
                for m in opted:
                    record_opt_out(db, m.recipient, m.channel, "provider 21610")
        return stats

    def _write(self, changes: list[Change], now: datetime, from_statuses: tuple[str, ...]) -> None:
        """Write results in one round trip; a row a status callback already moved on keeps its
        status (the provider id is filled in if it was missing)."""
        if not changes:
            return
        params = [
            {
                "_id": c.id,
                "_status": c.status,
                "_code": c.error_code[:20],
                "_msg": c.detail,
                "_next": c.values.get("next_attempt_at"),
                "_pid": c.values.get("provider_id"),
                "_sent": c.values.get("sent_at"),
            }
            for c in changes
        ]
        with self._sessions.begin() as db:
            db.execute(_write_statement(from_statuses, now), params)
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
            done = {c.id for c in written}
            late = [
                {"_id": c.id, "_pid": c.values["provider_id"]}
                for c in changes
                if c.id not in done and c.values.get("provider_id")
            ]
            if late:
                db.execute(
                    update(T)
                    .where(T.c.id == bindparam("_id"), T.c.provider_id.is_(None))
                    .values(provider_id=bindparam("_pid"), sent_at=now),
                    late,
                )
            _history(db, written, now)
        announce(written)

    # -- 4. reconcile
    def claim_unknown(self, limit: int | None = None, now: datetime | None = None) -> Claim:
        now = now or utcnow()
        limit = limit or self.settings.dispatch_batch_size
        token = f"{self.worker}:{uuid.uuid4().hex[:12]}"
        with self._sessions.begin() as db:
            stmt = self._claim_sql(db, ("unknown",), "reconciling", limit)
            params = {"token": token, "until": self._lease(now), "now": now}
            ids = [r.id for r in db.execute(stmt, params).all()]
        return Claim(token, ids)

    def reconcile(self, claim: Claim) -> Stats:
        """Ask the provider about unanswered sends; resend only what it has never seen."""
        if not claim.ids:
            return Stats()
        s = self.settings
        with self._sessions() as db:
            rows = db.execute(
                select(
                    OutboxMessage.id,
                    OutboxMessage.channel,
                    OutboxMessage.recipient,
                    OutboxMessage.body,
                    OutboxMessage.subject,
                    OutboxMessage.meta,
                    OutboxMessage.created_at,
                    OutboxMessage.last_attempt_at,
                    OutboxMessage.attempts,
                ).where(
                    OutboxMessage.id.in_(claim.ids),
                    OutboxMessage.status == "reconciling",
                    OutboxMessage.claimed_by == claim.token,
                )
            ).all()
        if not rows:
            return Stats()
        now = utcnow()
        stats = Stats()
        changes: list[Change] = []
        messages = [
            OutgoingMessage(
                id=r.id,
                channel=r.channel,
                recipient=r.recipient,
                body=r.body,
                subject=r.subject,
                meta=_meta(r.meta),
                first_attempt_at=_aware(r.created_at),
            )
            for r in rows
        ]
        taken = self._taken_provider_ids(rows, claim.ids)
        lookups = list(self.pool.map(lambda m: self._lookup(m, taken), messages))
        matched: dict[str, int] = {}
        for r, found in zip(rows, lookups, strict=True):
            if found is not None and found.provider_id and not found.unknown:
                if found.provider_id in matched:  # two rows matched one provider message
                    found = SendResult.unanswered(
                        f"matched the same provider message as #{matched[found.provider_id]}"
                    )
                else:
                    matched[found.provider_id] = r.id
            if found is not None and found.unknown:
                changes.append(
                    Change(
                        r.id,
                        "unknown",
                        "reconcile",
                        values={"next_attempt_at": now + _reconcile_delay(s)},
                        error_code="unknown",
                        detail=found.error_message,
                    )
                )
                continue
            if found is not None:
                stats.reconciled += 1
                changes.append(
                    Change(
                        r.id,
                        found.status,
                        "reconcile",
                        values={"provider_id": found.provider_id, "sent_at": now},
                        detail="found at the provider; not sent again",
                    )
                )
                continue
            last = _aware(r.last_attempt_at) or now
            waited = (now - last).total_seconds()
            if waited < s.unknown_grace_seconds:
                changes.append(
                    Change(
                        r.id,
                        "unknown",
                        "reconcile",
                        values={"next_attempt_at": now + _reconcile_delay(s)},
                        error_code="unknown",
                        detail=f"not (yet) known to the provider after {waited:.0f}s",
                    )
                )
            elif r.attempts >= s.max_send_attempts:
                stats.failed += 1
                changes.append(
                    Change(
                        r.id,
                        "failed",
                        "reconcile",
                        error_code="unknown",
                        detail=f"gave up after {r.attempts} attempts without an answer",
                    )
                )
            else:
                stats.retried += 1
                changes.append(
                    Change(
                        r.id,
                        "retry",
                        "reconcile",
                        values={"next_attempt_at": now},
                        detail=f"the provider never received it ({waited:.0f}s); sending again",
                    )
                )
        self._write(changes, now, from_statuses=("reconciling",))
        return stats

    def _taken_provider_ids(self, rows, own_ids: list[int]) -> frozenset[str]:
        """Provider ids other outbox rows to the same recipients already own."""
        recipients = sorted({r.recipient for r in rows})
        since = min(_aware(r.created_at) for r in rows) - timedelta(days=1)
        with self._sessions() as db:
            return frozenset(
                db.scalars(
                    select(OutboxMessage.provider_id).where(
                        OutboxMessage.recipient.in_(recipients),
                        OutboxMessage.provider_id.is_not(None),
                        OutboxMessage.created_at >= since,
                        OutboxMessage.id.not_in(own_ids),
                    )
                )
            )

    def _lookup(self, message: OutgoingMessage, taken: frozenset[str]) -> SendResult | None:
        try:
            return self.channel(message.channel).reconcile(message, taken)
        except Exception as exc:
            log.exception("reconcile of outbox #%d failed", message.id)
            return SendResult.unanswered(f"lookup error: {exc}")

    # -- the embedded loop's one step
    def run_once(self, max_batches: int = 20) -> Stats:
        """Housekeeping, then claim-and-deliver until nothing is due (bounded), then reconcile."""
        stats = Stats()
        self.housekeeping()
        batch = self.settings.dispatch_batch_size
        for _ in range(max_batches):
            claim = self.claim(batch)
            stats.claimed += len(claim.ids)
            if claim.ids:
                stats.add(self.deliver(claim))
            if len(claim.ids) < batch:
                break
        unknown = self.claim_unknown(batch)
        if unknown.ids:
            stats.add(self.reconcile(unknown))
        return stats

    def drain(self, timeout: float = 30.0, idle_rounds: int = 1) -> Stats:
        """Run until nothing more is due (for CLI one-shots and tests)."""
        stats = Stats()
        deadline = time.monotonic() + timeout
        idle = 0
        while time.monotonic() < deadline:
            step = self.run_once()
            stats.add(step)
            if step.claimed == 0 and step.reconciled == 0 and step.retried == 0:
                idle += 1
                if idle >= idle_rounds:
                    break
            else:
                idle = 0
        return stats


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


def _reconcile_delay(settings: Settings) -> timedelta:
    return timedelta(seconds=max(0.5, min(30.0, settings.unknown_grace_seconds / 4)))


def _meta(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value:
        import json

        try:
            loaded = json.loads(value)
        except ValueError:
            return {}
        return loaded if isinstance(loaded, dict) else {}
    return {}


def _aware(value: datetime | str | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        from datetime import UTC

        value = value.replace(tzinfo=UTC)
    return value
