"""What the voice bots write for people, worded for each reader.

Two texts: the history entry of an automated call ("Automated reminder call: confirmed",
:func:`automated_call_subject`) and the call-back task opened when a client pressed 2 to cancel
(:func:`cancel_task_title`, :func:`cancel_task_description`). They are stored once in English
(:data:`~crm_core.wording.STORED`); :func:`connect` registers how pages, API answers and popups
word them again for their reader (:mod:`crm_core.wording`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select

from crm_core import wording
from crm_core.clients.models import Client
from crm_core.tasks.models import Task
from crm_core.wording import TaskWords, Worded, Words
from notifier.outbox.models import OutboxMessage
from voicebots.scripts import SCRIPTS

#: ``tasks.source`` of the call-back task opened when a client asks to cancel
CALLBACK_SOURCE = "voice_cancel"


def automated_call_subject(script: str, outcome: str, words: Words | None = None) -> str:
    """E.g. "Automated reminder call: cancellation requested"."""
    w = words or wording.reader()
    said = _outcome(outcome, w)
    if script == "reminder":
        return w.gettext("Automated reminder call: %(outcome)s", outcome=said)
    if script == "announcement":
        return w.gettext("Automated announcement call: %(outcome)s", outcome=said)
    if script == "rating":
        return w.gettext("Automated rating call: %(outcome)s", outcome=said)
    return f"Automated {script} call: {said}"


def _outcome(outcome: str, w: Words) -> str:
    if outcome == "confirmed":
        return w.pgettext("voice call outcome", "confirmed")
    if outcome == "cancel_requested":
        return w.pgettext("voice call outcome", "cancellation requested")
    if outcome == "rating":
        return w.pgettext("voice call outcome", "rated")
    if outcome == "no_input":
        return w.pgettext("voice call outcome", "no key pressed")
    if outcome == "played":
        return w.pgettext("voice call outcome", "message played")
    return outcome


def cancel_task_title(name: str, event: str | None, words: Words | None = None) -> str:
    """E.g. "Call back Vera Lungu: wants to cancel Dental check-up" (``event``: its title)."""
    w = words or wording.reader()
    if event:
        text = w.gettext("Call back %(name)s: wants to cancel %(event)s", name=name, event=event)
    else:
        text = w.gettext("Call back %(name)s: wants to cancel", name=name)
    return text[:250].strip()


def cancel_task_description(
    number: str, event: str | None, starts_at: datetime | None, words: Words | None = None
) -> str:
    """What happened on the call, the event's start in the reader's zone and way."""
    w = words or wording.reader()
    if not event:
        return w.gettext(
            "During the automated reminder call (%(number)s) the client pressed 2 to cancel. "
            "They were told we would call back.",
            number=number,
        )
    if starts_at is None:
        return w.gettext(
            "During the automated reminder call (%(number)s) the client pressed 2 to cancel "
            "%(event)s. They were told we would call back.",
            number=number,
            event=event,
        )
    return w.gettext(
        "During the automated reminder call (%(number)s) the client pressed 2 to cancel "
        "%(event)s on %(when)s. They were told we would call back.",
        number=number,
        event=event,
        when=w.moment(starts_at),
    )


# --- rows worded again for their readers ----------------------------------------------------


def word_automated_calls(db: Any, rows: Sequence[Any], words: Words) -> list[Worded[str] | None]:
    """Call entries whose subject is the one a script's outcome stores (no query: the script
    and the outcome, ``result_code``, are all the text says); None for any other."""
    out: list[Worded[str] | None] = []
    for row in rows:
        outcome = getattr(row, "result_code", None) or getattr(row, "result", "") or ""
        found = None
        for script in SCRIPTS:
            stored = automated_call_subject(script, outcome, wording.STORED)
            if row.subject == stored:
                found = Worded(stored, automated_call_subject(script, outcome, words))
                break
        out.append(found)
    return out


def word_cancel_tasks(db: Any, rows: Sequence[Any], words: Words) -> list[Worded[TaskWords] | None]:
    """Call-back tasks of a client who asked to cancel: the voice call that opened one names it
    (``meta.voice.callback_task_id``); the client's name and the event are read as they are."""
    client_ids = sorted({row.client_id for row in rows if getattr(row, "client_id", None)})
    if not client_ids:
        return [None] * len(rows)
    calls: dict[int, tuple[str, dict[str, Any]]] = {}
    for recipient, meta in db.execute(
        select(OutboxMessage.recipient, OutboxMessage.meta).where(
            OutboxMessage.client_id.in_(client_ids), OutboxMessage.channel == "voice"
        )
    ):
        task_id = ((meta or {}).get("voice") or {}).get("callback_task_id")
        if task_id is not None:
            calls[task_id] = (recipient, meta)
    event_ids = [meta.get("task_id") for _, meta in calls.values() if meta.get("task_id")]
    events = {
        row.id: (row.title, row.starts_at)
        for row in db.execute(
            select(Task.id, Task.title, Task.starts_at).where(Task.id.in_(event_ids))
        )
    }
    names = dict(
        db.execute(select(Client.id, Client.display_name).where(Client.id.in_(client_ids))).all()
    )
    out: list[Worded[TaskWords] | None] = []
    for row in rows:
        call = calls.get(row.id)
        if call is None:
            out.append(None)
            continue
        recipient, meta = call
        event, starts_at = events.get(meta.get("task_id"), (None, None))
        facts = (names.get(row.client_id) or recipient, recipient, event, starts_at)
        out.append(Worded(_cancel_words(*facts, wording.STORED), _cancel_words(*facts, words)))
    return out


def _cancel_words(
    name: str, number: str, event: str | None, starts_at: datetime | None, w: Words
) -> TaskWords:
    return TaskWords(
        cancel_task_title(name, event, w), cancel_task_description(number, event, starts_at, w)
    )


def connect() -> None:
    """Register the voice bots' texts with :mod:`crm_core.wording` (the root does, once)."""
    wording.word_entries_with("call", word_automated_calls)
    wording.word_tasks_with(CALLBACK_SOURCE, word_cancel_tasks)
