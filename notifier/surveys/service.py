"""Rating surveys: ask, read the answer, act on it.

When a survey is created:
- answered inbound calls: a periodic job (``scan_calls``) walks the CTI call log (``calls``) by
  id from a stored watermark (``notifier_watermarks``), so nothing is lost when a process stops
  and two processes never survey the same call (row lock on the watermark on PostgreSQL, the
  unique (source, source_ref) of ``surveys`` everywhere). A call row is only passed once it is
  ``SETTLE_SECONDS`` old, so a transaction that committed a lower id late is not skipped. The SMS
  is written to the outbox due ``survey_delay_minutes`` after the call ended.
- completed visits/orders: the ``task_saved`` signal, when an event whose type is in
  ``survey_task_types`` becomes done (same transaction).
At most one survey per client per ``survey_period_days``; none to an opted-out number.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_core.auth.models import Team, User
from crm_core.auth.principal import SYSTEM
from crm_core.clients.models import Client, Phone
from crm_core.database import utcnow
from crm_core.events import SurveyLowRating, SurveyRated
from crm_core.history.service import add_interaction
from crm_core.tasks.models import Task
from crm_core.tasks.service import create_task
from crm_core.wording import STORED
from cti.calllog.models import Call
from notifier.config import get_settings
from notifier.outbox import service as outbox
from notifier.publish import publish_after_commit
from notifier.surveys.models import Survey, Watermark
from notifier.surveys.schemas import SurveyOut
from notifier.templates import service as templates
from notifier.wording import (
    LOW_RATING_SOURCE,
    low_rating_description,
    low_rating_title,
    rating_subject,
)

SETTLE_SECONDS = 30
STALE_AFTER = timedelta(days=1)  # calls older than this when first seen get no survey
WATERMARK = "survey_calls"


# --- creating surveys -------------------------------------------------------------------


def _recent_survey(db: Session, client_id: int, now: datetime) -> bool:
    since = now - timedelta(days=get_settings().survey_period_days)
    return (
        db.scalar(
            select(Survey.id)
            .where(Survey.client_id == client_id, Survey.created_at >= since)
            .limit(1)
        )
        is not None
    )


def request_survey(
    db: Session,
    *,
    client: Client,
    phone_e164: str,
    source: str,
    source_ref: str,
    send_at: datetime,
    call_id: int | None = None,
    operator_user_id: int | None = None,
    team_id: int | None = None,
    now: datetime | None = None,
) -> Survey | None:
    """Create the survey and its outbox SMS, or None when the rules say no survey."""
    now = now or utcnow()
    if client.deleted_at is not None or not phone_e164:
        return None
    if _recent_survey(db, client.id, now):
        return None
    if outbox.is_opted_out(db, phone_e164, "sms"):
        return None
    if team_id is None and operator_user_id is not None:
        team_id = db.scalar(select(User.team_id).where(User.id == operator_user_id))
    language = templates.client_language(client)
    survey = Survey(
        client_id=client.id,
        phone_e164=phone_e164,
        language=language,
        source=source,
        source_ref=source_ref,
        call_id=call_id,
        operator_user_id=operator_user_id,
        team_id=team_id,
        status="open",
        created_at=now,
        send_at=send_at,
    )
    try:
        with db.begin_nested():
            db.add(survey)
    except IntegrityError:
        return None  # this call/visit already has its survey
    _, body = templates.render_message(
        db, "survey.request.sms", language, templates.client_context(client)
    )
    outbox.enqueue(
        db,
        channel="sms",
        recipient=phone_e164,
        body=body,
        idempotency_key=f"survey:{survey.id}",
        due_at=send_at,
        client_id=client.id,
        purpose="survey",
        template="survey.request.sms",
        meta={"survey_id": survey.id},
    )
    return survey


def _call_wanted(call, settings) -> bool:
    if call.direction != "inbound" or call.disposition != "answered":
        return False
    if not call.client_id or not call.e164 or call.withheld:
        return False
    if (call.talk_s or 0) < settings.survey_min_talk_seconds:
        return False
    return not (settings.survey_call_queues and call.queue not in settings.survey_call_queues)


def _watermark(db: Session, name: str) -> Watermark:
    query = select(Watermark).where(Watermark.name == name).with_for_update()
    mark = db.scalar(query)
    if mark is None:
        try:
            with db.begin_nested():
                db.add(Watermark(name=name, value=0))
        except IntegrityError:
            pass
        mark = db.scalar(query)
    return mark


def scan_calls(db: Session, now: datetime | None = None, limit: int = 1000) -> int:
    """Create surveys for newly logged answered inbound calls; returns how many were created."""
    settings = get_settings()
    now = now or utcnow()
    mark = _watermark(db, WATERMARK)
    calls = list(
        db.scalars(select(Call).where(Call.id > mark.value).order_by(Call.id).limit(limit))
    )
    created = 0
    settle = now - timedelta(seconds=SETTLE_SECONDS)
    for call in calls:
        if call.created_at > settle:
            break  # a lower id may still be committing; look again next time
        mark.value = call.id
        if not _call_wanted(call, settings) or call.ended_at < now - STALE_AFTER:
            continue
        client = db.get(Client, call.client_id)
        if client is None:
            continue
        survey = request_survey(
            db,
            client=client,
            phone_e164=call.e164,
            source="call",
            source_ref=str(call.id),
            send_at=max(call.ended_at + timedelta(minutes=settings.survey_delay_minutes), now),
            call_id=call.id,
            operator_user_id=call.answered_user_id,
            team_id=call.team_id,
            now=now,
        )
        created += survey is not None
    db.flush()
    return created


def _best_phone(db: Session, client_id: int) -> str | None:
    rows = db.execute(
        select(Phone.e164, Phone.kind)
        .where(Phone.client_id == client_id)
        .order_by(Phone.position, Phone.id)
    ).all()
    for e164, kind in rows:
        if kind == "mobile" and e164:
            return e164
    return next((e164 for e164, _ in rows if e164), None)


def on_task_saved(db: Session, *, task: Task, actor=None, created: bool = False, before=None):
    """A visit/order event just completed: survey its client (delay as for calls)."""
    settings = get_settings()
    if task.status != "done" or task.client_id is None:
        return
    if task.event_type not in settings.survey_task_types:
        return
    if before is not None and before.get("status") == "done":
        return
    client = db.get(Client, task.client_id)
    phone = _best_phone(db, task.client_id) if client else None
    if client is None or phone is None:
        return
    now = utcnow()
    request_survey(
        db,
        client=client,
        phone_e164=phone,
        source="order" if task.event_type == "order" else "visit",
        source_ref=str(task.id),
        send_at=now + timedelta(minutes=settings.survey_delay_minutes),
        operator_user_id=task.assignee_id,
        team_id=task.team_id,
        now=now,
    )


def expire_surveys(db: Session, now: datetime | None = None) -> int:
    """Surveys nobody answered within ``survey_reply_hours`` become ``expired``."""
    now = now or utcnow()
    cutoff = now - timedelta(hours=get_settings().survey_reply_hours)
    result = db.execute(
        update(Survey)
        .where(Survey.status == "open", Survey.send_at < cutoff)
        .values(status="expired")
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


# --- replies ----------------------------------------------------------------------------


def open_survey_for(db: Session, e164: str, now: datetime | None = None) -> Survey | None:
    """The newest survey sent to this number that still accepts a reply."""
    now = now or utcnow()
    since = now - timedelta(hours=get_settings().survey_reply_hours)
    return db.scalar(
        select(Survey)
        .where(
            Survey.phone_e164 == e164,
            Survey.status == "open",
            Survey.send_at <= now,
            Survey.send_at >= since,
        )
        .order_by(Survey.send_at.desc(), Survey.id.desc())
        .limit(1)
    )


def _manager_of(db: Session, operator_id: int | None, team_id: int | None) -> int | None:
    if team_id is None and operator_id is not None:
        team_id = db.scalar(select(User.team_id).where(User.id == operator_id))
    if team_id is not None:
        team = db.get(Team, team_id)
        if team is not None and team.manager_id:
            return team.manager_id
        manager = db.scalar(
            select(User.id)
            .where(User.team_id == team_id, User.role == "manager", User.is_active)
            .order_by(User.id)
            .limit(1)
        )
        if manager is not None:
            return manager
    return db.scalar(
        select(User.id)
        .where(User.role.in_(("manager", "admin")), User.is_active)
        .order_by(case((User.role == "manager", 0), else_=1), User.id)
        .limit(1)
    )


def record_rating(
    db: Session, survey: Survey, rating: int, reply: str, now: datetime | None = None
) -> Survey:
    """Store the rating everywhere it matters and tell the wall (and the manager if it is low)."""
    now = now or utcnow()
    survey.status = "answered"
    survey.rating = rating
    survey.reply = reply[:2000]
    survey.answered_at = now
    client = db.get(Client, survey.client_id)
    linkedid = _call_linkedid(db, survey)
    if client is not None:
        _note_on_client(db, client, survey, now, linkedid)
        if rating <= 2:
            _ask_manager_to_follow_up(db, client, survey, now, linkedid)
    rated = SurveyRated(
        rating=rating,
        client_id=survey.client_id,
        call_id=linkedid,
        survey_id=survey.id,
        operator_user_id=survey.operator_user_id,
        team_id=survey.team_id,
        at=now.isoformat(),
    )
    publish_after_commit(db, rated)
    db.flush()
    return survey


def _call_linkedid(db: Session, survey: Survey) -> str | None:
    """The CTI id of the call the survey is about (history and tasks link to the call by it)."""
    if survey.call_id is None:
        return None
    call = db.get(Call, survey.call_id)
    return call.linkedid if call is not None else None


def _note_on_client(
    db: Session, client: Client, survey: Survey, now: datetime, linkedid: str | None
) -> None:
    """The client's last rating and a ``rating`` entry in their history."""
    client.last_rating = survey.rating
    client.last_rated_at = now
    add_interaction(
        db,
        SYSTEM,
        client_id=client.id,
        kind="rating",
        direction="inbound",
        occurred_at=now,
        subject=rating_subject(survey.rating, STORED),
        body=survey.reply,
        phone_number=survey.phone_e164,
        call_id=linkedid,
    )


def _ask_manager_to_follow_up(
    db: Session, client: Client, survey: Survey, now: datetime, linkedid: str | None
) -> None:
    """A low rating: a high-priority task for the team's manager, announced to them and the wall."""
    rating = survey.rating
    manager_id = _manager_of(db, survey.operator_user_id, survey.team_id)
    operator = db.get(User, survey.operator_user_id) if survey.operator_user_id else None
    who = (operator.full_name or operator.username) if operator else None
    task = create_task(
        db,
        SYSTEM,
        title=low_rating_title(rating, client.display_name or str(client.id), STORED),
        description=low_rating_description(rating, who, survey.reply, STORED),
        client_id=client.id,
        assignee_id=manager_id,
        team_id=survey.team_id,
        due_at=now + timedelta(hours=24),
        priority="high",
        source=LOW_RATING_SOURCE,
        call_id=linkedid,
    )
    survey.low_rating_task_id = task.id
    low = SurveyLowRating(
        rating=rating,
        client_id=client.id,
        task_id=task.id,
        manager_user_id=manager_id,
        operator_user_id=survey.operator_user_id,
        at=now.isoformat(),
    )
    publish_after_commit(db, low)


def send_survey_sms(db: Session, survey: Survey, key: str, suffix: str) -> None:
    client = db.get(Client, survey.client_id)
    _, body = templates.render_message(
        db, key, survey.language or "en", templates.client_context(client)
    )
    outbox.enqueue(
        db,
        channel="sms",
        recipient=survey.phone_e164,
        body=body,
        idempotency_key=f"survey:{survey.id}:{suffix}",
        client_id=survey.client_id,
        purpose="survey",
        template=key,
        meta={"survey_id": survey.id},
    )


# --- listing ----------------------------------------------------------------------------


def recent_surveys(db: Session, status: str | None, limit: int) -> list[SurveyOut]:
    """Surveys, newest first (``status``: only those open or answered)."""
    query = select(Survey).order_by(Survey.id.desc()).limit(limit)
    if status:
        query = query.where(Survey.status == status)
    return [
        SurveyOut(
            id=s.id,
            client_id=s.client_id,
            phone=s.phone_e164,
            source=s.source,
            call_id=s.call_id,
            operator_user_id=s.operator_user_id,
            team_id=s.team_id,
            status=s.status,
            rating=s.rating,
            reply=s.reply,
            send_at=s.send_at.isoformat(),
            answered_at=s.answered_at.isoformat() if s.answered_at else None,
            low_rating_task_id=s.low_rating_task_id,
        )
        for s in db.scalars(query)
    ]
