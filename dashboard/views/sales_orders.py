"""Sales pages: ``/catalog``, ``/price-lists``, ``/orders`` (board), ``/orders/new``,
``/orders/{id}``, ``/admin/order-statuses``, and the public ``/o/<token>`` (no login).

Every change goes through the JSON API (``data-api`` forms and ``sales_orders.js``)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Header, Query, Request
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.auth.principal import Principal
from crm_core.catalog import pricelists
from crm_core.catalog import service as catalog
from crm_core.clients.models import Client
from crm_core.database import request_session, session_scope
from crm_core.errors import Invalid, NotFound
from crm_core.history import choices
from crm_core.orders import public, service, statuses
from crm_core.users import service as users
from dashboard.i18n import _, lazy
from dashboard.views.common import forbidden_page, message_page, page_user, render, templates

router = APIRouter(include_in_schema=False)

#: strings sales_orders.js shows, rendered into the page as JSON
JS_TEXT = {"copied": lazy("Link copied"), "no_clients": lazy("No clients found")}


def page_text() -> Markup:
    data = {key: _(text) for key, text in JS_TEXT.items()}
    return Markup(json.dumps(data, ensure_ascii=False).replace("</", "<\\/"))


def status_labels(db: Session, language: str) -> dict[str, str]:
    return {s.code: statuses.label_for(s, language) for s in statuses.list_statuses(db)}


def _names(db: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(db.execute(select(Client.id, Client.display_name).where(Client.id.in_(ids))).all())


# --- catalog and prices -------------------------------------------------------------------


@router.get("/catalog")
def catalog_page(
    request: Request,
    q: str = Query("", max_length=200),
    category: int | None = Query(None, ge=1, le=2_147_483_647),
    edit: int | None = Query(None, ge=1, le=2_147_483_647),
    user: Principal = Depends(page_user),
    db: Session = request_session,
):
    rows, total = catalog.list_products(db, q=q, category_id=category, limit=500)
    editing = None
    if edit is not None:
        try:
            editing = catalog.get_product(db, edit)
        except NotFound:
            editing = None
    return render(
        request,
        "sales/catalog.html",
        {
            "rows": rows,
            "total": total,
            "q": q,
            "category_filter": category,
            "categories": catalog.list_categories(db),
            "vat_rates": catalog.list_vat_rates(db),
            "editing": editing,
            "can_edit": user.role in ("admin", "manager"),
        },
        user=user,
    )


@router.get("/price-lists")
def price_lists_page(
    request: Request,
    list_id: int | None = Query(None, alias="list", ge=1, le=2_147_483_647),
    user: Principal = Depends(page_user),
    db: Session = request_session,
):
    lists = pricelists.list_price_lists(db)
    current = next((p for p in lists if p.id == list_id), lists[0] if lists else None)
    prices = (
        {i.product_id: i.price for i, _p in pricelists.price_list_items(db, current.id)}
        if current
        else {}
    )
    products, _total = catalog.list_products(db, active=True, limit=1000)
    codes = pricelists.client_categories(db)
    return render(
        request,
        "sales/price_lists.html",
        {
            "lists": lists,
            "current": current,
            "prices": prices,
            "products": products,
            "categories": codes,
            "category_labels": choices.label_map(db, "client_category", user.language),
            "discounts": pricelists.list_category_discounts(db),
            "can_edit": user.role in ("admin", "manager"),
        },
        user=user,
    )


# --- orders -------------------------------------------------------------------------------


@router.get("/orders")
def orders_page(
    request: Request,
    assignee: int | None = Query(None, ge=1, le=2_147_483_647),
    overdue: bool = False,
    q: str = Query("", max_length=40),
    user: Principal = Depends(page_user),
    db: Session = request_session,
):
    rows, total = service.list_orders(
        db, user, assignee_id=assignee, overdue=overdue, q=q, limit=500
    )
    columns = statuses.list_statuses(db, active_only=True)
    terminal = service.terminal_codes(db)
    today = service.local_today()
    colleagues = users.list_users(db, user)
    return render(
        request,
        "sales/orders.html",
        {
            "rows": rows,
            "total": total,
            "columns": columns,
            "by_status": {c.code: [o for o in rows if o.status == c.code] for c in columns},
            "labels": status_labels(db, user.language),
            "overdue_ids": {o.id for o in rows if service.is_overdue(o, terminal, today)},
            "client_names": _names(db, {o.client_id for o in rows}),
            "names": {u.id: u.full_name or u.username for u in colleagues},
            "colleagues": colleagues,
            "assignee": assignee,
            "overdue": overdue,
            "q": q,
        },
        user=user,
    )


def _order_page(request: Request, user: Principal, db: Session, order, client) -> Any:
    colleagues = users.list_users(db, user)
    history = service.status_history(db, order.id) if order else []
    return render(
        request,
        "sales/order.html",
        {
            "order": order,
            "client": client,
            "lines": list(order.lines) if order else [],
            "history": history,
            "statuses": statuses.list_statuses(db, active_only=True),
            "labels": status_labels(db, user.language),
            "vat_rates": catalog.list_vat_rates(db, active_only=True),
            "products": catalog.list_products(db, active=True, limit=1000)[0],
            "colleagues": colleagues,
            "names": {u.id: u.full_name or u.username for u in colleagues},
            "public_url": public.public_url(order) if order else "",
            "page_text": page_text(),
            "closed": bool(order and order.status in service.terminal_codes(db)),
        },
        user=user,
    )


@router.get("/orders/new")
def new_order_page(
    request: Request,
    client: int | None = Query(None, ge=1, le=2_147_483_647),
    user: Principal = Depends(page_user),
    db: Session = request_session,
):
    chosen = None
    if client is not None:
        try:
            from crm_core.auth.rights import get_visible_client

            chosen = get_visible_client(db, user, client)
        except NotFound:
            chosen = None
    return _order_page(request, user, db, None, chosen)


@router.get("/orders/{order_id}")
def order_page(
    request: Request,
    order_id: int,
    user: Principal = Depends(page_user),
    db: Session = request_session,
):
    try:
        order = service.get_order(db, user, order_id) if 0 < order_id < 2**31 else None
    except NotFound:
        order = None
    if order is None:
        return message_page(
            request, user, lazy("Not found"), lazy("No such order."), status_code=404
        )
    return _order_page(request, user, db, order, db.get(Client, order.client_id))


@router.get("/admin/order-statuses")
def order_statuses_page(
    request: Request, user: Principal = Depends(page_user), db: Session = request_session
):
    if not user.is_admin:
        return forbidden_page(request, user)
    return render(
        request,
        "sales/order_statuses.html",
        {
            "rows": statuses.list_statuses(db),
            "vat_rates": catalog.list_vat_rates(db),
            "fields": list(statuses.SMS_SAMPLE),
        },
        user=user,
    )


# --- public status page -------------------------------------------------------------------


@router.get("/o/{token}")
def public_order_page(
    request: Request,
    token: str,
    lang: str | None = Query(None, max_length=10),
    accept_language: str | None = Header(None),
    db: Session = request_session,
):
    language = public.pick_language(lang, accept_language)
    try:
        order = service.order_by_token(db, token)
    except (NotFound, Invalid):
        return render(
            request,
            "sales/order_public.html",
            {"order": None, "title": _("Order not found")},
            lang=language,
            status_code=404,
        )
    shown = public.public_order(db, order, language)
    return render(
        request,
        "sales/order_public.html",
        {"order": shown, "token": token, "title": _("Order %(number)s", number=shown.number)},
        lang=language,
    )


# --- the signed-in user's overdue orders on the tasks page --------------------------------


def my_overdue_orders(user: Principal | None) -> list[dict[str, Any]]:
    """For ``tasks.html``: the user's overdue orders (number, client, deadline)."""
    if user is None or user.id is None:
        return []
    with session_scope() as db:
        rows = service.overdue_orders(db, user, assignee_id=user.id, limit=20)
        names = _names(db, {o.client_id for o in rows})
        return [
            {"id": o.id, "number": o.number, "client": names.get(o.client_id, ""),
             "deadline": o.deadline}
            for o in rows
        ]  # fmt: skip


templates.globals["my_overdue_orders"] = my_overdue_orders
