from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from crm_core.apitypes import BodyId, Moment, text

Status = Literal["draft", "issued", "partially_paid", "paid", "cancelled"]
Method = Literal["cash", "card", "bank_transfer", "online", "other"]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217, e.g. RON")]
Money = Annotated[Decimal, Field(max_digits=14, decimal_places=2, allow_inf_nan=False)]
Quantity = Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=3, allow_inf_nan=False)]
Percent = Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)]


class LineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: BodyId | None = None
    description: text(500) = ""
    unit: text(20) = ""
    quantity: Quantity
    unit_price: Annotated[Money, Field(ge=0)] | None = Field(
        None, description="default: the client's price for the product (quote_price)"
    )
    vat_rate: Percent | None = Field(None, description="default: the product's rate")
    discount_percent: Percent = Decimal("0")


class InvoiceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_id: BodyId
    currency: Currency = "RON"
    contract_id: BodyId | None = None
    order_id: BodyId | None = None
    series: text(12) = "INV"
    due_date: date | None = None
    notes: text(5000) = ""
    lines: list[LineIn] = Field(default_factory=list, max_length=500)
    issue: bool = Field(False, description="issue at once (a number is given)")


class InvoiceUpdate(BaseModel):
    """Changes to a draft; an issued invoice is never edited (422 naming ``status``)."""

    model_config = ConfigDict(extra="forbid")

    currency: Currency | None = None
    series: text(12) | None = None
    due_date: date | None = None
    notes: text(5000) | None = None
    lines: list[LineIn] | None = Field(None, max_length=500)


class LineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    position: int
    product_id: int | None
    description: str
    unit: str
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    vat_rate: Decimal
    net: Decimal
    vat: Decimal
    total: Decimal


class PaymentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    invoice_id: int | None
    client_id: int
    kind: str
    amount: Decimal
    currency: str
    method: str
    paid_at: datetime
    reference: str
    reason: str
    provider_payment_id: str | None
    created_at: datetime


class InvoiceSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    number: str | None
    series: str
    status: str
    client_id: int
    client_name: str = ""
    currency: str
    issued_on: date | None
    due_date: date | None
    net_total: Decimal
    vat_total: Decimal
    total: Decimal
    paid: Decimal
    credited: Decimal
    balance: Decimal
    overdue: bool = False
    created_at: datetime


class InvoiceOut(InvoiceSummary):
    contract_id: int | None
    order_id: int | None
    credit_of_id: int | None
    credit_note_id: int | None = None
    notes: str
    reason: str
    issued_at: datetime | None
    cancelled_at: datetime | None
    lines: list[LineOut]
    payments: list[PaymentOut] = Field(default_factory=list)


class InvoicePage(BaseModel):
    items: list[InvoiceSummary]
    total: int
    sums: dict[str, dict[str, Decimal]] = Field(
        default_factory=dict, description="per currency: total, paid, balance of the matches"
    )


class PaymentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: Annotated[Money, Field(gt=0)]
    method: Method = "cash"
    paid_at: Moment | None = None
    reference: text(120) = ""
    as_credit: bool = Field(False, description="keep what exceeds the balance as client credit")


class RefundIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: Annotated[Money, Field(gt=0, description="the sum paid back (positive)")]
    method: Method = "cash"
    paid_at: Moment | None = None
    reference: text(120) = ""
    reason: text(250, 1)


class CreditNoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: text(250, 1)


class BalanceOut(BaseModel):
    client_id: int
    balances: dict[str, Decimal] = Field(description="per currency; negative is credit")


class WebhookPayment(BaseModel):
    """What a payment provider posts (signed): the invoice by number and the sum paid."""

    model_config = ConfigDict(extra="ignore")

    invoice_number: text(40, 1)
    amount: Annotated[Money, Field(gt=0)]
    currency: Currency | None = None
    provider_payment_id: text(120, 1)
    paid_at: Moment | None = None
    method: Method = "online"
