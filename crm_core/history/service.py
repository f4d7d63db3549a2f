"""The client's history: calls, meetings, visits, e-mails, SMS, notes.

Rights follow the client: whoever may see the client sees and adds its history. Editing is
for the author and managers/admins; deleting is for managers/admins, and for the author of
a note (an operator may take back their own note, not a call record).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core import signals
from crm_core.attachments import service as attachments
from crm_core.audit.service import record, snapshot
from crm_core.auth.principal import Principal
from crm_core.auth.rights import get_visible_client, visible_interactions
from crm_core.clients.models import Client
from crm_core.customfields import service as customfields
from crm_core.database import utcnow
from crm_core.errors import Forbidden, Invalid, NotFound, said
from crm_core.history import choices
from crm_core.history.models import INTERACTION_KINDS, Interaction

DIRECTIONS = ("", "inbound", "outbound")
EDITABLE = ("subject", "body", "type_code", "result_code", "occurred_at", "duration_s", "direction")


def _text(value: str | None, loc: str, limit: int) -> str:
    value = value or ""
    if len(value) > limit:
        raise Invalid(loc, said("must be at most %(limit)s characters"), params={"limit": limit})
    return value


def _when(value: datetime | None, loc: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise Invalid(loc, said("must include a timezone, e.g. 2024-05-01T10:00:00Z"))
    return value


def add_interaction(
    db: Session,
    actor: Principal,
    *,
    client_id: int | None,
    kind: str,
    direction: str = "",
    occurred_at: datetime | None = None,
    subject: str = "",
    body: str = "",
    result_code: str = "",
    type_code: str = "",
    duration_s: int | None = None,
    phone_number: str = "",
    call_id: str | None = None,
    author_id: int | None = None,
    custom: dict[str, Any] | None = None,
) -> Interaction:
    """Add one history entry and tell the other parts (``signals.interaction_added``)."""
    if client_id is None:
        if actor.role != "system":
            raise Invalid("client_id", said("is required"))
    elif actor.role == "system":
        if db.scalar(select(Client.id).where(Client.id == client_id)) is None:
            raise NotFound(f"client {client_id} not found")
    else:
        get_visible_client(db, actor, client_id)
    if kind not in INTERACTION_KINDS:
        raise Invalid(
            "kind",
            said("must be one of %(choices)s"),
            params={"choices": ", ".join(INTERACTION_KINDS)},
        )
    if direction not in DIRECTIONS:
        raise Invalid("direction", said("must be inbound, outbound or empty"))
    if duration_s is not None and not 0 <= duration_s <= 7 * 86400:
        raise Invalid("duration_s", said("must be between 0 and 604800 seconds"))
    # entries the system writes (the call log, inbound SMS) cannot fill in fields an admin made
    # required; a person completes them when editing the entry
    values = customfields.validate_values(db, "interaction", custom, partial=actor.role == "system")
    item = Interaction(
        client_id=client_id,
        kind=kind,
        direction=direction,
        occurred_at=_when(occurred_at, "occurred_at") or utcnow(),
        author_id=author_id if author_id is not None else actor.id,
        type_code=choices.check_code(db, "interaction_type", type_code, "type_code", actor),
        result_code=choices.check_code(db, "interaction_result", result_code, "result_code", actor),
        subject=_text(subject, "subject", 250),
        body=_text(body, "body", 100_000),
        duration_s=duration_s,
        phone_number=_text(phone_number, "phone_number", 32),
        call_id=_text(call_id, "call_id", 64) or None,
    )
    db.add(item)
    db.flush()
    customfields.save_values(db, "interaction", item.id, values)
    record(db, actor, "create", "interaction", item.id, None, snapshot(item))
    signals.interaction_added.send(db, interaction=item, actor=actor)
    return item


def get_interaction(db: Session, actor: Principal, interaction_id: int) -> Interaction:
    item = db.scalar(
        select(Interaction).where(Interaction.id == interaction_id, visible_interactions(actor))
    )
    if item is None:
        raise NotFound(f"interaction {interaction_id} not found")
    return item


def list_for_client(
    db: Session,
    actor: Principal,
    client_id: int,
    *,
    kind: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Interaction], int]:
    """Newest first; raises NotFound when the actor may not see the client."""
    from sqlalchemy import func

    get_visible_client(db, actor, client_id)
    query = select(Interaction).where(Interaction.client_id == client_id)
    if kind:
        if kind not in INTERACTION_KINDS:
            raise Invalid(
                "kind",
                said("must be one of %(choices)s"),
                params={"choices": ", ".join(INTERACTION_KINDS)},
            )
        query = query.where(Interaction.kind == kind)
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.scalars(
        query.order_by(Interaction.occurred_at.desc(), Interaction.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(rows), total


def _may_edit(actor: Principal, item: Interaction) -> bool:
    return actor.can_delete or (actor.id is not None and item.author_id == actor.id)


def update_interaction(
    db: Session, actor: Principal, interaction_id: int, changes: dict[str, Any]
) -> Interaction:
    item = get_interaction(db, actor, interaction_id)
    if not _may_edit(actor, item):
        raise Forbidden(said("Only the author or a manager may edit this entry"))
    before = snapshot(item)
    for name, value in changes.items():
        if name == "custom":
            continue
        if name not in EDITABLE:
            raise Invalid(name, said("cannot be changed"))
        if name == "type_code":
            value = choices.check_code(db, "interaction_type", value, "type_code", actor)
        elif name == "result_code":
            value = choices.check_code(db, "interaction_result", value, "result_code", actor)
        elif name == "occurred_at":
            if value is None:
                raise Invalid("occurred_at", said("must not be empty"))
            _when(value, "occurred_at")
        elif name == "direction" and value not in DIRECTIONS:
            raise Invalid("direction", said("must be inbound, outbound or empty"))
        elif name == "duration_s" and value is not None and not 0 <= value <= 7 * 86400:
            raise Invalid("duration_s", said("must be between 0 and 604800 seconds"))
        elif name == "subject":
            value = _text(value, "subject", 250)
        elif name == "body":
            value = _text(value, "body", 100_000)
        setattr(item, name, value)
    if changes.get("custom") is not None:
        values = customfields.validate_values(db, "interaction", changes["custom"], partial=True)
        customfields.save_values(db, "interaction", item.id, values)
    db.flush()
    record(db, actor, "update", "interaction", item.id, before, snapshot(item))
    return item


def delete_interaction(db: Session, actor: Principal, interaction_id: int) -> None:
    item = get_interaction(db, actor, interaction_id)
    own_note = item.kind == "note" and actor.id is not None and item.author_id == actor.id
    if not (actor.can_delete or own_note):
        raise Forbidden(said("Only managers may delete history entries (authors: their own notes)"))
    before = snapshot(item)
    customfields.delete_values(db, "interaction", item.id)
    attachments.rehome(db, "interaction", item.id, item.client_id)
    db.delete(item)
    db.flush()
    record(db, actor, "delete", "interaction", interaction_id, before, None)
