"""What every page needs: templates, the signed-in user, CSRF tokens and the language."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from markupsafe import Markup
from sqlalchemy.orm import Session

from crm_core.auth.deps import SESSION_COOKIE
from crm_core.auth.principal import Principal
from crm_core.auth.security import csrf_token_for
from crm_core.auth.service import resolve_token
from crm_core.config import get_settings, secret_key
from crm_core.database import request_session
from crm_core.tasks.models import Task
from crm_core.wording import TaskWords, shown_tasks
from dashboard import i18n
from dashboard.i18n import _, lazy

HERE = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"
LOGIN_CSRF_COOKIE = "callcard_login_csrf"


def _static_version() -> str:
    newest = max((p.stat().st_mtime for p in STATIC_DIR.glob("*") if p.is_file()), default=0)
    return str(int(newest))


def _build_env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # newstyle: Jinja fills the %(name)s placeholders itself (escaping the values)
    env.install_gettext_callables(  # type: ignore[attr-defined]
        lambda s: i18n.translations(i18n.current_language()).gettext(s),
        lambda s, p, n: i18n.translations(i18n.current_language()).ngettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: i18n.translations(i18n.current_language()).pgettext(c, s),
        npgettext=lambda c, s, p, n: i18n.translations(i18n.current_language()).npgettext(
            c, s, p, n
        ),
    )
    env.filters.update(
        datetime=i18n.format_datetime,
        date=i18n.format_date,
        time=i18n.format_time,
        number=i18n.format_number,
        percent=i18n.format_percent,
        duration=i18n.format_duration,
        ago=i18n.format_ago,
        tojson_attr=lambda v: json.dumps(v, ensure_ascii=False, default=str),
        urlq=lambda v: quote(str(v), safe=""),
    )
    for name in ("ngettext", "npgettext"):
        env.globals[name] = _counting(env.globals[name])
    env.globals.update(LANGUAGES=i18n.LANGUAGES, static_version=_static_version())
    return env


def _counting(plain: Any) -> Any:
    """A template plural function that writes ``%(num)s`` as the reader writes numbers
    ("11 151 строк"), as ``i18n.ngettext`` does, where Jinja's newstyle ``plain`` fills in
    the bare int. The form is still chosen by the number itself (the last argument)."""

    @pass_context
    def counted(context: Any, *args: Any, **variables: Any) -> str:
        variables.setdefault("num", i18n.format_number(args[-1]))
        return plain(context, *args, **variables)

    return counted


templates = _build_env()


def session_cookie(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE)


def csrf_for(request: Request) -> str:
    cookie = session_cookie(request)
    return csrf_token_for(cookie, secret_key()) if cookie else ""


def optional_user(request: Request, db: Session = request_session) -> Principal | None:
    cookie = session_cookie(request)
    principal = resolve_token(db, cookie, ("cookie",)) if cookie else None
    return principal


async def page_user(
    request: Request, principal: Principal | None = Depends(optional_user)
) -> Principal:
    """The signed-in user of a page, whose language and time zone hold for the whole request
    (what a view translates before :func:`render` included); otherwise a redirect to the login
    page (303). Async on purpose: a plain dependency runs in a copy of the request's context,
    so what it set would not reach the view."""
    user = signed_in_user(request, principal)
    i18n.set_language(user.language)
    i18n.set_timezone(user.timezone)
    return user


def signed_in_user(request: Request, principal: Principal | None) -> Principal:
    """``principal`` if a staff user signed in; otherwise the redirect to the login page."""
    if principal is None or not principal.is_staff_user:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise HTTPException(
            303, "Sign in first", {"Location": f"/login?next={quote(target, safe='')}"}
        )
    return principal


def message_page(
    request: Request, user: Principal, title: str, message: str, *, status_code: int
) -> HTMLResponse:
    """A page that says one thing (not allowed, not found), in the user's language: ``title``
    and ``message`` are English texts marked with :func:`~dashboard.i18n.lazy`, translated
    here once the user's language is set."""
    i18n.set_language(user.language)
    return render(
        request,
        "message.html",
        {"title": _(title), "message": _(message)},
        user=user,
        status_code=status_code,
    )


def task_words(db: Session, rows: list[Task]) -> dict[int, TaskWords]:
    """Each task's title and description as the page's user reads them: a text the system
    wrote (a missed call's callback) in their language and zone (:mod:`crm_core.wording`)."""
    return dict(zip((t.id for t in rows), shown_tasks(db, rows), strict=True))


def forbidden_page(request: Request, user: Principal) -> HTMLResponse:
    return message_page(
        request,
        user,
        lazy("Not allowed"),
        lazy("Your role may not open this page."),
        status_code=403,
    )


#: strings the browser scripts show, translated on the server and embedded in each page
JS_MESSAGES = {
    "incoming_call": lazy("Incoming call"),
    "unknown_number": lazy("Unknown number"),
    "withheld_number": lazy("Withheld number"),
    "open_card": lazy("Open card"),
    "create_client": lazy("Create client"),
    "restricted_client": lazy(
        "A client of another team: only the name and category are shown to you."
    ),
    "call_note": lazy("Note for this call"),
    "note_saved": lazy("Note saved"),
    "note_failed": lazy("The note could not be saved"),
    "in_call": lazy("In call"),
    "ended": lazy("Call ended"),
    "close": lazy("Close"),
    "owner": lazy("Owner"),
    "organization": lazy("Organization"),
    "category": lazy("Category"),
    "last_rating": lazy("Last rating"),
    "open_tasks": lazy("Open tasks"),
    "last_interactions": lazy("Last interactions"),
    "no_results": lazy("Nothing found"),
    "reconnecting": lazy("Connection lost, reconnecting…"),
    "connected": lazy("Live"),
    "calling": lazy("Calling…"),
    "call_failed": lazy("The call could not be started"),
    "call_back": lazy("Call back"),
    "reminder": lazy("Reminder"),
    "saved": lazy("Saved"),
    "fix_errors": lazy("Please correct the fields marked in red."),
    "sms_reply": lazy("SMS reply"),
    "low_rating": lazy("Low rating"),
    "state_available": lazy("Available"),
    "state_ringing": lazy("Ringing"),
    "state_in_call": lazy("In call"),
    "state_paused": lazy("Paused"),
    "state_offline": lazy("Offline"),
    "disposition_answered": lazy("Answered"),
    "disposition_missed": lazy("Missed"),
    "disposition_abandoned": lazy("Abandoned"),
    "disposition_busy": lazy("Busy"),
    "disposition_failed": lazy("Failed"),
    "nothing_to_return": lazy("No calls to return."),
    "left_voicemail": lazy("Left a voicemail"),
    "error": lazy("Something went wrong; try again."),
    "queue": lazy("Queue"),
    "kind_call": lazy("Call"),
    "kind_meeting": lazy("Meeting"),
    "kind_visit": lazy("Visit"),
    "kind_email": lazy("E-mail"),
    "kind_sms": lazy("SMS"),
    "kind_note": lazy("Note"),
    "kind_rating": lazy("Rating"),
    "result_answered": lazy("Answered"),
    "result_missed": lazy("Missed"),
    "result_no_answer": lazy("No answer"),
    "result_busy": lazy("Busy"),
    "result_abandoned": lazy("Abandoned"),
    "result_failed": lazy("Failed"),
    "inbound": lazy("inbound"),
    "outbound": lazy("outbound"),
    "done": lazy("Done"),
    # quick search while a custom field change is still being applied (SearchRefreshNotice)
    "search_refresh_field": lazy(
        "Search is being updated after a change of the field “%(field)s”: %(done)s of "
        "%(total)s clients done; results may be incomplete."
    ),
    "search_refresh": lazy(
        "Search is being updated: %(done)s of %(total)s clients done; results may be incomplete."
    ),
    "search_failed": lazy("The search did not answer; try again."),
    "backup_failed": lazy("The backup failed"),
    "debt": lazy("Owes"),
    "last_order": lazy("Last order"),
    "search_refresh_failed": lazy(
        "Updating the search stopped with %(pending)s clients left; results may be incomplete "
        "until an administrator runs it again."
    ),
}


def _js_messages() -> dict[str, str]:
    return {key: _(text) for key, text in JS_MESSAGES.items()}


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    user: Principal | None = None,
    lang: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """Render ``template`` in ``lang`` (default: the user's language)."""
    i18n.set_language(lang or (user.language if user else None))
    zone = i18n.set_timezone(user.timezone if user else None)
    ctx: dict[str, Any] = {
        "request": request,
        "user": user,
        "lang": i18n.current_language(),
        "csrf_token": csrf_for(request) if user is not None else "",
        "nav": request.url.path,
        "js_messages": Markup(json.dumps(_js_messages(), ensure_ascii=False).replace("</", "<\\/")),
        "region": get_settings().default_region,
        "tz": zone,
    }
    ctx.update(context or {})
    html = templates.get_template(template).render(ctx)
    return HTMLResponse(html, status_code=status_code)


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)
