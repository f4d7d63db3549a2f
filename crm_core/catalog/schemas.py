from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from crm_core.apitypes import BodyId, text
from crm_core.apitypes import name as _name

#: amounts leave the API as decimal strings with two decimals ("12.50")
Money = Annotated[Decimal, PlainSerializer(lambda v: f"{Decimal(v):.2f}", return_type=str)]
MoneyIn = Annotated[Decimal, Field(ge=0, lt=Decimal("1000000000000"), allow_inf_nan=False)]
PercentIn = Annotated[Decimal, Field(ge=0, le=100, allow_inf_nan=False)]
Currency = Annotated[str, Field(pattern=r"^[A-Za-z]{3}$")]
Kind = Literal["goods", "service"]
Name120_1 = _name(120, 1)
Name20_1 = _name(20, 1)
Name250_1 = _name(250, 1)
Name40 = _name(40)
Name64_1 = _name(64, 1)
Name80 = _name(80)


class VatRateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    rate: Money
    label: str
    country: str
    is_active: bool
    position: int


class VatRateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rate: PercentIn
    label: Name80 = ""
    country: Annotated[str, Field(pattern=r"^([A-Za-z]{2})?$")] = ""
    is_active: bool = True
    position: int = Field(0, ge=0, le=10_000)


class VatRateUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: Name80 | None = None
    country: Annotated[str, Field(pattern=r"^([A-Za-z]{2})?$")] | None = None
    is_active: bool | None = None
    position: int | None = Field(None, ge=0, le=10_000)


class CategoryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    position: int


class CategoryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name120_1
    position: int = Field(0, ge=0, le=10_000)


class CategoryUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name120_1 | None = None
    position: int | None = Field(None, ge=0, le=10_000)


class ProductOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    category_id: int | None
    name: str
    sku: str
    unit: str
    vat_rate: Money
    description: str
    is_active: bool
    created_at: datetime
    updated_at: datetime


class ProductPage(BaseModel):
    items: list[ProductOut]
    total: int


class ProductIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name250_1
    sku: Name64_1
    kind: Kind = "goods"
    category_id: BodyId | None = None
    unit: Name20_1 = "pcs"
    vat_rate: PercentIn
    description: text(10_000) = ""
    is_active: bool = True


class ProductUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name250_1 | None = None
    sku: Name64_1 | None = None
    kind: Kind | None = None
    category_id: BodyId | None = None
    unit: Name20_1 | None = None
    vat_rate: PercentIn | None = None
    description: text(10_000) | None = None
    is_active: bool | None = None


class PriceItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: BodyId
    price: MoneyIn
    currency: Currency | None = None


class PriceItemOut(BaseModel):
    product_id: int
    product_name: str
    sku: str
    price: Money
    currency: str


class PriceListOut(BaseModel):
    id: int
    name: str
    client_category: str | None
    currency: str
    is_default: bool
    is_active: bool
    items: list[PriceItemOut] = Field(default_factory=list)


class PriceListIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name120_1
    client_category: Name40 | None = None
    currency: Currency = "RON"
    is_default: bool = False
    is_active: bool = True
    items: list[PriceItemIn] = Field(default_factory=list, max_length=10_000)


class PriceListUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name120_1 | None = None
    client_category: Name40 | None = None
    currency: Currency | None = None
    is_default: bool | None = None
    is_active: bool | None = None
    items: list[PriceItemIn] | None = Field(None, max_length=10_000)


class ItemPrice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    price: MoneyIn | None = Field(description="null removes the product from the list")


class CategoryDiscountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    discount_percent: PercentIn


class QuoteOut(BaseModel):
    product_id: int
    client_id: int | None
    unit_price: Money
    discount_percent: Money
    vat_rate: Money
    unit: str
    description: str
