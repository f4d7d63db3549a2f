"""Pages over the notifier's JSON endpoints: the outbox (admins) and the simulated handset."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from crm_core.auth.principal import Principal
from dashboard.views.common import forbidden_page, page_user, render

router = APIRouter(include_in_schema=False)

OUTBOX_STATUSES = ("pending", "sending", "sent", "delivered", "failed", "unknown", "cancelled")


@router.get("/outbox")
def outbox_page(request: Request, user: Principal = Depends(page_user)):
    if user.role != "admin":
        return forbidden_page(request, user)
    return render(request, "outbox.html", {"statuses": OUTBOX_STATUSES}, user=user)


@router.get("/handset")
def handset_page(request: Request, number: str = "", user: Principal = Depends(page_user)):
    """Demo: the SMS a client's phone received through the console channel; reply as them."""
    return render(request, "handset.html", {"number": number[:64]}, user=user)
