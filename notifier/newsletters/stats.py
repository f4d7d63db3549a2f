"""What the newsletter screen shows besides the drafts: the live recipient count of a filter
before anything is saved, each newsletter's delivery figures, and the unsubscribed addresses."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_core.auth.principal import Principal
from notifier.newsletters.models import Newsletter, NewsletterUnsubscribe
from notifier.newsletters.schemas import RecipientsOut
from notifier.newsletters.service import check_filters, get_newsletter, recipients
from notifier.outbox.models import OutboxMessage

#: the outbox statuses grouped as the screen shows them
WAITING = ("pending", "retry", "claimed", "sending", "unknown", "reconciling")
FAILED = ("failed",)
CANCELLED = ("cancelled",)


def count_for(
    db: Session, actor: Principal, *, filters: dict[str, Any], segment_id: int | None = None
) -> RecipientsOut:
    """How many clients a newsletter with these filters would reach (with the sender's rights,
    without e-mail, unsubscribed and opted-out addresses left out), before it is saved."""
    draft = Newsletter(filters=check_filters(filters), segment_id=segment_id)
    targets = recipients(db, actor, draft)
    return RecipientsOut(count=len(targets), sample=[e for _, e in targets[:20]])


def delivery_stats(db: Session, newsletter_id: int) -> dict[str, Any]:
    """Queued, waiting, sent, delivered, failed, withdrawn and unsubscribed for one newsletter."""
    row = get_newsletter(db, newsletter_id)
    counts = dict(
        db.execute(
            select(OutboxMessage.status, func.count())
            .where(
                OutboxMessage.purpose == "newsletter",
                OutboxMessage.template == f"newsletter:{row.id}",
            )
            .group_by(OutboxMessage.status)
        ).all()
    )
    unsubscribed = db.scalar(
        select(func.count())
        .select_from(NewsletterUnsubscribe)
        .where(NewsletterUnsubscribe.newsletter_id == row.id)
    )
    queued = sum(counts.values())
    waiting = sum(counts.get(s, 0) for s in WAITING)
    return {
        "id": row.id,
        "status": row.status,
        "recipients": row.recipients,
        "queued": queued,
        "waiting": waiting,
        "sent": counts.get("sent", 0),
        "delivered": counts.get("delivered", 0),
        "failed": sum(counts.get(s, 0) for s in FAILED),
        "cancelled": sum(counts.get(s, 0) for s in CANCELLED),
        "unsubscribed": int(unsubscribed or 0),
        "done": row.status == "sent" and waiting == 0,
    }


def unsubscribes(db: Session, limit: int = 200) -> list[dict[str, Any]]:
    """The latest unsubscribed addresses, newest first."""
    rows = db.execute(
        select(NewsletterUnsubscribe, Newsletter.name)
        .outerjoin(Newsletter, Newsletter.id == NewsletterUnsubscribe.newsletter_id)
        .order_by(NewsletterUnsubscribe.at.desc(), NewsletterUnsubscribe.id.desc())
        .limit(limit)
    ).all()
    return [
        {
            "email": u.email_lower,
            "client_id": u.client_id,
            "newsletter_id": u.newsletter_id,
            "newsletter": name,
            "at": u.at.isoformat(),
        }
        for u, name in rows
    ]
