"""``/admin/users``, ``/admin/teams``, ``/admin/wall-tokens`` and the user's own time zone.

Pages for admins (managers see the user list and the wall screens read-only). The forms post
JSON to the ``POST`` routes here, which call the same services as ``/api/users`` and
``/api/teams`` but answer errors in the user's language, each naming its field
("Extension 102 is already taken by ana" beside the extension box).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Body, Depends, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from crm_core.apitypes import RowId
from crm_core.auth.deps import CSRF_HEADER, admins
from crm_core.auth.models import User
from crm_core.auth.principal import Principal
from crm_core.auth.security import csrf_matches
from crm_core.config import get_settings, secret_key
from crm_core.database import request_session
from crm_core.errors import Invalid, ServiceError
from crm_core.users import service as users
from crm_core.users.schemas import TeamCreate, TeamUpdate, UserCreate, UserUpdate
from dashboard import i18n
from dashboard.i18n import _, lazy
from dashboard.views.common import (
    forbidden_page,
    message_page,
    page_user,
    render,
    session_cookie,
    templates,
)
from dashboard.wall import tokens

router = APIRouter(include_in_schema=False)

# the time zone pickers (user form, own settings page) list every zone the server knows
templates.globals["TIME_ZONES"] = users.time_zones()
templates.globals["company_time_zone"] = lambda: get_settings().timezone

ROLE_LABELS = {"admin": lazy("Admin"), "manager": lazy("Manager"), "operator": lazy("Operator")}
STATE_LABELS = {
    "available": lazy("Available"),
    "ringing": lazy("Ringing"),
    "in_call": lazy("In call"),
    "paused": lazy("Paused"),
    "offline": lazy("Offline"),
}
#: the services' English messages this area's forms show, for the catalogs (translated on show)
SERVICE_MESSAGES = (
    lazy("must be digits, like 101"),
    lazy("must be 1 to 80 characters"),
    lazy("must not be empty"),
    lazy("must not be the username"),
    lazy("must be at least 8 characters, not counting repeated or outer spaces"),
    lazy("is one of the most common passwords; choose another"),
    lazy("unknown time zone; use a name like Europe/Bucharest"),
    lazy("must be a user with the manager or admin role"),
    lazy("must be 1 to 120 characters, e.g. 'TV in the call room'"),
    lazy("this is the last active admin; appoint another admin first"),
    lazy("the team still has users; move them to another team first"),
    lazy("Extension %(extension)s is already taken by %(username)s"),
    lazy("The username %(username)s is already taken"),
    lazy("The team %(name)s exists already"),
)
#: pydantic's error types, said plainly (no "Value error, ..." prefix)
CHECK_MESSAGES = {
    "missing": lazy("Required"),
    "string_too_short": lazy("Too short"),
    "string_too_long": lazy("Too long"),
    "literal_error": lazy("Choose one of the listed values"),
    "value_error": lazy("Not a valid value"),
    "extra_forbidden": lazy("Not a field of this form"),
}


# --- answers in the user's language ----------------------------------------------------


def _error(loc: list[Any], message: str, status: int = 422) -> JSONResponse:
    if status == 422:
        return JSONResponse({"detail": [{"loc": ["body", *loc], "msg": message}]}, 422)
    return JSONResponse({"detail": message}, status)


def service_error(exc: ServiceError) -> JSONResponse:
    """A service's refusal as the forms show it: 422 on the named field, translated."""
    text = _(exc.template) % exc.params if exc.params else _(exc.template)
    if isinstance(exc, Invalid):
        return _error(exc.loc, text)
    field = exc.extra.get("field")  # users.Taken: a value in use, naming the field
    if field:
        return _error([field], text)
    return _error([], text, exc.status_code)


def _checked(model: type[BaseModel], data: Any) -> BaseModel | JSONResponse:
    try:
        return model.model_validate(data if isinstance(data, dict) else {})
    except ValidationError as exc:
        detail = []
        for err in exc.errors():
            loc = [p for p in err["loc"]]
            msg = _(CHECK_MESSAGES.get(err["type"], lazy("Not a valid value")))
            if loc == ["password"] and err["type"] == "string_too_short":
                msg = _(SERVICE_MESSAGES[4])
            detail.append({"loc": ["body", *loc], "msg": msg})
        return JSONResponse({"detail": detail}, 422)


def _act(actor: Principal, work: Callable[[], Any]) -> Any:
    i18n.set_language(actor.language)
    try:
        return work()
    except ServiceError as exc:
        return service_error(exc)


# --- users -----------------------------------------------------------------------------


def presence_by_extension() -> dict[str, dict]:
    """The phones' live state (the CTI part's board or its Redis copy); {} when unknown."""
    try:
        from cti.presence import presence_snapshot

        return {item["extension"]: item for item in presence_snapshot()}
    except Exception:  # the presence store down must not take the user list with it
        return {}


@router.get("/admin/users")
def users_page(
    request: Request,
    show: str = "active",
    user: Principal = Depends(page_user),
    db: Session = request_session,
):
    if user.role not in ("admin", "manager"):
        return forbidden_page(request, user)
    rows = users.list_users(db, user, include_inactive=True)
    if user.role != "admin":
        rows = [u for u in rows if u.is_active]
    if show != "all":
        rows = [u for u in rows if u.is_active]
    live = presence_by_extension()
    return render(
        request,
        "admin/users.html",
        {
            "title": _("Users"),
            "rows": rows,
            "teams": {t.id: t.name for t in users.list_teams(db)},
            "live": live,
            "show": show,
            "roles": {k: _(v) for k, v in ROLE_LABELS.items()},
            "states": {k: _(v) for k, v in STATE_LABELS.items()},
            "can_edit": user.is_admin,
            # per-row texts translated once (placeholders filled in the template)
            "row_texts": {"on_ext": _("on %(extension)s"), "edit_name": _("Edit %(name)s")},
        },
        user=user,
    )


def _form_page(request: Request, user: Principal, db: Session, row: User | None) -> Response:
    return render(
        request,
        "admin/user_form.html",
        {
            "title": _("New user") if row is None else (row.full_name or row.username),
            "row": row,
            "teams": users.list_teams(db),
            "roles": {k: _(v) for k, v in ROLE_LABELS.items()},
        },
        user=user,
    )


@router.get("/admin/users/new")
def new_user_page(
    request: Request, user: Principal = Depends(page_user), db: Session = request_session
):
    if not user.is_admin:
        return forbidden_page(request, user)
    return _form_page(request, user, db, None)


@router.get("/admin/users/{user_id}")
def edit_user_page(
    request: Request,
    user_id: RowId,
    user: Principal = Depends(page_user),
    db: Session = request_session,
):
    if not user.is_admin:
        return forbidden_page(request, user)
    row = db.get(User, user_id)
    if row is None:
        return message_page(
            request, user, lazy("Not found"), lazy("No such user."), status_code=404
        )
    return _form_page(request, user, db, row)


def _user_out(row: User) -> dict[str, Any]:
    return {"id": row.id, "username": row.username, "is_active": row.is_active}


@router.post("/admin/users")
def create_user(
    data: Any = Body(None), actor: Principal = Depends(admins), db: Session = request_session
):
    i18n.set_language(actor.language)
    body = _checked(UserCreate, data)
    if isinstance(body, JSONResponse):
        return body
    return _act(actor, lambda: _user_out(users.create_user(db, actor, **body.model_dump())))


@router.post("/admin/users/{user_id}")
def update_user(
    user_id: RowId,
    data: Any = Body(None),
    actor: Principal = Depends(admins),
    db: Session = request_session,
):
    i18n.set_language(actor.language)
    body = _checked(UserUpdate, data)
    if isinstance(body, JSONResponse):
        return body
    changes = body.model_dump(exclude_unset=True)
    return _act(actor, lambda: _user_out(users.update_user(db, actor, user_id, changes)))


@router.post("/admin/users/{user_id}/password")
def reset_password(
    user_id: RowId,
    data: Any = Body(None),
    actor: Principal = Depends(admins),
    db: Session = request_session,
):
    """Set the typed password, or generate one: the answer carries it, shown this once."""
    typed = (data or {}).get("password") if isinstance(data, dict) else None
    if typed is not None and not isinstance(typed, str):
        return _error(["password"], _("Not a valid value"))

    def work() -> dict[str, Any]:
        row, password = users.reset_password(db, actor, user_id, typed or None)
        return {"id": row.id, "password": None if typed else password}

    return _act(actor, work)


# --- teams -----------------------------------------------------------------------------


@router.get("/admin/teams")
def teams_page(
    request: Request, user: Principal = Depends(page_user), db: Session = request_session
):
    if not user.is_admin:
        return forbidden_page(request, user)
    members = users.members_by_team(db)
    return render(
        request,
        "admin/teams.html",
        {
            "title": _("Teams"),
            "teams": users.list_teams(db),
            "members": members,
            "people": [u for group in members.values() for u in group if u.is_active],
            "managers": [
                u
                for group in members.values()
                for u in group
                if u.is_active and u.role in ("admin", "manager")
            ],
        },
        user=user,
    )


@router.post("/admin/teams")
def create_team(
    data: Any = Body(None), actor: Principal = Depends(admins), db: Session = request_session
):
    i18n.set_language(actor.language)
    body = _checked(TeamCreate, data)
    if isinstance(body, JSONResponse):
        return body
    return _act(actor, lambda: {"id": users.create_team(db, actor, **body.model_dump()).id})


@router.post("/admin/teams/{team_id}")
def update_team(
    team_id: RowId,
    data: Any = Body(None),
    actor: Principal = Depends(admins),
    db: Session = request_session,
):
    i18n.set_language(actor.language)
    body = _checked(TeamUpdate, data)
    if isinstance(body, JSONResponse):
        return body
    changes = body.model_dump(exclude_unset=True)
    return _act(actor, lambda: {"id": users.update_team(db, actor, team_id, changes).id})


# --- wall screens ----------------------------------------------------------------------


@router.get("/admin/wall-tokens")
def wall_tokens_page(
    request: Request, user: Principal = Depends(page_user), db: Session = request_session
):
    if user.role not in ("admin", "manager"):
        return forbidden_page(request, user)
    return render(
        request,
        "admin/wall_tokens.html",
        {
            "title": _("Wall screens"),
            "rows": tokens.list_wall_tokens(db),
            "can_edit": user.is_admin,
        },
        user=user,
    )


@router.post("/admin/wall-tokens")
def create_wall_token(
    data: Any = Body(None), actor: Principal = Depends(admins), db: Session = request_session
):
    """A new wall link; the answer holds it, shown this once (only its hash is kept)."""
    label = (data or {}).get("label") if isinstance(data, dict) else None

    def work() -> dict[str, Any]:
        item = tokens.create_wall_token(db, actor, label=str(label or ""))
        url = f"{get_settings().public_url.rstrip('/')}/wall?token={item.token}"
        return {"id": item.id, "label": item.label, "url": url}

    return _act(actor, work)


@router.post("/admin/wall-tokens/{token_id}/revoke")
def revoke_wall_token(
    token_id: RowId, actor: Principal = Depends(admins), db: Session = request_session
):
    return _act(actor, lambda: tokens.revoke_wall_token(db, actor, token_id) or {"id": token_id})


# --- the user's own time zone (settings page) ------------------------------------------


@router.post("/settings/timezone")
def my_timezone(
    request: Request,
    timezone: str = Form("", max_length=64),
    csrf_token: str = Form("", max_length=100),
    user: Principal = Depends(page_user),
    db: Session = request_session,
) -> Response:
    """Store the user's own zone (empty: the company's) and go back to the settings page."""
    cookie = session_cookie(request)
    presented = csrf_token or request.headers.get(CSRF_HEADER, "")
    if not cookie or not csrf_matches(cookie, secret_key(), presented):
        return Response(_("CSRF token missing or wrong; reload the page"), status_code=403)
    try:
        zone = users.check_timezone(timezone)
    except Invalid:
        return Response(_(SERVICE_MESSAGES[6]), status_code=422)
    row = db.get(User, user.id)
    if row is not None:
        row.timezone = zone
    return RedirectResponse("/settings", status_code=303)
