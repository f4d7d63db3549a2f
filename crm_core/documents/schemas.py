"""Typed input of the renderers (:class:`DocumentData`) and the company API's bodies.

Money is ``Decimal``: each line's net and VAT are rounded half-up to the cent, the totals are
the sums of the rounded lines (the rule printed in every PDF footer)."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from crm_core.apitypes import text

Kind = Literal["invoice", "proforma", "credit_note", "contract", "act", "order_confirmation"]
Language = Literal["en", "ro", "ru"]
CENT = Decimal("0.01")


def cents(value: Decimal) -> Decimal:
    """Round half-up to the cent (never banker's rounding, never a float)."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


class Party(BaseModel):
    """One side of a document: the seller (the company) or the buyer (the client)."""

    name: str = ""
    legal_form: str = ""
    tax_id: str = ""
    kpp: str = ""
    registration_no: str = ""
    address: str = ""
    bank_name: str = ""
    bank_account: str = ""
    bank_code: str = ""
    correspondent_account: str = ""
    phone: str = ""
    email: str = ""
    director: str = ""
    accountant: str = ""
    vat_payer: bool = True
    logo_data_uri: str = ""

    @property
    def full_name(self) -> str:
        return f"{self.name} {self.legal_form}".strip() if self.legal_form else self.name


class DocumentLine(BaseModel):
    number: int = 1
    description: str
    sku: str = ""
    quantity: Decimal
    unit: str = ""
    unit_price: Decimal
    discount_percent: Decimal = Decimal("0")
    vat_rate: Decimal = Decimal("0")
    net: Decimal
    vat: Decimal
    gross: Decimal

    @classmethod
    def compute(
        cls,
        description: str,
        quantity: Decimal | str | int,
        unit_price: Decimal | str | int,
        *,
        vat_rate: Decimal | str | int = 0,
        discount_percent: Decimal | str | int = 0,
        unit: str = "",
        number: int = 1,
        sku: str = "",
    ) -> DocumentLine:
        """A line whose net and VAT are rounded half-up to the cent."""
        qty, price = Decimal(str(quantity)), Decimal(str(unit_price))
        rate, discount = Decimal(str(vat_rate)), Decimal(str(discount_percent))
        net = cents(qty * price * (Decimal(100) - discount) / Decimal(100))
        vat = cents(net * rate / Decimal(100))
        return cls(
            number=number,
            description=description,
            sku=sku,
            quantity=qty,
            unit=unit,
            unit_price=price,
            discount_percent=discount,
            vat_rate=rate,
            net=net,
            vat=vat,
            gross=net + vat,
        )


class VatGroup(BaseModel):
    rate: Decimal
    net: Decimal
    vat: Decimal


class DocumentData(BaseModel):
    """Everything a print form shows; built by :mod:`crm_core.documents.sources` or in tests."""

    kind: Kind = "invoice"
    language: Language = "en"
    number: str
    series: str = ""
    issue_date: date
    due_date: date | None = None
    delivery_date: date | None = None
    valid_until: date | None = None
    currency: str = "RON"
    seller: Party
    buyer: Party
    lines: list[DocumentLine] = Field(default_factory=list)
    net_total: Decimal = Decimal("0.00")
    vat_total: Decimal = Decimal("0.00")
    total: Decimal = Decimal("0.00")
    paid: Decimal = Decimal("0.00")
    balance: Decimal = Decimal("0.00")
    vat_groups: list[VatGroup] = Field(default_factory=list)
    total_in_words: str = ""
    reference: str = ""  # the invoice a credit note cancels, the contract of an invoice...
    notes: str = ""
    terms: str = ""  # contract body text

    def with_totals(self) -> DocumentData:
        """Totals as the sums of the (already rounded) lines, VAT grouped per rate, and the
        total in words; ``paid`` is kept, ``balance`` follows."""
        from crm_core.documents.words import amount_in_words

        groups: dict[Decimal, VatGroup] = {}
        for line in self.lines:
            group = groups.setdefault(
                line.vat_rate, VatGroup(rate=line.vat_rate, net=Decimal("0"), vat=Decimal("0"))
            )
            group.net += line.net
            group.vat += line.vat
        net = sum((line.net for line in self.lines), Decimal("0.00"))
        vat = sum((line.vat for line in self.lines), Decimal("0.00"))
        total = net + vat
        return self.model_copy(
            update={
                "net_total": net,
                "vat_total": vat,
                "total": total,
                "balance": total - self.paid,
                "vat_groups": [groups[r] for r in sorted(groups)],
                "total_in_words": amount_in_words(abs(total), self.currency, self.language),
            }
        )


class CompanyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    legal_form: str
    tax_id: str
    kpp: str
    registration_no: str
    address: str
    bank_name: str
    bank_account: str
    bank_code: str
    correspondent_account: str
    phone: str
    email: str
    director: str
    accountant: str
    default_currency: str
    vat_payer: bool
    has_logo: bool = False


class CompanyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: text(200) | None = None
    legal_form: text(40) | None = None
    tax_id: text(40) | None = None
    kpp: text(20) | None = None
    registration_no: text(60) | None = None
    address: text(400) | None = None
    bank_name: text(200) | None = None
    bank_account: text(60) | None = None
    bank_code: text(40) | None = None
    correspondent_account: text(40) | None = None
    phone: text(60) | None = None
    email: text(200) | None = None
    director: text(200) | None = None
    accountant: text(200) | None = None
    default_currency: str | None = Field(None, pattern=r"^[A-Z]{3}$", examples=["RON"])
    vat_payer: bool | None = None


class TemplateOut(BaseModel):
    kind: str
    language: str
    format: str
    customized: bool
    filename: str = ""
    updated_at: str | None = None


class HtmlTemplateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    html: text(2_000_000, 1)
