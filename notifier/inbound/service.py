"""What happens to an SMS someone sends us.

In this order:
1. a provider id seen before (Twilio retries webhooks) returns the first outcome, nothing twice;
2. an opt-out word (STOP, ... see ``notifier.compliance``) records the opt-out in the engine's
   ``opt_outs`` table; an opt-in word removes it; HELP gets a short answer;
3. a reply to the number's open survey is read as a rating; an unreadable one gets one polite
   clarification (a second unreadable reply goes to the history as an ordinary message);
4. anything else lands in the client's history (kind ``sms``, inbound) and is announced to the
   client's owner and the managers (``sms.reply``); from an unknown number it lands in the
   unknown-numbers inbox (``inbound_sms`` rows without client).
Every message is also kept in ``inbound_sms`` with its outcome.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_core.auth.principal import SYSTEM
from crm_core.clients.models import Client, Phone
from crm_core.database import utcnow
from crm_core.phones import try_e164
from notifier import compliance
from notifier.engagement_models import InboundSms
from notifier.outbox import service as outbox
from notifier.publish import publish_after_commit
from notifier.surveys import service as surveys
from notifier.surveys.parsing import parse_rating

log = logging.getLogger("callcard.notifier.inbound")

HELP_TEXT = {
    "en": "{company}: reply STOP to stop messages, START to receive them again.",
    "ro": "{company}: raspundeti STOP pentru a opri mesajele, START pentru a le primi din nou.",
    "ru": "{company}: ответьте СТОП, чтобы отписаться, СТАРТ, чтобы подписаться снова.",
}


@dataclass(frozen=True, slots=True)
class InboundResult:
    outcome: str  # opt_out|opt_in|help|rating|clarification|history|unknown (+ duplicate flag)
    inbound_id: int
    client_id: int | None = None
    survey_id: int | None = None
    rating: int | None = None
    interaction_id: int | None = None
    duplicate: bool = False


def _client_for(db: Session, e164: str) -> Client | None:
    """The (live) client with this number; the most recently created one if several share it."""
    if not e164:
        return None
    return db.scalar(
        select(Client)
        .join(Phone, Phone.client_id == Client.id)
        .where(Phone.e164 == e164, Client.deleted_at.is_(None))
        .order_by(Client.created_at.desc(), Client.id.desc())
        .limit(1)
    )


def _result(row: InboundSms, duplicate: bool = False, rating: int | None = None) -> InboundResult:
    return InboundResult(
        outcome=row.outcome,
        inbound_id=row.id,
        client_id=row.client_id,
        survey_id=row.survey_id,
        rating=rating,
        interaction_id=row.interaction_id,
        duplicate=duplicate,
    )


def handle_inbound_sms(
    db: Session, *, from_number: str, to_number: str, body: str, provider_id: str
) -> InboundResult:
    """Process one inbound SMS in the caller's transaction (see the module docstring)."""
    from crm_core.history.service import add_interaction

    # PostgreSQL refuses NUL in text: a provider passing one through must not make us fail (and
    # the provider retry) forever
    body = (body or "").replace("\x00", "")[:5000]
    from_number = (from_number or "").replace("\x00", "")
    to_number = (to_number or "").replace("\x00", "")
    provider_id = (provider_id or "").replace("\x00", "").strip()[:64]
    if not provider_id:
        from crm_core.errors import Invalid

        raise Invalid("provider_id", "required (the provider's message id)")
    existing = db.scalar(select(InboundSms).where(InboundSms.provider_id == provider_id))
    if existing is not None:
        return _result(existing, duplicate=True)
    now = utcnow()
    e164 = try_e164(from_number) or ""
    client = _client_for(db, e164)
    row = InboundSms(
        provider_id=provider_id,
        from_number=(from_number or "")[:40],
        from_e164=e164,
        to_number=(to_number or "")[:40],
        body=body,
        received_at=now,
        client_id=client.id if client else None,
        outcome="unknown",
    )
    try:
        with db.begin_nested():
            db.add(row)
    except IntegrityError:  # the same webhook, concurrently: the other one handles it
        existing = db.scalar(select(InboundSms).where(InboundSms.provider_id == provider_id))
        if existing is not None:
            return _result(existing, duplicate=True)
        raise
    rating: int | None = None
    word = compliance.classify(body)
    if word in ("opt_out", "opt_in") and e164:
        if word == "opt_out":
            outbox.record_opt_out(db, e164, "sms", source=f"sms:{provider_id}")
            log.info("opt-out recorded for %s", e164)
        else:
            outbox.remove_opt_out(db, e164, "sms")
        row.outcome = word
        if client is not None:  # the client's card shows when and how consent changed
            item = add_interaction(
                db,
                SYSTEM,
                client_id=client.id,
                kind="sms",
                direction="inbound",
                occurred_at=now,
                subject="SMS opt-out" if word == "opt_out" else "SMS opt-in",
                body=body,
                phone_number=e164[:32],
            )
            row.interaction_id = item.id
    elif word == "help" and e164:
        from notifier.templates import client_context, client_language

        text = HELP_TEXT[client_language(client)].format(company=client_context(None)["company"])
        outbox.enqueue(
            db, channel="sms", recipient=e164, body=text,
            idempotency_key=f"help:{provider_id}", client_id=row.client_id, purpose="help",
        )  # fmt: skip
        row.outcome = "help"
    else:
        survey = surveys.open_survey_for(db, e164, now) if e164 else None
        if survey is not None:
            row.survey_id = survey.id
            rating = parse_rating(body)
            if rating is not None:
                surveys.record_rating(db, survey, rating, body, now)
                surveys.send_survey_sms(db, survey, "survey.thanks.sms", "thanks")
                row.outcome = "rating"
                row.client_id = survey.client_id
            elif not survey.clarified:
                survey.clarified = True
                surveys.send_survey_sms(db, survey, "survey.clarify.sms", "clarify")
                row.outcome = "clarification"
                row.client_id = survey.client_id
        if row.outcome == "unknown" and client is not None:
            item = add_interaction(
                db,
                SYSTEM,
                client_id=client.id,
                kind="sms",
                direction="inbound",
                occurred_at=now,
                body=body,
                phone_number=e164[:32],
            )
            row.interaction_id = item.id
            row.outcome = "history"
        if row.outcome in ("history", "unknown"):
            audience = ["role:manager", "role:admin"]
            if client is not None and client.owner_id:
                audience.append(f"user:{client.owner_id}")
            publish_after_commit(
                db,
                {
                    "type": "sms.reply",
                    "audience": audience,
                    "client_id": client.id if client else None,
                    "number": e164 or from_number,
                    "body": body[:500],
                    "at": now.isoformat(),
                },
            )
    db.flush()
    return _result(row, rating=rating)


def file_unknown_message(db: Session, actor, inbound_id: int, client_id: int) -> InboundSms:
    """Move a message from the unknown-numbers inbox to a client's history (rights of ``actor``)."""
    from crm_core.errors import Conflict, NotFound
    from crm_core.history.service import add_interaction

    row = db.get(InboundSms, inbound_id)
    if row is None:
        raise NotFound(f"inbound message {inbound_id} not found")
    if row.outcome != "unknown":
        raise Conflict("this message is not in the unknown-numbers inbox")
    item = add_interaction(
        db,
        actor,
        client_id=client_id,
        kind="sms",
        direction="inbound",
        occurred_at=row.received_at,
        body=row.body,
        phone_number=(row.from_e164 or row.from_number)[:32],
    )
    row.client_id = client_id
    row.interaction_id = item.id
    row.outcome = "history"
    db.flush()
    return row
