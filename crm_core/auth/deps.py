"""FastAPI dependencies: who is calling, and CSRF for cookie-authenticated writes."""

from __future__ import annotations

from fastapi import Depends, HTTPException, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from crm_core.auth.principal import Principal
from crm_core.auth.security import csrf_matches
from crm_core.auth.service import resolve_token
from crm_core.config import secret_key
from crm_core.database import request_session

SESSION_COOKIE = "callcard_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


def presented_token(request: Request, bearer: str | None = Depends(oauth2)) -> str | None:
    """The secret the request signed in with: its bearer token, else its session cookie."""
    return bearer or request.cookies.get(SESSION_COOKIE)


async def current_principal(
    request: Request,
    bearer: str | None = Depends(oauth2),
    db: Session = request_session,
) -> Principal:
    """The signed-in user, by bearer token or by session cookie (then CSRF-checked on writes)."""
    if bearer:
        principal = resolve_token(db, bearer, ("bearer",))
        if principal is None:
            raise HTTPException(401, "Invalid or expired token", {"WWW-Authenticate": "Bearer"})
        return principal
    cookie = request.cookies.get(SESSION_COOKIE)
    principal = resolve_token(db, cookie, ("cookie",)) if cookie else None
    if principal is None:
        raise HTTPException(401, "Not signed in", {"WWW-Authenticate": "Bearer"})
    if request.method not in SAFE_METHODS:
        presented = request.headers.get(CSRF_HEADER)
        if presented is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")
        ):
            presented = (await request.form()).get("csrf_token")
        if not csrf_matches(
            cookie, secret_key(), presented if isinstance(presented, str) else None
        ):
            raise HTTPException(403, "CSRF token missing or wrong; reload the page")
    return principal


def require_roles(*roles: str):
    async def _dep(principal: Principal = Depends(current_principal)) -> Principal:
        if principal.role not in roles and principal.role != "system":
            raise HTTPException(403, "Your role may not do this")
        return principal

    return _dep


staff = require_roles("admin", "manager", "operator")
managers = require_roles("admin", "manager")
admins = require_roles("admin")
