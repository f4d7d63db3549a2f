"""What an order shows without a login (``/o/<token>`` and its JSON): number, status, deadline,
the lines' names and quantities, the total, and the client's first name only."""

from __future__ import annotations

from sqlalchemy.orm import Session

from crm_core.clients.models import Client
from crm_core.config import get_settings
from crm_core.orders import statuses
from crm_core.orders.models import Order
from crm_core.orders.schemas import PublicLine, PublicOrder

LANGUAGES = ("en", "ro", "ru")


def public_url(order: Order) -> str:
    return f"{get_settings().public_url.rstrip('/')}/o/{order.public_token}"


def pick_language(lang: str | None, accept_language: str | None) -> str:
    """``?lang=`` if it is one we speak, else the first of Accept-Language we speak, else en."""
    if lang and lang.lower()[:2] in LANGUAGES:
        return lang.lower()[:2]
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return "en"


def public_order(db: Session, order: Order, language: str) -> PublicOrder:
    status = next((s for s in statuses.list_statuses(db) if s.code == order.status), None)
    client = db.get(Client, order.client_id)
    return PublicOrder(
        number=order.number,
        status=order.status,
        status_label=statuses.label_for(status, language) if status else order.status,
        deadline=order.deadline,
        first_name=(client.first_name if client is not None else "") or "",
        total=order.total,
        currency=order.currency,
        updated_at=order.updated_at,
        lines=[
            PublicLine(description=ln.description, quantity=ln.quantity, unit=ln.unit)
            for ln in order.lines
        ],
    )
