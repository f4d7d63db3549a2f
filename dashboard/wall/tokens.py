"""Read-only wall tokens: a TV opens ``/wall?token=...`` without anyone signing in on it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from crm_core.audit.service import record
from crm_core.auth.models import AuthSession
from crm_core.auth.principal import Principal
from crm_core.auth.security import token_hash
from crm_core.auth.service import open_session
from crm_core.errors import Invalid, NotFound

MAX_DAYS = 3650


@dataclass
class WallToken:
    id: int
    label: str
    created_at: datetime
    expires_at: datetime
    token: str | None = None  # only when just created: the secret is never stored


def create_wall_token(db: Session, actor: Principal, *, label: str, days: int = 365) -> WallToken:
    label = (label or "").strip()
    if not label or len(label) > 120:
        raise Invalid("label", "must be 1 to 120 characters, e.g. 'TV in the call room'")
    if not 1 <= days <= MAX_DAYS:
        raise Invalid("days", f"must be between 1 and {MAX_DAYS}")
    token = open_session(db, None, "wall", label=label, days=days)
    row = db.scalar(select(AuthSession).where(AuthSession.token_hash == token_hash(token)))
    assert row is not None
    record(db, actor, "create", "wall_token", row.id, None, {"label": label, "days": days})
    return WallToken(row.id, row.label, row.created_at, row.expires_at, token)


def list_wall_tokens(db: Session) -> list[WallToken]:
    rows = db.scalars(
        select(AuthSession).where(AuthSession.kind == "wall").order_by(AuthSession.id)
    )
    return [WallToken(r.id, r.label, r.created_at, r.expires_at) for r in rows]


def revoke_wall_token(db: Session, actor: Principal, token_id: int) -> None:
    row = db.get(AuthSession, token_id)
    if row is None or row.kind != "wall":
        raise NotFound(f"wall token {token_id} not found")
    db.execute(delete(AuthSession).where(AuthSession.id == token_id))
    record(db, actor, "delete", "wall_token", token_id, {"label": row.label}, None)
