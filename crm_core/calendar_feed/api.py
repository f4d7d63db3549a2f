"""``/api/calendar-feed``: the signed-in user's secret calendar address (make, see, revoke).

The feed itself is served by the dashboard at ``/ical/<secret>.ics`` (a public page: the
secret is the credential)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from crm_core.apitypes import ERROR_RESPONSES
from crm_core.auth.deps import staff
from crm_core.auth.principal import Principal
from crm_core.calendar_feed import service
from crm_core.config import get_settings
from crm_core.database import request_session

router = APIRouter(prefix="/calendar-feed", tags=["calendar feed"], responses=ERROR_RESPONSES)


class FeedOut(BaseModel):
    active: bool
    created_at: datetime | None = None
    last_read_at: datetime | None = None
    url: str | None = Field(None, description="shown once, when the address is made")


def feed_url(secret: str) -> str:
    return f"{get_settings().public_url.rstrip('/')}/ical/{secret}.ics"


@router.get("", response_model=FeedOut, summary="Whether my calendar address is active")
def get_feed(actor: Principal = Depends(staff), db: Session = request_session):
    feed = service.feed_of(db, actor)
    if feed is None:
        return FeedOut(active=False)
    return FeedOut(active=True, created_at=feed.created_at, last_read_at=feed.last_read_at)


@router.post("", response_model=FeedOut, summary="Make a new calendar address (ends the old)")
def make_feed(actor: Principal = Depends(staff), db: Session = request_session):
    secret = service.make_feed(db, actor)
    feed = service.feed_of(db, actor)
    return FeedOut(active=True, created_at=feed.created_at if feed else None, url=feed_url(secret))


@router.delete("", response_model=FeedOut, summary="Revoke my calendar address")
def revoke_feed(actor: Principal = Depends(staff), db: Session = request_session):
    service.revoke_feed(db, actor)
    return FeedOut(active=False)
