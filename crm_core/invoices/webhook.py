"""Payments reported by a terminal or an online provider, signed with a shared secret.

The provider posts JSON naming the invoice by number, the amount and its own payment id, with
``X-Callcard-Signature: sha256=<hex of HMAC-SHA256(secret, raw body)>``. A missing or wrong
signature (or no secret configured) is refused before the body is parsed: 403, nothing stored.
A payment id already recorded is answered with the stored payment and not recorded again, so
the provider may retry freely.
"""

from __future__ import annotations

import hashlib
import hmac
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.auth.principal import SYSTEM
from crm_core.config import get_settings
from crm_core.errors import Forbidden, Invalid
from crm_core.invoices.models import Invoice, Payment
from crm_core.invoices.payments import add_payment

SIGNATURE_HEADER = "X-Callcard-Signature"


def sign(body: bytes, secret: str) -> str:
    """The header value a provider sends for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def check_signature(body: bytes, presented: str | None) -> None:
    secret = get_settings().payment_webhook_secret.get_secret_value()
    if not secret:
        raise Forbidden("payment webhook is not configured")
    if not presented or not hmac.compare_digest(sign(body, secret), presented.strip()):
        raise Forbidden("missing or wrong signature")


def record_provider_payment(
    db: Session,
    *,
    invoice_number: str,
    amount: Decimal,
    provider_payment_id: str,
    currency: str | None = None,
    paid_at=None,
    method: str = "online",
) -> tuple[Payment, bool]:
    """(payment, created): the payment for ``provider_payment_id``, recorded once.

    An amount above the balance is kept as the client's credit (the money was received)."""
    existing = db.scalar(select(Payment).where(Payment.provider_payment_id == provider_payment_id))
    if existing is not None:
        return existing, False
    invoice = db.scalar(select(Invoice).where(Invoice.number == invoice_number.strip()))
    if invoice is None or invoice.kind != "invoice":
        raise Invalid("invoice_number", f"no invoice {invoice_number}")
    if currency is not None and currency != invoice.currency:
        raise Invalid("currency", f"the invoice is in {invoice.currency}")
    rows = add_payment(
        db,
        SYSTEM,
        invoice.id,
        amount=amount,
        method=method,
        paid_at=paid_at,
        reference=f"provider {provider_payment_id}"[:120],
        as_credit=True,
        provider_payment_id=provider_payment_id,
    )
    return rows[0], True
