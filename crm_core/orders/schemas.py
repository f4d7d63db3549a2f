from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from crm_core.apitypes import BodyId, text
from crm_core.catalog.schemas import Currency, Money

Amount = Annotated[Decimal, Field(allow_inf_nan=False, max_digits=20)]
#: quantities as plain decimal strings without trailing zeros ("2", "0.5")
Quantity = Annotated[
    Decimal, PlainSerializer(lambda v: format(Decimal(v).normalize(), "f"), return_type=str)
]
StatusCode = Annotated[str, Field(min_length=1, max_length=30)]


class LineIn(BaseModel):
    """A catalog product (price, discount and VAT default to the client's quote) or free
    text (``description``, ``unit_price`` and ``vat_rate`` required)."""

    model_config = ConfigDict(extra="forbid")

    product_id: BodyId | None = None
    description: text(500) = ""
    quantity: Amount = Decimal("1")
    unit: text(20) = ""
    unit_price: Amount | None = None
    discount_percent: Amount | None = None
    vat_rate: Amount | None = None


class LineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    position: int
    product_id: int | None
    description: str
    quantity: Quantity
    unit: str
    unit_price: Money
    discount_percent: Money
    vat_rate: Money
    net: Money
    vat: Money


class StatusChangeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    from_status: str | None
    to_status: str
    actor_id: int | None
    note: str
    changed_at: datetime


class OrderOut(BaseModel):
    id: int
    number: str
    client_id: int
    client_name: str = ""
    assignee_id: int | None
    creator_id: int | None
    status: str
    deadline: date | None
    overdue: bool
    currency: str
    note: str
    net_total: Money
    vat_total: Money
    total: Money
    public_url: str
    created_at: datetime
    updated_at: datetime
    status_changed_at: datetime
    lines: list[LineOut] = Field(default_factory=list)
    history: list[StatusChangeOut] = Field(default_factory=list)


class OrderPage(BaseModel):
    items: list[OrderOut]
    total: int


class OrderCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_id: BodyId
    assignee_id: BodyId | None = None
    deadline: date | None = None
    status: StatusCode | None = Field(None, description="default: the first status")
    currency: Currency | None = Field(None, description="default: the client's price list's")
    note: text(10_000) = ""
    lines: list[LineIn] = Field(default_factory=list, max_length=200)


class OrderUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    assignee_id: BodyId | None = None
    deadline: date | None = None
    currency: Currency | None = None
    note: text(10_000) | None = None
    lines: list[LineIn] | None = Field(None, max_length=200, description="replaces all lines")


class StatusMove(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: StatusCode
    note: text(500) = ""


class OrderStatusOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    label: str
    label_ro: str
    label_ru: str
    position: int
    is_terminal: bool
    is_cancelled: bool
    is_active: bool
    sms_template: str


class OrderStatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,29}$")]
    label: text(80, 1)
    label_ro: text(80) = ""
    label_ru: text(80) = ""
    position: int | None = Field(None, ge=0, le=10_000)
    is_terminal: bool = False
    is_cancelled: bool = False
    is_active: bool = True
    sms_template: text(1000) = ""


class OrderStatusUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: text(80, 1) | None = None
    label_ro: text(80) | None = None
    label_ru: text(80) | None = None
    position: int | None = Field(None, ge=0, le=10_000)
    is_terminal: bool | None = None
    is_cancelled: bool | None = None
    is_active: bool | None = None
    sms_template: text(1000) | None = None


class PublicLine(BaseModel):
    description: str
    quantity: Quantity
    unit: str


class PublicOrder(BaseModel):
    """What the client (or the business's website) may see without signing in."""

    number: str
    status: str
    status_label: str
    deadline: date | None
    first_name: str
    total: Money
    currency: str
    updated_at: datetime
    lines: list[PublicLine]
