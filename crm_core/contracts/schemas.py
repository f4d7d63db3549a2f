from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from crm_core.apitypes import BodyId, text

Status = Literal["draft", "active", "expired", "terminated"]
Money = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2, allow_inf_nan=False)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]


class ContractCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_id: BodyId
    series: text(12) = "C"
    title: text(250) = ""
    signed_on: date | None = None
    starts_on: date
    ends_on: date | None = None
    auto_renew: bool = False
    renewal_months: int = Field(12, ge=1, le=120)
    amount: Money | None = None
    currency: Currency = "RON"
    order_id: BodyId | None = None
    owner_id: BodyId | None = Field(None, description="default: the creator")
    remind_days_before: int = Field(30, ge=0, le=365)
    notes: text(5000) = ""


class ContractUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: text(250) | None = None
    status: Status | None = None
    signed_on: date | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    auto_renew: bool | None = None
    renewal_months: int | None = Field(None, ge=1, le=120)
    amount: Money | None = None
    currency: Currency | None = None
    order_id: BodyId | None = None
    owner_id: BodyId | None = None
    remind_days_before: int | None = Field(None, ge=0, le=365)
    scan_attachment_id: BodyId | None = None
    notes: text(5000) | None = None


class ContractOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    number: str
    series: str
    client_id: int
    client_name: str = ""
    title: str
    status: str
    signed_on: date | None
    starts_on: date
    ends_on: date | None
    auto_renew: bool
    renewal_months: int
    amount: Decimal | None
    currency: str
    order_id: int | None
    scan_attachment_id: int | None
    owner_id: int | None
    remind_days_before: int
    remind_at: datetime | None
    reminded_at: datetime | None
    notes: str
    created_at: datetime
    expires_in_days: int | None = None
    invoice_ids: list[int] = Field(default_factory=list)


class ContractPage(BaseModel):
    items: list[ContractOut]
    total: int
