from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request, Response
from pydantic import AfterValidator
from sqlalchemy.orm import Session

from crm_core.apitypes import no_bad_characters
from crm_core.auth import service
from crm_core.auth.deps import SESSION_COOKIE, current_principal
from crm_core.auth.principal import Principal
from crm_core.auth.schemas import LoginForm, MeOut, TokenOut
from crm_core.auth.security import csrf_token_for
from crm_core.config import get_settings, secret_key
from crm_core.database import request_session

router = APIRouter(prefix="/auth", tags=["auth"])


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""


def set_session_cookie(response: Response, token: str) -> None:
    settings = get_settings()
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_days * 86400,
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
    return TokenOut(access_token=service.open_session(db, user, "bearer", label="api"))


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
    token = service.open_session(db, user, "cookie")
    set_session_cookie(response, token)
    me = MeOut.model_validate(service.principal_of(user), from_attributes=True)
    me.csrf_token = csrf_token_for(token, secret_key())
    return me


@router.post("/logout", status_code=204, summary="End the browser session")
def logout(
    request: Request,
    response: Response,
    _: Principal = Depends(current_principal),
    db: Session = request_session,
) -> None:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        service.close_session(db, token)
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/me", response_model=MeOut)
def me(request: Request, principal: Principal = Depends(current_principal)) -> MeOut:
    out = MeOut.model_validate(principal, from_attributes=True)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        out.csrf_token = csrf_token_for(cookie, secret_key())
    return out
