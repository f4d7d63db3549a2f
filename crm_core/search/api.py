"""Search route."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.exceptions import RequestValidationError
from sqlalchemy.orm import Session

from crm_core.auth.deps import staff
from crm_core.auth.principal import Principal
from crm_core.database import request_session
from crm_core.errors import Invalid
from crm_core.search import refresh
from crm_core.search.service import MAX_QUERY, SearchResults, search_clients

router = APIRouter(tags=["search"])


@router.get(
    "/search",
    response_model=SearchResults,
    summary="Search clients by name, company, phone (any format, partial), e-mail, custom text",
)
def search(
    q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY)],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    actor: Principal = Depends(staff),
    db: Session = request_session,
) -> SearchResults:
    try:
        return search_clients(db, actor, q, limit)
    except Invalid as exc:
        raise RequestValidationError(
            [
                {
                    "loc": ("query", *exc.loc),
                    "msg": exc.message.split(": ", 1)[-1],
                    "type": "value_error",
                }
            ]
        ) from None


@router.get(
    "/search/refresh",
    response_model=refresh.SearchRefreshStatus,
    summary="Whether the search text is being refreshed after a custom field change",
)
def refresh_status(
    _: Principal = Depends(staff), db: Session = request_session
) -> refresh.SearchRefreshStatus:
    return refresh.status(db)
