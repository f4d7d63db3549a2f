"""Voice calls of the outbox: which script and language a call plays, and what the client answered.

A voice call is an outbox message (``channel="voice"``); its ``template`` names the script (or
the URL does), ``meta["language"]`` and ``meta["vars"]`` fill the sentences (``name``,
``company``, ``prompt`` ...), ``body`` is the text of a reminder or announcement.

The outcome of a call (``confirmed``, ``cancel_requested``, ``rating`` 1..5, ``no_input``,
``played``) is kept once per message in ``meta["voice"]`` and added to the client's history;
a rating goes through the notifier's survey code (``record_rating``: the rating history
entry, the client's last rating, CSAT, the low-rating task and the wall); a request to cancel
opens a call-back task. Twilio may post the same webhook twice: the first outcome wins and a
repeat changes nothing.

Writing a call to the outbox and giving it its webhook address is the notifier's
(``notifier.voice_calls``); :func:`enqueue_call` checks the script and hands it over.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from crm_core.auth.principal import SYSTEM
from crm_core.clients.models import Client
from crm_core.database import utcnow
from crm_core.errors import Invalid, NotFound
from crm_core.history.service import add_interaction
from crm_core.wording import STORED
from notifier.outbox.models import OutboxMessage
from notifier.surveys.models import Survey
from notifier.surveys.service import record_rating
from notifier.voice_calls.service import call_message
from notifier.voice_calls.service import enqueue_call as notifier_enqueue_call
from voicebots.config import get_settings
from voicebots.scripts import (
    LANGUAGES,
    SCRIPTS,
    UNSAFE_PROMPT,
    Record,
    Script,
    get_script,
    pick_language,
)
from voicebots.wording import (
    CALLBACK_SOURCE,
    automated_call_subject,
    cancel_task_description,
    cancel_task_title,
)

log = logging.getLogger("callcard.voicebots")


@dataclass
class VoiceCall:
    message_id: int
    script: Script
    language: str
    values: dict[str, Any]
    outcome: str | None


def _load(db: Session, script_name: str, message_id: int, *, lock: bool = False) -> tuple:
    script = get_script(script_name)
    if script is None:
        raise NotFound(f"voice script {script_name!r} not found")
    query = select(OutboxMessage).where(OutboxMessage.id == message_id)
    if lock:
        query = query.with_for_update()
    message = db.scalar(query)
    if message is None or message.channel != "voice":
        raise NotFound(f"voice message {message_id} not found")
    if message.template and message.template != script.name and get_script(message.template):
        raise NotFound(f"voice message {message_id} does not play {script.name!r}")
    return script, message


def open_call(db: Session, script_name: str, message_id: int) -> VoiceCall:
    """The script, language and sentence values for one call (``NotFound`` if there is none)."""
    script, message = _load(db, script_name, message_id)
    meta = message.meta or {}
    client = db.get(Client, message.client_id) if message.client_id else None
    settings = get_settings()
    language = pick_language(
        meta.get("language"), client.language if client else None, settings.default_language
    )
    values: dict[str, Any] = {**script.defaults, "company": settings.company_name}
    if client is not None:
        values["name"] = client.first_name or client.display_name
    values["body"] = message.body
    values.update({k: v for k, v in (meta.get("vars") or {}).items() if v not in (None, "")})
    outcome = (meta.get("voice") or {}).get("outcome")
    return VoiceCall(message.id, script, language, values, outcome)


def check_call(script: str, language: str | None, values: dict[str, str] | None) -> None:
    """Raise ``Invalid`` naming the field unless the script, language and values can be played."""
    if get_script(script) is None:
        raise Invalid("script", f"must be one of {', '.join(SCRIPTS)}")
    if language is not None and language not in LANGUAGES:
        raise Invalid("language", f"must be one of {', '.join(LANGUAGES)}")
    prompt = str((values or {}).get("prompt", ""))
    if UNSAFE_PROMPT.search(prompt) or len(prompt) > 80:
        raise Invalid(["values", "prompt"], "a sound name: letters, digits, - and _ only")


def enqueue_call(
    db: Session,
    *,
    script: str,
    recipient: str,
    idempotency_key: str,
    body: str = "",
    client_id: int | None = None,
    language: str | None = None,
    values: dict[str, str] | None = None,
    due_at: datetime | None = None,
    purpose: str = "",
    survey_id: int | None = None,
    task_id: int | None = None,
    quiet_hours: bool = True,
) -> OutboxMessage:
    """Put an automated call playing one of our scripts in the outbox, in the caller's
    transaction (arguments: ``notifier.voice_calls.service.call_message``).

    The notifier's voice channel dials ``recipient`` and points Twilio at ``twiml_url``;
    Asterisk installs hand the message id to the FastAGI server instead.
    """
    check_call(script, language, values)
    call = call_message(
        script=script, recipient=recipient, idempotency_key=idempotency_key, body=body,
        client_id=client_id, language=language, values=values, due_at=due_at, purpose=purpose,
        survey_id=survey_id, task_id=task_id, quiet_hours=quiet_hours,
    )  # fmt: skip
    return notifier_enqueue_call(db, call)


def _rating_through_surveys(
    db: Session, message: OutboxMessage, rating: int, digit: str | None
) -> None:
    """Store a keypad rating with the notifier's survey code (CSAT, low-rating task, wall).

    The survey is the one named in ``meta["survey_id"]`` when the notifier asked for this
    call, else one made here for the call.
    """
    now = utcnow()
    survey = None
    survey_id = (message.meta or {}).get("survey_id")
    if survey_id is not None:
        survey = db.get(Survey, survey_id)
    if survey is None:
        survey = Survey(
            client_id=message.client_id,
            phone_e164=message.recipient[:20],
            language=(message.meta or {}).get("language") or "en",
            source="call",
            source_ref=f"voice-{message.id}",
            status="open",
            created_at=now,
            send_at=now,
        )
        db.add(survey)
        db.flush()
    if survey.status != "answered":
        record_rating(db, survey, rating, f"voice call, key {digit or rating}", now=now)


def record_outcome(
    db: Session,
    script_name: str,
    message_id: int,
    record: Record,
    *,
    via: str,
    digit: str | None = None,
    call_sid: str | None = None,
) -> bool:
    """Keep the call's outcome on the message and in the client's history; once per message.

    Returns False when the message already had an outcome (a repeated webhook).
    """
    script, message = _load(db, script_name, message_id, lock=True)
    meta = dict(message.meta or {})
    if (meta.get("voice") or {}).get("outcome"):
        log.info("voice message %s already has an outcome; %s ignored", message_id, record)
        return False
    now = utcnow()
    voice: dict[str, Any] = {
        "outcome": record.outcome,
        "script": script.name,
        "via": via,
        "at": now.isoformat(),
    }
    if digit:
        voice["digit"] = digit
    if call_sid:
        voice["call_sid"] = call_sid
    if record.rating is not None:
        voice["rating"] = record.rating
    message.meta = {**meta, "voice": voice}
    db.flush()
    if message.client_id is None:
        return True
    if record.rating is not None:
        _rating_through_surveys(db, message, record.rating, digit)
        return True
    add_interaction(
        db,
        SYSTEM,
        client_id=message.client_id,
        kind="call",
        direction="outbound",
        occurred_at=now,
        subject=automated_call_subject(script.name, record.outcome, STORED),
        body=message.body,
        type_code=script.history_type,
        result_code=record.outcome,
        phone_number=message.recipient[:32],
        call_id=call_sid,
    )
    if record.outcome == "cancel_requested":
        task_id = _callback_task(db, message, now)
        message.meta = {**meta, "voice": {**voice, "callback_task_id": task_id}}
        flag_modified(message, "meta")
        db.flush()
    return True


def _callback_task(db: Session, message: OutboxMessage, now: datetime) -> int:
    """The client asked to cancel and was promised a call back: a task for the owner (or team)."""
    from crm_core.auth.models import User
    from crm_core.tasks.models import Task
    from crm_core.tasks.service import create_task

    client = db.get(Client, message.client_id)
    owner = db.get(User, client.owner_id) if client and client.owner_id else None
    owner_id = owner.id if owner is not None and owner.is_active else None
    event = None
    task_id = (message.meta or {}).get("task_id")
    if task_id is not None:
        event = db.get(Task, task_id)
    about = event.title if event is not None else None
    when = event.starts_at if event is not None else None
    name = client.display_name if client is not None else message.recipient
    task = create_task(
        db,
        SYSTEM,
        title=cancel_task_title(name, about, STORED),
        description=cancel_task_description(message.recipient, about, when, STORED),
        client_id=message.client_id,
        assignee_id=owner_id,
        team_id=None if owner_id else (client.team_id if client else None),
        due_at=now + timedelta(hours=1),
        priority="high",
        source=CALLBACK_SOURCE,
    )
    return task.id
