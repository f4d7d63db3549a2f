from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request, Response
from pydantic import AfterValidator
from sqlalchemy.orm import Session

from crm_core.apitypes import RowId, no_bad_characters
from crm_core.auth import service, throttle
from crm_core.auth.deps import SESSION_COOKIE, current_principal, presented_token, staff
from crm_core.auth.models import User
from crm_core.auth.principal import Principal
from crm_core.auth.schemas import LoginForm, MeOut, SessionOut, TokenOut
from crm_core.auth.security import csrf_token_for
from crm_core.config import get_settings, secret_key
from crm_core.database import request_session

router = APIRouter(prefix="/auth", tags=["auth"])


def client_address(request: Request) -> str:
    """The client's address (``X-Forwarded-For`` believed from trusted proxies only)."""
    peer = request.client.host if request.client else ""
    return throttle.client_address(
        peer, request.headers.get("x-forwarded-for"), get_settings().trusted_proxy_networks
    )


def user_agent(request: Request) -> str:
    return request.headers.get("user-agent", "").replace("\x00", "")[:200]


def open_session_for(db: Session, request: Request, user: User, kind: str, label: str) -> str:
    """A new session or token for ``user``, remembering where it was opened."""
    return service.open_session(
        db,
        user,
        kind,
        label=label,
        address=client_address(request),
        user_agent=user_agent(request),
    )


def set_session_cookie(response: Response, token: str) -> None:
    settings = get_settings()
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(service.session_lifetime("cookie").total_seconds()),
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )


@router.post(
    "/token", response_model=TokenOut, summary="Bearer token for API clients (OAuth2 password)"
)
def issue_token(
    request: Request,
    username: Annotated[str, Form(max_length=80), AfterValidator(no_bad_characters)],
    password: Annotated[str, Form(max_length=200), AfterValidator(no_bad_characters)],
    db: Session = request_session,
) -> TokenOut:
    user = service.authenticate(db, username, password, client_address(request))
    if user is None:
        db.commit()  # keep the counted failure although the request fails
        raise HTTPException(401, "Wrong username or password", {"WWW-Authenticate": "Bearer"})
    return TokenOut(access_token=open_session_for(db, request, user, "bearer", "api"))


@router.post("/login", response_model=MeOut, summary="Browser login: sets the session cookie")
def login(
    form: LoginForm,
    request: Request,
    response: Response,
    db: Session = request_session,
) -> MeOut:
    user = service.authenticate(db, form.username, form.password, client_address(request))
    if user is None:
        db.commit()  # keep the counted failure although the request fails
        raise HTTPException(401, "Wrong username or password")
    token = open_session_for(db, request, user, "cookie", "browser")
    set_session_cookie(response, token)
    me = MeOut.model_validate(service.principal_of(user), from_attributes=True)
    me.csrf_token = csrf_token_for(token, secret_key())
    return me


@router.post(
    "/logout", status_code=204, summary="End the browser session, or revoke the bearer token used"
)
def logout(
    request: Request,
    response: Response,
    _: Principal = Depends(current_principal),
    token: str | None = Depends(presented_token),
    db: Session = request_session,
) -> None:
    for secret in {token, request.cookies.get(SESSION_COOKIE)}:
        if secret:
            service.close_session(db, secret)
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get(
    "/tokens",
    response_model=list[SessionOut],
    summary="Your browser sessions and API tokens (current: the one of this request)",
)
def list_tokens(
    principal: Principal = Depends(staff),
    token: str | None = Depends(presented_token),
    db: Session = request_session,
) -> list[SessionOut]:
    return sessions_out(db, principal, token)


@router.delete(
    "/tokens/{token_id}",
    status_code=204,
    summary="Revoke one of your sessions or tokens",
    responses={404: {"description": "No such session or token of yours"}},
)
def revoke_token(
    token_id: RowId,
    principal: Principal = Depends(staff),
    db: Session = request_session,
) -> None:
    service.revoke_session(db, principal.id or 0, token_id)


def sessions_out(db: Session, principal: Principal, token: str | None) -> list[SessionOut]:
    """The user's sessions and tokens, the one behind ``token`` marked current."""
    current = service.session_id_of(db, token)
    rows = service.sessions_of(db, principal.id or 0)
    return [
        SessionOut.model_validate(row, from_attributes=True).model_copy(
            update={"current": row.id == current}
        )
        for row in rows
    ]


@router.get("/me", response_model=MeOut)
def me(request: Request, principal: Principal = Depends(current_principal)) -> MeOut:
    out = MeOut.model_validate(principal, from_attributes=True)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        out.csrf_token = csrf_token_for(cookie, secret_key())
    return out
