"""Message templates: Jinja2 in a sandbox, per message type and language (en, ro, ru).

Templates are admin-editable (``message_templates`` rows override the built-in defaults below),
so they are rendered by :class:`jinja2.sandbox.SandboxedEnvironment`: a template sees only the
plain values we hand it (strings, numbers) and cannot reach Python internals such as
``__class__``, ``__globals__`` or ``mro()``. Unknown variables are an error caught when the
template is saved (a 422 naming the field), not a blank in a client's SMS.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jinja2
from jinja2.runtime import new_context
from jinja2.utils import concat
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.clients.models import Client
from crm_core.errors import Invalid, NotFound
from crm_core.sandbox import BoundedSandbox, render_bounded
from notifier.config import get_settings
from notifier.sms_segments.service import count_segments, transliterate_romanian
from notifier.templates.models import MessageTemplate
from notifier.templates.schemas import SegmentsOut, TemplateOut

log = logging.getLogger("callcard.notifier.templates")

LANGUAGES = ("en", "ro", "ru")

_sms_env = BoundedSandbox(undefined=jinja2.StrictUndefined, autoescape=False)
_html_env = BoundedSandbox(undefined=jinja2.StrictUndefined, autoescape=True)

#: (key, language) -> (subject, body). Keys: reminder.<event_type>.<channel>, survey.*, task.*
DEFAULTS: dict[tuple[str, str], tuple[str, str]] = {
    # client reminders, SMS
    ("reminder.appointment.sms", "en"): ("", "Hello {{ first_name or display_name }}, a reminder of your appointment on {{ date }} at {{ time }}{% if location %}, {{ location }}{% endif %}. Reply STOP to opt out."),
    ("reminder.appointment.sms", "ro"): ("", "Buna ziua {{ first_name or display_name }}, va reamintim de programarea din {{ date }} la ora {{ time }}{% if location %}, {{ location }}{% endif %}. Raspundeti STOP pentru dezabonare."),
    ("reminder.appointment.sms", "ru"): ("", "Здравствуйте, {{ first_name or display_name }}! Напоминаем о записи {{ date }} в {{ time }}{% if location %}, {{ location }}{% endif %}. Ответьте СТОП, чтобы отписаться."),
    ("reminder.meeting.sms", "en"): ("", "Hello {{ first_name or display_name }}, a reminder of our meeting \"{{ title }}\" on {{ date }} at {{ time }}{% if location %}, {{ location }}{% endif %}."),
    ("reminder.meeting.sms", "ro"): ("", "Buna ziua {{ first_name or display_name }}, va reamintim de intalnirea \"{{ title }}\" din {{ date }} la ora {{ time }}{% if location %}, {{ location }}{% endif %}."),
    ("reminder.meeting.sms", "ru"): ("", "Здравствуйте, {{ first_name or display_name }}! Напоминаем о встрече «{{ title }}» {{ date }} в {{ time }}{% if location %}, {{ location }}{% endif %}."),
    ("reminder.call.sms", "en"): ("", "Hello {{ first_name or display_name }}, we will call you on {{ date }} at {{ time }}."),
    ("reminder.call.sms", "ro"): ("", "Buna ziua {{ first_name or display_name }}, va vom suna in {{ date }} la ora {{ time }}."),
    ("reminder.call.sms", "ru"): ("", "Здравствуйте, {{ first_name or display_name }}! Мы позвоним вам {{ date }} в {{ time }}."),
    # client reminders, e-mail
    ("reminder.appointment.email", "en"): ("Reminder: your appointment on {{ date }}", "Hello {{ first_name or display_name }},\n\nThis is a reminder of your appointment on {{ date }} at {{ time }}{% if location %} at {{ location }}{% endif %}.\n\n{{ company }}"),
    ("reminder.appointment.email", "ro"): ("Reamintire: programarea din {{ date }}", "Buna ziua {{ first_name or display_name }},\n\nVa reamintim de programarea din {{ date }} la ora {{ time }}{% if location %}, {{ location }}{% endif %}.\n\n{{ company }}"),
    ("reminder.appointment.email", "ru"): ("Напоминание: запись на {{ date }}", "Здравствуйте, {{ first_name or display_name }}!\n\nНапоминаем о записи {{ date }} в {{ time }}{% if location %}, {{ location }}{% endif %}.\n\n{{ company }}"),
    ("reminder.meeting.email", "en"): ("Reminder: {{ title }} on {{ date }}", "Hello {{ first_name or display_name }},\n\nA reminder of our meeting \"{{ title }}\" on {{ date }} at {{ time }}{% if location %} at {{ location }}{% endif %}.\n\n{{ company }}"),
    ("reminder.meeting.email", "ro"): ("Reamintire: {{ title }} din {{ date }}", "Buna ziua {{ first_name or display_name }},\n\nVa reamintim de intalnirea \"{{ title }}\" din {{ date }} la ora {{ time }}{% if location %}, {{ location }}{% endif %}.\n\n{{ company }}"),
    ("reminder.meeting.email", "ru"): ("Напоминание: {{ title }}, {{ date }}", "Здравствуйте, {{ first_name or display_name }}!\n\nНапоминаем о встрече «{{ title }}» {{ date }} в {{ time }}{% if location %}, {{ location }}{% endif %}.\n\n{{ company }}"),
    ("reminder.call.email", "en"): ("We will call you on {{ date }}", "Hello {{ first_name or display_name }},\n\nWe will call you on {{ date }} at {{ time }}.\n\n{{ company }}"),
    ("reminder.call.email", "ro"): ("Va vom suna in {{ date }}", "Buna ziua {{ first_name or display_name }},\n\nVa vom suna in {{ date }} la ora {{ time }}.\n\n{{ company }}"),
    ("reminder.call.email", "ru"): ("Мы позвоним вам {{ date }}", "Здравствуйте, {{ first_name or display_name }}!\n\nМы позвоним вам {{ date }} в {{ time }}.\n\n{{ company }}"),
    # client reminders, automated call: what the "reminder" voice script says after its
    # greeting, before "press 1 to confirm, 2 to cancel"
    ("reminder.appointment.voice", "en"): ("", "Your appointment is on {{ date }} at {{ time }}{% if location %}, at {{ location }}{% endif %}."),
    ("reminder.appointment.voice", "ro"): ("", "Programarea dumneavoastră este pe {{ date }} la ora {{ time }}{% if location %}, la {{ location }}{% endif %}."),
    ("reminder.appointment.voice", "ru"): ("", "Ваша запись назначена на {{ date }} в {{ time }}{% if location %}, {{ location }}{% endif %}."),
    ("reminder.meeting.voice", "en"): ("", "Our meeting {{ title }} is on {{ date }} at {{ time }}{% if location %}, at {{ location }}{% endif %}."),
    ("reminder.meeting.voice", "ro"): ("", "Întâlnirea {{ title }} este pe {{ date }} la ora {{ time }}{% if location %}, la {{ location }}{% endif %}."),
    ("reminder.meeting.voice", "ru"): ("", "Встреча «{{ title }}» состоится {{ date }} в {{ time }}{% if location %}, {{ location }}{% endif %}."),
    ("reminder.call.voice", "en"): ("", "We will call you on {{ date }} at {{ time }}."),
    ("reminder.call.voice", "ro"): ("", "Vă vom suna pe {{ date }} la ora {{ time }}."),
    ("reminder.call.voice", "ru"): ("", "Мы позвоним вам {{ date }} в {{ time }}."),
    # reminders to the assignee (staff), e-mail
    ("task.due.email", "en"): ("Reminder: {{ title }}", "{{ title }}\n{% if due %}Due {{ due }}.{% endif %}{% if client_name %}\nClient: {{ client_name }}{% endif %}"),
    ("task.due.email", "ro"): ("Reamintire: {{ title }}", "{{ title }}\n{% if due %}Termen {{ due }}.{% endif %}{% if client_name %}\nClient: {{ client_name }}{% endif %}"),
    ("task.due.email", "ru"): ("Напоминание: {{ title }}", "{{ title }}\n{% if due %}Срок {{ due }}.{% endif %}{% if client_name %}\nКлиент: {{ client_name }}{% endif %}"),
    # rating survey
    ("survey.request.sms", "en"): ("", "Thank you for contacting {{ company }}! How did we do? Reply with a number from 1 (bad) to 5 (excellent)."),
    ("survey.request.sms", "ro"): ("", "Va multumim ca ati contactat {{ company }}! Cum ne-am descurcat? Raspundeti cu o cifra de la 1 (rau) la 5 (excelent)."),
    ("survey.request.sms", "ru"): ("", "Спасибо за обращение в {{ company }}! Оцените нас: ответьте цифрой от 1 (плохо) до 5 (отлично)."),
    ("survey.clarify.sms", "en"): ("", "Sorry, we did not understand. Please reply with one number from 1 to 5."),
    ("survey.clarify.sms", "ro"): ("", "Ne pare rau, nu am inteles. Va rugam raspundeti cu o singura cifra de la 1 la 5."),
    ("survey.clarify.sms", "ru"): ("", "Извините, мы не поняли ответ. Пожалуйста, ответьте одной цифрой от 1 до 5."),
    ("survey.thanks.sms", "en"): ("", "Thank you for your rating!"),
    ("survey.thanks.sms", "ro"): ("", "Va multumim pentru evaluare!"),
    ("survey.thanks.sms", "ru"): ("", "Спасибо за вашу оценку!"),
}  # fmt: skip

#: what a template of each kind may use (sample values also validate admin edits)
SAMPLE_CLIENT = {
    "first_name": "Ana",
    "last_name": "Popescu",
    "middle_name": "",
    "display_name": "Ana Popescu",
    "org_name": "",
    "job_title": "",
    "category": "regular",
    "company": "Callcard",
    "unsubscribe_url": "https://example.invalid/unsubscribe",
}
SAMPLE_EVENT = {
    "title": "Consultation",
    "date": "2025-05-01",
    "time": "10:00",
    "location": "Main office",
    "event_type": "appointment",
}
SAMPLE_TASK = {"title": "Call back", "due": "2025-05-01 10:00", "client_name": "Ana Popescu"}


def render(source: str, context: dict[str, Any], *, html: bool = False) -> str:
    env = _html_env if html else _sms_env
    return env.from_string(source).render(**context)


def validate(source: str, context: dict[str, Any], *, field: str, html: bool = False) -> str:
    """Render against sample values; a syntax error, unknown field, sandbox breach, or a text
    too long or too slow to make (:mod:`crm_core.sandbox`) -> 422."""
    env = _html_env if html else _sms_env
    try:
        return render_bounded(env.from_string(source), context)
    except jinja2.TemplateSyntaxError as exc:
        raise Invalid(field, f"template syntax error on line {exc.lineno}: {exc.message}") from None
    except jinja2.UndefinedError as exc:
        raise Invalid(field, f"unknown field in template: {exc.message}") from None
    except jinja2.exceptions.SecurityError as exc:
        raise Invalid(field, f"not allowed in a template: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - any other template failure is the user's input
        raise Invalid(field, f"template cannot be rendered: {exc}") from None


def client_language(client: Client | None) -> str:
    lang = (client.language if client is not None else "") or get_settings().default_language
    lang = lang.lower()[:2]
    return lang if lang in LANGUAGES else "en"


def client_zone(client: Client | None) -> ZoneInfo:
    name = (client.timezone if client is not None else "") or get_settings().timezone
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def client_context(client: Client | None) -> dict[str, Any]:
    """The client's fields a template may use."""
    settings = get_settings()
    company = getattr(settings, "company_name", "") or "Callcard"
    if client is None:
        return {**{k: "" for k in SAMPLE_CLIENT}, "company": company}
    return {
        "first_name": client.first_name or "",
        "last_name": client.last_name or "",
        "middle_name": client.middle_name or "",
        "display_name": client.display_name or client.org_name or "",
        "org_name": client.org_name or "",
        "job_title": client.job_title or "",
        "category": client.category or "",
        "company": company,
        "unsubscribe_url": "",
    }


def local_date_time(when: datetime, zone: ZoneInfo) -> tuple[str, str]:
    local = when.astimezone(zone)
    return (
        f"{local.year:04d}-{local.month:02d}-{local.day:02d}",
        f"{local.hour:02d}:{local.minute:02d}",
    )


def template_source(db: Session, key: str, language: str) -> tuple[str, str]:
    """(subject, body) for a key and language: the admin's version, else the built-in one."""
    row = db.scalar(
        select(MessageTemplate).where(
            MessageTemplate.key == key, MessageTemplate.language == language
        )
    )
    if row is not None:
        return row.subject, row.body
    if (key, language) in DEFAULTS:
        return DEFAULTS[(key, language)]
    if (key, "en") in DEFAULTS:
        return DEFAULTS[(key, "en")]
    raise KeyError(key)


def render_message(
    db: Session, key: str, language: str, context: dict[str, Any]
) -> tuple[str, str]:
    subject, body = template_source(db, key, language)
    try:
        return (render(subject, context) if subject else ""), render(body, context)
    except Exception:
        builtin = DEFAULTS.get((key, language)) or DEFAULTS.get((key, "en"))
        if builtin is None or builtin == (subject, body):
            raise
        log.exception("template %s/%s failed; built-in text used", key, language)
        return (render(builtin[0], context) if builtin[0] else ""), render(builtin[1], context)


class TemplateCache:
    """Compiled templates for bulk scheduling (100,000 events): compile each (key, lang) once."""

    def __init__(self, db: Session) -> None:
        self._overrides = {
            (row.key, row.language): (row.subject, row.body)
            for row in db.scalars(select(MessageTemplate))
        }
        self._compiled: dict[tuple[str, str], tuple[Any, Any]] = {}

    def render(self, key: str, language: str, context: dict[str, Any]) -> tuple[str, str]:
        compiled = self._compiled.get((key, language))
        if compiled is None:
            source = (
                self._overrides.get((key, language))
                or DEFAULTS.get((key, language))
                or DEFAULTS.get((key, "en"))
            )
            if source is None:
                raise KeyError(key)
            subject, body = source
            compiled = (
                _sms_env.from_string(subject) if subject else None,
                _sms_env.from_string(body),
            )
            self._compiled[(key, language)] = compiled
        subject_t, body_t = compiled
        try:
            return (_fast(subject_t, context) if subject_t else ""), _fast(body_t, context)
        except Exception:
            if (key, language) not in self._overrides:
                raise
            # an admin's template that fails on this client's data must not block the change
            # that triggered the message: fall back to the built-in text, and say so
            log.exception("template %s/%s failed; built-in text used", key, language)
            self._overrides.pop((key, language))
            self._compiled.pop((key, language))
            return self.render(key, language, context)


def _fast(template: jinja2.Template, context: dict[str, Any]) -> str:
    """``template.render(**context)`` without copying the context into a new dict each time
    (twice as fast; the sandbox checks live in the environment, not in the context).

    No globals are handed over: both environments have none, and ``Template.new_context`` would
    build a set of the (empty) global names for every render, half the cost of a short SMS."""
    return concat(
        template.root_render_func(
            new_context(template.environment, template.name, template.blocks, context, shared=True)
        )
    )


# --- admins' versions -------------------------------------------------------------------


def _sample_for(key: str) -> dict[str, Any]:
    """Sample values a template of this key is checked and previewed with."""
    if key.startswith("task."):
        return dict(SAMPLE_TASK)
    return {**SAMPLE_CLIENT, **SAMPLE_EVENT}


def _custom_row(db: Session, key: str, language: str) -> MessageTemplate | None:
    return db.scalar(
        select(MessageTemplate).where(
            MessageTemplate.key == key, MessageTemplate.language == language
        )
    )


def template_view(db: Session, key: str, language: str) -> TemplateOut:
    """The template in use for a key and language; SMS ones with a preview and its segments."""
    subject, body = template_source(db, key, language)
    out = TemplateOut(
        key=key,
        language=language,
        subject=subject,
        body=body,
        custom=_custom_row(db, key, language) is not None,
    )
    if key.endswith(".sms"):
        out.preview = validate(body, _sample_for(key), field="body")
        out.segments = SegmentsOut.model_validate(count_segments(out.preview))
    return out


def list_templates(db: Session) -> list[TemplateOut]:
    keys = sorted({k for k, _ in DEFAULTS})
    return [template_view(db, k, lang) for k in keys for lang in LANGUAGES]


def _check_known(key: str, language: str) -> None:
    if language not in LANGUAGES:
        raise Invalid("language", f"must be one of {', '.join(LANGUAGES)}")
    known = {k for k, _ in DEFAULTS}
    if key not in known and not (key.startswith("reminder.") and key.count(".") == 2):
        raise NotFound(f"no message template {key!r}")


def save_template(
    db: Session, actor_id: int, key: str, language: str, *, subject: str, body: str,
    transliterate: bool = False,
) -> TemplateOut:  # fmt: skip
    """Store an admin's version (checked against sample data first: a 422 names the field)."""
    _check_known(key, language)
    if transliterate:
        subject, body = transliterate_romanian(subject), transliterate_romanian(body)
    sample = _sample_for(key)
    validate(body, sample, field="body")
    if subject:
        validate(subject, sample, field="subject")
    row = _custom_row(db, key, language)
    if row is None:
        row = MessageTemplate(key=key, language=language, body=body)
        db.add(row)
    row.subject = subject
    row.body = body
    row.updated_by_id = actor_id
    db.flush()
    return template_view(db, key, language)


def reset_template(db: Session, key: str, language: str) -> None:
    """Back to the built-in text."""
    _check_known(key, language)
    row = _custom_row(db, key, language)
    if row is not None:
        db.delete(row)


# --- the editor's preview -----------------------------------------------------------------


def variables_for(key: str) -> list[str]:
    """The names a template of this key may use."""
    return sorted(_sample_for(key)) if not key.startswith("task.") else sorted(SAMPLE_TASK)


def preview(
    db: Session, key: str, language: str, *, subject: str, body: str, client: Client | None
) -> dict[str, Any]:
    """The text as ``client`` would get it (sample values stand in for the event), through the
    same bounded sandbox as a save: a 422 names ``subject`` or ``body``."""
    _check_known(key, language)
    context = _sample_for(key)
    if client is not None:
        if key.startswith("task."):
            context["client_name"] = client.display_name or client.org_name or ""
        else:
            context.update(client_context(client))
    out: dict[str, Any] = {
        "subject": validate(subject, context, field="subject") if subject else "",
        "body": validate(body, context, field="body"),
        "segments": None,
    }
    if key.endswith(".sms"):
        out["segments"] = SegmentsOut.model_validate(count_segments(out["body"]))
    return out
