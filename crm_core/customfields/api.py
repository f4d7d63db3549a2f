"""Admin configuration: custom fields, built-in label renames and the choice lists.

Reading is open to every signed-in user (the UI needs the definitions to render forms);
changing is for admins.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from crm_core.apitypes import RowId
from crm_core.auth.deps import admins, staff
from crm_core.auth.principal import Principal
from crm_core.customfields import labels as field_labels
from crm_core.customfields import service
from crm_core.customfields.schemas import (
    ChoiceCreate,
    ChoiceOut,
    ChoiceUpdate,
    Entity,
    FieldCreate,
    FieldOut,
    FieldUpdate,
    LabelOut,
    LabelSet,
    Move,
)
from crm_core.database import request_session
from crm_core.history import choices

router = APIRouter(tags=["configuration"])
ListName = Literal[
    "interaction_type",
    "interaction_result",
    "client_category",
    "client_source",
    "event_type",
    "call_disposition",
]


def _localized(db: Session, item, language: str) -> ChoiceOut:
    labels = choices.labels_of(db, [item])[item.id]
    out = ChoiceOut.model_validate(item)
    return out.model_copy(update={"labels": labels, "label": labels.get(language, item.label)})


@router.get("/custom-fields", response_model=list[FieldOut], summary="Custom field definitions")
def list_fields(
    entity: Entity = "client",
    _: Principal = Depends(staff),
    db: Session = request_session,
):
    return service.fields_for(db, entity)


@router.post("/custom-fields", response_model=FieldOut, status_code=201, summary="Define a field")
def create_field(
    body: FieldCreate,
    actor: Principal = Depends(admins),
    db: Session = request_session,
):
    return service.create_field(db, actor, **body.model_dump())


@router.patch("/custom-fields/{field_id}", response_model=FieldOut, summary="Change a field")
def update_field(
    field_id: RowId,
    body: FieldUpdate,
    actor: Principal = Depends(admins),
    db: Session = request_session,
):
    return service.update_field(db, actor, field_id, **body.model_dump(exclude_unset=True))


@router.post(
    "/custom-fields/{field_id}/move", response_model=FieldOut, summary="Move a field up or down"
)
def move_field(
    field_id: RowId,
    body: Move,
    actor: Principal = Depends(admins),
    db: Session = request_session,
):
    return service.move_field(db, actor, field_id, body.direction)


@router.delete(
    "/custom-fields/{field_id}", status_code=204, summary="Delete a field and all its values"
)
def delete_field(
    field_id: RowId,
    actor: Principal = Depends(admins),
    db: Session = request_session,
):
    service.delete_field(db, actor, field_id)


@router.get("/labels", response_model=list[LabelOut], summary="Renamed built-in field labels")
def list_labels(
    entity: Entity | None = None,
    language: Literal["en", "ro", "ru"] | None = None,
    _: Principal = Depends(staff),
    db: Session = request_session,
):
    return field_labels.labels(db, entity, language)


@router.put("/labels", response_model=LabelOut, summary="Rename a built-in field label")
def set_label(
    body: LabelSet,
    actor: Principal = Depends(admins),
    db: Session = request_session,
):
    return field_labels.set_label(db, actor, **body.model_dump())


@router.delete("/labels/{label_id}", status_code=204, summary="Back to the default label")
def delete_label(
    label_id: RowId,
    actor: Principal = Depends(admins),
    db: Session = request_session,
):
    field_labels.delete_label(db, actor, label_id)


@router.get("/choices/{list_name}", response_model=list[ChoiceOut], summary="A configurable list")
def list_choices(
    list_name: ListName,
    include_inactive: bool = False,
    actor: Principal = Depends(staff),
    db: Session = request_session,
):
    return choices.localized(db, list_name, actor.language, include_inactive=include_inactive)


@router.post(
    "/choices/{list_name}", response_model=ChoiceOut, status_code=201, summary="Add an item"
)
def add_choice(
    list_name: ListName,
    body: ChoiceCreate,
    actor: Principal = Depends(admins),
    db: Session = request_session,
):
    return _localized(
        db, choices.add_item(db, actor, list_name, **body.model_dump()), actor.language
    )


@router.patch("/choices/items/{item_id}", response_model=ChoiceOut, summary="Change an item")
def update_choice(
    item_id: RowId,
    body: ChoiceUpdate,
    actor: Principal = Depends(admins),
    db: Session = request_session,
):
    item = choices.update_item(db, actor, item_id, **body.model_dump(exclude_unset=True))
    return _localized(db, item, actor.language)


@router.post(
    "/choices/items/{item_id}/move", response_model=ChoiceOut, summary="Move an item up or down"
)
def move_choice(
    item_id: RowId,
    body: Move,
    actor: Principal = Depends(admins),
    db: Session = request_session,
):
    return _localized(db, choices.move_item(db, actor, item_id, body.direction), actor.language)


@router.delete(
    "/choices/items/{item_id}", status_code=204, summary="Deactivate an item (records keep it)"
)
def delete_choice(
    item_id: RowId,
    actor: Principal = Depends(admins),
    db: Session = request_session,
):
    choices.delete_item(db, actor, item_id)
