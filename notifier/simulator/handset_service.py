"""The simulated handset (console SMS channel only): a demo tool standing in for the client's
phone. It shows the SMS Callcard sent to a number and replies as that phone, through the same
code path as Twilio's inbound webhook (``notifier.inbound.service.handle_inbound_sms``)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from crm_core.auth.principal import Principal
from crm_core.auth.rights import visible_clients
from crm_core.clients.models import Client, Phone
from crm_core.errors import Invalid, NotFound
from crm_core.phones import InvalidPhone, to_e164
from notifier.config import get_settings
from notifier.inbound.models import InboundSms
from notifier.inbound.service import handle_inbound_sms
from notifier.outbox.models import OutboxMessage
from notifier.simulator.handset_schemas import (
    HandsetConversation,
    HandsetMessage,
    HandsetThread,
    ReplyOut,
)
from notifier.sms_segments.service import count_segments


def require_console_sms() -> None:
    if get_settings().sms_channel != "console":
        raise NotFound("the simulated handset exists only with the console SMS channel")


def _number_of_a_visible_client(actor: Principal, e164: Any) -> Any:
    """``EXISTS``: a client ``actor`` may see has the number ``e164`` (a value or a column)."""
    return (
        select(Phone.id)
        .join(Client, Client.id == Phone.client_id)
        .where(Phone.e164 == e164, visible_clients(actor))
        .exists()
    )


def handset_number(db: Session, actor: Principal, number: str) -> str:
    """The number as E.164; operators only for numbers of clients they may see (else 404)."""
    require_console_sms()
    try:
        e164 = to_e164(number)
    except InvalidPhone as exc:
        raise Invalid("number", f"not a phone number: {exc}") from None
    if not actor.sees_all_clients and not db.scalar(
        select(_number_of_a_visible_client(actor, e164))
    ):
        raise NotFound(f"no client of yours has the number {e164}")
    return e164


def conversations(db: Session, actor: Principal, limit: int) -> list[HandsetConversation]:
    """What someone trying the demo picks from instead of looking a number up: the last SMS
    sent on the console channel, one per number (operators: their clients' numbers only)."""
    require_console_sms()
    named = aliased(Client)  # the message's client, apart from the visible one in the EXISTS
    query = (
        select(OutboxMessage, named.display_name)
        .outerjoin(named, named.id == OutboxMessage.client_id)
        .where(OutboxMessage.channel == "sms", OutboxMessage.status.in_(("sent", "delivered")))
        .order_by(OutboxMessage.id.desc())
        .limit(limit * 20)  # several messages per number: enough to find ``limit`` numbers
    )
    if not actor.sees_all_clients:  # as for one conversation: numbers of clients they may see
        query = query.where(_number_of_a_visible_client(actor, OutboxMessage.recipient))
    seen: dict[str, HandsetConversation] = {}
    for message, name in db.execute(query):
        if message.recipient not in seen and len(seen) < limit:
            seen[message.recipient] = HandsetConversation(
                number=message.recipient,
                client_id=message.client_id,
                name=name or "",
                body=message.body,
                at=(message.sent_at or message.due_at).isoformat(),
            )
    return list(seen.values())


def thread(db: Session, actor: Principal, number: str, limit: int) -> HandsetThread:
    """Our SMS to the number and its replies, oldest first (the last ``limit``)."""
    e164 = handset_number(db, actor, number)
    items = [
        HandsetMessage(
            direction="outbound", id=m.id, body=m.body, status=m.status, purpose=m.purpose,
            at=(m.sent_at or m.due_at).isoformat(), segments=m.segments,
        )
        for m in db.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.channel == "sms", OutboxMessage.recipient == e164)
            .order_by(OutboxMessage.id.desc())
            .limit(limit)
        )
    ]  # fmt: skip
    items += [
        HandsetMessage(
            direction="inbound", id=row.id, body=row.body, status=row.outcome, purpose="",
            at=row.received_at.isoformat(), segments=count_segments(row.body).segments,
        )
        for row in db.scalars(
            select(InboundSms)
            .where(InboundSms.from_e164 == e164)
            .order_by(InboundSms.id.desc())
            .limit(limit)
        )
    ]  # fmt: skip
    items.sort(key=lambda i: (i.at, i.direction == "inbound", i.id))
    return HandsetThread(number=e164, messages=items[-limit:])


def reply(db: Session, actor: Principal, number: str, body: str) -> ReplyOut:
    """The phone replies: handled exactly as an SMS arriving through Twilio's webhook."""
    e164 = handset_number(db, actor, number)
    result = handle_inbound_sms(
        db,
        from_number=e164,
        to_number=get_settings().twilio_from_number or "console",
        body=body,
        provider_id=f"SIM{uuid.uuid4().hex}",
    )
    return ReplyOut(
        outcome=result.outcome,
        client_id=result.client_id,
        survey_id=result.survey_id,
        rating=result.rating,
    )
