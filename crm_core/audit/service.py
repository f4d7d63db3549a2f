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
