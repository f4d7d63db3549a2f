"""Factories the tests share: teams, users, clients and calls as real rows through real
sessions (no service of ours is mocked), and a few small readers of what was written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from crm_core.auth.principal import Principal
from crm_core.clients.models import Client, Email, Phone
from crm_core.database import utcnow
from crm_core.phones import to_e164

#: when a :func:`finished_call` starts unless told
CALL_START = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def team_id(name: str) -> int:
    from crm_core.auth.service import get_or_create_team
    from crm_core.database import session_scope

    with session_scope() as s:
        return get_or_create_team(s, name).id


def make_client(
    name: str = "Ștefan Țurcanu", team: str | None = "Sales", *, phone: str | None = None
) -> int:
    """A client row written directly in its own transaction (the clients API is tested
    elsewhere), in ``team`` (made when new), with ``phone`` as typed; returns its id."""
    from crm_core.clients.models import Client, Phone
    from crm_core.database import session_scope
    from crm_core.phones import to_e164

    tid = team_id(team) if team else None
    with session_scope() as s:
        phones = [Phone(number=phone, e164=to_e164(phone))] if phone else []
        client = Client(first_name=name, display_name=name, team_id=tid, phones=phones)
        s.add(client)
        s.flush()
        return client.id


def add_client(name: str, *, team: str | None = "Sales", phone: str | None = None, **fields) -> int:
    """A client created through the clients service (as the system), in ``team``."""
    from crm_core.auth.principal import SYSTEM
    from crm_core.auth.service import get_or_create_team
    from crm_core.clients.schemas import ClientIn
    from crm_core.clients.service import create_client
    from crm_core.database import session_scope

    with session_scope() as db:
        team_id = get_or_create_team(db, team).id if team else None
        first, _, last = name.partition(" ")
        data = ClientIn(
            first_name=first,
            last_name=last,
            team_id=team_id,
            phones=[{"number": phone}] if phone else [],
            **fields,
        )
        return create_client(db, SYSTEM, data).id


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


def client_row(
    db,
    name: str = "Ana Popescu",
    phone: str | None = "+40712345678",
    email: str | None = "ana@example.com",
    language: str = "en",
    team_id: int | None = None,
    owner_id: int | None = None,
) -> Client:
    """A client in the caller's session (flushed, not committed), with a phone and an e-mail."""
    first, _, last = name.partition(" ")
    client = Client(
        first_name=first,
        last_name=last,
        display_name=name,
        language=language,
        team_id=team_id,
        owner_id=owner_id,
    )
    db.add(client)
    db.flush()
    if phone:
        e164 = to_e164(phone) or phone
        db.add(Phone(client_id=client.id, kind="mobile", number=phone, e164=e164))
    if email:
        db.add(
            Email(client_id=client.id, kind="personal", address=email, address_lower=email.lower())
        )
    db.flush()
    return client


def principal_of(user) -> Principal:
    return Principal(
        id=user.id, username=user.username, role=user.role, team_id=user.team_id,
        extension=user.extension,
    )  # fmt: skip


def outbox_rows(db, prefix: str = "", status: str | None = None):
    from notifier.outbox.models import OutboxMessage

    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if prefix:
        query = query.where(OutboxMessage.idempotency_key.like(f"{prefix}%"))
    if status:
        query = query.where(OutboxMessage.status == status)
    return list(db.scalars(query))


def later(**kwargs) -> datetime:
    return (utcnow() + timedelta(**kwargs)).replace(microsecond=0)


def finished_call(linkedid: str, **kw):
    """The facts of a call the tracker saw end (what the call log stores): an inbound call to
    101 answered after 5 s and talked 35 s, unless ``kw`` says otherwise."""
    from crm_core.phones import try_e164
    from cti.calllog.finished import FinishedCall

    number = kw.pop("number", "0721234567")
    start = kw.pop("start", CALL_START)
    defaults = dict(
        direction="inbound",
        disposition="answered",
        started_at=start,
        ended_at=start + timedelta(seconds=40),
        number=number,
        e164=try_e164(number),
        did="0213100100",
        rang=["101"],
        answered_by="101",
        answered_at=start + timedelta(seconds=5),
        wait_s=5,
        ring_s=5,
        talk_s=35,
    )
    if kw.get("disposition", "answered") != "answered":
        defaults.update(answered_by=None, answered_at=None, talk_s=0)
    defaults.update(kw)
    return FinishedCall(linkedid=linkedid, **defaults)
