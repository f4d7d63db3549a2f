"""The audit trail: who changed what, when, with the values before and after."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from crm_core.audit.models import AuditEntry
from crm_core.auth.principal import Principal

SKIP = {"password_hash", "search_text", "token_hash"}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def snapshot(obj: Any, fields: list[str] | None = None) -> dict[str, Any]:
    """The column values of a model instance as JSON-safe data."""
    mapper = inspect(obj).mapper
    names = fields or [c.key for c in mapper.column_attrs]
    return {name: _plain(getattr(obj, name)) for name in names if name not in SKIP}


def diff(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, Any]:
    """``{field: [old, new]}`` for the fields that changed."""
    before, after = before or {}, after or {}
    keys = sorted(set(before) | set(after))
    return {k: [before.get(k), after.get(k)] for k in keys if before.get(k) != after.get(k)}


def record(
    db: Session,
    actor: Principal | None,
    action: str,
    entity: str,
    entity_id: Any,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry | None:
    """Write one audit entry; an update that changed nothing writes nothing."""
    changes = diff(before, after)
    if action == "update" and not changes:
        return None
    entry = AuditEntry(
        actor_id=actor.id if actor else None,
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        changes=changes,
    )
    db.add(entry)
    return entry


def search(
    db: Session,
    *,
    entity: str | None = None,
    entity_id: str | None = None,
    actor_id: int | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[AuditEntry], int, dict[int, str]]:
    """Entries matching the filters, newest first; the total; and the actors' usernames."""
    from sqlalchemy import func, select

    from crm_core.auth.models import User

    query = select(AuditEntry)
    if entity:
        query = query.where(AuditEntry.entity == entity)
    if entity_id:
        query = query.where(AuditEntry.entity_id == str(entity_id))
    if actor_id is not None:
        query = query.where(AuditEntry.actor_id == actor_id)
    if action:
        query = query.where(AuditEntry.action == action)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at < until)
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = list(
        db.scalars(
            query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit).offset(offset)
        )
    )
    ids = {r.actor_id for r in rows if r.actor_id is not None}
    names = (
        dict(db.execute(select(User.id, User.username).where(User.id.in_(ids))).tuples().all())
        if ids
        else {}
    )
    return rows, total, names
