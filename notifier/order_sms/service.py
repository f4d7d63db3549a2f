"""Order status SMS: on ``crm_core.orders.signals.order_status_changed`` the status's
``sms_template`` is rendered in the notifier's bounded sandbox and queued in the outbox in the
same transaction (so it exists only if the status change commits).

As for every SMS: nothing goes to an opted-out number (checked here, and again by the
dispatcher), and the dispatcher holds messages during the client's quiet hours. One order
entering one status sends at most once (idempotency key per status change).
"""

from __future__ import annotations

import logging

import jinja2
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.clients.models import Client, Phone
from crm_core.orders.models import Order, OrderStatus, OrderStatusChange
from crm_core.orders.public import public_url
from crm_core.orders.statuses import label_for
from crm_core.sandbox import render_bounded
from notifier.config import get_settings
from notifier.outbox import service as outbox
from notifier.templates import service as templates

log = logging.getLogger("callcard.notifier.order_sms")
PURPOSE = "order_status"
_env = templates._sms_env  # the notifier's bounded sandbox for SMS text


def best_phone(db: Session, client_id: int) -> str | None:
    """The client's first mobile number, else their first number."""
    rows = db.execute(
        select(Phone.e164, Phone.kind)
        .where(Phone.client_id == client_id)
        .order_by(Phone.position, Phone.id)
    ).all()
    for e164, kind in rows:
        if kind == "mobile" and e164:
            return e164
    return next((e164 for e164, _ in rows if e164), None)


def sms_context(order: Order, status: OrderStatus, client: Client) -> dict[str, str]:
    language = templates.client_language(client)
    company = getattr(get_settings(), "company_name", "") or "Callcard"
    return {
        "first_name": client.first_name or "",
        "display_name": client.display_name or client.org_name or "",
        "number": order.number,
        "status": label_for(status, language),
        "deadline": order.deadline.isoformat() if order.deadline else "",
        "total": f"{order.total:.2f}",
        "currency": order.currency,
        "link": public_url(order),
        "company": company,
    }


def _change_id(db: Session, order: Order) -> int | None:
    return db.scalar(
        select(OrderStatusChange.id)
        .where(OrderStatusChange.order_id == order.id)
        .order_by(OrderStatusChange.id.desc())
        .limit(1)
    )


def on_order_status_changed(
    db: Session, *, order: Order, status: OrderStatus, previous: str | None = None, actor=None
) -> None:
    """Queue the status's SMS for the order's client, if the status has one."""
    if not (status.sms_template or "").strip():
        return
    client = db.get(Client, order.client_id)
    if client is None or client.deleted_at is not None:
        return
    phone = best_phone(db, client.id)
    if phone is None or outbox.is_opted_out(db, phone, "sms"):
        return
    try:
        body = render_bounded(
            _env.from_string(status.sms_template), sms_context(order, status, client)
        )
    except (jinja2.TemplateError, ValueError, TypeError):
        # a broken text must not undo the status change; the admin page checks texts on save
        log.exception(
            "order %s: the SMS text of status %s cannot be rendered", order.id, status.code
        )
        return
    if not body.strip():
        return
    db.flush()
    outbox.enqueue(
        db,
        channel="sms",
        recipient=phone,
        body=body.strip(),
        idempotency_key=f"order:{order.id}:status:{_change_id(db, order)}",
        client_id=client.id,
        purpose=PURPOSE,
        template=f"order_status.{status.code}",
        meta={"order_id": order.id, "status": status.code},
    )
