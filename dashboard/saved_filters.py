"""Saved filters of the client list: a user names the current filters and finds them again."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_core.auth.principal import Principal
from crm_core.errors import Conflict, Invalid, NotFound
from dashboard.models import SavedFilter

ALLOWED = {"team", "owner", "category", "tag", "status", "city", "kind", "sort"}
MAX_PER_USER = 50


def clean_query(query: str) -> str:
    """Only list filters survive (``cf.<key>`` included), in a stable order."""
    if len(query) > 2000:
        raise Invalid("query", "must be at most 2000 characters")
    pairs = [
        (k, v.strip())
        for k, v in parse_qsl(query.lstrip("?"), keep_blank_values=False)
        if (k in ALLOWED or (k.startswith("cf.") and len(k) > 3)) and v.strip()
    ]
    return urlencode(sorted(pairs))


def list_for(db: Session, actor: Principal) -> list[SavedFilter]:
    if actor.id is None:
        return []
    return list(
        db.scalars(
            select(SavedFilter)
            .where(SavedFilter.user_id == actor.id)
            .order_by(func.lower(SavedFilter.name))
        )
    )


def save(db: Session, actor: Principal, *, name: str, query: str) -> SavedFilter:
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise Invalid("name", "must be 1 to 80 characters")
    if actor.id is None:
        raise Invalid("name", "only users can save filters")
    query = clean_query(query or "")
    existing = db.scalar(
        select(SavedFilter).where(
            SavedFilter.user_id == actor.id, func.lower(SavedFilter.name) == name.lower()
        )
    )
    if existing is not None:
        raise Conflict(f"you already have a saved filter named {name!r}")
    count = db.scalar(select(func.count(SavedFilter.id)).where(SavedFilter.user_id == actor.id))
    if (count or 0) >= MAX_PER_USER:
        raise Invalid("name", f"at most {MAX_PER_USER} saved filters per user; delete one first")
    row = SavedFilter(user_id=actor.id, name=name, query=query)
    db.add(row)
    db.flush()
    return row


def delete(db: Session, actor: Principal, filter_id: int) -> None:
    row = db.get(SavedFilter, filter_id)
    if row is None or row.user_id != actor.id:
        raise NotFound(f"saved filter {filter_id} not found")
    db.delete(row)
    db.flush()
