"""Invoices, their lines, payments, the per-series number counters and each client's balance.

Money columns are ``Numeric(14, 2)`` (Decimal in Python). An invoice's ``paid`` and
``credited`` and its ``balance`` (total - credited - paid) are kept on the row by the service
in the same transaction as the payment or credit note that changes them, so lists and
filters read one indexed column instead of summing payments.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm_core.database import Base, utcnow

ENTITY = "invoice"
INVOICE_KINDS = ("invoice", "credit_note")
INVOICE_STATUSES = ("draft", "issued", "partially_paid", "paid", "cancelled")
#: statuses that count in a client's balance
POSTED_STATUSES = ("issued", "partially_paid", "paid", "cancelled")
PAYMENT_KINDS = ("payment", "refund", "credit")
PAYMENT_METHODS = ("cash", "card", "bank_transfer", "online", "other")
ZERO = Decimal("0.00")


class NumberCounter(Base):
    """The last number given in a series and year; its row is locked while a number is taken,
    so concurrent issuers queue and numbers have neither gaps nor repeats."""

    __tablename__ = "document_counters"

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    series: Mapped[str] = mapped_column(String(20), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last: Mapped[int] = mapped_column(default=0)


class Invoice(Base):
    """An invoice or a credit note (``kind``); a credit note cancels ``credit_of_id``."""

    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("number", name="uq_invoices_number"),
        Index("ix_invoices_client_created", "client_id", "created_at"),
        Index("ix_invoices_status_due", "status", "due_date"),
        Index("ix_invoices_status_created", "status", "created_at"),
        Index("ix_invoices_issued_on", "issued_on"),
        Index("ix_invoices_created_at", "created_at"),
        Index("ix_invoices_series_created", "series", "created_at"),
        Index("ix_invoices_contract", "contract_id"),
        Index("ix_invoices_order", "order_id"),
        Index("ix_invoices_credit_of", "credit_of_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12), default="invoice")
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    series: Mapped[str] = mapped_column(String(20), default="INV")
    year: Mapped[int | None]
    seq: Mapped[int | None]
    number: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    currency: Mapped[str] = mapped_column(String(3), default="RON")
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id", ondelete="SET NULL"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
    credit_of_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    issued_on: Mapped[date | None]
    due_date: Mapped[date | None]
    net_total: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=ZERO)
    vat_total: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=ZERO)
    total: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=ZERO)
    paid: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=ZERO)
    credited: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=ZERO)
    balance: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=ZERO)
    notes: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(String(250), default="")  # of a credit note
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    reminded_before_at: Mapped[datetime | None]
    reminded_after_at: Mapped[datetime | None]

    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", cascade="all, delete-orphan", order_by="InvoiceLine.position"
    )


class InvoiceLine(Base):
    __tablename__ = "invoice_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("invoices.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id", ondelete="SET NULL"))
    description: Mapped[str] = mapped_column(String(500), default="")
    unit: Mapped[str] = mapped_column(String(20), default="")
    quantity: Mapped[Decimal] = mapped_column(Numeric(14, 3))
    unit_price: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    discount_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=ZERO)
    vat_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=ZERO)
    net: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    vat: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    total: Mapped[Decimal] = mapped_column(Numeric(14, 2))

    invoice: Mapped[Invoice] = relationship(back_populates="lines")


class Payment(Base):
    """Money received (``payment``), paid back (``refund``, negative) or kept on the client's
    account (``credit``: the excess of a payment above the invoice's balance)."""

    __tablename__ = "invoice_payments"
    __table_args__ = (
        UniqueConstraint("provider_payment_id", name="uq_invoice_payments_provider_payment_id"),
        Index("ix_invoice_payments_client_paid", "client_id", "paid_at"),
        Index("ix_invoice_payments_paid_at", "paid_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int | None] = mapped_column(
        ForeignKey("invoices.id", ondelete="CASCADE"), index=True
    )
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10), default="payment")
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    currency: Mapped[str] = mapped_column(String(3), default="RON")
    method: Mapped[str] = mapped_column(String(20), default="cash")
    paid_at: Mapped[datetime] = mapped_column(default=utcnow)
    reference: Mapped[str] = mapped_column(String(120), default="")
    reason: Mapped[str] = mapped_column(String(250), default="")
    provider_payment_id: Mapped[str | None] = mapped_column(String(120))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ClientBalance(Base):
    """What a client owes in one currency (negative: the client's credit), recomputed from
    the ledger whenever one of its invoices or payments changes. The caller popup and the
    "debtors" filter read it by primary key / one index."""

    __tablename__ = "client_balances"
    __table_args__ = (Index("ix_client_balances_balance", "balance"),)

    client_id: Mapped[int] = mapped_column(
        ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True
    )
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    balance: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=ZERO)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
