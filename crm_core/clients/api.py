"""Client routes: CRUD, restore, merge, list with filters, and the caller lookup."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy.orm import Session

from crm_core.apitypes import ERROR_RESPONSES, IsoMoment, QueryId, RowId
from crm_core.auth.deps import staff
from crm_core.auth.principal import Principal
from crm_core.clients import listing, merge, service
from crm_core.clients.lookup import CallerCard, caller_card
from crm_core.clients.schemas import (
    ClientFilter,
    ClientIn,
    ClientKind,
    ClientOut,
    ClientPage,
    ClientStatus,
    ClientUpdate,
    DuplicateOut,
    MergeIn,
)
from crm_core.database import request_session
from crm_core.errors import Invalid, NotFound
from crm_core.phones import InvalidPhone

router = APIRouter(tags=["clients"], responses=ERROR_RESPONSES)

LIST_PARAMS = set(ClientFilter.model_fields) - {"custom"}
CUSTOM_PREFIX = "cf."


def _query_loc(loc: tuple) -> tuple:
    """``("custom", "seats")`` is the ``cf.seats`` parameter."""
    if len(loc) >= 2 and loc[0] == "custom":
        return (f"{CUSTOM_PREFIX}{loc[1]}",)
    return tuple(loc)


def query_error(loc: list, message: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("query", *loc), "msg": message, "type": "value_error"}])


def _custom_filters(request: Request) -> dict[str, str]:
    """The ``cf.<key>=value`` parameters; any other parameter the list does not know is a 422."""
    custom: dict[str, str] = {}
    for key, value in request.query_params.multi_items():
        if key.startswith(CUSTOM_PREFIX) and len(key) > len(CUSTOM_PREFIX):
            custom[key[len(CUSTOM_PREFIX) :]] = value
        elif key not in LIST_PARAMS:
            raise query_error([key], f"unknown filter {key!r}")
    return custom


def _client_filter(**values) -> ClientFilter:
    """The filter, or a 422 naming the query parameters (``cf.<key>`` for custom fields)."""
    try:
        return ClientFilter(**values)
    except ValidationError as exc:
        raise RequestValidationError(
            [
                {
                    "loc": ("query", *_query_loc(e.get("loc", ()))),
                    "msg": e.get("msg"),
                    "type": "value_error",
                }
                for e in exc.errors()
            ]
        ) from None


@router.get(
    "/clients",
    response_model=ClientPage,
    summary="List clients with filters, sort and pagination",
    description=(
        "Filters: team, owner, category, tag, status, city, kind, organization, created_from, "
        "created_to, and custom fields as `cf.<key>=value`. Unknown parameters are refused "
        "(422). `sort`: comma-separated fields, `-` for descending "
        f"({', '.join(sorted(listing.SORTABLE))}). Page with limit/offset or page/page_size. "
        f"`total` is counted up to {listing.COUNT_LIMIT} rows; beyond that `total_exact` is false."
    ),
)
def list_clients(
    request: Request,
    team: QueryId = None,
    owner: QueryId = None,
    category: Annotated[str | None, Query(max_length=40)] = None,
    tag: Annotated[str | None, Query(max_length=60)] = None,
    status: ClientStatus | None = None,
    city: Annotated[str | None, Query(max_length=120)] = None,
    kind: ClientKind | None = None,
    organization: QueryId = None,
    created_from: IsoMoment | None = None,
    created_to: IsoMoment | None = None,
    deleted: bool = False,
    sort: Annotated[str, Query(max_length=100)] = "display_name",
    limit: Annotated[int | None, Query(ge=1, le=200)] = None,
    offset: Annotated[int | None, Query(ge=0, le=10_000_000)] = None,
    page: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
    page_size: Annotated[int | None, Query(ge=1, le=200)] = None,
    actor: Principal = Depends(staff),
    db: Session = request_session,
) -> ClientPage:
    filters = _client_filter(
        team=team,
        owner=owner,
        category=category,
        tag=tag,
        status=status,
        city=city,
        kind=kind,
        organization=organization,
        created_from=created_from,
        created_to=created_to,
        deleted=deleted,
        custom=_custom_filters(request),
        sort=sort,
        limit=limit,
        offset=offset,
        page=page,
        page_size=page_size,
    )
    try:
        return listing.list_clients(db, actor, filters)
    except Invalid as exc:
        raise query_error(exc.loc, exc.message.split(": ", 1)[-1]) from None


@router.post(
    "/clients",
    response_model=ClientOut,
    status_code=201,
    summary="Create a client",
    responses={409: {"model": DuplicateOut, "description": "A phone or e-mail is taken"}},
)
def create_client(
    data: ClientIn,
    force: bool = Query(False, description="Create even if a phone or e-mail is taken"),
    actor: Principal = Depends(staff),
    db: Session = request_session,
) -> ClientOut:
    client = service.create_client(db, actor, data, force=force)
    return listing.client_out(db, client)


@router.get("/clients/{client_id}", response_model=ClientOut, summary="A client's card")
def get_client(
    client_id: RowId,
    actor: Principal = Depends(staff),
    db: Session = request_session,
) -> ClientOut:
    return listing.client_out(db, listing.get_client(db, actor, client_id))


@router.patch(
    "/clients/{client_id}",
    response_model=ClientOut,
    summary="Change a client (only the fields sent; a list sent replaces the list)",
    responses={409: {"model": DuplicateOut, "description": "An added phone or e-mail is taken"}},
)
def update_client(
    client_id: RowId,
    data: ClientUpdate,
    force: bool = Query(False, description="Save even if an added phone or e-mail is taken"),
    actor: Principal = Depends(staff),
    db: Session = request_session,
) -> ClientOut:
    client = service.update_client(db, actor, client_id, data, force=force)
    return listing.client_out(db, client)


@router.delete(
    "/clients/{client_id}",
    status_code=204,
    summary="Delete a client (soft: an admin can restore it)",
)
def delete_client(
    client_id: RowId,
    actor: Principal = Depends(staff),
    db: Session = request_session,
) -> Response:
    service.delete_client(db, actor, client_id)
    return Response(status_code=204)


@router.post(
    "/clients/{client_id}/restore",
    response_model=ClientOut,
    summary="Restore a deleted client (admins)",
)
def restore_client(
    client_id: RowId,
    actor: Principal = Depends(staff),
    db: Session = request_session,
) -> ClientOut:
    return listing.client_out(db, service.restore_client(db, actor, client_id))


@router.post(
    "/clients/{client_id}/merge",
    response_model=ClientOut,
    summary="Fold another client (source_id) into this one; the source is deleted",
)
def merge_clients(
    client_id: RowId,
    data: MergeIn,
    actor: Principal = Depends(staff),
    db: Session = request_session,
) -> ClientOut:
    return listing.client_out(db, merge.merge_clients(db, actor, client_id, data.source_id))


@router.get(
    "/lookup/phone",
    response_model=CallerCard,
    summary="Caller lookup: the popup card for a number in any format",
    description=(
        "Accepts `+40 721 234 567`, `0721234567`, `0040721234567`, spaces, dashes, brackets. "
        "Unparseable number: 422 naming `number`. No client with that number: 404. "
        "A client the user may not open gives a restricted card (name and category only)."
    ),
    responses={404: {"description": "No client has this number"}},
)
def lookup_phone(
    number: Annotated[str, Query(max_length=64, description="The caller's number")],
    actor: Principal = Depends(staff),
    db: Session = request_session,
) -> CallerCard:
    try:
        card = caller_card(db, number, actor)
    except InvalidPhone as exc:
        raise query_error(["number"], str(exc)) from None
    if card is None:
        raise NotFound("no client has this number", found=False)
    return card
