"""Payments on invoices: several per invoice, refunds, the excess kept as client credit.

A payment never exceeds the invoice's balance (422 naming ``amount``) unless the payer asks
for the excess to be kept as the client's credit (``as_credit``): then the invoice is paid in
full and a ``credit`` row (no invoice) holds the rest. A refund pays money back (a negative
row with a reason) and reopens the invoice's balance; it never exceeds what was paid.
The invoice row is locked while its balance is checked and changed.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.audit.service import record, snapshot
from crm_core.auth.principal import Principal
from crm_core.database import utcnow
from crm_core.errors import Invalid
from crm_core.invoices.models import ENTITY, PAYMENT_METHODS, Invoice, Payment
from crm_core.invoices.service import (
    OPEN_STATUSES,
    add_to_balance,
    apply_status,
    get_invoice,
    locked_invoice,
)


def _check_common(amount: Decimal, method: str, paid_at: datetime | None) -> datetime:
    if amount is None or amount <= 0:
        raise Invalid("amount", "must be greater than 0")
    if amount != amount.quantize(Decimal("0.01")):
        raise Invalid("amount", "must have at most 2 decimal places")
    if method not in PAYMENT_METHODS:
        raise Invalid("method", f"must be one of {', '.join(PAYMENT_METHODS)}")
    if paid_at is not None and paid_at.tzinfo is None:
        raise Invalid("paid_at", "must include a timezone")
    return paid_at or utcnow()


def _post(db: Session, actor: Principal, invoice: Invoice, payment: Payment) -> Payment:
    db.add(payment)
    if payment.invoice_id is not None:
        before = snapshot(invoice)
        invoice.paid += payment.amount
        invoice.balance = invoice.total - invoice.credited - invoice.paid
        apply_status(invoice)
        record(db, actor, "update", ENTITY, invoice.id, before, snapshot(invoice))
    db.flush()
    add_to_balance(db, invoice.client_id, payment.currency, -payment.amount)
    record(db, actor, "create", "payment", payment.id, None, snapshot(payment))
    return payment


def add_payment(
    db: Session,
    actor: Principal,
    invoice_id: int,
    *,
    amount: Decimal,
    method: str = "cash",
    paid_at: datetime | None = None,
    reference: str = "",
    as_credit: bool = False,
    provider_payment_id: str | None = None,
) -> list[Payment]:
    """Record money received for an invoice; returns the payment (and the credit row when
    the excess was kept as client credit)."""
    paid_at = _check_common(amount, method, paid_at)
    invoice = locked_invoice(db, actor, invoice_id)
    if invoice.kind != "invoice" or invoice.status not in OPEN_STATUSES:
        raise Invalid("status", f"a {invoice.status} {invoice.kind} takes no payments")
    excess = amount - invoice.balance
    if excess > 0 and not as_credit:
        raise Invalid(
            "amount", f"exceeds the balance of {invoice.balance} {invoice.currency}; "
            "set as_credit to keep the rest as the client's credit"
        )  # fmt: skip
    common = {
        "client_id": invoice.client_id,
        "currency": invoice.currency,
        "method": method,
        "paid_at": paid_at,
        "reference": (reference or "").strip(),
        "created_by_id": actor.id,
        "created_at": utcnow(),
    }
    applied = min(amount, invoice.balance)
    rows = [
        _post(
            db,
            actor,
            invoice,
            Payment(
                invoice_id=invoice.id,
                kind="payment",
                amount=applied,
                provider_payment_id=provider_payment_id,
                **common,
            ),
        )
    ]
    if excess > 0:
        credit = Payment(invoice_id=None, kind="credit", amount=excess, **common)
        credit.reason = f"excess of a payment on {invoice.number}"
        rows.append(_post(db, actor, invoice, credit))
    return rows


def add_refund(
    db: Session,
    actor: Principal,
    invoice_id: int,
    *,
    amount: Decimal,
    reason: str,
    method: str = "cash",
    paid_at: datetime | None = None,
    reference: str = "",
) -> Payment:
    """Pay back ``amount`` (positive) of what was paid on the invoice."""
    paid_at = _check_common(amount, method, paid_at)
    if not (reason or "").strip():
        raise Invalid("reason", "must not be empty")
    invoice = locked_invoice(db, actor, invoice_id)
    if invoice.kind != "invoice" or invoice.status == "draft":
        raise Invalid("status", f"a {invoice.status} {invoice.kind} has nothing to refund")
    if amount > invoice.paid:
        raise Invalid("amount", f"exceeds what was paid ({invoice.paid} {invoice.currency})")
    refund = Payment(
        invoice_id=invoice.id,
        client_id=invoice.client_id,
        kind="refund",
        amount=-amount,
        currency=invoice.currency,
        method=method,
        paid_at=paid_at,
        reference=(reference or "").strip(),
        reason=reason.strip(),
        created_by_id=actor.id,
        created_at=utcnow(),
    )
    return _post(db, actor, invoice, refund)


def payments_of(db: Session, actor: Principal, invoice_id: int) -> list[Payment]:
    get_invoice(db, actor, invoice_id)
    return list(
        db.scalars(
            select(Payment)
            .where(Payment.invoice_id == invoice_id)
            .order_by(Payment.paid_at, Payment.id)
        )
    )


def client_payments(db: Session, client_id: int, limit: int = 200) -> list[Payment]:
    """A client's payments, refunds and credits, newest first (rights: the caller's)."""
    return list(
        db.scalars(
            select(Payment)
            .where(Payment.client_id == client_id)
            .order_by(Payment.paid_at.desc(), Payment.id.desc())
            .limit(limit)
        )
    )
