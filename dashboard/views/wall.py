"""``/wall``: the big-screen dashboard, and the API/CLI for its read-only tokens."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from crm_core.apitypes import RowId
from crm_core.auth.deps import admins, managers
from crm_core.auth.principal import Principal
from crm_core.auth.service import resolve_token
from crm_core.config import get_settings
from crm_core.database import request_session
from dashboard import i18n
from dashboard.views.common import forbidden_page, optional_user, render, signed_in_user
from dashboard.wall import service as wall_service
from dashboard.wall import tokens

router = APIRouter()


@router.get("/wall", include_in_schema=False)
def wall_page(
    request: Request,
    token: str | None = None,
    lang: str | None = None,
    db: Session = request_session,
    user: Principal | None = Depends(optional_user),
):
    """With ``?token=`` (a wall token) no sign-in is needed; otherwise managers and admins."""
    if token:
        viewer = resolve_token(db, token, ("wall",))
        if viewer is None:
            i18n.set_language(lang)
            return render(
                request,
                "message.html",
                {
                    "title": i18n._("This wall link is not valid"),
                    "message": i18n._("Ask an administrator for a new wall link."),
                },
                lang=lang or get_settings().default_language,
                status_code=401,
            )
        language = lang or get_settings().default_language
        return render(
            request,
            "wall.html",
            {"initial": wall_service.snapshot_now(), "token": token},
            lang=language,
        )
    user = signed_in_user(request, user)
    if user.role not in ("admin", "manager"):
        return forbidden_page(request, user)
    return render(
        request,
        "wall.html",
        {"initial": wall_service.snapshot_now(), "token": ""},
        user=user,
        lang=lang or user.language,
    )


@router.get("/api/wall/snapshot", tags=["wall"], summary="Current wall counters")
def wall_snapshot(_: Principal = Depends(managers)) -> dict:
    return wall_service.snapshot_now()


class WallTokenIn(BaseModel):
    label: str = Field(min_length=1, max_length=120, examples=["TV in the call room"])
    days: int = Field(365, ge=1, le=tokens.MAX_DAYS)


class WallTokenOut(BaseModel):
    id: int
    label: str
    created_at: datetime
    expires_at: datetime
    token: str | None = None
    url: str | None = None


def _out(item: tokens.WallToken) -> WallTokenOut:
    url = None
    if item.token:
        url = f"{get_settings().public_url.rstrip('/')}/wall?token={item.token}"
    return WallTokenOut(**item.__dict__, url=url)


@router.post(
    "/api/wall/tokens",
    tags=["wall"],
    status_code=201,
    response_model=WallTokenOut,
    summary="Create a read-only wall token (the secret is shown once)",
)
def create_wall_token(
    body: WallTokenIn,
    actor: Principal = Depends(admins),
    db: Session = request_session,
) -> WallTokenOut:
    return _out(tokens.create_wall_token(db, actor, label=body.label, days=body.days))


@router.get("/api/wall/tokens", tags=["wall"], response_model=list[WallTokenOut])
def list_wall_tokens(_: Principal = Depends(admins), db: Session = request_session):
    return [_out(t) for t in tokens.list_wall_tokens(db)]


@router.delete("/api/wall/tokens/{token_id}", tags=["wall"], status_code=204)
def revoke_wall_token(
    token_id: RowId,
    actor: Principal = Depends(admins),
    db: Session = request_session,
) -> None:
    tokens.revoke_wall_token(db, actor, token_id)
