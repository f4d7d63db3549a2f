"""Message templates: managers read them with an SMS preview, admins change or reset them."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from sqlalchemy.orm import Session

from crm_core.auth.deps import admins, managers
from crm_core.auth.principal import Principal
from crm_core.clients.listing import get_client
from crm_core.database import request_session
from notifier.templates import service
from notifier.templates.schemas import PreviewIn, PreviewOut, TemplateIn, TemplateOut

router = APIRouter(prefix="/api/notifier", tags=["notifier engagement"])


@router.get(
    "/templates",
    response_model=list[TemplateOut],
    response_model_exclude_unset=True,
    summary="Message templates per type and language",
)
def list_templates(
    _: Principal = Depends(managers), db: Session = request_session
) -> list[TemplateOut]:
    return service.list_templates(db)


@router.post(
    "/templates/preview",
    response_model=PreviewOut,
    summary="A template's text with a chosen client's data (not saved)",
)
def preview_template(
    data: PreviewIn,
    actor: Principal = Depends(admins),
    db: Session = request_session,
) -> PreviewOut:
    client = get_client(db, actor, data.client_id) if data.client_id else None
    return PreviewOut.model_validate(
        service.preview(
            db, data.key, data.language, subject=data.subject, body=data.body, client=client
        )
    )


@router.put(
    "/templates/{key}/{language}",
    response_model=TemplateOut,
    response_model_exclude_unset=True,
    summary="Save an admin version of a template",
)
def save_template(
    key: str,
    language: str,
    data: TemplateIn,
    actor: Principal = Depends(admins),
    db: Session = request_session,
) -> TemplateOut:
    return service.save_template(db, actor.id, key, language, **data.model_dump())


@router.delete("/templates/{key}/{language}", status_code=204, summary="Back to the built-in text")
def reset_template(
    key: str,
    language: str,
    _: Principal = Depends(admins),
    db: Session = request_session,
) -> Response:
    service.reset_template(db, key, language)
    return Response(status_code=204)
