"""Orders: list with filters, create, change, move through statuses; the statuses admin list;
the public status of one order by its unguessable token (no login)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Header, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.apitypes import ERROR_RESPONSES, QueryId, RowId
from crm_core.auth.deps import admins, staff
from crm_core.auth.principal import Principal
from crm_core.clients.models import Client
from crm_core.database import request_session
from crm_core.orders import public, service, statuses
from crm_core.orders.models import Order
from crm_core.orders.schemas import (
    LineOut,
    OrderCreate,
    OrderOut,
    OrderPage,
    OrderStatusIn,
    OrderStatusOut,
    OrderStatusUpdate,
    OrderUpdate,
    PublicOrder,
    StatusChangeOut,
    StatusMove,
)

router = APIRouter(tags=["orders"], responses=ERROR_RESPONSES)
public_router = APIRouter(prefix="/public/orders", tags=["orders (public)"])


def present(db: Session, rows: list[Order], *, full: bool = False) -> list[OrderOut]:
    terminal = service.terminal_codes(db)
    today = service.local_today()
    ids = {o.client_id for o in rows}
    names = dict(db.execute(select(Client.id, Client.display_name).where(Client.id.in_(ids))).all())
    return [
        OrderOut(
            id=o.id,
            number=o.number,
            client_id=o.client_id,
            client_name=names.get(o.client_id, ""),
            assignee_id=o.assignee_id,
            creator_id=o.creator_id,
            status=o.status,
            deadline=o.deadline,
            overdue=service.is_overdue(o, terminal, today),
            currency=o.currency,
            note=o.note,
            net_total=o.net_total,
            vat_total=o.vat_total,
            total=o.total,
            public_url=public.public_url(o),
            created_at=o.created_at,
            updated_at=o.updated_at,
            status_changed_at=o.status_changed_at,
            lines=[LineOut.model_validate(ln) for ln in o.lines] if full else [],
            history=[StatusChangeOut.model_validate(h) for h in service.status_history(db, o.id)]
            if full
            else [],
        )
        for o in rows
    ]


@router.get("/orders", response_model=OrderPage, summary="Orders the caller may see")
def list_orders(
    status: list[str] | None = Query(None, description="status codes"),
    assignee_id: QueryId = None,
    client_id: QueryId = None,
    overdue: bool = Query(False, description="deadline passed, status not terminal"),
    q: str = Query("", max_length=40, description="part of the number"),
    limit: int = Query(100, ge=1, le=500),
    offset: int = Query(0, ge=0, le=10_000_000),
    actor: Principal = Depends(staff),
    db: Session = request_session,
):
    rows, total = service.list_orders(
        db,
        actor,
        status=list(status) if status else None,
        assignee_id=assignee_id,
        client_id=client_id,
        overdue=overdue,
        q=q,
        limit=limit,
        offset=offset,
    )
    return OrderPage(items=present(db, rows), total=total)


@router.post("/orders", response_model=OrderOut, status_code=201, summary="Create an order")
def create_order(body: OrderCreate, actor: Principal = Depends(staff), db=request_session):
    data = body.model_dump()
    data["lines"] = [line.model_dump() for line in body.lines]
    return present(db, [service.create_order(db, actor, data)], full=True)[0]


@router.get("/orders/{order_id}", response_model=OrderOut, summary="One order with its lines")
def get_order(order_id: RowId, actor: Principal = Depends(staff), db=request_session):
    return present(db, [service.get_order(db, actor, order_id)], full=True)[0]


@router.patch("/orders/{order_id}", response_model=OrderOut, summary="Change an order")
def update_order(
    order_id: RowId,
    body: OrderUpdate,
    actor: Principal = Depends(staff),
    db: Session = request_session,
):
    order = service.update_order(db, actor, order_id, body.model_dump(exclude_unset=True))
    return present(db, [order], full=True)[0]


@router.post("/orders/{order_id}/status", response_model=OrderOut, summary="Move to another status")
def change_status(
    order_id: RowId,
    body: StatusMove,
    actor: Principal = Depends(staff),
    db: Session = request_session,
):
    order = service.change_status(db, actor, order_id, body.status, body.note)
    return present(db, [order], full=True)[0]


@router.get("/order-statuses", response_model=list[OrderStatusOut], summary="Order statuses")
def list_statuses(actor: Principal = Depends(staff), db: Session = request_session):
    return statuses.list_statuses(db)


@router.post(
    "/order-statuses", response_model=OrderStatusOut, status_code=201, summary="Add a status"
)
def create_status(body: OrderStatusIn, actor: Principal = Depends(admins), db=request_session):
    return statuses.create_status(db, actor, body.model_dump())


@router.patch(
    "/order-statuses/{status_id}", response_model=OrderStatusOut, summary="Change a status"
)
def update_status(
    status_id: RowId,
    body: OrderStatusUpdate,
    actor: Principal = Depends(admins),
    db: Session = request_session,
):
    return statuses.update_status(db, actor, status_id, body.model_dump(exclude_unset=True))


@public_router.get(
    "/{token}",
    response_model=PublicOrder,
    responses={404: {"description": "No such order"}},
    summary="An order's status by its public token (no login)",
)
def public_order(
    token: str,
    lang: str | None = Query(None, max_length=10),
    accept_language: str | None = Header(None),
    db: Session = request_session,
):
    order = service.order_by_token(db, token)
    return public.public_order(db, order, public.pick_language(lang, accept_language))
