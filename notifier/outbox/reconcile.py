"""Reconciliation: ``unknown`` rows (the request left, no answer came back) are looked up at
the provider before anything is sent again.

Found -> the provider's status. Not found -> still ``unknown`` during ``unknown_grace_seconds``
(the provider may not list it yet), then ``retry`` (or ``failed`` after the last attempt).
So a client never gets the same SMS twice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from crm_core.database import utcnow
from notifier.channels import OutgoingMessage, SendResult
from notifier.outbox.engine import DeliveryEngine, outgoing
from notifier.outbox.models import OutboxMessage
from notifier.outbox.transitions import Change, Claim, Stats, aware, reconcile_delay

log = logging.getLogger("callcard.notifier.dispatch")


def claim_unknown(
    engine: DeliveryEngine, limit: int | None = None, now: datetime | None = None
) -> Claim:
    """Lease up to ``limit`` ``unknown`` rows whose next look-up is due (``reconciling``)."""
    now = now or utcnow()
    token = engine.new_token()
    limit = limit or engine.settings.dispatch_batch_size
    with engine.sessions.begin() as db:
        rows = engine.lease_due(db, ("unknown",), "reconciling", token=token, limit=limit, now=now)
    return Claim(token, [r.id for r in rows])


def reconcile(engine: DeliveryEngine, claim: Claim) -> Stats:
    """Ask the provider about unanswered sends; resend only what it has never seen."""
    rows = _reconciling_rows(engine, claim)
    if not rows:
        return Stats()
    now = utcnow()
    found = _one_row_per_provider_message(rows, _look_up(engine, rows, claim.ids))
    stats = Stats()
    changes: list[Change] = []
    for row, result in zip(rows, found, strict=True):
        counted, change = _verdict(engine, row, result, now)
        stats.count(counted)
        changes.append(change)
    engine.write(changes, now, from_statuses=("reconciling",))
    return stats


def _reconciling_rows(engine: DeliveryEngine, claim: Claim) -> list[Any]:
    """The rows still ``reconciling`` under this claim (a repeat of the task finds none)."""
    if not claim.ids:
        return []
    with engine.sessions() as db:
        return db.execute(
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


def _look_up(
    engine: DeliveryEngine, rows: list[Any], own_ids: list[int]
) -> list[SendResult | None]:
    """The provider's view of each row (in parallel), never matching a provider message
    another row already owns."""
    taken = _taken_provider_ids(engine, rows, own_ids)

    def look_up(message: OutgoingMessage) -> SendResult | None:
        try:
            return engine.channel(message.channel).reconcile(message, taken)
        except Exception as exc:
            log.exception("reconcile of outbox #%d failed", message.id)
            return SendResult.unanswered(f"lookup error: {exc}")

    return list(engine.pool.map(look_up, [outgoing(r) for r in rows]))


def _taken_provider_ids(engine: DeliveryEngine, rows: list[Any], own_ids: list[int]):
    """Provider ids other outbox rows to the same recipients already own."""
    recipients = sorted({r.recipient for r in rows})
    since = min(aware(r.created_at) for r in rows) - timedelta(days=1)
    with engine.sessions() as db:
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


def _one_row_per_provider_message(
    rows: list[Any], found: list[SendResult | None]
) -> list[SendResult | None]:
    """When two rows matched the same provider message, the second stays unanswered."""
    matched: dict[str, int] = {}
    checked: list[SendResult | None] = []
    for row, result in zip(rows, found, strict=True):
        if result is not None and result.provider_id and not result.unknown:
            if result.provider_id in matched:
                result = SendResult.unanswered(
                    f"matched the same provider message as #{matched[result.provider_id]}"
                )
            else:
                matched[result.provider_id] = row.id
        checked.append(result)
    return checked


def _verdict(
    engine: DeliveryEngine, row: Any, found: SendResult | None, now: datetime
) -> tuple[str, Change]:
    """What the look-up means for one row, and the ``Stats`` field it counts in ("": none)."""
    s = engine.settings
    look_again = {"next_attempt_at": now + reconcile_delay(s)}
    if found is not None and found.unknown:
        change = Change(
            row.id, "unknown", "reconcile", look_again, "unknown", detail=found.error_message
        )
        return "", change
    if found is not None:
        values = {"provider_id": found.provider_id, "sent_at": now}
        detail = "found at the provider; not sent again"
        return "reconciled", Change(row.id, found.status, "reconcile", values, detail=detail)
    waited = (now - (aware(row.last_attempt_at) or now)).total_seconds()
    if waited < s.unknown_grace_seconds:
        detail = f"not (yet) known to the provider after {waited:.0f}s"
        return "", Change(row.id, "unknown", "reconcile", look_again, "unknown", detail)
    if row.attempts >= s.max_send_attempts:
        detail = f"gave up after {row.attempts} attempts without an answer"
        return "failed", Change(row.id, "failed", "reconcile", error_code="unknown", detail=detail)
    detail = f"the provider never received it ({waited:.0f}s); sending again"
    return "retried", Change(row.id, "retry", "reconcile", {"next_attempt_at": now}, detail=detail)
