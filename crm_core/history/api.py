"""A client's history: list and add entries; edit and delete single entries."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from crm_core import wording
from crm_core.apitypes import RowId
from crm_core.auth.deps import staff
from crm_core.auth.principal import Principal
from crm_core.customfields import service as customfields
from crm_core.database import request_session
from crm_core.history import service
from crm_core.history.models import Interaction
from crm_core.history.schemas import (
    InteractionCreate,
    InteractionOut,
    InteractionPage,
    InteractionUpdate,
    Kind,
)

router = APIRouter(tags=["history"])


def render(db: Session, rows: list[Interaction], actor: Principal) -> list[InteractionOut]:
    """The entries as ``actor`` reads them (``display_subject``: :mod:`crm_core.wording`)."""
    values = customfields.values_for(db, "interaction", [r.id for r in rows])
    with wording.reading_as(actor):
        subjects = wording.shown_subjects(db, rows)
    return [
        InteractionOut.model_validate(r).model_copy(
            update={"custom": values.get(r.id, {}), "display_subject": subject}
        )
        for r, subject in zip(rows, subjects, strict=True)
    ]


@router.get(
    "/clients/{client_id}/interactions",
    response_model=InteractionPage,
    summary="A client's history, newest first",
)
def list_interactions(
    client_id: RowId,
    kind: Kind | None = None,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=10_000_000),
    actor: Principal = Depends(staff),
    db: Session = request_session,
):
    rows, total = service.list_for_client(
        db, actor, client_id, kind=kind, limit=limit, offset=offset
    )
    return InteractionPage(items=render(db, rows, actor), total=total)


@router.post(
    "/clients/{client_id}/interactions",
    response_model=InteractionOut,
    status_code=201,
    summary="Log a call, meeting, visit, e-mail, SMS or note",
)
def add_interaction(
    client_id: RowId,
    body: InteractionCreate,
    actor: Principal = Depends(staff),
    db: Session = request_session,
):
    item = service.add_interaction(db, actor, client_id=client_id, **body.model_dump())
    return render(db, [item], actor)[0]


@router.get("/interactions/{interaction_id}", response_model=InteractionOut, summary="One entry")
def get_interaction(
    interaction_id: RowId,
    actor: Principal = Depends(staff),
    db: Session = request_session,
):
    return render(db, [service.get_interaction(db, actor, interaction_id)], actor)[0]


@router.patch(
    "/interactions/{interaction_id}", response_model=InteractionOut, summary="Edit an entry"
)
def update_interaction(
    interaction_id: RowId,
    body: InteractionUpdate,
    actor: Principal = Depends(staff),
    db: Session = request_session,
):
    item = service.update_interaction(
        db, actor, interaction_id, body.model_dump(exclude_unset=True)
    )
    return render(db, [item], actor)[0]


@router.delete("/interactions/{interaction_id}", status_code=204, summary="Delete an entry")
def delete_interaction(
    interaction_id: RowId,
    actor: Principal = Depends(staff),
    db: Session = request_session,
):
    service.delete_interaction(db, actor, interaction_id)
