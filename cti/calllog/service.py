"""The call log for its readers: calls a user may see, notes, calls to return.

Called by the API with the signed-in operator as actor; writing a finished call is
:mod:`cti.calllog.finished`.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from crm_core.auth.principal import Principal
from crm_core.auth.rights import visible_client_ids
from crm_core.clients.models import Client
from crm_core.database import utcnow
from crm_core.errors import Invalid, NotFound
from crm_core.history.models import Interaction
from crm_core.tasks import service as tasks
from crm_core.tasks.models import Task
from cti.calllog.finished import CALLBACK_SOURCE
from cti.calllog.models import DIRECTIONS, DISPOSITIONS, Call, CallLeg, CallNote

log = logging.getLogger("callcard.cti.calllog")

NOTE_LIMIT = 20_000


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


def _may_write_note(actor: Principal, call: Call | None, note: CallNote | None) -> bool:
    """Managers write any call's note; an operator only the note of a call they were on.

    A logged call names its operators (the one who answered, the extensions that rang). A call
    still going on is not logged yet: an operator with an extension may start its note, and from
    then on only that author (and managers) may change it."""
    if actor.sees_all_clients:
        return True
    if actor.role != "operator" or actor.id is None:
        return False
    if call is not None:
        return call.answered_user_id == actor.id or any(
            leg.user_id == actor.id for leg in call.legs
        )
    if note is not None:
        return note.author_id == actor.id
    return bool(actor.extension)


def _keep_note(db: Session, actor: Principal, linkedid: str, note: CallNote | None, body: str):
    """Store the note aside (``call_notes``); two first writers at once: the second updates."""
    if note is not None:
        note.body, note.author_id, note.updated_at = body, actor.id, utcnow()
        return
    note = CallNote(linkedid=linkedid, author_id=actor.id, body=body, updated_at=utcnow())
    try:
        with db.begin_nested():
            db.add(note)
            db.flush()
    except IntegrityError:
        raced = db.scalar(select(CallNote).where(CallNote.linkedid == linkedid))
        if raced is None or not _may_write_note(actor, None, raced):
            raise NotFound(f"call {linkedid} not found") from None
        raced.body, raced.author_id = body, actor.id


def save_note(db: Session, actor: Principal, linkedid: str, body: str) -> dict[str, Any]:
    """The operator's note for a call, written while talking; lands on the call's history entry.

    Before the call is logged the note is kept aside (``call_notes``) and applied when it is.
    Someone who may not write it gets 404, as for a call they may not see.
    """
    linkedid = (linkedid or "").strip()
    if not linkedid or len(linkedid) > 64:
        raise Invalid("call_id", "must be 1 to 64 characters")
    if len(body) > NOTE_LIMIT:
        raise Invalid("body", f"must be at most {NOTE_LIMIT} characters")
    call = db.scalar(select(Call).where(Call.linkedid == linkedid).options(selectinload(Call.legs)))
    note = db.scalar(select(CallNote).where(CallNote.linkedid == linkedid))
    if not _may_write_note(actor, call, note):
        raise NotFound(f"call {linkedid} not found")
    _keep_note(db, actor, linkedid, note, body)
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
                "voicemail_left": call.voicemail_left,
                "voicemail_s": call.voicemail_s,
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
