"""What a delivery process holds once: settings, channel adapters, a send thread pool, a rate
limiter and a session factory; and the two moves every step of the engine shares: leasing rows
and writing status changes."""

from __future__ import annotations

import os
import socket
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Integer, String, bindparam, text
from sqlalchemy.orm import Session

from crm_core.database import UTCDateTime, session_factory
from notifier.channels import Channel, OutgoingMessage, channel_for
from notifier.config import NotifierSettings, get_settings
from notifier.outbox.transitions import Change, announce, aware, meta_dict, write_changes
from notifier.ratelimit import RateLimiter, limiter_for


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def outgoing(row: Any) -> OutgoingMessage:
    """The plain data a channel gets for one outbox row (read by a raw or Core statement)."""
    return OutgoingMessage(
        id=row.id,
        channel=row.channel,
        recipient=row.recipient,
        body=row.body,
        subject=row.subject,
        meta=meta_dict(row.meta),
        first_attempt_at=aware(row.created_at),
    )


class DeliveryEngine:
    """One per process (it keeps channels, HTTP pools and a thread pool)."""

    def __init__(
        self,
        settings: NotifierSettings | None = None,
        *,
        worker: str | None = None,
        limiter: RateLimiter | None = None,
        channels: dict[str, Channel] | None = None,
    ) -> None:
        self.settings = settings or get_settings()
        self.worker = worker or worker_name()
        self.limiter = limiter or limiter_for(self.settings)
        self._channels: dict[str, Channel] = dict(channels or {})
        self._pool: ThreadPoolExecutor | None = None
        self.sessions = session_factory(self.settings)

    def channel(self, kind: str) -> Channel:
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

    def lease_end(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.settings.dispatch_lease_seconds)

    def new_token(self) -> str:
        """Names one claim: rows leased under it can only be moved on by its holder."""
        return f"{self.worker}:{uuid.uuid4().hex[:12]}"

    def _claim_sql(self, db: Session, statuses: tuple[str, ...], new_status: str, limit: int):
        """Lease due rows in due order (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, a conditional
        UPDATE on SQLite, where writers are serialised anyway)."""
        status_list = ", ".join(f"'{s}'" for s in statuses)
        lock = " FOR UPDATE SKIP LOCKED" if db.get_bind().dialect.name == "postgresql" else ""
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

    def lease_due(
        self,
        db: Session,
        statuses: tuple[str, ...],
        new_status: str,
        *,
        token: str,
        limit: int,
        now: datetime,
    ) -> list[Any]:
        """Move up to ``limit`` due rows in ``statuses`` to ``new_status`` under ``token``;
        returns them (id, channel, recipient, client_id, meta)."""
        stmt = self._claim_sql(db, statuses, new_status, limit)
        params = {"token": token, "until": self.lease_end(now), "now": now}
        return db.execute(stmt, params).all()

    def write(self, changes: list[Change], now: datetime, from_statuses: tuple[str, ...]) -> None:
        """Write a batch of results in its own transaction, then announce what took effect."""
        if not changes:
            return
        with self.sessions.begin() as db:
            written = write_changes(db, changes, now, from_statuses)
        announce(written)
