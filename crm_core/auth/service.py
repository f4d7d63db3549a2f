"""Users, teams, sessions and bearer tokens."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from crm_core.apitypes import name_key
from crm_core.auth import throttle
from crm_core.auth.models import ROLES, AuthSession, Team, User
from crm_core.auth.passwords import check_password
from crm_core.auth.principal import Principal
from crm_core.auth.security import hash_password, new_token, token_hash, verify_password
from crm_core.auth.throttle import login_name
from crm_core.config import get_settings
from crm_core.database import utcnow
from crm_core.errors import Conflict, Invalid, NotFound


def principal_of(user: User) -> Principal:
    return Principal(
        id=user.id,
        username=user.username,
        role=user.role,
        team_id=user.team_id,
        extension=user.extension,
        language=user.language,
        full_name=user.full_name,
        timezone=user.timezone or "",
    )


def team_named(db: Session, name: str, *, other_than: int | None = None) -> Team | None:
    """The team whose name is ``name`` as people read it (:func:`~crm_core.apitypes.name_key`:
    case of any script, control characters and spacing aside); teams are few, so they are
    compared here rather than by the database's ``lower()``, which knows only ASCII on SQLite."""
    key = name_key(name)
    for team in db.scalars(select(Team).order_by(Team.id)):
        if team.id != other_than and name_key(team.name) == key:
            return team
    return None


def get_or_create_team(db: Session, name: str) -> Team:
    team = team_named(db, name)
    if team is None:
        team = Team(name=name)
        db.add(team)
        db.flush()
    return team


def create_user(
    db: Session,
    *,
    username: str,
    password: str,
    role: str = "operator",
    team: str | None = None,
    extension: str | None = None,
    full_name: str = "",
    email: str | None = None,
    language: str = "en",
) -> User:
    username = username.strip()
    if not username or len(username) > 80:
        raise Invalid("username", "must be 1 to 80 characters")
    if role not in ROLES:
        raise Invalid("role", f"must be one of {', '.join(ROLES)}")
    check_password(password, username)
    if extension is not None:
        extension = extension.strip() or None
    if extension and not extension.isdigit():
        raise Invalid("extension", "must be digits, like 101")
    if db.scalar(select(User.id).where(func.lower(User.username) == username.lower())):
        raise Conflict(f"user {username!r} exists already")
    if extension and db.scalar(select(User.id).where(User.extension == extension)):
        raise Conflict(f"extension {extension} is already bound to another user")
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role,
        team_id=get_or_create_team(db, team).id if team else None,
        extension=extension,
        full_name=full_name or username,
        email=email,
        language=language,
    )
    db.add(user)
    db.flush()
    return user


def find_login(db: Session, username: str) -> User | None:
    """The user a typed username signs in as: the exact name, else any case of it."""
    name = username.strip()
    return db.scalar(select(User).where(User.username == name)) or db.scalar(
        select(User).where(func.lower(User.username) == login_name(name)).limit(1)
    )


def authenticate(db: Session, username: str, password: str, address: str = "") -> User | None:
    """The active user for these credentials, or None (the failure is counted).

    Raises TooManyRequests while the account is locked for this address (crm_core.auth.throttle),
    whatever the password."""
    user = find_login(db, username)
    account = login_name(user.username if user else username)
    throttle.check_allowed(db, account, address)
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_active:
        throttle.record_failure(db, account, address)
        return None
    throttle.forget_failures(db, account, address)
    return user


def session_lifetime(kind: str) -> timedelta:
    """Browser sessions last hours (``browser_session_hours``), API tokens days
    (``session_days``)."""
    settings = get_settings()
    if kind == "cookie":
        return timedelta(hours=settings.browser_session_hours)
    return timedelta(days=settings.session_days)


def open_session(
    db: Session,
    user: User | None,
    kind: str = "cookie",
    label: str = "",
    days: int | None = None,
    *,
    address: str = "",
    user_agent: str = "",
) -> str:
    """A new secret for a browser session, bearer token or wall screen; only its hash is kept."""
    token = new_token()
    lifetime = timedelta(days=days) if days else session_lifetime(kind)
    db.add(
        AuthSession(
            token_hash=token_hash(token),
            kind=kind,
            user_id=user.id if user else None,
            expires_at=utcnow() + lifetime,
            label=label,
            address=address[:64],
            user_agent=user_agent[:200],
        )
    )
    db.flush()
    return token


def resolve_token(db: Session, token: str | None, kinds: tuple[str, ...]) -> Principal | None:
    if not token or len(token) > 200:
        return None
    row = db.scalar(select(AuthSession).where(AuthSession.token_hash == token_hash(token)))
    if row is None or row.kind not in kinds or row.expires_at < utcnow():
        return None
    if row.kind == "wall":
        return Principal(id=None, username=f"wall:{row.label}", role="wall")
    if row.user is None or not row.user.is_active:
        return None
    return principal_of(row.user)


def close_session(db: Session, token: str) -> None:
    db.execute(delete(AuthSession).where(AuthSession.token_hash == token_hash(token)))


def sessions_of(db: Session, user_id: int) -> list[AuthSession]:
    """The user's unexpired browser sessions and bearer tokens, newest first."""
    return list(
        db.scalars(
            select(AuthSession)
            .where(
                AuthSession.user_id == user_id,
                AuthSession.kind.in_(("cookie", "bearer")),
                AuthSession.expires_at >= utcnow(),
            )
            .order_by(AuthSession.created_at.desc(), AuthSession.id.desc())
        )
    )


def session_id_of(db: Session, token: str | None) -> int | None:
    """The id of the session or token behind a secret (to mark "this session" in a list)."""
    if not token or len(token) > 200:
        return None
    return db.scalar(select(AuthSession.id).where(AuthSession.token_hash == token_hash(token)))


def revoke_session(db: Session, user_id: int, session_id: int) -> None:
    """End one of the user's own sessions or tokens; another's is reported missing."""
    gone = db.execute(
        delete(AuthSession).where(
            AuthSession.id == session_id,
            AuthSession.user_id == user_id,
            AuthSession.kind.in_(("cookie", "bearer")),
        )
    )
    if not gone.rowcount:
        raise NotFound(f"session {session_id} not found")


def user_for_extension(db: Session, extension: str) -> User | None:
    return db.scalar(select(User).where(User.extension == extension, User.is_active.is_(True)))
