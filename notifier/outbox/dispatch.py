"""Claim due outbox rows and send them: the code Celery workers and the embedded loop share.

The steps, each its own short transaction:

1. ``housekeeping``: leases that ran out. A row still ``claimed`` never left: back to ``retry``.
   A row ``sending`` may have left: ``unknown``, to be reconciled. ``reconciling``: ``unknown``.
2. ``claim``: due ``pending``/``retry`` rows get a lease. Opt-outs fail here ("opted out") and
   messages due in the recipient's quiet hours are deferred to the morning.
3. ``deliver``: rows still claimed under this claim's token become ``sending`` (committed
   BEFORE any request leaves), then go out through their channel, rate-limited per sender, and
   the results are written back: accepted, retry with backoff, failed, or ``unknown``.
4. ``reconcile`` (``notifier.outbox.reconcile``): ``unknown`` rows are looked up at the
   provider before anything is sent again. So a client never gets the same SMS twice.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from crm_core.clients.models import Client
from crm_core.database import utcnow
from notifier.channels import OutgoingMessage, SendResult
from notifier.outbox import reconcile as reconciliation
from notifier.outbox.engine import DeliveryEngine, outgoing
from notifier.outbox.models import (
    DUE_STATUSES,
    PHONE_CHANNELS,
    PROVIDER_OPTED_OUT,
    OutboxMessage,
)
from notifier.outbox.quiet_hours import quiet_until, recipient_zone
from notifier.outbox.service import opted_out_numbers, record_opt_out
from notifier.outbox.transitions import (
    Change,
    Claim,
    Stats,
    T,
    announce,
    backoff,
    meta_dict,
    reconcile_delay,
    record_history,
)
from notifier.quiet_hours.service import effective_settings as effective_quiet_hours

log = logging.getLogger("callcard.notifier.dispatch")

#: leases that ran out: (status then, status now, why)
EXPIRED_LEASES = (
    ("claimed", "retry", "lease expired before sending; nothing left"),
    ("sending", "unknown", "lease expired while sending; checking with the provider"),
    ("reconciling", "unknown", "lease expired while reconciling"),
)


class Dispatcher(DeliveryEngine):
    """Claims and sends; one per process (see :class:`DeliveryEngine`)."""

    # -- 1. leases that ran out
    def housekeeping(self, now: datetime | None = None) -> int:
        now = now or utcnow()
        changes: list[Change] = []
        with self.sessions.begin() as db:
            for old, new, note in EXPIRED_LEASES:
                ids = db.scalars(
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
                changes += [Change(i, new, "lease", detail=note) for i in ids]
            record_history(db, changes, now)
        if changes:
            log.warning("recovered %d outbox rows from expired leases", len(changes))
            announce(changes)
        return len(changes)

    # -- 2. claim
    def claim(self, limit: int | None = None, now: datetime | None = None) -> Claim:
        """Lease up to ``limit`` due messages; apply opt-outs and quiet hours."""
        now = now or utcnow()
        token = self.new_token()
        limit = limit or self.settings.dispatch_batch_size
        with self.sessions.begin() as db:
            rows = self.lease_due(db, DUE_STATUSES, "claimed", token=token, limit=limit, now=now)
            kept, held_back = self._screen(db, rows, now)
            _release(db, held_back, now)
        if held_back:
            announce([c for c in held_back if c.status == "failed"])
        return Claim(token, kept)

    def _screen(
        self, db: Session, rows: list[Any], now: datetime
    ) -> tuple[list[int], list[Change]]:
        """Opt-outs fail, night-time messages wait for the morning; the rest may go."""
        if not rows:
            return [], []
        blocked = _opted_out_recipients(db, rows)
        client_zones = _client_zones(db, rows)
        quiet = effective_quiet_hours(db, self.settings)  # the admin's, else the settings'
        kept: list[int] = []
        held_back: list[Change] = []
        for row in rows:
            if row.recipient in blocked.get(row.channel, ()):
                held_back.append(
                    Change(row.id, "failed", "claim", error_code="opted-out", detail="opted out")
                )
            elif deferral := self._quiet_hours_deferral(row, client_zones, now, quiet):
                held_back.append(deferral)
            else:
                kept.append(row.id)
        return kept, held_back

    def _quiet_hours_deferral(
        self, row: Any, client_zones: dict[int, str], now: datetime, quiet: Any = None
    ) -> Change | None:
        """Back to ``pending`` until the morning when ``now`` is night for the recipient."""
        s = quiet or self.settings
        if s.quiet_hours_start == s.quiet_hours_end or row.channel not in PHONE_CHANNELS:
            return None
        if not meta_dict(row.meta).get("quiet_hours", True):
            return None
        zone = recipient_zone(row.recipient, client_zones.get(row.client_id, ""), s)
        until = quiet_until(now, zone, s.quiet_hours_start, s.quiet_hours_end)
        if until is None:
            return None
        return Change(
            row.id,
            "pending",
            "quiet-hours",
            values={"next_attempt_at": until},
            detail=f"quiet hours in {zone.key}: deferred to "
            f"{until.astimezone(zone):%Y-%m-%d %H:%M} local time",
        )

    # -- 3. deliver
    def deliver(self, claim: Claim) -> Stats:
        """Send the rows still held under ``claim`` (idempotent: a repeat finds none)."""
        started = self._start_sending(claim)
        # committed: from here on, a crash leaves these rows "sending" -> "unknown", never resent
        if not started:
            return Stats()
        # No request may leave so late that it could still be in flight when the lease runs
        # out: after that another dispatcher may look the message up and, not finding it, resend.
        last_start = time.monotonic() + max(
            0.0, self.settings.dispatch_lease_seconds - 2 * self.settings.send_timeout_seconds
        )
        messages = [outgoing(r) for r in started]
        results = self.pool.map(lambda m: self._send_one(m, last_start), messages)
        return self._record(
            [
                (message, row.attempts, result)
                for message, row, result in zip(messages, started, results, strict=True)
            ]
        )

    def _start_sending(self, claim: Claim) -> list[Any]:
        """Mark the claimed rows ``sending`` (one more attempt) and return them to be sent."""
        now = utcnow()
        with self.sessions.begin() as db:
            return db.execute(
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
                    claimed_until=self.lease_end(now),
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
        """Write what each send came to; remember recipients the provider says opted out."""
        now = utcnow()
        stats = Stats()
        changes: list[Change] = []
        for message, attempts, result in outcomes:
            counted, change = self._outcome(message.id, attempts, result, now)
            stats.count(counted)
            changes.append(change)
        self.write(changes, now, from_statuses=("sending",))
        self._record_provider_opt_outs(outcomes)
        return stats

    def _outcome(
        self, message_id: int, attempts: int, result: SendResult, now: datetime
    ) -> tuple[str, Change]:
        """The status one send leads to, and the ``Stats`` field it counts in."""
        if result.accepted:
            values = {"provider_id": result.provider_id, "sent_at": now}
            return "sent", Change(message_id, result.status, "dispatch", values=values)
        change = Change(
            message_id,
            "failed",
            "dispatch",
            error_code=result.error_code,
            detail=result.error_message,
        )
        if result.unknown:
            change.status = "unknown"
            change.values = {"next_attempt_at": now + reconcile_delay(self.settings)}
            return "unknown", change
        if result.retryable and attempts < self.settings.max_send_attempts:
            delay = backoff(attempts, self.settings)
            change.status = "retry"
            change.values = {"next_attempt_at": now + timedelta(seconds=delay)}
            change.detail = f"{result.error_message} (attempt {attempts}; next in {delay:.0f}s)"
            return "retried", change
        if result.retryable:
            change.detail = f"gave up after {attempts} attempts: {result.error_message}"
        return "failed", change

    def _record_provider_opt_outs(
        self, outcomes: list[tuple[OutgoingMessage, int, SendResult]]
    ) -> None:
        opted = [
            message
            for message, _, result in outcomes
            if result.error_code == PROVIDER_OPTED_OUT and message.channel in PHONE_CHANNELS
        ]
        if opted:
            with self.sessions.begin() as db:
                for message in opted:
                    record_opt_out(db, message.recipient, message.channel, "provider 21610")

    # -- 4. reconcile (``notifier.outbox.reconcile``)
    def claim_unknown(self, limit: int | None = None, now: datetime | None = None) -> Claim:
        return reconciliation.claim_unknown(self, limit, now)

    def reconcile(self, claim: Claim) -> Stats:
        return reconciliation.reconcile(self, claim)

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


def _opted_out_recipients(db: Session, rows: list[Any]) -> dict[str, set[str]]:
    """Per channel, the claimed recipients who opted out."""
    by_channel: dict[str, list[str]] = {}
    for row in rows:
        by_channel.setdefault(row.channel, []).append(row.recipient)
    return {ch: opted_out_numbers(db, numbers, ch) for ch, numbers in by_channel.items()}


def _client_zones(db: Session, rows: list[Any]) -> dict[int, str]:
    """The timezone set on the client card of each phone recipient (quiet hours)."""
    client_ids = {r.client_id for r in rows if r.client_id and r.channel in PHONE_CHANNELS}
    if not client_ids:
        return {}
    return dict(
        db.execute(select(Client.id, Client.timezone).where(Client.id.in_(client_ids)))
        .tuples()
        .all()
    )


def _release(db: Session, held_back: list[Change], now: datetime) -> None:
    """Give back the leases of claimed rows that may not go now (opted out, quiet hours)."""
    if not held_back:
        return
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
            for c in held_back
        ],
    )
    record_history(db, held_back, now)
