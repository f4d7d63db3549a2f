"""Admin screens for the client base's configuration: custom fields, choice lists, field labels.

Also the ``field_label('phone')`` template global every page uses to name a client field: the
admin's rename in the user's language (or for all languages), else the translated default.
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Request
from markupsafe import Markup
from sqlalchemy.orm import Session

from crm_core.auth.principal import Principal
from crm_core.customfields import labels as field_labels
from crm_core.customfields import service as customfields
from crm_core.customfields.models import FIELD_KINDS
from crm_core.database import get_engine, request_session
from crm_core.history import choices
from dashboard import i18n
from dashboard.i18n import _, lazy
from dashboard.views.common import forbidden_page, page_user, render, templates

router = APIRouter(include_in_schema=False)

#: the client fields pages name, with their default labels (translated when shown)
CLIENT_FIELDS: dict[str, str] = {
    "display_name": lazy("Name"),
    "first_name": lazy("First name"),
    "last_name": lazy("Last name"),
    "middle_name": lazy("Middle name"),
    "org_name": lazy("Organization"),
    "job_title": lazy("Job title"),
    "kind": lazy("Type"),
    "category": lazy("Category"),
    "status": lazy("Status"),
    "source": lazy("Source"),
    "owner": lazy("Owner"),
    "team": lazy("Team"),
    "phone": lazy("Phone"),
    "email": lazy("E-mail"),
    "city": lazy("City"),
    "birthday": lazy("Birthday"),
    "tags": lazy("Tags"),
    "discount_percent": lazy("Discount"),
    "comment": lazy("Comment"),
    "created_at": lazy("Added"),
}
ENTITY_TITLES = {"client": lazy("Clients"), "task": lazy("Tasks"), "interaction": lazy("History")}
KIND_TITLES = {
    "text": lazy("Text"),
    "number": lazy("Number"),
    "date": lazy("Date"),
    "bool": lazy("Yes / no"),
    "choice": lazy("Choice"),
}
LIST_TITLES = {
    "client_category": lazy("Client categories"),
    "client_source": lazy("Client sources"),
    "interaction_type": lazy("History types"),
    "interaction_result": lazy("History results"),
    "event_type": lazy("Event types"),
    "call_disposition": lazy("Call dispositions"),
}


def admin_labels(language: str | None = None) -> dict[str, dict[str, str]]:
    """``{entity: {field: label}}`` the admin set, for ``language`` (default: the page's)."""
    return field_labels.cached_label_map(get_engine(), language or i18n.current_language())


def known_field_label(name: str, entity: str = "client") -> str | None:
    """The label of a built-in field as the admin named it, else its translated default;
    None for a field no page names (the audit log shows its key)."""
    renamed = admin_labels().get(entity, {}).get(name)
    if renamed:
        return renamed
    default = CLIENT_FIELDS.get(name) if entity == "client" else None
    return _(default) if default else None


def field_label(name: str, entity: str = "client") -> str:
    """:func:`known_field_label`, else the key made readable."""
    return known_field_label(name, entity) or name.replace("_", " ").capitalize()


def client_labels_json() -> Markup:
    """Every client field's label, as JSON for a page's scripts (the popup card)."""
    data = {key: field_label(key) for key in CLIENT_FIELDS}
    return Markup(json.dumps(data, ensure_ascii=False).replace("</", "<\\/"))


templates.globals.update(
    field_label=field_label,
    known_field_label=known_field_label,
    client_labels_json=client_labels_json,
)


def _page_i18n(extra: dict[str, str]) -> Markup:
    data = {key: _(text) for key, text in extra.items()}
    return Markup(json.dumps(data, ensure_ascii=False).replace("</", "<\\/"))


SETUP_JS = {
    "saved": lazy("Saved"),
    "refresh_idle": lazy("Search is up to date."),
    "refresh_running": lazy("Updating the search: %(done)s of %(total)s clients done."),
    "refresh_queued": lazy("%(pending)s clients wait for their search text to be updated."),
    "refresh_failed": lazy(
        "Updating the search stopped with %(pending)s clients left; restart the web process "
        "or run callcard search reindex."
    ),
}


@router.get("/admin/fields")
def fields_page(
    request: Request,
    entity: str = "client",
    user: Principal = Depends(page_user),
    db: Session = request_session,
):
    if not user.is_admin:
        return forbidden_page(request, user)
    entity = entity if entity in customfields.ENTITIES else "client"
    return render(
        request,
        "admin/fields.html",
        {
            "entity": entity,
            "entities": {k: _(v) for k, v in ENTITY_TITLES.items()},
            "fields": customfields.fields_for(db, entity),
            "kinds": {k: _(KIND_TITLES[k]) for k in FIELD_KINDS},
            "page_i18n": _page_i18n(SETUP_JS),
        },
        user=user,
    )


@router.get("/admin/choices")
def choices_page(
    request: Request,
    list: str = "client_category",  # noqa: A002 - the query parameter's name
    user: Principal = Depends(page_user),
    db: Session = request_session,
):
    if not user.is_admin:
        return forbidden_page(request, user)
    list_name = list if list in choices.LIST_NAMES else "client_category"
    return render(
        request,
        "admin/choices.html",
        {
            "list_name": list_name,
            "lists": {k: _(LIST_TITLES[k]) for k in choices.LIST_NAMES},
            "items": choices.localized(db, list_name, user.language, include_inactive=True),
            "languages": i18n.LANGUAGES,
        },
        user=user,
    )


@router.get("/admin/labels")
def labels_page(
    request: Request,
    user: Principal = Depends(page_user),
    db: Session = request_session,
):
    if not user.is_admin:
        return forbidden_page(request, user)
    stored: dict[str, dict[str, object]] = {}
    for row in field_labels.labels(db, "client"):
        stored.setdefault(row.field, {})[row.language] = row
    rows = [
        {"field": key, "default": _(text), "labels": stored.get(key, {})}
        for key, text in CLIENT_FIELDS.items()
    ]
    return render(
        request,
        "admin/labels.html",
        {"rows": rows, "languages": i18n.LANGUAGES},
        user=user,
    )
