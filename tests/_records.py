"""Helpers for the records tests (tasks, history, files, custom fields, audit)."""

from __future__ import annotations


def team_id(name: str) -> int:
    from crm_core.auth.service import get_or_create_team
    from crm_core.database import session_scope

    with session_scope() as s:
        return get_or_create_team(s, name).id


def make_client(name: str = "Ștefan Țurcanu", team: str | None = "Sales") -> int:
    """A client row written directly (the clients API is tested elsewhere)."""
    from crm_core.clients.models import Client
    from crm_core.database import session_scope

    tid = team_id(team) if team else None
    with session_scope() as s:
        client = Client(first_name=name, display_name=name, team_id=tid)
        s.add(client)
        s.flush()
        return client.id


def user_id(username: str) -> int:
    from sqlalchemy import select

    from crm_core.auth.models import User
    from crm_core.database import session_scope

    with session_scope() as s:
        return s.scalar(select(User.id).where(User.username == username))


def audit_entries(entity: str, entity_id) -> list:
    from sqlalchemy import select

    from crm_core.audit.models import AuditEntry
    from crm_core.database import session_scope

    with session_scope() as s:
        rows = s.scalars(
            select(AuditEntry)
            .where(AuditEntry.entity == entity, AuditEntry.entity_id == str(entity_id))
            .order_by(AuditEntry.id)
        ).all()
        return [(r.action, r.actor_id, r.changes) for r in rows]


def loc(response) -> list:
    """The ``loc`` of each error of a 422 answer."""
    assert response.status_code == 422, response.text
    return [e["loc"] for e in response.json()["detail"]]


_SHARED_HASH: list[str] = []


def colleagues(**specs: tuple[str, str | None]) -> dict[str, dict[str, str]]:
    """``colleagues(ana=("operator", "Sales"))`` -> {"ana": bearer headers}.

    Users are written directly with one argon2 hash shared by all of them (computed once per
    run): these tests sign in with bearer tokens, and hashing a password per user per test
    would cost more than the tests themselves. Password sign-in is tested in test_auth/test_users.
    """
    from crm_core.auth.models import User
    from crm_core.auth.security import hash_password
    from crm_core.auth.service import get_or_create_team, open_session
    from crm_core.database import session_scope

    if not _SHARED_HASH:
        _SHARED_HASH.append(hash_password("password-shared"))
    out = {}
    with session_scope() as s:
        for name, (role, team) in specs.items():
            user = User(
                username=name,
                full_name=name.title(),
                password_hash=_SHARED_HASH[0],
                role=role,
                team_id=get_or_create_team(s, team).id if team else None,
            )
            s.add(user)
            s.flush()
            out[name] = {"Authorization": f"Bearer {open_session(s, user, 'bearer')}"}
    return out
