"""Admin screens for the messages: templates (with a live SMS segment counter and a preview with
a chosen client's data), reminder rules and quiet hours."""

from __future__ import annotations

import json
from zoneinfo import available_timezones

from fastapi import APIRouter, Depends, Request
from markupsafe import Markup
from sqlalchemy.orm import Session

from crm_core.auth.principal import Principal
from crm_core.database import request_session
from crm_core.history import choices
from dashboard import i18n
from dashboard.i18n import _, lazy
from dashboard.views.common import forbidden_page, message_page, page_user, render
from notifier.config import get_settings
from notifier.quiet_hours import service as quiet_hours
from notifier.reminders.models import MAX_OFFSET_MINUTES, REMINDER_CHANNELS
from notifier.reminders.rules import list_rules
from notifier.sms_segments.service import GSM_MULTI, GSM_SINGLE, SEPTETS, UCS2_MULTI, UCS2_SINGLE
from notifier.templates import service as templates

router = APIRouter(include_in_schema=False)

CHANNELS = {"sms": lazy("SMS"), "email": lazy("E-mail"), "voice": lazy("Automated call")}
PURPOSES = {
    "task.due": lazy("Task due (to the employee)"),
    "survey.request": lazy("Rating request"),
    "survey.clarify": lazy("Rating: reply not understood"),
    "survey.thanks": lazy("Rating: thanks"),
}
EDITOR_JS = {
    "characters": lazy("Characters"),
    "encoding": lazy("Encoding"),
    "segments": lazy("Segments"),
    "per_segment": lazy("%(num)s characters per segment"),
    "ucs2_hint": lazy(
        "A character outside GSM-7 (such as ă, ș or an emoji) makes every segment hold 70 characters instead of 160."
    ),
    "no_clients": lazy("Nothing found"),
    "preview_failed": lazy("The preview could not be made"),
}


def _json(data: object) -> Markup:
    return Markup(json.dumps(data, ensure_ascii=False).replace("</", "<\\/"))


def _title(key: str, event_types: dict[str, str]) -> str:
    """ "Reminder · Appointment" for reminder.appointment.sms."""
    parts = key.split(".")
    if parts[0] == "reminder" and len(parts) == 3:
        return f"{_('Reminder')} · {event_types.get(parts[1], parts[1])}"
    purpose = PURPOSES.get(".".join(parts[:2]))
    return _(purpose) if purpose else key


def _channel(key: str) -> str:
    return key.rsplit(".", 1)[-1]


@router.get("/admin/templates")
def templates_page(
    request: Request,
    channel: str = "",
    user: Principal = Depends(page_user),
    db: Session = request_session,
):
    if not user.is_admin:
        return forbidden_page(request, user)
    event_types = choices.label_map(db, "event_type", user.language)
    rows: dict[str, dict] = {}
    for t in templates.list_templates(db):
        if channel and _channel(t.key) != channel:
            continue
        row = rows.setdefault(
            t.key,
            {"key": t.key, "title": _title(t.key, event_types), "channel": _channel(t.key)},
        )
        row[t.language] = t
    return render(
        request,
        "admin/templates.html",
        {
            "rows": list(rows.values()),
            "channel": channel,
            "channels": {k: _(v) for k, v in CHANNELS.items()},
            "languages": i18n.LANGUAGES,
        },
        user=user,
    )


@router.get("/admin/templates/{key}/{language}")
def template_form_page(
    key: str,
    language: str,
    request: Request,
    user: Principal = Depends(page_user),
    db: Session = request_session,
):
    if not user.is_admin:
        return forbidden_page(request, user)
    known = {k for k, _lang in templates.DEFAULTS}
    if key not in known or language not in templates.LANGUAGES:
        return message_page(
            request,
            user,
            lazy("Template not found"),
            lazy("There is no such message template."),
            status_code=404,
        )
    template = templates.template_view(db, key, language)
    gsm = {"single": GSM_SINGLE, "multi": GSM_MULTI, "chars": "", "double": ""}
    gsm["chars"] = "".join(c for c, n in SEPTETS.items() if n == 1)
    gsm["double"] = "".join(c for c, n in SEPTETS.items() if n == 2)
    editor = {
        "key": key,
        "language": language,
        "sms": key.endswith(".sms"),
        "gsm": gsm,
        "ucs2": {"single": UCS2_SINGLE, "multi": UCS2_MULTI},
        "i18n": {k: _(v) for k, v in EDITOR_JS.items()},
    }
    event_types = choices.label_map(db, "event_type", user.language)
    return render(
        request,
        "admin/template_form.html",
        {
            "template": template,
            "title": _title(key, event_types),
            "channel": _channel(key),
            "channels": {k: _(v) for k, v in CHANNELS.items()},
            "language_name": i18n.LANGUAGES[language],
            "variables": templates.variables_for(key),
            "editor": _json(editor),
        },
        user=user,
    )


@router.get("/admin/reminder-rules")
def reminder_rules_page(
    request: Request,
    user: Principal = Depends(page_user),
    db: Session = request_session,
):
    if not user.is_admin:
        return forbidden_page(request, user)
    event_types = choices.localized(db, "event_type", user.language)
    labels = {i.code: i.label for i in event_types}
    rules = list_rules(db)
    return render(
        request,
        "admin/reminder_rules.html",
        {
            "rules": rules,
            "event_types": event_types,
            "event_labels": labels,
            "channels": {k: _(CHANNELS[k]) for k in REMINDER_CHANNELS},
            "max_minutes": MAX_OFFSET_MINUTES,
        },
        user=user,
    )


@router.get("/admin/quiet-hours")
def quiet_hours_page(
    request: Request,
    user: Principal = Depends(page_user),
    db: Session = request_session,
):
    if not user.is_admin:
        return forbidden_page(request, user)
    return render(
        request,
        "admin/quiet_hours.html",
        {
            "quiet": quiet_hours.view(db),
            "company_zone": get_settings().timezone,
            "zones": sorted(available_timezones()),
        },
        user=user,
    )
