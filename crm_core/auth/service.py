"""Users, teams, sessions and bearer tokens."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from crm_core.auth.models import ROLES, AuthSession, LoginAttempt, Team, User
from crm_core.auth.principal import Principal
from crm_core.auth.security import hash_password, new_token, token_hash, verify_password
from crm_core.config import get_settings
from crm_core.database import utcnow
from crm_core.errors import Conflict, Invalid, TooManyRequests

MIN_PASSWORD = 8


def principal_of(user: User) -> Principal:
    return Principal(
        id=user.id,
        username=user.username,
        role=user.role,
        team_id=user.team_id,
        extension=user.extension,
        language=user.language,
        full_name=user.full_name,
    )


def get_or_create_team(db: Session, name: str) -> Team:
    team = db.scalar(select(Team).where(Team.name == name))
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
    if len(password) < MIN_PASSWORD:
        raise Invalid("password", f"must be at least {MIN_PASSWORD} characters")
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


def check_rate_limit(db: Session, username: str, address: str) -> None:
    """Too many failed logins in the last minute for this user or this address: refuse."""
    limit = get_settings().login_attempts_per_minute
    since = utcnow() - timedelta(minutes=1)
    failures = db.scalar(
        select(func.count(LoginAttempt.id)).where(
            LoginAttempt.at >= since,
            (LoginAttempt.username == username.lower()) | (LoginAttempt.address == address),
        )
    )
    if failures and failures >= limit:
        raise TooManyRequests("Too many failed logins; wait a minute and try again.")


def authenticate(db: Session, username: str, password: str, address: str = "") -> User | None:
    """The active user for these credentials, or None (the failure is counted)."""
    check_rate_limit(db, username, address)
    user = db.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_active:
        db.add(LoginAttempt(username=username.lower()[:80], address=address[:64]))
        db.flush()
        return None
    db.execute(delete(LoginAttempt).where(LoginAttempt.username == username.lower()))
    return user


def open_session(
    db: Session, user: User | None, kind: str = "cookie", label: str = "", days: int | None = None
) -> str:
    """A new secret for a browser session, bearer token or wall screen; only its hash is kept."""
    token = new_token()
    db.add(
        AuthSession(
            token_hash=token_hash(token),
            kind=kind,
            user_id=user.id if user else None,
            expires_at=utcnow() + timedelta(days=days or get_settings().session_days),
            label=label,
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


def user_for_extension(db: Session, extension: str) -> User | None:
    return db.scalar(select(User).where(User.extension == extension, User.is_active.is_(True)))
