"""``/newsletters``: compose an e-mail newsletter for a saved client filter (live count), test
send, send, delivery progress and figures, unsubscribes. The notifier's JSON API does the work."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.auth.models import User
from crm_core.auth.principal import Principal
from crm_core.database import request_session
from crm_core.errors import NotFound
from dashboard import saved_filters
from dashboard.i18n import _, lazy
from dashboard.views.common import forbidden_page, message_page, page_user, render
from notifier.newsletters import service as newsletters
from notifier.newsletters import stats

router = APIRouter(include_in_schema=False)

DEFAULT_BODY = (
    "<p>Hello, {{ display_name }}!</p>\n<p></p>\n"
    '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>'
)


def filters_of(query: str) -> dict[str, Any]:
    """A saved client-list filter (query string) as the newsletter's client filters."""
    filters: dict[str, Any] = {}
    for key, value in parse_qsl(query or ""):
        if key.startswith("cf."):
            filters.setdefault("custom", {})[key[3:]] = value
        elif key != "sort":
            filters[key] = value
    return filters


def _json(data: Any) -> Markup:
    return Markup(json.dumps(data, ensure_ascii=False, default=str).replace("</", "<\\/"))


def _page_strings() -> dict[str, str]:
    return {
        "count": _("Recipients: %(num)s"),
        "counting": _("Counting…"),
        "count_failed": _("The recipients could not be counted."),
        "test_sent": _("Test sent to %(to)s."),
        "confirm_send": _("Send this newsletter to every recipient now?"),
        "error": _("Something went wrong; try again."),
    }


def _allowed(user: Principal) -> bool:
    return user.role in ("admin", "manager")


@router.get("/newsletters")
def newsletters_page(
    request: Request, user: Principal = Depends(page_user), db: Session = request_session
):
    if not _allowed(user):
        return forbidden_page(request, user)
    saved = [
        {"id": f.id, "name": f.name, "filters": filters_of(f.query)}
        for f in saved_filters.list_for(db, user)
    ]
    return render(
        request,
        "newsletters.html",
        {
            "title": _("Newsletters"),
            "rows": newsletters.list_newsletters(db),
            "saved": saved,
            "unsubscribes": stats.unsubscribes(db, 100),
            "default_body": DEFAULT_BODY,
            "page_data": _json({"saved": saved, "strings": _page_strings()}),
        },
        user=user,
    )


@router.get("/newsletters/{newsletter_id}")
def newsletter_page(
    request: Request,
    newsletter_id: int,
    user: Principal = Depends(page_user),
    db: Session = request_session,
):
    if not _allowed(user):
        return forbidden_page(request, user)
    try:
        row = newsletters.newsletter_out(newsletters.get_newsletter(db, newsletter_id))
        figures = stats.delivery_stats(db, newsletter_id)
    except NotFound:
        return message_page(
            request, user, lazy("Not found"), lazy("This newsletter does not exist."),
            status_code=404,
        )  # fmt: skip
    me = db.scalar(select(User.email).where(User.id == user.id)) or ""
    return render(
        request,
        "newsletter.html",
        {
            "title": row.name,
            "n": row,
            "figures": figures,
            "my_email": me,
            "page_data": _json({"id": row.id, "strings": _page_strings()}),
        },
        user=user,
    )
