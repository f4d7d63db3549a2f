"""What a browser sees when a page is missing or not allowed: a page in its language, never the
JSON that API clients get for the same status."""

from __future__ import annotations

from fastapi import Request
from fastapi.exception_handlers import http_exception_handler
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from crm_core.database import session_scope
from dashboard import i18n
from dashboard.i18n import _, lazy
from dashboard.views.common import optional_user, render

#: status -> (title, message), English texts translated when shown
PAGES: dict[int, tuple[str, str]] = {
    404: (lazy("Page not found"), lazy("This page does not exist, or it is not visible to you.")),
    403: (lazy("Not allowed"), lazy("Your role may not open this page.")),
    405: (lazy("Page not found"), lazy("This page does not exist, or it is not visible to you.")),
}
_NOT_PAGES = ("/api/", "/static/", "/static-docs/", "/ws", "/openapi.json", "/ical/")


def wants_html(request: Request) -> bool:
    """A browser navigating to a page (not a script calling the API)."""
    path = request.url.path
    if request.method not in ("GET", "HEAD") or path.startswith(_NOT_PAGES):
        return False
    return "text/html" in request.headers.get("accept", "")


async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
    page = PAGES.get(exc.status_code)
    if page is None or not wants_html(request):
        return await http_exception_handler(request, exc)
    with session_scope() as db:
        user = optional_user(request, db)
    language = (
        user.language if user else i18n.from_accept_language(request.headers.get("accept-language"))
    )
    i18n.set_language(language)
    title, message = page
    return render(
        request,
        "message.html",
        {"title": _(title), "message": _(message)},
        user=user if user and user.is_staff_user else None,
        lang=language,
        status_code=exc.status_code,
    )
