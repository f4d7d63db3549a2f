"""Routes of the engagement side of the notifier (included by ``notifier.api``):
segments, reminder rules, templates, surveys and CSAT, inbound SMS (Twilio webhook, unknown
numbers inbox, simulated handset), newsletters and their public unsubscribe link."""

from __future__ import annotations

from html import escape
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_core.apitypes import BodyId, RowId
from crm_core.apitypes import text as bounded
from crm_core.auth.deps import admins, managers, staff
from crm_core.auth.principal import Principal
from crm_core.config import get_settings
from crm_core.database import request_session
from crm_core.errors import Invalid, NotFound
from crm_core.phones import InvalidPhone, to_e164
from notifier import templates
from notifier.engagement_models import InboundSms, MessageTemplate, Newsletter, SavedSegment, Survey
from notifier.inbound.service import handle_inbound_sms
from notifier.newsletters import service as newsletters
from notifier.reminders import service as reminders
from notifier.segments import count_segments, transliterate_romanian
from notifier.surveys import service as surveys
from notifier.webhooks import verified_twilio_form

router = APIRouter(prefix="/api/notifier", tags=["notifier engagement"])


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- segments ---------------------------------------------------------------------------


class SegmentsIn(Strict):
    text: bounded(10_000)
    transliterate: bool = False


class SegmentsOut(BaseModel):
    encoding: Literal["GSM-7", "UCS-2"]
    segments: int
    characters: int
    units: int
    per_segment: int
    text: str


@router.post("/segments", response_model=SegmentsOut, summary="SMS encoding and segment count")
def post_segments(data: SegmentsIn, _: Principal = Depends(staff)) -> dict:
    return count_segments(data.text, transliterate=data.transliterate).as_dict()


@router.get("/segments", response_model=SegmentsOut, summary="SMS encoding and segment count")
def get_segments(
    text: Annotated[str, Query(max_length=10_000)],
    transliterate: bool = False,
    _: Principal = Depends(staff),
) -> dict:
    return count_segments(text, transliterate=transliterate).as_dict()


# --- reminder rules ---------------------------------------------------------------------


class RuleIn(Strict):
    event_type: bounded(40, 1)
    channel: Literal["sms", "email", "voice"]
    offset_minutes: Annotated[int, Field(ge=1, le=reminders.MAX_OFFSET_MINUTES)]
    active: bool = True


class RuleUpdate(Strict):
    event_type: bounded(40, 1) | None = None
    channel: Literal["sms", "email", "voice"] | None = None
    offset_minutes: Annotated[int, Field(ge=1, le=reminders.MAX_OFFSET_MINUTES)] | None = None
    active: bool | None = None


@router.get("/reminder-rules", summary="Reminder rules (built-in defaults while none are saved)")
def list_rules(_: Principal = Depends(managers), db: Session = request_session) -> list[dict]:
    return reminders.list_rules(db)


@router.post("/reminder-rules", status_code=201, summary="Add a reminder rule")
def add_rule(
    data: RuleIn,
    actor: Principal = Depends(admins),
    db: Session = request_session,
) -> dict:
    return reminders.add_rule(db, actor, **data.model_dump())


@router.patch("/reminder-rules/{rule_id}", summary="Change a reminder rule")
def update_rule(
    rule_id: RowId,
    data: RuleUpdate,
    actor: Principal = Depends(admins),
    db: Session = request_session,
) -> dict:
    return reminders.update_rule(db, actor, rule_id, data.model_dump(exclude_unset=True))


@router.delete("/reminder-rules/{rule_id}", status_code=204, summary="Remove a reminder rule")
def delete_rule(
    rule_id: RowId,
    actor: Principal = Depends(admins),
    db: Session = request_session,
) -> Response:
    reminders.delete_rule(db, actor, rule_id)
    return Response(status_code=204)


# --- message templates ------------------------------------------------------------------


class TemplateIn(Strict):
    subject: bounded(250) = ""
    body: bounded(20_000, 1)
    transliterate: bool = Field(
        False, description="Store Romanian diacritics as plain letters (GSM-7: fewer segments)"
    )


def _sample_for(key: str) -> dict[str, Any]:
    if key.startswith("task."):
        return dict(templates.SAMPLE_TASK)
    return {**templates.SAMPLE_CLIENT, **templates.SAMPLE_EVENT}


def _template_out(db: Session, key: str, language: str) -> dict[str, Any]:
    subject, body = templates.template_source(db, key, language)
    custom = db.scalar(
        select(MessageTemplate.id).where(
            MessageTemplate.key == key, MessageTemplate.language == language
        )
    )
    out: dict[str, Any] = {
        "key": key,
        "language": language,
        "subject": subject,
        "body": body,
        "custom": custom is not None,
    }
    if key.endswith(".sms"):
        preview = templates.validate(body, _sample_for(key), field="body")
        out["preview"] = preview
        out["segments"] = count_segments(preview).as_dict()
    return out


def _known_key(key: str, language: str) -> None:
    if language not in templates.LANGUAGES:
        raise Invalid("language", f"must be one of {', '.join(templates.LANGUAGES)}")
    known = {k for k, _ in templates.DEFAULTS}
    if key not in known and not (key.startswith("reminder.") and key.count(".") == 2):
        raise NotFound(f"no message template {key!r}")


@router.get("/templates", summary="Message templates per type and language")
def list_templates(_: Principal = Depends(managers), db: Session = request_session) -> list[dict]:
    keys = sorted({k for k, _ in templates.DEFAULTS})
    return [_template_out(db, k, lang) for k in keys for lang in templates.LANGUAGES]


@router.put("/templates/{key}/{language}", summary="Save an admin version of a template")
def save_template(
    key: str,
    language: str,
    data: TemplateIn,
    actor: Principal = Depends(admins),
    db: Session = request_session,
) -> dict:
    _known_key(key, language)
    if data.transliterate:
        data = data.model_copy(
            update={
                "body": transliterate_romanian(data.body),
                "subject": transliterate_romanian(data.subject),
            }
        )
    sample = _sample_for(key)
    templates.validate(data.body, sample, field="body")
    if data.subject:
        templates.validate(data.subject, sample, field="subject")
    row = db.scalar(
        select(MessageTemplate).where(
            MessageTemplate.key == key, MessageTemplate.language == language
        )
    )
    if row is None:
        row = MessageTemplate(key=key, language=language, body=data.body)
        db.add(row)
    row.subject = data.subject
    row.body = data.body
    row.updated_by_id = actor.id
    db.flush()
    return _template_out(db, key, language)


@router.delete("/templates/{key}/{language}", status_code=204, summary="Back to the built-in text")
def reset_template(
    key: str,
    language: str,
    _: Principal = Depends(admins),
    db: Session = request_session,
) -> Response:
    _known_key(key, language)
    row = db.scalar(
        select(MessageTemplate).where(
            MessageTemplate.key == key, MessageTemplate.language == language
        )
    )
    if row is not None:
        db.delete(row)
    return Response(status_code=204)


# --- surveys and CSAT -------------------------------------------------------------------


@router.get("/csat", summary="CSAT per operator and per team for a period")
def get_csat(
    period: Literal["today", "7d", "30d", "90d", "365d"] = "7d",
    actor: Principal = Depends(staff),
    db: Session = request_session,
) -> dict:
    return surveys.csat(db, actor, period)


def _survey_out(s: Survey) -> dict[str, Any]:
    return {
        "id": s.id,
        "client_id": s.client_id,
        "phone": s.phone_e164,
        "source": s.source,
        "call_id": s.call_id,
        "operator_user_id": s.operator_user_id,
        "team_id": s.team_id,
        "status": s.status,
        "rating": s.rating,
        "reply": s.reply,
        "send_at": s.send_at.isoformat(),
        "answered_at": s.answered_at.isoformat() if s.answered_at else None,
        "low_rating_task_id": s.low_rating_task_id,
    }


@router.get("/surveys", summary="Recent surveys, newest first")
def list_surveys(
    status: Literal["open", "answered"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    _: Principal = Depends(managers),
    db: Session = request_session,
) -> list[dict]:
    query = select(Survey).order_by(Survey.id.desc()).limit(limit)
    if status:
        query = query.where(Survey.status == status)
    return [_survey_out(s) for s in db.scalars(query)]


# --- inbound SMS ------------------------------------------------------------------------


def _inbound_out(row: InboundSms) -> dict[str, Any]:
    return {
        "id": row.id,
        "from": row.from_e164 or row.from_number,
        "to": row.to_number,
        "body": row.body,
        "received_at": row.received_at.isoformat(),
        "client_id": row.client_id,
        "outcome": row.outcome,
    }


@router.get("/inbox/unknown", summary="SMS from numbers that match no client")
def unknown_inbox(
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
    _: Principal = Depends(managers),
    db: Session = request_session,
) -> dict:
    where = (InboundSms.client_id.is_(None), InboundSms.outcome == "unknown")
    total = db.scalar(select(func.count(InboundSms.id)).where(*where)) or 0
    rows = db.scalars(
        select(InboundSms)
        .where(*where)
        .order_by(InboundSms.received_at.desc(), InboundSms.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return {"total": total, "items": [_inbound_out(r) for r in rows]}


class FileIn(Strict):
    client_id: BodyId


@router.post("/inbox/unknown/{inbound_id}/file", summary="File an unknown-number SMS on a client")
def file_unknown(
    inbound_id: RowId,
    data: FileIn,
    actor: Principal = Depends(managers),
    db: Session = request_session,
) -> dict:
    from notifier.inbound.service import file_unknown_message

    return _inbound_out(file_unknown_message(db, actor, inbound_id, data.client_id))


TWIML_EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


@router.post(
    "/twilio/inbound",
    summary="Twilio inbound SMS webhook (X-Twilio-Signature verified)",
    response_class=Response,
    responses={200: {"content": {"application/xml": {}}}, 403: {"description": "bad signature"}},
)
def twilio_inbound(
    params: dict[str, str] = Depends(verified_twilio_form),
    db: Session = request_session,
) -> Response:
    missing = [f for f in ("MessageSid", "From") if not params.get(f)]
    if missing:
        raise Invalid(missing[0], "required")
    handle_inbound_sms(
        db,
        from_number=params["From"],
        to_number=params.get("To", ""),
        body=params.get("Body", ""),
        provider_id=params["MessageSid"],
    )
    return Response(TWIML_EMPTY, media_type="application/xml")


# --- simulated handset (console SMS channel) --------------------------------------------


class ReplyIn(Strict):
    body: bounded(1600, 1)


def _require_console_sms() -> None:
    if get_settings().sms_channel != "console":
        raise NotFound("the simulated handset exists only with the console SMS channel")


def _number_of_a_visible_client(actor: Principal, e164: Any) -> Any:
    """``EXISTS``: a client ``actor`` may see has the number ``e164`` (a value or a column)."""
    from crm_core.auth.rights import visible_clients
    from crm_core.clients.models import Client, Phone

    return (
        select(Phone.id)
        .join(Client, Client.id == Phone.client_id)
        .where(Phone.e164 == e164, visible_clients(actor))
        .exists()
    )


def _handset_number(db: Session, actor: Principal, number: str) -> str:
    """The number as E.164; operators only for numbers of clients they may see (else 404)."""
    _require_console_sms()
    try:
        e164 = to_e164(number)
    except InvalidPhone as exc:
        raise Invalid("number", f"not a phone number: {exc}") from None
    if not actor.sees_all_clients and not db.scalar(
        select(_number_of_a_visible_client(actor, e164))
    ):
        raise NotFound(f"no client of yours has the number {e164}")
    return e164


class HandsetConversation(BaseModel):
    number: str = Field(description="E.164")
    client_id: int | None
    name: str = Field(description="The client's name; '' when the number is no client's")
    body: str = Field(description="The last SMS sent to the number")
    at: str


@router.get(
    "/handset",
    response_model=list[HandsetConversation],
    summary="Simulated handset: the numbers Callcard texted last, newest first",
)
def handset_conversations(
    limit: Annotated[int, Query(ge=1, le=50)] = 12,
    actor: Principal = Depends(staff),
    db: Session = request_session,
) -> list[HandsetConversation]:
    """What someone trying the demo picks from instead of looking a number up: the last SMS
    sent on the console channel, one per number (operators: their clients' numbers only)."""
    from sqlalchemy.orm import aliased

    from crm_core.clients.models import Client
    from notifier.outbox.models import OutboxMessage

    _require_console_sms()
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


@router.get("/handset/{number}", summary="Simulated handset: the SMS conversation with a number")
def handset_messages(
    number: str,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    actor: Principal = Depends(staff),
    db: Session = request_session,
) -> dict:
    from notifier.outbox.models import OutboxMessage

    e164 = _handset_number(db, actor, number)
    items: list[dict[str, Any]] = []
    for m in db.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.channel == "sms", OutboxMessage.recipient == e164)
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    ):
        items.append(
            {
                "direction": "outbound",
                "id": m.id,
                "body": m.body,
                "status": m.status,
                "purpose": m.purpose,
                "at": (m.sent_at or m.due_at).isoformat(),
                "segments": m.segments,
            }
        )
    for row in db.scalars(
        select(InboundSms)
        .where(InboundSms.from_e164 == e164)
        .order_by(InboundSms.id.desc())
        .limit(limit)
    ):
        items.append(
            {
                "direction": "inbound",
                "id": row.id,
                "body": row.body,
                "status": row.outcome,
                "purpose": "",
                "at": row.received_at.isoformat(),
                "segments": count_segments(row.body).segments,
            }
        )
    items.sort(key=lambda i: (i["at"], i["direction"] == "inbound", i["id"]))
    return {"number": e164, "messages": items[-limit:]}


@router.post("/handset/{number}/reply", summary="Simulated handset: reply as the client")
def handset_reply(
    number: str,
    data: ReplyIn,
    actor: Principal = Depends(staff),
    db: Session = request_session,
) -> dict:
    import uuid

    e164 = _handset_number(db, actor, number)
    result = handle_inbound_sms(
        db,
        from_number=e164,
        to_number=get_settings().twilio_from_number or "console",
        body=data.body,
        provider_id=f"SIM{uuid.uuid4().hex}",
    )
    return {
        "outcome": result.outcome,
        "client_id": result.client_id,
        "survey_id": result.survey_id,
        "rating": result.rating,
    }


# --- newsletters ------------------------------------------------------------------------


class SavedSegmentIn(Strict):
    name: bounded(120, 1)
    filters: dict[str, Any] = Field(default_factory=dict)


@router.get("/saved-segments", summary="Saved client segments (newsletter recipients)")
def list_saved_segments(_: Principal = Depends(managers), db: Session = request_session) -> list:
    return [
        {"id": s.id, "name": s.name, "filters": s.filters}
        for s in db.scalars(select(SavedSegment).order_by(SavedSegment.name))
    ]


@router.post("/saved-segments", status_code=201, summary="Save client-list filters as a segment")
def create_saved_segment(
    data: SavedSegmentIn,
    actor: Principal = Depends(managers),
    db: Session = request_session,
) -> dict:
    row = newsletters.create_segment(db, actor, name=data.name, filters=data.filters)
    return {"id": row.id, "name": row.name, "filters": row.filters}


class NewsletterIn(Strict):
    name: bounded(200, 1)
    subject: bounded(250, 1)
    body: bounded(200_000, 1)
    filters: dict[str, Any] = Field(default_factory=dict)
    segment_id: BodyId | None = None


class NewsletterUpdate(Strict):
    name: bounded(200, 1) | None = None
    subject: bounded(250, 1) | None = None
    body: bounded(200_000, 1) | None = None
    filters: dict[str, Any] | None = None
    segment_id: BodyId | None = None


class TestSendIn(Strict):
    email: bounded(254, 3)


@router.get("/newsletters", summary="Newsletters, newest first")
def list_newsletters(_: Principal = Depends(managers), db: Session = request_session) -> list:
    return [
        newsletters.newsletter_out(n)
        for n in db.scalars(select(Newsletter).order_by(Newsletter.id.desc()))
    ]


@router.post("/newsletters", status_code=201, summary="Create a newsletter draft")
def create_newsletter(
    data: NewsletterIn,
    actor: Principal = Depends(managers),
    db: Session = request_session,
) -> dict:
    row = newsletters.create_newsletter(db, actor, **data.model_dump())
    return newsletters.newsletter_out(row)


@router.get("/newsletters/{newsletter_id}", summary="One newsletter")
def get_newsletter(
    newsletter_id: RowId,
    _: Principal = Depends(managers),
    db: Session = request_session,
) -> dict:
    return newsletters.newsletter_out(newsletters.get_newsletter(db, newsletter_id))


@router.patch("/newsletters/{newsletter_id}", summary="Edit a draft (a new test send is needed)")
def update_newsletter(
    newsletter_id: RowId,
    data: NewsletterUpdate,
    actor: Principal = Depends(managers),
    db: Session = request_session,
) -> dict:
    row = newsletters.update_newsletter(
        db, actor, newsletter_id, data.model_dump(exclude_unset=True)
    )
    return newsletters.newsletter_out(row)


@router.get("/newsletters/{newsletter_id}/recipients", summary="How many clients it would reach")
def newsletter_recipients(
    newsletter_id: RowId,
    actor: Principal = Depends(managers),
    db: Session = request_session,
) -> dict:
    row = newsletters.get_newsletter(db, newsletter_id)
    targets = newsletters.recipients(db, actor, row)
    return {"count": len(targets), "sample": [e for _, e in targets[:20]]}


@router.post("/newsletters/{newsletter_id}/test", summary="Send a test to one address")
def test_newsletter(
    newsletter_id: RowId,
    data: TestSendIn,
    actor: Principal = Depends(managers),
    db: Session = request_session,
) -> dict:
    return newsletters.test_send(db, actor, newsletter_id, email=data.email)


@router.post("/newsletters/{newsletter_id}/send", summary="Send to every recipient")
def send_newsletter(
    newsletter_id: RowId,
    actor: Principal = Depends(managers),
    db: Session = request_session,
) -> dict:
    return newsletters.send(db, actor, newsletter_id)


_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title></head>
<body style="font-family: sans-serif; max-width: 36rem; margin: 3rem auto;">{content}</body></html>"""


@router.get("/unsubscribe/{token}", response_class=HTMLResponse, summary="Unsubscribe page")
def unsubscribe_page(token: str) -> HTMLResponse:
    data = newsletters.read_token(token)
    content = (
        f"<h1>Unsubscribe</h1><p>Stop newsletters to <b>{escape(data['e'])}</b>?</p>"
        f'<form method="post"><button type="submit">Unsubscribe</button></form>'
    )
    return HTMLResponse(_PAGE.format(title="Unsubscribe", content=content))


@router.post("/unsubscribe/{token}", response_class=HTMLResponse, summary="Unsubscribe (one click)")
def unsubscribe(token: str, db: Session = request_session) -> HTMLResponse:
    email = newsletters.unsubscribe(db, token)
    content = f"<h1>Unsubscribed</h1><p>{escape(email)} will receive no more newsletters.</p>"
    return HTMLResponse(_PAGE.format(title="Unsubscribed", content=content))
