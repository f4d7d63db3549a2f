"""Users and teams administration (admins); everyone may list colleagues for assignment."""

from __future__ import annotations

import secrets
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from sqlalchemy import delete, event, func, select
from sqlalchemy.orm import Session

from crm_core.apitypes import clean_name
from crm_core.audit.service import record, snapshot
from crm_core.auth import service as auth
from crm_core.auth.models import ROLES, AuthSession, Team, User
from crm_core.auth.passwords import check_password
from crm_core.auth.principal import Principal
from crm_core.auth.rights import require
from crm_core.auth.security import hash_password
from crm_core.bus import get_bus
from crm_core.clients.models import Client
from crm_core.errors import Conflict, Invalid, NotFound
from crm_core.events import ExtensionsChanged

LANGUAGES = ("en", "ro", "ru")


class Taken(Conflict):
    """A unique value already in use (an extension, a username): names the field and the user
    holding it. ``template`` and ``params`` let a page say it in the reader's language."""

    def __init__(self, field: str, template: str, **params: str) -> None:
        super().__init__(template, params=params, field=field)
        self.field = field


@cache
def time_zones() -> tuple[str, ...]:
    """The IANA zone names this machine knows, sorted (Europe/Bucharest, UTC...)."""
    return tuple(sorted(available_timezones()))


def check_timezone(value: str | None) -> str | None:
    """A known zone name, or None for "the company's" (an empty value)."""
    value = (value or "").strip() or None
    if value is not None and value not in time_zones():
        raise Invalid("timezone", "unknown time zone; use a name like Europe/Bucharest")
    return value


def _check_extension(db: Session, value: str | None, user_id: int | None = None) -> str | None:
    value = (value or "").strip() or None
    if value is None:
        return None
    if not value.isdigit():
        raise Invalid("extension", "must be digits, like 101")
    holder = db.scalar(select(User).where(User.extension == value, User.id != (user_id or 0)))
    if holder is not None:
        raise Taken(
            "extension",
            "Extension %(extension)s is already taken by %(username)s",
            extension=value,
            username=holder.username,
        )
    return value


def list_users(db: Session, actor: Principal, *, include_inactive: bool = False) -> list[User]:
    query = select(User).order_by(User.full_name, User.username)
    if not (include_inactive and actor.is_admin):
        query = query.where(User.is_active.is_(True))
    return list(db.scalars(query))


def get_user(db: Session, user_id: int) -> User:
    user = db.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    return user


def _check_team(db: Session, team_id: int | None) -> None:
    if team_id is not None and db.get(Team, team_id) is None:
        raise Invalid("team_id", f"no team {team_id}")


def _check_language(language: str) -> None:
    if language not in LANGUAGES:
        raise Invalid("language", f"must be one of {', '.join(LANGUAGES)}")


def create_user(
    db: Session,
    actor: Principal,
    *,
    username: str,
    password: str,
    role: str = "operator",
    team_id: int | None = None,
    extension: str | None = None,
    full_name: str = "",
    email: str | None = None,
    language: str = "en",
    timezone: str | None = None,
) -> User:
    require(actor.is_admin, "manage users")
    _check_language(language)
    _check_team(db, team_id)
    timezone = check_timezone(timezone)
    # auth.create_user compares lower-cased names; SQLite's lower() folds ASCII only
    if db.scalar(select(User.id).where(User.username == username.strip())):
        raise Taken(
            "username", "The username %(username)s is already taken", username=username.strip()
        )
    extension = _check_extension(db, extension)
    user = auth.create_user(
        db,
        username=username,
        password=password,
        role=role,
        extension=extension,
        full_name=full_name,
        email=email,
        language=language,
    )
    user.team_id = team_id
    user.timezone = timezone
    db.flush()
    record(db, actor, "create", "user", user.id, None, snapshot(user))
    announce_extensions_after_commit(db)
    return user


def _announce_extensions(_session: Session) -> None:
    get_bus().publish_sync(ExtensionsChanged())


def announce_extensions_after_commit(db: Session) -> None:
    """Once the change is committed, the CTI hears that extensions may have moved."""
    if not event.contains(db, "after_commit", _announce_extensions):
        event.listen(db, "after_commit", _announce_extensions, once=True)


def _active_admins(db: Session) -> int:
    return (
        db.scalar(select(func.count(User.id)).where(User.role == "admin", User.is_active.is_(True)))
        or 0
    )


def update_user(db: Session, actor: Principal, user_id: int, changes: dict[str, Any]) -> User:
    require(actor.is_admin, "manage users")
    user = get_user(db, user_id)
    before = snapshot(user)
    for name, value in changes.items():
        if name == "role":
            if value not in ROLES:
                raise Invalid("role", f"must be one of {', '.join(ROLES)}")
        elif name == "team_id":
            _check_team(db, value)
        elif name == "language":
            _check_language(value)
        elif name == "extension":
            value = _check_extension(db, value, user.id)
        elif name == "timezone":
            value = check_timezone(value)
        elif name == "password":
            if value is None:
                raise Invalid("password", "must not be empty")
            check_password(value, user.username)
            user.password_hash = hash_password(value)
            db.execute(delete(AuthSession).where(AuthSession.user_id == user.id))
            continue
        elif name == "full_name":
            value = value or user.username
        elif name not in ("email", "is_active"):
            raise Invalid(name, "cannot be changed")
        if name in ("role", "language", "is_active") and value is None:
            raise Invalid(name, "must not be empty")
        setattr(user, name, value)
    if (
        before["role"] == "admin"
        and before["is_active"]
        and (user.role != "admin" or not user.is_active)
    ):
        db.flush()
        if _active_admins(db) == 0:
            raise Conflict("this is the last active admin; appoint another admin first")
    if not user.is_active:
        db.execute(delete(AuthSession).where(AuthSession.user_id == user.id))
    db.flush()
    record(db, actor, "update", "user", user.id, before, snapshot(user))
    announce_extensions_after_commit(db)
    return user


def reset_password(
    db: Session, actor: Principal, user_id: int, password: str | None = None
) -> tuple[User, str]:
    """Set a user's password (``None``: a new random one, to be shown once to the admin).

    The user's sessions and tokens end: whoever knew the old password is signed out."""
    require(actor.is_admin, "manage users")
    user = get_user(db, user_id)
    password = password or generated_password()
    check_password(password, user.username)
    user.password_hash = hash_password(password)
    db.execute(delete(AuthSession).where(AuthSession.user_id == user.id))
    db.flush()
    record(db, actor, "reset_password", "user", user.id)
    return user, password


def generated_password() -> str:
    """Four groups of five letters and digits (about 100 bits), easy to read out and type."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(4))


def members_by_team(db: Session) -> dict[int | None, list[User]]:
    """Every user (active first, then by name) under their team id (None: no team)."""
    out: dict[int | None, list[User]] = {}
    rows = db.scalars(select(User).order_by(User.is_active.desc(), User.full_name, User.username))
    for user in rows:
        out.setdefault(user.team_id, []).append(user)
    return out


def deactivate_user(db: Session, actor: Principal, user_id: int) -> User:
    """Users are never deleted (history and audit keep pointing at them): they are deactivated,
    which also ends their sessions and tokens."""
    return update_user(db, actor, user_id, {"is_active": False})


# --- teams ------------------------------------------------------------------------------


def list_teams(db: Session) -> list[Team]:
    return list(db.scalars(select(Team).order_by(Team.name)))


def get_team(db: Session, team_id: int) -> Team:
    team = db.get(Team, team_id)
    if team is None:
        raise NotFound(f"team {team_id} not found")
    return team


def _check_manager(db: Session, manager_id: int | None) -> None:
    if manager_id is None:
        return
    user = db.get(User, manager_id)
    if user is None or not user.is_active:
        raise Invalid("manager_id", f"no active user {manager_id}")
    if user.role not in ("admin", "manager"):
        raise Invalid("manager_id", "must be a user with the manager or admin role")


def _check_team_name(db: Session, name: str, team_id: int | None = None) -> str:
    name = clean_name(name or "")
    if not name:
        raise Invalid("name", "must not be empty")
    if auth.team_named(db, name, other_than=team_id) is not None:
        raise Taken("name", "The team %(name)s exists already", name=name)
    return name


def create_team(db: Session, actor: Principal, *, name: str, manager_id: int | None = None) -> Team:
    require(actor.is_admin, "manage teams")
    team = Team(name=_check_team_name(db, name), manager_id=manager_id)
    _check_manager(db, manager_id)
    db.add(team)
    db.flush()
    record(db, actor, "create", "team", team.id, None, snapshot(team))
    return team


def update_team(db: Session, actor: Principal, team_id: int, changes: dict[str, Any]) -> Team:
    require(actor.is_admin, "manage teams")
    team = get_team(db, team_id)
    before = snapshot(team)
    if "name" in changes:
        team.name = _check_team_name(db, changes["name"], team.id)
    if "manager_id" in changes:
        _check_manager(db, changes["manager_id"])
        team.manager_id = changes["manager_id"]
    db.flush()
    record(db, actor, "update", "team", team.id, before, snapshot(team))
    return team


def delete_team(db: Session, actor: Principal, team_id: int) -> None:
    """Only an empty team goes: move its users and clients elsewhere first."""
    require(actor.is_admin, "manage teams")
    team = get_team(db, team_id)
    if db.scalar(select(User.id).where(User.team_id == team.id).limit(1)):
        raise Conflict("the team still has users; move them to another team first")
    if db.scalar(select(Client.id).where(Client.team_id == team.id).limit(1)):
        raise Conflict("the team still has clients; move them to another team first")
    from crm_core.tasks.models import Task

    if db.scalar(select(Task.id).where(Task.team_id == team.id).limit(1)):
        raise Conflict("the team still has tasks; move them to another team first")
    before = snapshot(team)
    db.delete(team)
    db.flush()
    record(db, actor, "delete", "team", team_id, before, None)
