"""Client pages: the list (filters, sort, pages, saved filters), the card, new and edit forms.

Reads go through the crm_core services (row rights included); writes are made by the browser
against the JSON API, whose 422 answers name the field (shown inline next to it).
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.orm import Session

from crm_core.apitypes import RowId
from crm_core.attachments import service as attachments
from crm_core.auth.deps import staff
from crm_core.auth.principal import Principal
from crm_core.clients import listing as clients
from crm_core.clients.schemas import ClientFilter
from crm_core.customfields import service as customfields
from crm_core.database import request_session
from crm_core.errors import Invalid, NotFound
from crm_core.history import choices
from crm_core.history import service as history
from crm_core.tasks import service as tasks
from crm_core.users import service as users
from crm_core.wording import shown_subjects
from dashboard import saved_filters
from dashboard.i18n import lazy
from dashboard.views import admin_fields  # noqa: F401 - the field_label() template global
from dashboard.views.common import message_page, page_user, render, task_words

router = APIRouter(include_in_schema=False)

FILTER_KEYS = ("team", "owner", "category", "tag", "status", "city", "kind")
PAGE_SIZE = 50
SORTS = {
    "display_name": "display_name",
    "category": "category",
    "status": "status",
    "created_at": "created_at",
    "updated_at": "updated_at",
}


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        raise Invalid(["query"], "must be a whole number") from None


def _lookups(db: Session, actor: Principal, *, sources: bool = True) -> dict:
    """The lists the filters and forms offer (teams, colleagues, categories, ...)."""
    categories = choices.localized(db, "client_category", actor.language)
    return {
        "teams": users.list_teams(db),
        "colleagues": users.list_users(db, actor),
        "categories": categories,
        "category_labels": choices.label_map(db, "client_category", actor.language),
        "sources": choices.localized(db, "client_source", actor.language) if sources else [],
        "custom_fields": customfields.fields_for(db, clients.ENTITY),
    }


def _not_found(request: Request, user: Principal):
    return message_page(
        request,
        user,
        lazy("Client not found"),
        lazy("This client does not exist or is not visible to you."),
        status_code=404,
    )


@router.get("/clients")
def client_list(
    request: Request,
    user: Principal = Depends(page_user),
    db: Session = request_session,
):
    params = request.query_params
    values = {k: params.get(k, "").strip() for k in FILTER_KEYS}
    custom = {
        k[3:]: v.strip() for k, v in params.multi_items() if k.startswith("cf.") and v.strip()
    }
    sort = params.get("sort", "display_name")
    error = ""
    page = None
    try:
        page_no = max(1, _int(params.get("page")) or 1)
        filters = ClientFilter(
            team=_int(values["team"]),
            owner=_int(values["owner"]),
            category=values["category"] or None,
            tag=values["tag"] or None,
            status=values["status"] or None,
            city=values["city"] or None,
            kind=values["kind"] or None,
            custom=custom,
            sort=sort if sort.lstrip("-") in SORTS else "display_name",
            page=page_no,
            page_size=PAGE_SIZE,
        )
        page = clients.list_clients(db, user, filters)
    except ValidationError as exc:
        first = exc.errors()[0]
        error = f"{'.'.join(map(str, first.get('loc', ())))}: {first.get('msg')}"
    except Invalid as exc:
        error = exc.message
    active = {k: v for k, v in values.items() if v}
    active.update({f"cf.{k}": v for k, v in custom.items()})
    lookups = _lookups(db, user, sources=False)
    owner_names = {u.id: u.full_name or u.username for u in lookups["colleagues"]}
    team_names = {t.id: t.name for t in lookups["teams"]}

    def link(**changes) -> str:
        query = {**active, "sort": sort, **changes}
        return "/clients?" + urlencode({k: v for k, v in query.items() if v not in (None, "")})

    return render(
        request,
        "clients.html",
        {
            "page": page,
            "error": error,
            "values": values,
            "custom_values": custom,
            "sort": sort,
            "link": link,
            "active_query": urlencode(active),
            "saved": saved_filters.list_for(db, user),
            "owner_names": owner_names,
            "team_names": team_names,
            **lookups,
        },
        user=user,
    )


def _timeline(db: Session, user: Principal, client_id: int, authors: dict[int, str]) -> list[dict]:
    rows, _total = history.list_for_client(db, user, client_id, limit=100)
    items = [
        {
            "kind": r.kind,
            "at": r.occurred_at,
            "direction": r.direction,
            "subject": subject,  # as the user reads it: the call log's worded in their language
            "body": r.body,
            "result": r.result_code,
            "type": r.type_code,
            "duration_s": r.duration_s,
            "number": r.phone_number,
            "author": authors.get(r.author_id or 0, ""),
            "call_id": r.call_id,
        }
        for r, subject in zip(rows, shown_subjects(db, rows), strict=True)
    ]
    for f in attachments.list_for(db, user, "client", client_id):
        items.append(
            {
                "kind": "file",
                "at": f.uploaded_at,
                "subject": f.filename,
                "size": f.size,
                "file_id": f.id,
                "author": authors.get(f.uploaded_by_id or 0, ""),
            }
        )
    items.sort(key=lambda i: i["at"], reverse=True)
    return items


@router.get("/clients/new")
def client_new(
    request: Request,
    user: Principal = Depends(page_user),
    db: Session = request_session,
):
    params = request.query_params
    name = params.get("name", "").strip()
    first, _sep, last = name.partition(" ")
    organization_id = (
        _int(params.get("organization")) if params.get("organization", "").isdigit() else None
    )
    prefill = {
        "kind": "organization" if params.get("kind") == "organization" else "person",
        "first_name": first,
        "last_name": last,
        "phones": [{"kind": "mobile", "number": params.get("phone", "")}]
        if params.get("phone")
        else [],
        "organization_id": organization_id,
        "owner_id": user.id if user.role == "operator" else None,
        "team_id": user.team_id,
        "category": "regular",
        "status": "active",
        "source": "inbound_call" if params.get("call_id") else "",
    }
    return render(
        request,
        "client_form.html",
        {"client": prefill, "mode": "new", **_lookups(db, user)},
        user=user,
    )


@router.get("/clients/{client_id}/edit")
def client_edit(
    client_id: int,
    request: Request,
    user: Principal = Depends(page_user),
    db: Session = request_session,
):
    try:
        client = clients.client_out(db, clients.get_client(db, user, client_id))
    except NotFound:
        return _not_found(request, user)
    data = client.model_dump(mode="json")
    data["owner_id"] = client.owner.id if client.owner else None
    data["team_id"] = client.team.id if client.team else None
    data["organization_id"] = client.organization.id if client.organization else None
    return render(
        request,
        "client_form.html",
        {"client": data, "mode": "edit", "client_id": client_id, **_lookups(db, user)},
        user=user,
    )


@router.get("/clients/{client_id}")
def client_card(
    client_id: int,
    request: Request,
    user: Principal = Depends(page_user),
    db: Session = request_session,
):
    try:
        client = clients.client_out(db, clients.get_client(db, user, client_id))
    except NotFound:
        return _not_found(request, user)
    open_tasks, _n = tasks.list_tasks(
        db, user, client_id=client_id, status=["open", "in_progress"], limit=50
    )
    colleagues = users.list_users(db, user)
    authors = {u.id: u.full_name or u.username for u in colleagues}
    fields = customfields.fields_for(db, clients.ENTITY)
    return render(
        request,
        "client.html",
        {
            "client": client,
            "timeline": _timeline(db, user, client_id, authors),
            "open_tasks": open_tasks,
            "shown": task_words(db, open_tasks),
            "overdue_ids": {t.id for t in open_tasks if tasks.is_overdue(t)},
            "field_labels": {f.key: f for f in fields},
            "colleagues": colleagues,
            "category_labels": choices.label_map(db, "client_category", user.language),
            "source_labels": choices.label_map(db, "client_source", user.language),
            "result_labels": choices.label_map(db, "interaction_result", user.language),
        },
        user=user,
    )


# --- saved filters (JSON) -------------------------------------------------------------------

api = APIRouter(prefix="/api/saved-filters", tags=["saved filters"])


class SavedFilterIn(BaseModel):
    name: str = Field(min_length=1, max_length=80)
    query: str = Field("", max_length=2000, description="The client list's query string")


class SavedFilterOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    query: str


@api.get("", response_model=list[SavedFilterOut], summary="My saved client-list filters")
def list_saved(actor: Principal = Depends(staff), db: Session = request_session):
    return saved_filters.list_for(db, actor)


@api.post("", response_model=SavedFilterOut, status_code=201, summary="Save the current filters")
def create_saved(
    body: SavedFilterIn,
    actor: Principal = Depends(staff),
    db: Session = request_session,
):
    return saved_filters.save(db, actor, name=body.name, query=body.query)


@api.delete("/{filter_id}", status_code=204, summary="Delete one of my saved filters")
def delete_saved(
    filter_id: RowId,
    actor: Principal = Depends(staff),
    db: Session = request_session,
) -> None:
    saved_filters.delete(db, actor, filter_id)


router.include_router(api)
