"""Orders: numbered per year, lines from the catalog or free text, a status pipeline.

Rights: an order follows its client (operators see their team's clients' orders; any other
order is reported missing, 404, on reads and writes). Every write is audited and runs in the
caller's transaction: bad input raises ``Invalid`` before anything is flushed.
Totals follow :mod:`crm_core.catalog.money` (each line rounded, totals = sum of lines).
"""

from __future__ import annotations

import secrets
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_core.audit.service import record, snapshot
from crm_core.auth.models import User
from crm_core.auth.principal import Principal
from crm_core.auth.rights import get_visible_client, visible_client_ids
from crm_core.catalog import service as catalog
from crm_core.catalog.models import Product
from crm_core.catalog.money import cents, line_amounts, sum_lines
from crm_core.config import get_settings
from crm_core.database import utcnow
from crm_core.errors import Invalid, NotFound
from crm_core.orders import statuses
from crm_core.orders.models import ENTITY, Order, OrderCounter, OrderLine, OrderStatusChange
from crm_core.orders.signals import order_status_changed

MAX_LINES = 200
QTY = Decimal("0.001")


def local_today(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(ZoneInfo(get_settings().timezone)).date()


def visible_orders(actor: Principal) -> ColumnElement[bool]:
    if actor.role == "system" or actor.sees_all_clients:
        return true()
    return Order.client_id.in_(visible_client_ids(actor))


def get_order(db: Session, actor: Principal, order_id: int) -> Order:
    order = db.scalar(select(Order).where(Order.id == order_id, visible_orders(actor)))
    if order is None:
        raise NotFound(f"order {order_id} not found")
    return order


def order_by_token(db: Session, token: str) -> Order:
    if not token or len(token) > 32:
        raise NotFound("order not found")
    order = db.scalar(select(Order).where(Order.public_token == token))
    if order is None:
        raise NotFound("order not found")
    return order


def terminal_codes(db: Session) -> list[str]:
    return [s.code for s in statuses.list_statuses(db) if s.is_terminal]


def is_overdue(order: Order, terminal: list[str], today: date) -> bool:
    return order.deadline is not None and order.deadline < today and order.status not in terminal


# --- numbering --------------------------------------------------------------------------


def next_number(db: Session, year: int) -> str:
    """``YYYY-NNNNNN``: one counter row per year, bumped with an atomic UPDATE."""
    for _ in range(3):
        last = db.scalar(
            update(OrderCounter)
            .where(OrderCounter.year == year)
            .values(last=OrderCounter.last + 1)
            .returning(OrderCounter.last)
        )
        if last is not None:
            return f"{year}-{last:06d}"
        try:
            with db.begin_nested():
                db.add(OrderCounter(year=year, last=0))
        except IntegrityError:
            continue  # a concurrent first order of the year made the row
    raise RuntimeError("could not allocate an order number")


# --- lines ------------------------------------------------------------------------------


def _decimal(value: Any, loc: list) -> Decimal:
    try:
        result = Decimal(str(value))
    except Exception:  # noqa: BLE001
        raise Invalid(loc, "must be a number") from None
    if not result.is_finite():
        raise Invalid(loc, "must be a finite number")
    return result


def build_line(db: Session, client_id: int, index: int, data: dict[str, Any]) -> OrderLine:
    """One line from input: a product's quote fills what the line leaves out."""
    loc = ["lines", index]
    product = None
    quote = None
    if data.get("product_id") is not None:
        product = db.get(Product, data["product_id"])
        if product is None:
            raise Invalid([*loc, "product_id"], f"no product {data['product_id']}")
        quote = catalog.quote_price(db, client_id, product.id)
    description = (data.get("description") or "").strip() or (product.name if product else "")
    if not description:
        raise Invalid([*loc, "description"], "a free-text line needs a description")
    quantity = _decimal(data.get("quantity", 1), [*loc, "quantity"])
    if quantity <= 0:
        raise Invalid([*loc, "quantity"], "must be greater than 0")
    if quantity != quantity.quantize(QTY) or quantity >= Decimal("100000000000"):
        raise Invalid([*loc, "quantity"], "at most 3 decimals and 11 digits")
    values = {}
    for name, default in (
        ("unit_price", quote.unit_price if quote else None),
        ("discount_percent", quote.discount_percent if quote else Decimal("0")),
        ("vat_rate", quote.vat_rate if quote else None),
    ):
        raw = data.get(name)
        if raw is None and default is None:
            raise Invalid([*loc, name], "required for a free-text line")
        values[name] = _decimal(default if raw is None else raw, [*loc, name])
    if values["unit_price"] < 0 or values["unit_price"] >= Decimal("1000000000000"):
        raise Invalid([*loc, "unit_price"], "must be between 0 and 999999999999.99")
    if values["unit_price"] != cents(values["unit_price"]):
        raise Invalid([*loc, "unit_price"], "at most 2 decimals")
    if not 0 <= values["discount_percent"] <= 100:
        raise Invalid([*loc, "discount_percent"], "must be between 0 and 100")
    values["discount_percent"] = cents(values["discount_percent"])
    values["vat_rate"] = catalog.check_vat_rate(db, values["vat_rate"], [*loc, "vat_rate"])
    amounts = line_amounts(quantity, **values)
    if amounts.gross >= Decimal("1000000000000"):
        raise Invalid([*loc, "quantity"], "the line amount is too large")
    unit = (data.get("unit") or "").strip() or (product.unit if product else "pcs")
    return OrderLine(
        position=index,
        product_id=product.id if product else None,
        description=description[:500],
        quantity=quantity,
        unit=unit[:20],
        net=amounts.net,
        vat=amounts.vat,
        **values,
    )


def _set_lines(db: Session, order: Order, lines_in: list[dict[str, Any]]) -> None:
    if len(lines_in) > MAX_LINES:
        raise Invalid("lines", f"at most {MAX_LINES} lines")
    lines = [build_line(db, order.client_id, i, line) for i, line in enumerate(lines_in)]
    order.lines = lines
    totals = sum_lines(line_amounts(ln.quantity, ln.unit_price, ln.discount_percent, ln.vat_rate)
                       for ln in lines)  # fmt: skip
    if totals.gross >= Decimal("1000000000000"):
        raise Invalid("lines", "the order total is too large")
    order.net_total, order.vat_total, order.total = totals


def _check_assignee(db: Session, user_id: int | None) -> None:
    if user_id is None:
        return
    user = db.get(User, user_id)
    if user is None or not user.is_active:
        raise Invalid("assignee_id", f"no active user {user_id}")


def _client(db: Session, actor: Principal, client_id: int):
    try:
        return get_visible_client(db, actor, client_id)
    except NotFound:
        raise Invalid("client_id", f"no client {client_id}") from None


def _check_deadline(value: date | None) -> None:
    if value is not None and not 2000 <= value.year <= 2999:
        raise Invalid("deadline", "year must be between 2000 and 2999")


def order_snapshot(order: Order) -> dict[str, Any]:
    data = snapshot(order)
    data.pop("public_token", None)
    data["lines"] = [
        f"{ln.description} x{ln.quantity} @{ln.unit_price} -{ln.discount_percent}% "
        f"VAT {ln.vat_rate}%" for ln in order.lines
    ]  # fmt: skip
    return data


# --- writes -----------------------------------------------------------------------------


def create_order(db: Session, actor: Principal, data: dict[str, Any]) -> Order:
    client = _client(db, actor, data["client_id"])
    _check_assignee(db, data.get("assignee_id"))
    _check_deadline(data.get("deadline"))
    status = (
        statuses.status_by_code(db, data["status"])
        if data.get("status")
        else statuses.first_status(db)
    )
    currency = (data.get("currency") or "").upper()
    if not currency:
        price_list = catalog.client_price_list(db, client.category)
        currency = price_list.currency if price_list else "RON"
    now = utcnow()
    order = Order(
        client_id=client.id,
        assignee_id=data.get("assignee_id"),
        creator_id=actor.id,
        status=status.code,
        deadline=data.get("deadline"),
        currency=currency,
        note=data.get("note") or "",
        public_token=secrets.token_urlsafe(16),
        created_at=now,
        updated_at=now,
        status_changed_at=now,
    )
    _set_lines(db, order, data.get("lines") or [])
    order.number = next_number(db, local_today(now).year)
    db.add(order)
    db.flush()
    db.add(OrderStatusChange(order_id=order.id, from_status=None, to_status=status.code,
                             actor_id=actor.id, changed_at=now))  # fmt: skip
    record(db, actor, "create", ENTITY, order.id, None, order_snapshot(order))
    order_status_changed.send(db, order=order, status=status, previous=None, actor=actor)
    return order


EDITABLE = ("assignee_id", "deadline", "currency", "note", "lines")


def update_order(db: Session, actor: Principal, order_id: int, changes: dict) -> Order:
    order = get_order(db, actor, order_id)
    before = order_snapshot(order)
    for key, value in changes.items():
        if key not in EDITABLE:
            raise Invalid(key, "cannot be changed here")
        if key == "lines":
            if order.status in terminal_codes(db):
                raise Invalid("lines", "a closed order's lines cannot be changed")
            _set_lines(db, order, value or [])
            continue
        if key == "assignee_id":
            _check_assignee(db, value)
        if key == "deadline":
            _check_deadline(value)
        if key in ("currency", "note"):
            if value is None:
                raise Invalid(key, "must not be empty")
            value = value.upper() if key == "currency" else value
        setattr(order, key, value)
    order.updated_at = utcnow()
    db.flush()
    record(db, actor, "update", ENTITY, order.id, before, order_snapshot(order))
    return order


def change_status(db: Session, actor: Principal, order_id: int, code: str, note: str = "") -> Order:
    """Move an order to another status; the history and the signal (SMS) follow."""
    order = get_order(db, actor, order_id)
    status = statuses.status_by_code(db, code)
    if status.code == order.status:
        raise Invalid("status", f"the order is already {code!r}")
    previous = order.status
    now = utcnow()
    order.status = status.code
    order.status_changed_at = now
    order.updated_at = now
    db.add(OrderStatusChange(order_id=order.id, from_status=previous, to_status=status.code,
                             actor_id=actor.id, note=(note or "")[:500], changed_at=now))  # fmt: skip
    db.flush()
    record(db, actor, "update", ENTITY, order.id, {"status": previous}, {"status": status.code})
    order_status_changed.send(db, order=order, status=status, previous=previous, actor=actor)
    return order


# --- reads ------------------------------------------------------------------------------


def list_orders(
    db: Session,
    actor: Principal,
    *,
    status: list[str] | None = None,
    assignee_id: int | None = None,
    client_id: int | None = None,
    overdue: bool = False,
    q: str = "",
    limit: int = 100,
    offset: int = 0,
    now: datetime | None = None,
) -> tuple[list[Order], int]:
    """Orders the actor may see, nearest deadline first (no deadline last), newest then."""
    query = select(Order).where(visible_orders(actor))
    if status:
        known = {s.code for s in statuses.list_statuses(db)}
        for code in status:
            if code not in known:
                raise Invalid("status", f"unknown status {code!r}")
        query = query.where(Order.status.in_(status))
    if assignee_id is not None:
        query = query.where(Order.assignee_id == assignee_id)
    if client_id is not None:
        get_visible_client(db, actor, client_id)
        query = query.where(Order.client_id == client_id)
    if overdue:
        query = query.where(_overdue_clause(db, now))
    if q.strip():
        query = query.where(Order.number.like(f"%{q.strip()}%"))
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.scalars(
        query.order_by(Order.deadline.is_(None), Order.deadline, Order.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(rows), total


def _overdue_clause(db: Session, now: datetime | None) -> ColumnElement[bool]:
    terminal = terminal_codes(db)
    clause = Order.deadline.is_not(None) & (Order.deadline < local_today(now))
    return clause & Order.status.not_in(terminal) if terminal else clause


def overdue_orders(
    db: Session,
    actor: Principal | None = None,
    *,
    assignee_id: int | None = None,
    now: datetime | None = None,
    limit: int = 100,
) -> list[Order]:
    """Orders whose deadline (a local date) has passed and whose status is not terminal,
    oldest deadline first. ``actor=None`` means every order (the wall, jobs)."""
    query = select(Order).where(_overdue_clause(db, now))
    if actor is not None:
        query = query.where(visible_orders(actor))
    if assignee_id is not None:
        query = query.where(Order.assignee_id == assignee_id)
    return list(db.scalars(query.order_by(Order.deadline, Order.id).limit(limit)))


def status_history(db: Session, order_id: int) -> list[OrderStatusChange]:
    return list(
        db.scalars(
            select(OrderStatusChange)
            .where(OrderStatusChange.order_id == order_id)
            .order_by(OrderStatusChange.changed_at, OrderStatusChange.id)
        )
    )
