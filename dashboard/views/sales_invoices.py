"""Sales pages: ``/invoices`` (list), ``/invoices/new`` (lines editor), ``/invoices/{id}``
(issue, payments, refunds, credit note), ``/contracts``, ``/contracts/{id}``; and the client
card's sales section (``sales/_client_card.html`` calls :func:`client_sales`).

Every change goes through the JSON API (``data-api`` forms of app.js and sales_invoices.js)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_core.auth.principal import Principal
from crm_core.auth.rights import can_see_client
from crm_core.catalog import service as catalog
from crm_core.clients.models import Client
from crm_core.contracts import service as contracts
from crm_core.database import request_session, session_scope
from crm_core.errors import Invalid, NotFound
from crm_core.invoices import payments, service
from crm_core.invoices.listing import InvoiceFilter, list_invoices
from crm_core.invoices.models import INVOICE_STATUSES, PAYMENT_METHODS, Invoice, InvoiceLine
from crm_core.users import service as users
from dashboard.i18n import _, lazy
from dashboard.views.common import message_page, page_user, render, templates

router = APIRouter(include_in_schema=False)
PAGE = 50
MAX_ID = 2_147_483_647

STATUS_LABELS = {
    "draft": lazy("Draft"),
    "issued": lazy("Issued"),
    "partially_paid": lazy("Partially paid"),
    "paid": lazy("Paid"),
    "cancelled": lazy("Cancelled"),
}
CONTRACT_LABELS = {
    "draft": lazy("Draft"),
    "active": lazy("Active"),
    "expired": lazy("Expired"),
    "terminated": lazy("Terminated"),
}
METHOD_LABELS = {
    "cash": lazy("Cash"),
    "card": lazy("Card"),
    "bank_transfer": lazy("Bank transfer"),
    "online": lazy("Online"),
    "other": lazy("Other"),
}
#: strings sales_invoices.js shows, rendered into the page as JSON
JS_TEXT = {
    "remove": lazy("Remove"),
    "saved": lazy("Saved"),
    "error": lazy("Something went wrong"),
    "uploaded": lazy("Scan uploaded"),
}


def page_text() -> Markup:
    data = {key: _(text) for key, text in JS_TEXT.items()}
    return Markup(json.dumps(data, ensure_ascii=False).replace("</", "<\\/"))


def labels() -> dict[str, Any]:
    return {
        "status_labels": {k: _(v) for k, v in STATUS_LABELS.items()},
        "contract_labels": {k: _(v) for k, v in CONTRACT_LABELS.items()},
        "method_labels": {k: _(v) for k, v in METHOD_LABELS.items()},
        "page_text": page_text(),
    }


def _names(db: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(db.execute(select(Client.id, Client.display_name).where(Client.id.in_(ids))).all())


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and 0 < int(value) <= MAX_ID else None


# --- invoices -------------------------------------------------------------------------------


@router.get("/invoices")
def invoices_page(
    request: Request,
    user: Principal = Depends(page_user),
    db: Session = request_session,
):
    params = request.query_params
    values = {k: params.get(k, "").strip() for k in ("status", "series", "client", "from", "to")}
    flags = {k: params.get(k) == "true" for k in ("overdue", "debtors")}
    offset = min(_int(params.get("offset")) or 0, 100_000)
    f = InvoiceFilter(
        status=values["status"] if values["status"] in INVOICE_STATUSES else None,
        client_id=_int(values["client"]),
        series=values["series"][:12] or None,
        issued_from=_date(values["from"]),
        issued_to=_date(values["to"]),
        **flags,
    )
    error, rows, total, sums = "", [], 0, {}
    try:
        rows, total, sums = list_invoices(db, user, f, limit=PAGE, offset=offset)
    except (Invalid, NotFound) as exc:
        error = exc.message
    active = {k: v for k, v in values.items() if v} | {k: "true" for k, v in flags.items() if v}
    on = service.today()
    return render(
        request,
        "sales/invoices.html",
        {
            "rows": [(inv, name, service.is_overdue(inv, on)) for inv, name in rows],
            "total": total,
            "capped": total > service.COUNT_CAP,
            "sums": sums,
            "values": values,
            "flags": flags,
            "error": error,
            "offset": offset,
            "page_size": PAGE,
            "more_link": "/invoices?" + urlencode({**active, "offset": offset + PAGE}),
            "back_link": "/invoices?" + urlencode({**active, "offset": max(0, offset - PAGE)}),
            "statuses": INVOICE_STATUSES,
            **labels(),
        },
        user=user,
    )


@router.get("/invoices/new")
def new_invoice_page(
    request: Request,
    client: int | None = Query(None, ge=1, le=MAX_ID),
    order: int | None = Query(None, ge=1, le=MAX_ID),
    contract: int | None = Query(None, ge=1, le=MAX_ID),
    user: Principal = Depends(page_user),
    db: Session = request_session,
):
    target = db.get(Client, client) if client else None
    if target is None or not can_see_client(user, target):
        return message_page(
            request,
            user,
            lazy("New invoice"),
            lazy("Open a client's card and choose “New invoice” there."),
            status_code=404 if client else 200,
        )
    products, _n = catalog.list_products(db, active=True, limit=500)
    return render(
        request,
        "sales/invoice_form.html",
        {
            "client": target,
            "order_id": order,
            "contract_id": contract,
            "products": products,
            "vat_rates": catalog.list_vat_rates(db, active_only=True),
            **labels(),
        },
        user=user,
    )


@router.get("/invoices/{invoice_id}")
def invoice_page(
    invoice_id: int,
    request: Request,
    user: Principal = Depends(page_user),
    db: Session = request_session,
):
    try:
        if not 0 < invoice_id <= MAX_ID:
            raise NotFound("no such invoice")
        invoice = service.get_invoice(db, user, invoice_id)
    except NotFound:
        return message_page(
            request, user, lazy("Not found"), lazy("No such invoice."), status_code=404
        )
    note = db.scalar(select(Invoice).where(Invoice.credit_of_id == invoice.id))
    source = db.get(Invoice, invoice.credit_of_id) if invoice.credit_of_id else None
    return render(
        request,
        "sales/invoice.html",
        {
            "invoice": invoice,
            "client_name": _names(db, {invoice.client_id}).get(invoice.client_id, ""),
            "overdue": service.is_overdue(invoice),
            "payments": payments.payments_of(db, user, invoice.id),
            "credit_note": note,
            "credited_invoice": source,
            "methods": PAYMENT_METHODS,
            "today": service.today(),
            **labels(),
        },
        user=user,
    )


# --- contracts ------------------------------------------------------------------------------


@router.get("/contracts")
def contracts_page(
    request: Request,
    client: int | None = Query(None, ge=1, le=MAX_ID),
    status: str = Query("", max_length=20),
    expiring: bool = False,
    user: Principal = Depends(page_user),
    db: Session = request_session,
):
    error, rows, total = "", [], 0
    try:
        rows, total = contracts.list_contracts(
            db,
            user,
            client_id=client,
            status=status or None,
            expiring_within=60 if expiring else None,
            limit=200,
        )
    except (Invalid, NotFound) as exc:
        error = exc.message
    target = db.get(Client, client) if client else None
    return render(
        request,
        "sales/contracts.html",
        {
            "rows": rows,
            "total": total,
            "names": _names(db, {c.client_id for c in rows}),
            "client": target if target is not None and can_see_client(user, target) else None,
            "status": status,
            "expiring": expiring,
            "error": error,
            "colleagues": users.list_users(db, user),
            "today": service.today(),
            **labels(),
        },
        user=user,
    )


@router.get("/contracts/{contract_id}")
def contract_page(
    contract_id: int,
    request: Request,
    user: Principal = Depends(page_user),
    db: Session = request_session,
):
    try:
        if not 0 < contract_id <= MAX_ID:
            raise NotFound("no such contract")
        contract = contracts.get_contract(db, user, contract_id)
    except NotFound:
        return message_page(
            request, user, lazy("Not found"), lazy("No such contract."), status_code=404
        )
    invoices = list(
        db.scalars(select(Invoice).where(Invoice.contract_id == contract.id).order_by(Invoice.id))
    )
    return render(
        request,
        "sales/contract.html",
        {
            "contract": contract,
            "client_name": _names(db, {contract.client_id}).get(contract.client_id, ""),
            "invoices": invoices,
            "colleagues": users.list_users(db, user),
            "today": service.today(),
            **labels(),
        },
        user=user,
    )


# --- the client card's sales section --------------------------------------------------------


def client_sales(client_id: int, user: Principal) -> dict[str, Any]:
    """What the client card shows of the sales ledger (its own short session)."""
    from crm_core.orders import service as orders

    with session_scope() as db:
        invoice_rows = list(
            db.scalars(
                select(Invoice)
                .where(Invoice.client_id == client_id)
                .order_by(Invoice.created_at.desc(), Invoice.id.desc())
                .limit(20)
            )
        )
        order_rows, order_total = orders.list_orders(db, user, client_id=client_id, limit=10)
        contract_rows, _n = contracts.list_contracts(db, user, client_id=client_id, limit=10)
        on = service.today()
        return {
            "balances": service.client_balances(db, client_id),
            "invoices": [(i, service.is_overdue(i, on)) for i in invoice_rows],
            "invoice_count": db.scalar(
                select(func.count(Invoice.id)).where(Invoice.client_id == client_id)
            ),
            "orders": order_rows,
            "order_count": order_total,
            "contracts": contract_rows,
            "payments": payments.client_payments(db, client_id, limit=10),
            "purchases": purchase_history(db, client_id),
            **labels(),
        }


def purchase_history(db: Session, client_id: int, limit: int = 15) -> list[dict[str, Any]]:
    """What the client bought on issued invoices: per product (or description), quantity,
    amount and the last date, most recent first."""
    rows = db.execute(
        select(
            InvoiceLine.description,
            func.sum(InvoiceLine.quantity),
            func.sum(InvoiceLine.total),
            func.max(Invoice.issued_on),
            Invoice.currency,
        )
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(
            Invoice.client_id == client_id,
            Invoice.kind == "invoice",
            Invoice.status.in_(("issued", "partially_paid", "paid")),
        )
        .group_by(InvoiceLine.description, Invoice.currency)
        .order_by(func.max(Invoice.issued_on).desc())
        .limit(limit)
    ).all()
    return [
        {"description": d, "quantity": Decimal(q or 0), "total": Decimal(t or 0), "last": last,
         "currency": c}
        for d, q, t, last, c in rows
    ]  # fmt: skip


templates.globals["client_sales"] = client_sales
