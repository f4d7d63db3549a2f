"""Newsletters: saved client segments, drafts, test and real sends, and the public unsubscribe
page each e-mail links to."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from crm_core.apitypes import RowId
from crm_core.auth.deps import managers
from crm_core.auth.principal import Principal
from crm_core.database import request_session
from notifier.newsletters import service, stats
from notifier.newsletters.schemas import (
    DeliveryStatsOut,
    NewsletterIn,
    NewsletterOut,
    NewsletterUpdate,
    RecipientCountIn,
    RecipientsOut,
    SavedSegmentIn,
    SavedSegmentOut,
    SendOut,
    TestSendIn,
    TestSendOut,
    UnsubscribeOut,
)

router = APIRouter(prefix="/api/notifier", tags=["notifier engagement"])


# --- saved segments ---------------------------------------------------------------------


@router.get(
    "/saved-segments",
    response_model=list[SavedSegmentOut],
    summary="Saved client segments (newsletter recipients)",
)
def list_saved_segments(
    _: Principal = Depends(managers), db: Session = request_session
) -> list[SavedSegmentOut]:
    return [SavedSegmentOut.model_validate(s) for s in service.list_segments(db)]


@router.post(
    "/saved-segments",
    response_model=SavedSegmentOut,
    status_code=201,
    summary="Save client-list filters as a segment",
)
def create_saved_segment(
    data: SavedSegmentIn,
    actor: Principal = Depends(managers),
    db: Session = request_session,
) -> SavedSegmentOut:
    row = service.create_segment(db, actor, name=data.name, filters=data.filters)
    return SavedSegmentOut.model_validate(row)


# --- newsletters ------------------------------------------------------------------------


@router.post(
    "/newsletters/count",
    response_model=RecipientsOut,
    summary="How many clients these filters reach (live count while composing)",
)
def count_recipients(
    data: RecipientCountIn,
    actor: Principal = Depends(managers),
    db: Session = request_session,
) -> RecipientsOut:
    return stats.count_for(db, actor, filters=data.filters, segment_id=data.segment_id)


@router.get(
    "/newsletter-unsubscribes",
    response_model=list[UnsubscribeOut],
    summary="Addresses that unsubscribed, newest first",
)
def list_unsubscribes(
    _: Principal = Depends(managers), db: Session = request_session
) -> list[UnsubscribeOut]:
    return [UnsubscribeOut(**row) for row in stats.unsubscribes(db)]


@router.get("/newsletters", response_model=list[NewsletterOut], summary="Newsletters, newest first")
def list_newsletters(
    _: Principal = Depends(managers), db: Session = request_session
) -> list[NewsletterOut]:
    return service.list_newsletters(db)


@router.post(
    "/newsletters",
    response_model=NewsletterOut,
    status_code=201,
    summary="Create a newsletter draft",
)
def create_newsletter(
    data: NewsletterIn,
    actor: Principal = Depends(managers),
    db: Session = request_session,
) -> NewsletterOut:
    return service.newsletter_out(service.create_newsletter(db, actor, **data.model_dump()))


@router.get("/newsletters/{newsletter_id}", response_model=NewsletterOut, summary="One newsletter")
def get_newsletter(
    newsletter_id: RowId,
    _: Principal = Depends(managers),
    db: Session = request_session,
) -> NewsletterOut:
    return service.newsletter_out(service.get_newsletter(db, newsletter_id))


@router.patch(
    "/newsletters/{newsletter_id}",
    response_model=NewsletterOut,
    summary="Edit a draft (a new test send is needed)",
)
def update_newsletter(
    newsletter_id: RowId,
    data: NewsletterUpdate,
    actor: Principal = Depends(managers),
    db: Session = request_session,
) -> NewsletterOut:
    row = service.update_newsletter(db, actor, newsletter_id, data.model_dump(exclude_unset=True))
    return service.newsletter_out(row)


@router.get(
    "/newsletters/{newsletter_id}/recipients",
    response_model=RecipientsOut,
    summary="How many clients it would reach",
)
def newsletter_recipients(
    newsletter_id: RowId,
    actor: Principal = Depends(managers),
    db: Session = request_session,
) -> RecipientsOut:
    return service.recipients_summary(db, actor, newsletter_id)


@router.post(
    "/newsletters/{newsletter_id}/test",
    response_model=TestSendOut,
    summary="Send a test to one address",
)
def test_newsletter(
    newsletter_id: RowId,
    data: TestSendIn,
    actor: Principal = Depends(managers),
    db: Session = request_session,
) -> TestSendOut:
    return service.test_send(db, actor, newsletter_id, email=data.email)


@router.post(
    "/newsletters/{newsletter_id}/send", response_model=SendOut, summary="Send to every recipient"
)
def send_newsletter(
    newsletter_id: RowId,
    actor: Principal = Depends(managers),
    db: Session = request_session,
) -> SendOut:
    return service.send(db, actor, newsletter_id)


@router.get(
    "/newsletters/{newsletter_id}/stats",
    response_model=DeliveryStatsOut,
    summary="Delivery figures: sent, delivered, failed, unsubscribed",
)
def newsletter_stats(
    newsletter_id: RowId,
    _: Principal = Depends(managers),
    db: Session = request_session,
) -> DeliveryStatsOut:
    return DeliveryStatsOut(**stats.delivery_stats(db, newsletter_id))


# --- the public unsubscribe page --------------------------------------------------------

_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title></head>
<body style="font-family: sans-serif; max-width: 36rem; margin: 3rem auto;">{content}</body></html>"""


@router.get("/unsubscribe/{token}", response_class=HTMLResponse, summary="Unsubscribe page")
def unsubscribe_page(token: str) -> HTMLResponse:
    data = service.read_token(token)
    content = (
        f"<h1>Unsubscribe</h1><p>Stop newsletters to <b>{escape(data['e'])}</b>?</p>"
        f'<form method="post"><button type="submit">Unsubscribe</button></form>'
    )
    return HTMLResponse(_PAGE.format(title="Unsubscribe", content=content))


@router.post("/unsubscribe/{token}", response_class=HTMLResponse, summary="Unsubscribe (one click)")
def unsubscribe(token: str, db: Session = request_session) -> HTMLResponse:
    email = service.unsubscribe(db, token)
    content = f"<h1>Unsubscribed</h1><p>{escape(email)} will receive no more newsletters.</p>"
    return HTMLResponse(_PAGE.format(title="Unsubscribed", content=content))
