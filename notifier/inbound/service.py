"""What happens to an SMS someone sends us.

In this order:
1. a provider id seen before (Twilio retries webhooks) returns the first outcome, nothing twice;
2. an opt-out word (STOP, ... see ``notifier.inbound.compliance``) records the opt-out in the engine's
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
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_core.auth.principal import SYSTEM
from crm_core.clients.models import Client, Phone
from crm_core.database import utcnow
from crm_core.errors import Conflict, Invalid, NotFound
from crm_core.events import SmsReply
from crm_core.history.service import add_interaction
from crm_core.phones import try_e164
from crm_core.wording import STORED
from notifier.inbound import compliance
from notifier.inbound.models import InboundSms
from notifier.inbound.schemas import InboundOut, UnknownInbox
from notifier.outbox import service as outbox
from notifier.publish import publish_after_commit
from notifier.surveys import service as surveys
from notifier.surveys.parsing import parse_rating
from notifier.templates.service import client_context, client_language
from notifier.wording import consent_subject

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
    sms = _cleaned(from_number=from_number, to_number=to_number, body=body, provider_id=provider_id)
    existing = db.scalar(select(InboundSms).where(InboundSms.provider_id == sms.provider_id))
    if existing is not None:
        return _result(existing, duplicate=True)
    now = utcnow()
    e164 = try_e164(sms.from_number) or ""
    client = _client_for(db, e164)
    row, stored = _keep(db, sms, e164, client, now)
    if not stored:  # the same webhook, concurrently: the other one handles it
        return _result(row, duplicate=True)
    rating: int | None = None
    word = compliance.classify(sms.body)
    if word in ("opt_out", "opt_in") and e164:
        _change_consent(db, row, word, client, now)
    elif word == "help" and e164:
        _answer_help(db, row, client)
    else:
        rating = _read_survey_reply(db, row, now)
        if row.outcome == "unknown" and client is not None:
            _add_to_history(db, row, client, now)
        if row.outcome in ("history", "unknown"):
            _announce_reply(db, row, client, now)
    db.flush()
    return _result(row, rating=rating)


@dataclass(frozen=True, slots=True)
class _Sms:
    from_number: str
    to_number: str
    body: str
    provider_id: str


def _cleaned(*, from_number: str, to_number: str, body: str, provider_id: str) -> _Sms:
    """The fields as we store them. PostgreSQL refuses NUL in text: a provider passing one
    through must not make us fail (and the provider retry) forever."""
    sms = _Sms(
        from_number=(from_number or "").replace("\x00", ""),
        to_number=(to_number or "").replace("\x00", ""),
        body=(body or "").replace("\x00", "")[:5000],
        provider_id=(provider_id or "").replace("\x00", "").strip()[:64],
    )
    if not sms.provider_id:
        raise Invalid("provider_id", "required (the provider's message id)")
    return sms


def _keep(
    db: Session, sms: _Sms, e164: str, client: Client | None, now: datetime
) -> tuple[InboundSms, bool]:
    """Store the message (outcome ``unknown`` until decided): (the row, True). When the same
    provider id was stored concurrently: (that row, False)."""
    row = InboundSms(
        provider_id=sms.provider_id,
        from_number=sms.from_number[:40],
        from_e164=e164,
        to_number=sms.to_number[:40],
        body=sms.body,
        received_at=now,
        client_id=client.id if client else None,
        outcome="unknown",
    )
    try:
        with db.begin_nested():
            db.add(row)
    except IntegrityError:
        existing = db.scalar(select(InboundSms).where(InboundSms.provider_id == sms.provider_id))
        if existing is not None:
            return existing, False
        raise
    return row, True


def _change_consent(
    db: Session, row: InboundSms, word: str, client: Client | None, now: datetime
) -> None:
    """An opt-out or opt-in word: the number's consent changes, and the client's card shows
    when and how."""
    if word == "opt_out":
        outbox.record_opt_out(db, row.from_e164, "sms", source=f"sms:{row.provider_id}")
        log.info("opt-out recorded for %s", row.from_e164)
    else:
        outbox.remove_opt_out(db, row.from_e164, "sms")
    row.outcome = word
    if client is not None:
        item = add_interaction(
            db,
            SYSTEM,
            client_id=client.id,
            kind="sms",
            direction="inbound",
            occurred_at=now,
            subject=consent_subject(word == "opt_out", STORED),
            body=row.body,
            phone_number=row.from_e164[:32],
        )
        row.interaction_id = item.id


def _answer_help(db: Session, row: InboundSms, client: Client | None) -> None:
    text = HELP_TEXT[client_language(client)].format(company=client_context(None)["company"])
    outbox.enqueue(
        db, channel="sms", recipient=row.from_e164, body=text,
        idempotency_key=f"help:{row.provider_id}", client_id=row.client_id, purpose="help",
    )  # fmt: skip
    row.outcome = "help"


def _read_survey_reply(db: Session, row: InboundSms, now: datetime) -> int | None:
    """A reply to the number's open survey: a rating (thanked), else one polite clarification
    (a second unreadable reply stays ``unknown``). Returns the rating read, if any."""
    survey = surveys.open_survey_for(db, row.from_e164, now) if row.from_e164 else None
    if survey is None:
        return None
    row.survey_id = survey.id
    rating = parse_rating(row.body)
    if rating is not None:
        surveys.record_rating(db, survey, rating, row.body, now)
        surveys.send_survey_sms(db, survey, "survey.thanks.sms", "thanks")
        row.outcome = "rating"
        row.client_id = survey.client_id
    elif not survey.clarified:
        survey.clarified = True
        surveys.send_survey_sms(db, survey, "survey.clarify.sms", "clarify")
        row.outcome = "clarification"
        row.client_id = survey.client_id
    return rating


def _add_to_history(db: Session, row: InboundSms, client: Client, now: datetime) -> None:
    item = add_interaction(
        db,
        SYSTEM,
        client_id=client.id,
        kind="sms",
        direction="inbound",
        occurred_at=now,
        body=row.body,
        phone_number=row.from_e164[:32],
    )
    row.interaction_id = item.id
    row.outcome = "history"


def _announce_reply(db: Session, row: InboundSms, client: Client | None, now: datetime) -> None:
    """Bus ``sms.reply`` to the managers and the client's owner."""
    audience = ["role:manager", "role:admin"]
    if client is not None and client.owner_id:
        audience.append(f"user:{client.owner_id}")
    reply = SmsReply(
        audience=tuple(audience),
        client_id=client.id if client else None,
        number=row.from_e164 or row.from_number,
        body=row.body[:500],
        at=now.isoformat(),
    )
    publish_after_commit(db, reply)


def file_unknown_message(db: Session, actor, inbound_id: int, client_id: int) -> InboundSms:
    """Move a message from the unknown-numbers inbox to a client's history (rights of ``actor``)."""
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


def inbound_view(row: InboundSms) -> InboundOut:
    return InboundOut(
        id=row.id,
        from_=row.from_e164 or row.from_number,
        to=row.to_number,
        body=row.body,
        received_at=row.received_at.isoformat(),
        client_id=row.client_id,
        outcome=row.outcome,
    )


def unknown_inbox(db: Session, limit: int, offset: int) -> UnknownInbox:
    """SMS from numbers that match no client, newest first."""
    where = (InboundSms.client_id.is_(None), InboundSms.outcome == "unknown")
    total = db.scalar(select(func.count(InboundSms.id)).where(*where)) or 0
    rows = db.scalars(
        select(InboundSms)
        .where(*where)
        .order_by(InboundSms.received_at.desc(), InboundSms.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return UnknownInbox(total=total, items=[inbound_view(r) for r in rows])
