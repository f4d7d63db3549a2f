"""The orders pipeline: admin-configured statuses, their labels (en/ro/ru) and SMS texts.

An ``sms_template`` is Jinja2 text rendered in the notifier's sandbox when an order enters the
status (empty: no SMS). It is checked here on save against :data:`SMS_SAMPLE`, in a plain
sandbox (crm_core does not import the notifier), so an unknown field is a 422, not a blank SMS.
"""

from __future__ import annotations

import re
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_core.audit.service import record, snapshot
from crm_core.auth.principal import Principal
from crm_core.errors import Forbidden, Invalid, NotFound
from crm_core.orders.models import Order, OrderStatus

CODE_RE = re.compile(r"^[a-z][a-z0-9_]{0,29}$")
#: the fields an order SMS may use, with sample values
SMS_SAMPLE: dict[str, str] = {
    "first_name": "Ana",
    "display_name": "Ana Popescu",
    "number": "2026-000123",
    "status": "Ready",
    "deadline": "2026-05-01",
    "total": "1210.00",
    "currency": "RON",
    "link": "https://example.invalid/o/abc",
    "company": "Callcard",
}
#: code, en, ro, ru, terminal, cancelled, SMS text
DEFAULT_STATUSES = (
    ("new", "New", "Nouă", "Новый", False, False, ""),
    ("confirmed", "Confirmed", "Confirmată", "Подтверждён", False, False,
     "{{ first_name }}, your order {{ number }} is confirmed. Status: {{ link }}"),
    ("in_work", "In work", "În lucru", "В работе", False, False, ""),
    ("ready", "Ready", "Gata", "Готов", False, False,
     "{{ first_name }}, your order {{ number }} is ready. Total {{ total }} {{ currency }}. "
     "{{ company }}"),
    ("delivered", "Delivered", "Livrată", "Доставлен", True, False, ""),
    ("cancelled", "Cancelled", "Anulată", "Отменён", True, True,
     "{{ first_name }}, your order {{ number }} was cancelled. {{ company }}"),
)  # fmt: skip
_env = SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False)


def ensure_statuses(db: Session) -> None:
    """Seed the default pipeline the first time it is read while empty."""
    if db.scalar(select(func.count(OrderStatus.id))):
        return
    for position, (code, en, ro, ru, terminal, cancelled, sms) in enumerate(DEFAULT_STATUSES):
        db.add(
            OrderStatus(
                code=code,
                label=en,
                label_ro=ro,
                label_ru=ru,
                position=position,
                is_terminal=terminal,
                is_cancelled=cancelled,
                sms_template=sms,
            )
        )
    db.flush()


def list_statuses(db: Session, active_only: bool = False) -> list[OrderStatus]:
    ensure_statuses(db)
    query = select(OrderStatus).order_by(OrderStatus.position, OrderStatus.id)
    if active_only:
        query = query.where(OrderStatus.is_active.is_(True))
    return list(db.scalars(query))


def status_by_code(db: Session, code: str, loc: str = "status") -> OrderStatus:
    ensure_statuses(db)
    row = db.scalar(select(OrderStatus).where(OrderStatus.code == code))
    if row is None or not row.is_active:
        raise Invalid(loc, f"unknown status {code!r}")
    return row


def first_status(db: Session) -> OrderStatus:
    rows = list_statuses(db, active_only=True)
    for row in rows:
        if not row.is_terminal:
            return row
    if not rows:
        raise Invalid("status", "no active order status is configured")
    return rows[0]


def label_for(status: OrderStatus, language: str) -> str:
    if language == "ro" and status.label_ro:
        return status.label_ro
    if language == "ru" and status.label_ru:
        return status.label_ru
    return status.label


def check_sms_template(source: str) -> str:
    source = source or ""
    if not source.strip():
        return ""
    try:
        _env.from_string(source).render(**SMS_SAMPLE)
    except jinja2.TemplateSyntaxError as exc:
        raise Invalid("sms_template", f"template syntax error on line {exc.lineno}") from None
    except jinja2.UndefinedError as exc:
        raise Invalid("sms_template", f"unknown field in template: {exc.message}") from None
    except Exception as exc:  # noqa: BLE001 - any other failure is the admin's input
        raise Invalid("sms_template", f"template cannot be rendered: {exc}") from None
    return source


def _admin(actor: Principal) -> None:
    if not actor.is_admin:
        raise Forbidden("Only administrators may change order statuses")


EDITABLE = ("label", "label_ro", "label_ru", "position", "is_terminal", "is_cancelled",
            "is_active", "sms_template")  # fmt: skip


def _apply(db: Session, row: OrderStatus, changes: dict[str, Any]) -> None:
    for key, value in changes.items():
        if key not in EDITABLE:
            raise Invalid(key, "cannot be changed")
        if value is None:
            raise Invalid(key, "must not be empty")
        if key == "sms_template":
            value = check_sms_template(value)
        setattr(row, key, value)
    if not (row.label or "").strip():
        raise Invalid("label", "must not be empty")
    if row.is_cancelled:
        row.is_terminal = True


def create_status(db: Session, actor: Principal, data: dict[str, Any]) -> OrderStatus:
    _admin(actor)
    ensure_statuses(db)
    code = data.get("code") or ""
    if not CODE_RE.match(code):
        raise Invalid("code", "lowercase letters, digits and _ (start with a letter)")
    if db.scalar(select(OrderStatus.id).where(OrderStatus.code == code)):
        raise Invalid("code", f"the status {code!r} exists already")
    row = OrderStatus(code=code, label="", position=len(list_statuses(db)))
    _apply(db, row, {k: v for k, v in data.items() if k != "code" and v is not None})
    db.add(row)
    db.flush()
    record(db, actor, "create", "order_status", row.id, None, snapshot(row))
    return row


def update_status(db: Session, actor: Principal, status_id: int, changes: dict) -> OrderStatus:
    _admin(actor)
    row = db.get(OrderStatus, status_id)
    if row is None:
        raise NotFound(f"order status {status_id} not found")
    before = snapshot(row)
    _apply(db, row, changes)
    if not row.is_active and db.scalar(select(Order.id).where(Order.status == row.code).limit(1)):
        raise Invalid("is_active", "orders are in this status; move them first")
    db.flush()
    record(db, actor, "update", "order_status", row.id, before, snapshot(row))
    return row
