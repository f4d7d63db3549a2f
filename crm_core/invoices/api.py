"""Invoices, credit notes, payments and refunds; the signed payment webhook."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_core.apitypes import ERROR_RESPONSES, QueryId, RowId
from crm_core.auth.deps import staff
from crm_core.auth.principal import Principal
from crm_core.auth.rights import get_visible_client
from crm_core.database import request_session
from crm_core.errors import Invalid
from crm_core.invoices import payments, service, webhook
from crm_core.invoices.listing import InvoiceFilter, list_invoices
from crm_core.invoices.models import Invoice, Payment
from crm_core.invoices.schemas import (
    BalanceOut,
    CreditNoteIn,
    InvoiceCreate,
    InvoiceOut,
    InvoicePage,
    InvoiceSummary,
    InvoiceUpdate,
    PaymentIn,
    PaymentOut,
    RefundIn,
    Status,
    WebhookPayment,
)

router = APIRouter(tags=["invoices"], responses=ERROR_RESPONSES)


def render(db: Session, invoice: Invoice) -> InvoiceOut:
    from crm_core.clients.models import Client

    note_id = db.scalar(select(Invoice.id).where(Invoice.credit_of_id == invoice.id))
    rows = db.scalars(
        select(Payment).where(Payment.invoice_id == invoice.id).order_by(Payment.paid_at)
    )
    return InvoiceOut.model_validate(invoice).model_copy(
        update={
            "overdue": service.is_overdue(invoice),
            "client_name": db.scalar(select(Client.display_name).where(Client.id == invoice.client_id))
            or "",
            "credit_note_id": note_id,
            "payments": [PaymentOut.model_validate(p) for p in rows],
        }
    )  # fmt: skip


@router.get("/invoices", response_model=InvoicePage, summary="Invoices the caller may see")
def get_invoices(
    status: Status | None = None,
    client_id: QueryId = None,
    series: str | None = Query(None, max_length=12),
    kind: str | None = Query(None, pattern="^(invoice|credit_note)$"),
    issued_from: date | None = None,
    issued_to: date | None = None,
    overdue: bool = Query(False, description="open and past the due date"),
    debtors: bool = Query(False, description="open with a balance left"),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=100_000),
    actor: Principal = Depends(staff),
    db: Session = request_session,
):
    f = InvoiceFilter(status, client_id, series, kind, issued_from, issued_to, overdue, debtors)
    rows, total, sums = list_invoices(db, actor, f, limit=limit, offset=offset)
    on = service.today()
    items = [
        InvoiceSummary.model_validate(inv).model_copy(
            update={"client_name": name, "overdue": service.is_overdue(inv, on)}
        )
        for inv, name in rows
    ]
    return InvoicePage(items=items, total=total, sums=sums)


@router.post("/invoices", response_model=InvoiceOut, status_code=201, summary="New invoice")
def create_invoice(
    body: InvoiceCreate, actor: Principal = Depends(staff), db: Session = request_session
):
    data = body.model_dump()
    data["lines"] = [line.model_dump() for line in body.lines]
    return render(db, service.create_invoice(db, actor, data))


@router.get("/invoices/{invoice_id}", response_model=InvoiceOut, summary="One invoice")
def get_invoice(
    invoice_id: RowId, actor: Principal = Depends(staff), db: Session = request_session
):
    return render(db, service.get_invoice(db, actor, invoice_id))


@router.patch("/invoices/{invoice_id}", response_model=InvoiceOut, summary="Change a draft")
def update_invoice(
    invoice_id: RowId,
    body: InvoiceUpdate,
    actor: Principal = Depends(staff),
    db: Session = request_session,
):
    changes = body.model_dump(exclude_unset=True)
    if body.lines is not None:
        changes["lines"] = [line.model_dump() for line in body.lines]
    return render(db, service.update_invoice(db, actor, invoice_id, changes))


@router.delete("/invoices/{invoice_id}", status_code=204, summary="Delete a draft")
def delete_invoice(
    invoice_id: RowId, actor: Principal = Depends(staff), db: Session = request_session
):
    service.delete_invoice(db, actor, invoice_id)


@router.post("/invoices/{invoice_id}/issue", response_model=InvoiceOut, summary="Issue (number it)")
def issue_invoice(
    invoice_id: RowId, actor: Principal = Depends(staff), db: Session = request_session
):
    return render(db, service.issue_invoice(db, actor, invoice_id))


@router.post(
    "/invoices/{invoice_id}/credit-note",
    response_model=InvoiceOut,
    status_code=201,
    summary="Cancel an issued invoice with a credit note (answers the note)",
)
def credit_invoice(
    invoice_id: RowId,
    body: CreditNoteIn,
    actor: Principal = Depends(staff),
    db: Session = request_session,
):
    return render(db, service.credit_note(db, actor, invoice_id, body.reason))


@router.get("/invoices/{invoice_id}/payments", response_model=list[PaymentOut], summary="Payments")
def list_payments(
    invoice_id: RowId, actor: Principal = Depends(staff), db: Session = request_session
):
    return payments.payments_of(db, actor, invoice_id)


@router.post(
    "/invoices/{invoice_id}/payments",
    response_model=list[PaymentOut],
    status_code=201,
    summary="Take a payment (the excess as credit only with as_credit)",
)
def take_payment(
    invoice_id: RowId,
    body: PaymentIn,
    actor: Principal = Depends(staff),
    db: Session = request_session,
):
    return payments.add_payment(db, actor, invoice_id, **body.model_dump())


@router.post(
    "/invoices/{invoice_id}/refunds",
    response_model=PaymentOut,
    status_code=201,
    summary="Pay back part of what was paid",
)
def refund(
    invoice_id: RowId,
    body: RefundIn,
    actor: Principal = Depends(staff),
    db: Session = request_session,
):
    return payments.add_refund(db, actor, invoice_id, **body.model_dump())


@router.get(
    "/clients/{client_id}/balance",
    response_model=BalanceOut,
    summary="What the client owes per currency (negative: credit)",
)
def client_balance(
    client_id: RowId, actor: Principal = Depends(staff), db: Session = request_session
):
    get_visible_client(db, actor, client_id)
    return BalanceOut(client_id=client_id, balances=service.client_balances(db, client_id))


webhook_router = APIRouter(tags=["invoices"])


@webhook_router.post(
    "/sales/payments/webhook",
    response_model=PaymentOut,
    summary="A payment reported by a provider (HMAC-SHA256 signed; idempotent by payment id)",
    responses={403: {"description": "missing or wrong signature"}, 422: {"description": "bad"}},
)
async def payment_webhook(request: Request, db: Session = request_session):
    raw = await request.body()
    webhook.check_signature(raw, request.headers.get(webhook.SIGNATURE_HEADER))
    try:
        body = WebhookPayment.model_validate_json(raw)
    except ValueError as exc:
        errors = getattr(exc, "errors", lambda: [])()
        field = str(errors[0]["loc"][0]) if errors and errors[0].get("loc") else "body"
        raise Invalid(field, errors[0]["msg"] if errors else "not valid JSON") from None
    try:
        payment, _ = webhook.record_provider_payment(db, **body.model_dump())
        db.commit()
    except IntegrityError:  # the same payment id raced in: answer the stored one
        db.rollback()
        payment, _ = webhook.record_provider_payment(db, **body.model_dump())
    return payment
