"""A finished call into the log: stored once, linked to its client, missed calls followed up.

Called by the CTI process (``log_call``, as the ``SYSTEM`` actor) when a call's last leg hangs
up. The steps of :func:`log_call`: check the facts, find the client, find the users whose phones
rang, build the row with its legs, insert it once, write the client's history entry, then follow
up (a callback task for a missed inbound call; an answered call back closes open callbacks).
The entry's subject and the task's texts are stored in English (:mod:`cti.calllog.wording`
words them again for each reader).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_core.auth.models import User
from crm_core.auth.principal import SYSTEM
from crm_core.auth.service import user_for_extension
from crm_core.clients.models import Client
from crm_core.errors import Invalid
from crm_core.tasks import service as tasks
from crm_core.tasks.models import Task
from crm_core.wording import STORED
from cti.calllog.models import DIRECTIONS, DISPOSITIONS, Call, CallLeg, CallNote
from cti.calllog.wording import (
    CALLBACK_SOURCE,
    call_history_subject,
    callback_task_description,
    callback_task_title,
)
from cti.config import get_settings
from cti.daystats.service import record_call

log = logging.getLogger("callcard.cti.calllog")

MISSED = ("missed", "abandoned", "busy")


@dataclass
class FinishedCall:
    """What the tracker knows about a call when its last leg hangs up."""

    linkedid: str
    direction: str
    disposition: str
    started_at: datetime
    ended_at: datetime
    number: str = ""
    e164: str | None = None
    withheld: bool = False
    caller_name: str = ""
    did: str = ""
    queue: str = ""
    rang: list[str] = field(default_factory=list)
    answered_by: str | None = None
    answered_at: datetime | None = None
    wait_s: float = 0.0
    ring_s: float = 0.0
    talk_s: float = 0.0
    transfers: list[dict[str, Any]] = field(default_factory=list)
    recording: str = ""
    forwarded_to: str = ""  # answered at this outside number, not by an operator
    voicemail_left: bool = False
    voicemail_s: float | None = None
    voicemail_file: str = ""
    client_id: int | None = None  # when the popup already looked the caller up
    client_looked_up: bool = False


def client_id_of(card: Any) -> int | None:
    if card is None:
        return None
    if isinstance(card, dict):
        return card.get("client_id") or card.get("id")
    return getattr(card, "client_id", None) or getattr(card, "id", None)


def lookup_client_id(db: Session, number: str | None) -> int | None:
    """The client whose phone this is (any team: the log links calls for everyone)."""
    if not number:
        return None
    from crm_core.clients.lookup import caller_card
    from crm_core.phones import InvalidPhone

    try:
        return client_id_of(caller_card(db, number, actor=None))
    except InvalidPhone:
        return None


def already_logged(db: Session, linkedid: str) -> bool:
    return db.scalar(select(Call.id).where(Call.linkedid == linkedid)) is not None


def log_call(db: Session, facts: FinishedCall) -> Call | None:
    """Store a finished call, its history entry and, if missed, its callback task.

    Returns None when the call is logged already (reconnect, resync, a second listener): a call
    is stored once, whatever the AMI stream repeats.
    """
    _check(facts)
    if already_logged(db, facts.linkedid):
        return None
    users = _users_who_rang(db, facts)
    note = db.scalar(select(CallNote).where(CallNote.linkedid == facts.linkedid))
    note_text = note.body if note and _note_applies(db, note, users.values()) else ""
    call = _call_row(facts, _client_of(db, facts), users, note_text)
    if not _insert_once(db, call):
        return None
    record_call(db, call)  # the reports' per-hour figures, in the same transaction
    if call.client_id is not None:
        call.interaction_id = _history_entry(db, facts, call)
    _follow_up(db, facts, call)
    db.flush()
    return call


def _check(facts: FinishedCall) -> None:
    if facts.direction not in DIRECTIONS:
        raise Invalid("direction", f"must be one of {', '.join(DIRECTIONS)}")
    if facts.disposition not in DISPOSITIONS:
        raise Invalid("disposition", f"must be one of {', '.join(DISPOSITIONS)}")


def _client_of(db: Session, facts: FinishedCall) -> int | None:
    """The popup's client if it still exists, else the one whose phone called (not internal)."""
    client_id = facts.client_id
    if not facts.client_looked_up and client_id is None and facts.direction != "internal":
        client_id = lookup_client_id(db, facts.e164 or facts.number)
    if client_id is not None and db.scalar(select(Client.id).where(Client.id == client_id)) is None:
        client_id = None
    return client_id


def _users_who_rang(db: Session, facts: FinishedCall) -> dict[str, User | None]:
    """The user bound to each extension that rang or answered, in order."""
    users: dict[str, User | None] = {}
    for ext in [*facts.rang, *([facts.answered_by] if facts.answered_by else [])]:
        if ext not in users:
            users[ext] = user_for_extension(db, ext)
    return users


def _call_row(
    facts: FinishedCall, client_id: int | None, users: dict[str, User | None], note_text: str
) -> Call:
    """The call row and its legs; the team is the answerer's, else the first team that rang."""
    answered_user = users.get(facts.answered_by) if facts.answered_by else None
    team_id = next(
        (u.team_id for u in ([answered_user] + [users[e] for e in facts.rang]) if u and u.team_id),
        None,
    )
    call = Call(
        linkedid=facts.linkedid,
        direction=facts.direction,
        number=(facts.number or "")[:64],
        e164=facts.e164,
        withheld=facts.withheld,
        caller_name=(facts.caller_name or "")[:120],
        did=(facts.did or "")[:64],
        queue=(facts.queue or "")[:80],
        rang=list(facts.rang),
        answered_extension=facts.answered_by,
        answered_user_id=answered_user.id if answered_user else None,
        team_id=team_id,
        started_at=facts.started_at,
        answered_at=facts.answered_at,
        ended_at=facts.ended_at,
        wait_s=round(max(facts.wait_s, 0.0), 3),
        ring_s=round(max(facts.ring_s, 0.0), 3),
        talk_s=round(max(facts.talk_s, 0.0), 3),
        transfers=list(facts.transfers),
        disposition=facts.disposition,
        recording=(facts.recording or "")[:255],
        forwarded_to=(facts.forwarded_to or "")[:32],
        voicemail_left=facts.voicemail_left,
        voicemail_s=facts.voicemail_s,
        voicemail_file=(facts.voicemail_file or "")[:255],
        client_id=client_id,
        note=note_text,
    )
    for ext, user in users.items():
        call.legs.append(
            CallLeg(
                extension=ext,
                user_id=user.id if user else None,
                answered=ext == facts.answered_by,
            )
        )
    return call


def _insert_once(db: Session, call: Call) -> bool:
    """False when another process logged the same call meanwhile (unique Linkedid)."""
    try:
        with db.begin_nested():
            db.add(call)
            db.flush()
    except IntegrityError:
        log.info("call %s was logged by someone else meanwhile", call.linkedid)
        return False
    return True


def _history_entry(db: Session, facts: FinishedCall, call: Call) -> int:
    from crm_core.history.service import add_interaction

    entry = add_interaction(
        db,
        SYSTEM,
        client_id=call.client_id,
        kind="call",
        direction=facts.direction if facts.direction in ("inbound", "outbound") else "",
        occurred_at=facts.started_at,
        subject=call_history_subject(call, STORED),
        body=call.note,
        result_code=facts.disposition,
        duration_s=int(round(call.talk_s)),
        phone_number=(facts.number or facts.e164 or "")[:32],
        call_id=facts.linkedid,
        author_id=call.answered_user_id,
    )
    return entry.id


def _follow_up(db: Session, facts: FinishedCall, call: Call) -> None:
    """A missed inbound call gets a callback task; an answered call to a number closes them."""
    if facts.direction == "inbound" and facts.disposition in MISSED and not facts.withheld:
        call.callback_task_id = _create_callback_task(db, call)
    if facts.direction == "outbound" and facts.disposition == "answered" and call.e164:
        _close_callbacks_to(db, call.e164, call.answered_user_id, facts.started_at)


def _note_applies(db: Session, note: CallNote, users: Iterable[User | None]) -> bool:
    """A note written before the call was logged counts if its author rang/answered, or manages."""
    if note.author_id is None:
        return True
    if any(u is not None and u.id == note.author_id for u in users):
        return True
    author = db.get(User, note.author_id)
    return author is not None and author.role in ("admin", "manager")


def _create_callback_task(db: Session, call: Call) -> int | None:
    existing = db.scalar(
        select(Task.id).where(Task.call_id == call.linkedid, Task.source == CALLBACK_SOURCE)
    )
    if existing is not None:
        return existing
    owner_id = None
    if get_settings().callback_task_to == "owner" and call.client_id is not None:
        owner_id = db.scalar(select(Client.owner_id).where(Client.id == call.client_id))
        if owner_id is not None:
            owner = db.get(User, owner_id)
            owner_id = owner.id if owner is not None and owner.is_active else None
    team_id = call.team_id
    if owner_id is None and team_id is None and call.client_id is not None:
        team_id = db.scalar(select(Client.team_id).where(Client.id == call.client_id))
    task = tasks.create_task(
        db,
        SYSTEM,
        title=callback_task_title(call, STORED),
        description=callback_task_description(call, STORED),
        client_id=call.client_id,
        assignee_id=owner_id,
        team_id=team_id if owner_id is None else None,
        due_at=call.ended_at + timedelta(hours=1),
        priority="high",
        source=CALLBACK_SOURCE,
        call_id=call.linkedid,
    )
    return task.id


def _close_callbacks_to(db: Session, e164: str, user_id: int | None, since: datetime) -> None:
    """An answered outbound call to a number closes the open callback tasks for that number."""
    open_ids = db.scalars(
        select(Task.id)
        .join(Call, Call.linkedid == Task.call_id)
        .where(
            Task.source == CALLBACK_SOURCE,
            Task.status.in_(("open", "in_progress")),
            Call.e164 == e164,
            Call.started_at <= since,
        )
    ).all()
    for task_id in open_ids:
        tasks.complete_task(db, SYSTEM, task_id)
