"""The call log's rules: store each finished call once, link it to its client, follow up missed calls.

Called by the CTI process (``log_call``, as the ``SYSTEM`` actor) and by the API (reads, notes,
calls to return, with the signed-in operator as actor).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from crm_core.auth.models import User
from crm_core.auth.principal import SYSTEM, Principal
from crm_core.auth.rights import visible_client_ids
from crm_core.auth.service import user_for_extension
from crm_core.clients.models import Client
from crm_core.config import get_settings
from crm_core.database import utcnow
from crm_core.errors import Invalid, NotFound
from crm_core.history.models import Interaction
from crm_core.tasks import service as tasks
from crm_core.tasks.models import Task
from cti.calllog.models import DIRECTIONS, DISPOSITIONS, Call, CallLeg, CallNote

log = logging.getLogger("callcard.cti.calllog")

MISSED = ("missed", "abandoned", "busy")
CALLBACK_SOURCE = "missed_call"
NOTE_LIMIT = 20_000


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
    client_id: int | None = None  # when the popup already looked the caller up
    client_looked_up: bool = False


def _client_id_of(card: Any) -> int | None:
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
        return _client_id_of(caller_card(db, number, actor=None))
    except InvalidPhone:
        return None


def already_logged(db: Session, linkedid: str) -> bool:
    return db.scalar(select(Call.id).where(Call.linkedid == linkedid)) is not None


def log_call(db: Session, facts: FinishedCall) -> Call | None:
    """Store a finished call, its history entry and, if missed, its callback task.

    Returns None when the call is logged already (reconnect, resync, a second listener): a call
    is stored once, whatever the AMI stream repeats.
    """
    if facts.direction not in DIRECTIONS:
        raise Invalid("direction", f"must be one of {', '.join(DIRECTIONS)}")
    if facts.disposition not in DISPOSITIONS:
        raise Invalid("disposition", f"must be one of {', '.join(DISPOSITIONS)}")
    if already_logged(db, facts.linkedid):
        return None
    client_id = facts.client_id
    if not facts.client_looked_up and client_id is None and facts.direction != "internal":
        client_id = lookup_client_id(db, facts.e164 or facts.number)
    if client_id is not None and db.scalar(select(Client.id).where(Client.id == client_id)) is None:
        client_id = None

    users: dict[str, User | None] = {}
    for ext in [*facts.rang, *([facts.answered_by] if facts.answered_by else [])]:
        if ext not in users:
            users[ext] = user_for_extension(db, ext)
    answered_user = users.get(facts.answered_by) if facts.answered_by else None
    team_id = next(
        (u.team_id for u in ([answered_user] + [users[e] for e in facts.rang]) if u and u.team_id),
        None,
    )
    note = db.scalar(select(CallNote).where(CallNote.linkedid == facts.linkedid))
    note_text = note.body if note and _note_applies(db, note, users.values()) else ""

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
    try:
        with db.begin_nested():
            db.add(call)
            db.flush()
    except IntegrityError:
        log.info("call %s was logged by someone else meanwhile", facts.linkedid)
        return None

    if client_id is not None:
        from crm_core.history.service import add_interaction

        entry = add_interaction(
            db,
            SYSTEM,
            client_id=client_id,
            kind="call",
            direction=facts.direction if facts.direction in ("inbound", "outbound") else "",
            occurred_at=facts.started_at,
            subject=_subject(facts),
            body=note_text,
            result_code=facts.disposition,
            duration_s=int(round(call.talk_s)),
            phone_number=(facts.number or facts.e164 or "")[:32],
            call_id=facts.linkedid,
            author_id=call.answered_user_id,
        )
        call.interaction_id = entry.id

    if facts.direction == "inbound" and facts.disposition in MISSED and not facts.withheld:
        call.callback_task_id = _create_callback_task(db, call)
    if facts.direction == "outbound" and facts.disposition == "answered" and call.e164:
        _close_callbacks_to(db, call.e164, call.answered_user_id, facts.started_at)
    db.flush()
    return call


def _subject(facts: FinishedCall) -> str:
    who = facts.answered_by or (facts.rang[0] if facts.rang else "")
    word = {"inbound": "Call from", "outbound": "Call to", "internal": "Internal call"}[
        facts.direction
    ]
    number = "withheld number" if facts.withheld else (facts.number or facts.e164 or "")
    text = f"{word} {number}".strip()
    if facts.queue:
        text += f" (queue {facts.queue})"
    if who:
        text += f", ext {who}"
    return f"{text}: {facts.disposition}"[:250]


def _note_applies(db: Session, note: CallNote, users) -> bool:
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
    number = call.number or call.e164 or ""
    task = tasks.create_task(
        db,
        SYSTEM,
        title=f"Call back {number}"[:250],
        description=(
            f"{call.disposition.capitalize()} call at {call.started_at:%Y-%m-%d %H:%M} UTC"
            + (f" (queue {call.queue})" if call.queue else "")
            + (f", rang {', '.join(call.rang)}" if call.rang else "")
        ),
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


# --- reads -----------------------------------------------------------------------------


def visible_calls(actor: Principal):
    """Managers/admins: every call. Operators: calls of clients they may see, plus every call
    that rang or was answered on their own extension (unknown numbers included)."""
    if actor.sees_all_clients:
        return Call.id.is_not(None)
    if actor.role != "operator" or actor.id is None:
        return Call.id.is_(None)
    mine = exists().where(CallLeg.call_id == Call.id, CallLeg.user_id == actor.id)
    return or_(
        Call.client_id.in_(visible_client_ids(actor)),
        Call.answered_user_id == actor.id,
        mine,
    )


def get_call(db: Session, actor: Principal, call_id: int) -> Call:
    call = db.scalar(
        select(Call)
        .where(Call.id == call_id, visible_calls(actor))
        .options(selectinload(Call.legs))
    )
    if call is None:
        raise NotFound(f"call {call_id} not found")
    return call


def list_calls(
    db: Session,
    actor: Principal,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    disposition: str | None = None,
    extension: str | None = None,
    client_id: int | None = None,
    direction: str | None = None,
    number: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Call], int]:
    where = [visible_calls(actor)]
    if since is not None:
        where.append(Call.started_at >= since)
    if until is not None:
        where.append(Call.started_at < until)
    if disposition:
        if disposition not in DISPOSITIONS:
            raise Invalid("disposition", f"must be one of {', '.join(DISPOSITIONS)}")
        where.append(Call.disposition == disposition)
    if direction:
        if direction not in DIRECTIONS:
            raise Invalid("direction", f"must be one of {', '.join(DIRECTIONS)}")
        where.append(Call.direction == direction)
    if extension:
        where.append(
            or_(
                Call.answered_extension == extension,
                exists().where(CallLeg.call_id == Call.id, CallLeg.extension == extension),
            )
        )
    if client_id is not None:
        where.append(Call.client_id == client_id)
    if number:
        from crm_core.phones import try_e164

        e164 = try_e164(number)
        where.append(Call.e164 == e164 if e164 else Call.number == number)
    total = db.scalar(select(func.count(Call.id)).where(*where)) or 0
    rows = db.scalars(
        select(Call)
        .where(*where)
        .options(selectinload(Call.legs))
        .order_by(Call.started_at.desc(), Call.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return list(rows), total


# --- notes -----------------------------------------------------------------------------


def save_note(db: Session, actor: Principal, linkedid: str, body: str) -> dict[str, Any]:
    """The operator's note for a call, written while talking; lands on the call's history entry.

    Before the call is logged the note is kept aside (``call_notes``) and applied when it is.
    """
    linkedid = (linkedid or "").strip()
    if not linkedid or len(linkedid) > 64:
        raise Invalid("call_id", "must be 1 to 64 characters")
    if len(body) > NOTE_LIMIT:
        raise Invalid("body", f"must be at most {NOTE_LIMIT} characters")
    call = db.scalar(select(Call).where(Call.linkedid == linkedid))
    if (
        call is not None
        and db.scalar(select(Call.id).where(Call.id == call.id, visible_calls(actor))) is None
    ):
        raise NotFound(f"call {linkedid} not found")
    note = db.scalar(select(CallNote).where(CallNote.linkedid == linkedid))
    if note is None:
        note = CallNote(linkedid=linkedid, author_id=actor.id, body=body, updated_at=utcnow())
        try:
            with db.begin_nested():
                db.add(note)
                db.flush()
        except IntegrityError:
            note = db.scalar(select(CallNote).where(CallNote.linkedid == linkedid))
            note.body, note.author_id = body, actor.id
    else:
        note.body, note.author_id, note.updated_at = body, actor.id, utcnow()
    if call is not None:
        call.note = body
        if call.interaction_id is not None:
            entry = db.get(Interaction, call.interaction_id)
            if entry is not None:
                entry.body = body
    db.flush()
    return {"call_id": linkedid, "body": body, "logged": call is not None}


# --- calls to return -------------------------------------------------------------------


def calls_to_return(db: Session, actor: Principal, limit: int = 100) -> list[dict[str, Any]]:
    """Open missed-call tasks for this operator (theirs, or their team's unassigned ones)."""
    mine = [Task.assignee_id == actor.id]
    if actor.team_id is not None:
        mine.append(and_(Task.assignee_id.is_(None), Task.team_id == actor.team_id))
    if actor.sees_all_clients:
        mine.append(Task.assignee_id.is_(None))
    rows = db.execute(
        select(Task, Call)
        .join(Call, Call.linkedid == Task.call_id)
        .where(
            Task.source == CALLBACK_SOURCE,
            Task.status.in_(("open", "in_progress")),
            or_(*mine),
        )
        .order_by(Call.started_at.desc())
        .limit(limit)
    ).all()
    out = []
    for task, call in rows:
        attempts = 0
        if call.e164:
            attempts = (
                db.scalar(
                    select(func.count(Call.id)).where(
                        Call.direction == "outbound",
                        Call.e164 == call.e164,
                        Call.started_at > call.started_at,
                    )
                )
                or 0
            )
        client = db.get(Client, call.client_id) if call.client_id else None
        out.append(
            {
                "task_id": task.id,
                "call_id": call.id,
                "linkedid": call.linkedid,
                "number": call.number,
                "e164": call.e164,
                "client_id": call.client_id,
                "client_name": client.display_name if client else None,
                "queue": call.queue,
                "disposition": call.disposition,
                "at": call.started_at,
                "attempts": attempts,
                "assignee_id": task.assignee_id,
                "team_id": task.team_id,
            }
        )
    return out


def complete_callback(db: Session, actor: Principal, task_id: int) -> Task:
    task = tasks.get_task(db, actor, task_id)
    if task.source != CALLBACK_SOURCE:
        raise NotFound(f"call to return {task_id} not found")
    return tasks.complete_task(db, actor, task_id)
