"""What the call log writes for people, worded from a call's facts for each reader.

Three texts: a call's history entry subject (:func:`call_history_subject`), and the title and
description of a missed call's callback task (:func:`callback_task_title`,
:func:`callback_task_description`). The call log stores them once in English
(:data:`~crm_core.wording.STORED`); pages, API answers and popups word them again for their
reader through :func:`connect`'s registrations (see :mod:`crm_core.wording`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import bindparam, select

from crm_core import wording
from crm_core.wording import TaskWords, Worded, Words
from cti.calllog.models import Call

#: the source of the task a missed inbound call leaves (``Task.source``)
CALLBACK_SOURCE = "missed_call"


class CallFacts(Protocol):
    """What the texts are made of: a :class:`~cti.calllog.models.Call` row has it all."""

    direction: str
    number: str
    e164: str | None
    withheld: bool
    queue: str
    rang: list[str]
    answered_extension: str | None
    disposition: str
    forwarded_to: str
    voicemail_left: bool
    started_at: datetime


@dataclass(frozen=True, slots=True)
class LoggedCall:
    """A logged call's facts, read without the ORM (also on a plain connection)."""

    linkedid: str
    direction: str
    number: str
    e164: str | None
    withheld: bool
    queue: str
    rang: list[str]
    answered_extension: str | None
    disposition: str
    forwarded_to: str
    voicemail_left: bool
    started_at: datetime


_CALLS = Call.__table__
#: one statement, compiled once: the facts of the calls among ``ids``
_FACTS = select(*(_CALLS.c[name] for name in LoggedCall.__slots__)).where(
    _CALLS.c.linkedid.in_(bindparam("ids", expanding=True))
)
#: the facts a session or connection has read, kept in its ``info``: a logged call's facts never
#: change, so the caller popup's long-lived connection reads each call once (up to this many)
KNOWN_CALLS = 20_000


def logged_calls(db: Any, linkedids: Iterable[str | None]) -> dict[str, LoggedCall]:
    """The facts of the logged calls among ``linkedids`` (a session or a connection)."""
    known: dict[str, LoggedCall] = db.info.setdefault("callcard_logged_calls", {})
    wanted = {i for i in linkedids if i}
    missing = sorted(wanted - known.keys())
    if len(known) + len(missing) > KNOWN_CALLS:
        known.clear()
    for start in range(0, len(missing), 500):
        for row in db.execute(_FACTS, {"ids": missing[start : start + 500]}):
            known[row.linkedid] = LoggedCall(*row)
    return {i: known[i] for i in wanted if i in known}


# --- the texts ------------------------------------------------------------------------------


def call_history_subject(call: CallFacts, words: Words | None = None) -> str:
    """E.g. "Call from +40722... (queue sales), ext 101: missed, left voicemail"."""
    w = words or wording.reader()
    text = _call_with(call, w).strip()
    if call.queue:
        text = w.gettext("%(text)s (queue %(queue)s)", text=text, queue=call.queue)
    who = call.answered_extension or (call.rang[0] if call.rang else "")
    if who:
        text = w.gettext("%(text)s, ext %(extension)s", text=text, extension=who)
    result = _result(call.disposition, w)
    if call.forwarded_to:
        result = w.gettext(
            "%(text)s, forwarded to %(number)s", text=result, number=call.forwarded_to
        )
    elif call.voicemail_left:
        result = w.gettext("%(text)s, left voicemail", text=result)
    return w.gettext("%(text)s: %(result)s", text=text, result=result)[:250]


def _call_with(call: CallFacts, w: Words) -> str:
    """The call and its other end: "Call from +40722...", "Call to withheld number"..."""
    if call.withheld:
        if call.direction == "outbound":
            return w.gettext("Call to withheld number")
        if call.direction == "internal":
            return w.gettext("Internal call withheld number")
        return w.gettext("Call from withheld number")
    number = call.number or call.e164 or ""
    if call.direction == "outbound":
        return w.gettext("Call to %(number)s", number=number)
    if call.direction == "internal":
        return w.gettext("Internal call %(number)s", number=number)
    return w.gettext("Call from %(number)s", number=number)


def callback_task_title(call: CallFacts, words: Words | None = None) -> str:
    """E.g. "Call back +40722..."."""
    w = words or wording.reader()
    number = call.number or call.e164 or ""
    return w.gettext("Call back %(number)s", number=number)[:250].strip()


def callback_task_description(call: CallFacts, words: Words | None = None) -> str:
    """E.g. "Missed call at 2026-12-07 14:05 UTC (queue sales), rang 101, 102, left voicemail",
    the moment in the reader's zone and way."""
    w = words or wording.reader()
    text = _call_at(call.disposition, w.moment(call.started_at), w)
    if call.queue:
        text = w.gettext("%(text)s (queue %(queue)s)", text=text, queue=call.queue)
    if call.rang:
        text = w.ngettext(
            "%(text)s, rang %(extensions)s",
            "%(text)s, rang %(extensions)s",
            len(call.rang),
            text=text,
            extensions=", ".join(call.rang),
        )
    if call.voicemail_left:
        text = w.gettext("%(text)s, left voicemail", text=text)
    return text


def _result(disposition: str, w: Words) -> str:
    """A call's outcome as a short word after the call ("missed")."""
    if disposition == "answered":
        return w.pgettext("call result", "answered")
    if disposition == "missed":
        return w.pgettext("call result", "missed")
    if disposition == "abandoned":
        return w.pgettext("call result", "abandoned")
    if disposition == "busy":
        return w.pgettext("call result", "busy")
    if disposition == "failed":
        return w.pgettext("call result", "failed")
    return disposition


def _call_at(disposition: str, when: str, w: Words) -> str:
    if disposition == "missed":
        return w.gettext("Missed call at %(when)s", when=when)
    if disposition == "abandoned":
        return w.gettext("Abandoned call at %(when)s", when=when)
    if disposition == "busy":
        return w.gettext("Busy call at %(when)s", when=when)
    if disposition == "answered":
        return w.gettext("Answered call at %(when)s", when=when)
    if disposition == "failed":
        return w.gettext("Failed call at %(when)s", when=when)
    return f"{disposition.capitalize()} call at {when}"


# --- rows worded again for their readers ----------------------------------------------------


def word_callback_tasks(
    db: Any, rows: Sequence[Any], words: Words
) -> list[Worded[TaskWords] | None]:
    """Missed calls' callback tasks (``call_id``: the call's Linkedid), stored and shown."""
    calls = logged_calls(db, (row.call_id for row in rows))
    out: list[Worded[TaskWords] | None] = []
    for row in rows:
        call = calls.get(row.call_id or "")
        out.append(
            None
            if call is None
            else Worded(_task_words(call, wording.STORED), _task_words(call, words))
        )
    return out


def _task_words(call: CallFacts, words: Words) -> TaskWords:
    return TaskWords(callback_task_title(call, words), callback_task_description(call, words))


def word_call_entries(db: Any, rows: Sequence[Any], words: Words) -> list[Worded[str] | None]:
    """The call log's history entries (``kind`` call, ``call_id`` the Linkedid); None for a
    call entry that no logged call stands behind (one a person added)."""
    calls = logged_calls(db, (row.call_id for row in rows))
    out: list[Worded[str] | None] = []
    for row in rows:
        call = calls.get(row.call_id or "")
        out.append(
            None
            if call is None
            else Worded(
                call_history_subject(call, wording.STORED), call_history_subject(call, words)
            )
        )
    return out


def connect() -> None:
    """Register the call log's texts with :mod:`crm_core.wording` (the root does, once)."""
    wording.word_tasks_with(CALLBACK_SOURCE, word_callback_tasks)
    wording.word_entries_with("call", word_call_entries)
