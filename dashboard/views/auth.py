"""Signing in and out in the browser, and the per-user language switch."""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from crm_core.apitypes import RowId
from crm_core.auth import service
from crm_core.auth.api import client_address, open_session_for, set_session_cookie
from crm_core.auth.deps import CSRF_HEADER, SESSION_COOKIE
from crm_core.auth.models import User
from crm_core.auth.principal import Principal
from crm_core.auth.security import csrf_matches
from crm_core.calendar_feed.service import feed_of
from crm_core.config import get_settings, secret_key
from crm_core.database import request_session
from crm_core.errors import NotFound, TooManyRequests
from dashboard import i18n
from dashboard.i18n import _, lazy
from dashboard.views.common import (
    LOGIN_CSRF_COOKIE,
    message_page,
    new_login_csrf,
    optional_user,
    page_user,
    render,
    session_cookie,
)

router = APIRouter(include_in_schema=False)


def safe_next(url: str | None) -> str:
    """Only local paths: a login link can never send the user to another site."""
    if not url or not url.startswith("/") or url.startswith("//") or "\\" in url:
        return "/"
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        return "/"
    return url


def _login_language(request: Request) -> str:
    return i18n.normalize(
        request.query_params.get("lang")
        or i18n.from_accept_language(request.headers.get("accept-language"))
        or get_settings().default_language
    )


def _login_page(
    request: Request,
    *,
    error: str = "",
    username: str = "",
    status: int = 200,
    lang: str | None = None,
):
    token = new_login_csrf()
    lang = lang or _login_language(request)
    response = render(
        request,
        "login.html",
        {
            "login_csrf": token,
            "error": error,
            "username": username,
            "next": safe_next(request.query_params.get("next")),
            "login_lang": lang,
        },
        lang=lang,
        status_code=status,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=get_settings().secure_cookies,
        path="/login",
    )
    return response


@router.get("/login")
def login_page(request: Request, user: Principal | None = Depends(optional_user)):
    if user is not None:
        return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    return _login_page(request)


@router.post("/login")
def login_submit(
    request: Request,
    username: str = Form("", max_length=80),
    password: str = Form("", max_length=200),
    csrf_token: str = Form("", max_length=100),
    next: str = Form("/", max_length=500),
    lang: str = Form("", max_length=8),
    db: Session = request_session,
) -> Response:
    lang = i18n.normalize(lang or _login_language(request))
    i18n.set_language(lang)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, csrf_token):
        return _login_page(
            request,
            error=_("The form expired. Please sign in again."),
            username=username,
            status=400,
            lang=lang,
        )
    if not username.strip() or not password:
        return _login_page(
            request,
            error=_("Enter your username and password."),
            username=username,
            status=422,
            lang=lang,
        )
    try:
        user = service.authenticate(db, username, password, client_address(request))
    except TooManyRequests:
        return _login_page(
            request,
            error=_("Too many failed attempts. Wait a minute and try again."),
            username=username,
            status=429,
            lang=lang,
        )
    if user is None:
        db.commit()  # keep the counted failure
        return _login_page(
            request,
            error=_("Wrong username or password."),
            username=username,
            status=401,
            lang=lang,
        )
    token = open_session_for(db, request, user, "cookie", "browser")
    response = RedirectResponse(safe_next(next), status_code=303)
    set_session_cookie(response, token)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


def _check_form_csrf(request: Request, presented: str) -> bool:
    cookie = session_cookie(request)
    return bool(cookie) and csrf_matches(cookie, secret_key(), presented)


@router.post("/logout")
def logout(
    request: Request,
    csrf_token: str = Form("", max_length=100),
    user: Principal | None = Depends(optional_user),
    db: Session = request_session,
) -> Response:
    """Sign out: the session ends on the server and its cookie goes, together. Without the
    page's CSRF token neither happens (another site cannot sign the user out)."""
    cookie = session_cookie(request)
    if user is not None and cookie:
        if not _check_form_csrf(request, csrf_token):
            return _csrf_refused(request, user)
        service.close_session(db, cookie)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _csrf_refused(request: Request, user: Principal) -> Response:
    return message_page(
        request,
        user,
        lazy("Not allowed"),
        lazy("CSRF token missing or wrong; reload the page"),
        status_code=403,
    )


@router.get("/settings")
def settings_page(
    request: Request,
    user: Principal = Depends(page_user),
    db: Session = request_session,
) -> Response:
    """The user's own settings: where they are signed in (browser sessions and API tokens)."""
    return render(
        request,
        "settings.html",
        {
            "title": _("Settings"),
            "sessions": service.sessions_of(db, user.id or 0),
            "current_session": service.session_id_of(db, session_cookie(request)),
            "calendar_feed": feed_of(db, user),
        },
        user=user,
    )


@router.post("/settings/sessions/{session_id}/revoke")
def revoke_session(
    request: Request,
    session_id: RowId,
    csrf_token: str = Form("", max_length=100),
    user: Principal = Depends(page_user),
    db: Session = request_session,
) -> Response:
    """Revoke one of the user's sessions or tokens; revoking this one signs out. The CSRF
    token comes in the form, or in the header the API takes it in."""
    if not _check_form_csrf(request, csrf_token or request.headers.get(CSRF_HEADER, "")):
        return _csrf_refused(request, user)
    current = service.session_id_of(db, session_cookie(request))
    try:
        service.revoke_session(db, user.id or 0, session_id)
    except NotFound:
        return message_page(
            request,
            user,
            lazy("Not found"),
            lazy("This session has ended already."),
            status_code=404,
        )
    if session_id == current:
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response
    return RedirectResponse("/settings", status_code=303)


@router.post("/settings/language")
def switch_language(
    request: Request,
    language: str = Form(..., max_length=8),
    csrf_token: str = Form("", max_length=100),
    next: str = Form("/", max_length=500),
    user: Principal = Depends(page_user),
    db: Session = request_session,
) -> Response:
    """Store the user's UI language (``User.language``) and go back to the page."""
    if not _check_form_csrf(request, csrf_token):
        return Response(_("CSRF token missing or wrong; reload the page"), status_code=403)
    if language not in i18n.LANGUAGES:
        return Response(_("Unknown language"), status_code=422)
    row = db.get(User, user.id)
    if row is not None:
        row.language = language
    return RedirectResponse(safe_next(next), status_code=303)
