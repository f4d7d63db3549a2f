"""The audit trail: who changed what, when, with the values before and after."""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class AuditFilters:
    """What the audit screen narrows by; every field optional."""

    entity: str | None = None
    entity_id: str | None = None
    actor_id: int | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def page(
    db: Session,
    filters: AuditFilters,
    *,
    before: tuple[datetime, int] | None = None,
    limit: int = 50,
) -> tuple[list[AuditEntry], tuple[datetime, int] | None]:
    """One page of entries, newest first, and the cursor of the next page (None: the last).

    Keyset pagination on ``(at, id)``: a page deep in five million rows costs what the first
    does, where an offset would walk every row before it. No total is counted for that reason.
    """
    from sqlalchemy import select, tuple_

    query = select(AuditEntry)
    for clause in _where(filters):
        query = query.where(clause)
    if before is not None:
        query = query.where(tuple_(AuditEntry.at, AuditEntry.id) < tuple_(*before))
    rows = list(
        db.scalars(query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit + 1))
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, ((rows[-1].at, rows[-1].id) if more and rows else None)


def _where(filters: AuditFilters) -> list[Any]:
    out: list[Any] = []
    if filters.entity:
        out.append(AuditEntry.entity == filters.entity)
    if filters.entity_id:
        out.append(AuditEntry.entity_id == str(filters.entity_id))
    if filters.actor_id is not None:
        out.append(AuditEntry.actor_id == filters.actor_id)
    if filters.action:
        out.append(AuditEntry.action == filters.action)
    if filters.since is not None:
        out.append(AuditEntry.at >= filters.since)
    if filters.until is not None:
        out.append(AuditEntry.at < filters.until)
    return out


#: record types the filter suggests (any other type written by a service may be typed)
ENTITIES = (
    "client",
    "interaction",
    "task",
    "user",
    "team",
    "custom_field",
    "field_label",
    "choice_item",
    "attachment",
    "wall_token",
)
ACTIONS = ("create", "update", "delete", "restore", "merge", "reset_password")


def side_by_side(changes: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """``[(field, before, after)]`` of an entry's changes, fields in order."""
    rows = []
    for field, pair in sorted(changes.items()):
        if isinstance(pair, list | tuple) and len(pair) == 2:
            rows.append((field, pair[0], pair[1]))
        else:
            rows.append((field, None, pair))
    return rows
