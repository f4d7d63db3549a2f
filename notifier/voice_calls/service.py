"""An automated call is an outbox message (``channel="voice"``) that plays a named script.

The notifier writes it and the voice channel dials it; the scripts themselves (their sentences,
the TwiML and FastAGI rendering, what a key press means) live with the voice scripts, which
serve ``VOICE_WEBHOOK_PATH`` and import this module, never the other way round.

A call's ``meta["twiml_url"]`` is the address Twilio fetches when the client answers; it carries
the message id, so it is a placeholder until :func:`address_calls` runs after the insert.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from notifier.config import get_settings
from notifier.outbox.models import OutboxMessage
from notifier.outbox.service import enqueue

#: where the voice scripts answer Twilio: ``{public_url}/api/voice/{script}/{message_id}``
VOICE_WEBHOOK_PATH = "/api/voice"


def twiml_url(script: str, message_id: int) -> str:
    """The address Twilio fetches when the client answers (signed requests come back to it)."""
    base = get_settings().public_url.rstrip("/")
    return f"{base}{VOICE_WEBHOOK_PATH}/{script}/{message_id}"


def call_message(
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
) -> dict[str, Any]:
    """An automated call as the outbox takes it (``enqueue`` / ``BulkRows.add_message``).

    ``values`` fill the script's sentences; ``survey_id``: the survey a ``rating`` call
    answers; ``task_id``: the event a reminder is about; ``quiet_hours=False`` lets the
    dispatcher call during quiet hours. The caller checks that ``script`` exists.
    """
    meta: dict[str, Any] = {
        "script": script,
        "vars": dict(values or {}),
        "twiml_url": twiml_url(script, 0),
    }
    if language:
        meta["language"] = language
    if survey_id is not None:
        meta["survey_id"] = survey_id
    if task_id is not None:
        meta["task_id"] = task_id
    if not quiet_hours:
        meta["quiet_hours"] = False  # the dispatcher may call at night (urgent notices)
    return {
        "channel": "voice",
        "recipient": recipient,
        "body": body,
        "idempotency_key": idempotency_key,
        "due_at": due_at,
        "client_id": client_id,
        "purpose": purpose or f"voice_{script}",
        "template": script,
        "meta": meta,
    }


def address_calls(db: Session, idempotency_keys: list[str]) -> int:
    """Point calls just written with :func:`call_message` at their own webhook URL.

    Same transaction as the insert, so nothing can be sent before; calls that already had their
    URL (an idempotent repeat) are left alone. Returns the number of calls addressed."""
    addressed = 0
    for start in range(0, len(idempotency_keys), 500):
        for message in db.scalars(
            select(OutboxMessage).where(
                OutboxMessage.idempotency_key.in_(idempotency_keys[start : start + 500]),
                OutboxMessage.channel == "voice",
            )
        ):
            meta = message.meta or {}
            script = meta.get("script", "")
            if script and meta.get("twiml_url") == twiml_url(script, 0):
                message.meta = {**meta, "twiml_url": twiml_url(script, message.id)}
                addressed += 1
    db.flush()
    return addressed


def enqueue_call(db: Session, call: dict[str, Any]) -> OutboxMessage:
    """Put a call made by :func:`call_message` in the outbox, in the caller's transaction,
    already addressed."""
    message = enqueue(db, **call)
    db.flush()
    address_calls(db, [message.idempotency_key])
    return message
