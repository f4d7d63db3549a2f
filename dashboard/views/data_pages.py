"""Data in and out pages: the import wizard (``/import``, managers and admins) and the iCalendar
feed at its secret address (public: the secret is the credential; an unknown or revoked secret
is a 404). The export menu is a template (``_export_menu.html``) the list pages include."""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from crm_core.auth.principal import Principal
from crm_core.calendar_feed import service as calendar_feed
from crm_core.clients.models import ENTITY
from crm_core.customfields import service as customfields
from crm_core.database import request_session
from crm_core.exchange.mapping import TARGETS
from dashboard.i18n import _, lazy
from dashboard.views.admin_fields import CLIENT_FIELDS, field_label
from dashboard.views.common import forbidden_page, page_user, render

router = APIRouter()

#: import targets the client pages do not name elsewhere
MORE_TARGETS = {
    "phone_mobile": lazy("Mobile phone"),
    "phone_work": lazy("Work phone"),
    "phone_home": lazy("Home phone"),
    "phone_fax": lazy("Fax"),
    "phone_other": lazy("Other phone"),
    "street": lazy("Street"),
    "region": lazy("Region"),
    "postal_code": lazy("Postal code"),
    "country": lazy("Country"),
    "language": lazy("Language"),
    "timezone": lazy("Time zone"),
}
#: the wizard script's words (rendered as JSON: no inline script)
JS_WORDS = {
    "leave_out": lazy("— leave out —"),
    "refused": lazy("The file was refused"),
    "failed": lazy("The import stopped"),
    "row": lazy("Row"),
    "line": lazy("Line"),
    "column": lazy("Column"),
    "problem": lazy("Problem"),
    "no_errors": lazy("No errors: every row can be imported."),
    "rejected": lazy("Fix these rows in the file or the mapping, or leave them out."),
    "states": {
        "queued": lazy("Waiting to start"),
        "checking": lazy("Checking the file"),
        "importing": lazy("Importing"),
        "done": lazy("Done"),
        "failed": lazy("Stopped"),
    },
    "progress": lazy("%(done)s of %(total)s rows"),
    "similar": lazy("%(name)s (%(row)s) looks like %(match)s: %(score)s in 100"),
    "row_n": lazy("row %(row)s"),
}


def _words(value):
    if isinstance(value, dict):
        return {k: _words(v) for k, v in value.items()}
    return _(value)


def import_targets(db: Session) -> list[tuple[str, str]]:
    """(field, label) for the mapping selects: the built-in fields, then custom ones."""
    out = []
    for target in TARGETS:
        label = _(MORE_TARGETS[target]) if target in MORE_TARGETS else field_label(target)
        if target not in CLIENT_FIELDS and target not in MORE_TARGETS:
            label = target.replace("_", " ").capitalize()
        out.append((target, label))
    for f in customfields.fields_for(db, ENTITY):
        out.append((f"cf.{f.key}", f.label))
    return out


@router.get("/import", include_in_schema=False)
def import_page(
    request: Request, user: Principal = Depends(page_user), db: Session = request_session
):
    if not user.can_export:
        return forbidden_page(request, user)
    words = json.dumps(_words(JS_WORDS), ensure_ascii=False).replace("</", "<\\/")
    return render(
        request,
        "import.html",
        {"title": _("Import clients"), "targets": import_targets(db), "words": Markup(words)},
        user=user,
    )


@router.get("/ical/{secret}.ics", include_in_schema=False)
def ical_feed(secret: str, db: Session = request_session) -> Response:
    user = calendar_feed.user_of_secret(db, secret)
    if user is None:
        return Response("no such calendar", status_code=404, media_type="text/plain")
    body = calendar_feed.calendar_ics(db, user)
    db.commit()
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Cache-Control": "private, max-age=300"},
    )
