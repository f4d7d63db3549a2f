"""DocumentData from the records of the sales ledger (invoices, orders, contracts).

Each source reads its record through the owning domain's ``get_*`` service, which enforces
row rights (another team's record: 404). The buyer's tax id, registration number and bank
account are custom client fields when the installation has them (keys below)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.auth.principal import Principal
from crm_core.clients.models import Address, Client
from crm_core.customfields import service as customfields
from crm_core.documents.schemas import DocumentData, DocumentLine, Party
from crm_core.documents.service import get_company, seller_party
from crm_core.errors import Invalid

#: custom client fields printed as the buyer's details, first key found wins
BUYER_FIELDS = {
    "tax_id": ("tax_id", "cui", "inn", "vat_id", "fiscal_code"),
    "kpp": ("kpp",),
    "registration_no": ("registration_no", "reg_com", "ogrn", "company_number"),
    "bank_account": ("iban", "bank_account"),
    "bank_name": ("bank", "bank_name"),
    "bank_code": ("bic", "bik", "swift"),
}
INVOICE_KINDS = ("invoice", "proforma", "credit_note", "act")
ORDER_KINDS = ("order_confirmation", "proforma", "act")


def buyer_party(db: Session, client: Client) -> Party:
    custom = customfields.values_for(db, "client", [client.id]).get(client.id, {})
    values = {
        name: next((str(custom[k]) for k in keys if custom.get(k)), "")
        for name, keys in BUYER_FIELDS.items()
    }
    address = db.scalar(
        select(Address).where(Address.client_id == client.id).order_by(Address.position)
    )
    text = ""
    if address is not None:
        parts = (address.street, address.city, address.region, address.postal_code)
        text = ", ".join(p for p in parts if p)
    email = client.emails[0].address if client.emails else ""
    phone = client.phones[0].number if client.phones else ""
    name = client.org_name or client.display_name
    return Party(name=name, address=text, email=email, phone=phone, **values)


def _line(number: int, line) -> DocumentLine:
    net, vat = Decimal(line.net), Decimal(line.vat)
    return DocumentLine(
        number=number,
        description=line.description,
        quantity=Decimal(line.quantity),
        unit=line.unit or "",
        unit_price=Decimal(line.unit_price),
        discount_percent=Decimal(line.discount_percent or 0),
        vat_rate=Decimal(line.vat_rate or 0),
        net=net,
        vat=vat,
        gross=net + vat,
    )


def _language(language: str | None) -> str:
    if language in ("en", "ro", "ru"):
        return language
    from crm_core.config import get_settings

    default = get_settings().default_language
    return default if default in ("en", "ro", "ru") else "en"


def invoice_document(
    db: Session, actor: Principal, invoice_id: int, language: str | None, kind: str | None = None
) -> DocumentData:
    """An invoice as ``invoice`` (a credit note as ``credit_note``), ``proforma`` or ``act``."""
    from crm_core.invoices.service import get_invoice

    invoice = get_invoice(db, actor, invoice_id)
    kind = kind or ("credit_note" if invoice.kind == "credit_note" else "invoice")
    if kind not in INVOICE_KINDS:
        raise Invalid("kind", f"must be one of {', '.join(INVOICE_KINDS)}")
    reference = ""
    if invoice.credit_of_id:
        from crm_core.invoices.models import Invoice

        reference = db.scalar(select(Invoice.number).where(Invoice.id == invoice.credit_of_id))
    client = db.get(Client, invoice.client_id)
    data = DocumentData(
        kind=kind,  # type: ignore[arg-type]
        language=_language(language or client.language),  # type: ignore[arg-type]
        number=invoice.number or f"draft-{invoice.id}",
        issue_date=invoice.issued_on or invoice.created_at.date(),
        due_date=invoice.due_date,
        currency=invoice.currency,
        seller=seller_party(get_company(db)),
        buyer=buyer_party(db, client),
        lines=[_line(i, line) for i, line in enumerate(invoice.lines, 1)],
        paid=Decimal(invoice.paid or 0),
        reference=reference or "",
        notes=(invoice.reason or invoice.notes or "") if kind == "credit_note" else invoice.notes,
    )
    return data.with_totals()


def order_document(
    db: Session, actor: Principal, order_id: int, language: str | None, kind: str | None = None
) -> DocumentData:
    from crm_core.orders.service import get_order

    order = get_order(db, actor, order_id)
    kind = kind or "order_confirmation"
    if kind not in ORDER_KINDS:
        raise Invalid("kind", f"must be one of {', '.join(ORDER_KINDS)}")
    client = db.get(Client, order.client_id)
    data = DocumentData(
        kind=kind,  # type: ignore[arg-type]
        language=_language(language or client.language),  # type: ignore[arg-type]
        number=order.number,
        issue_date=order.created_at.date(),
        delivery_date=order.deadline,
        due_date=order.deadline,
        currency=order.currency,
        seller=seller_party(get_company(db)),
        buyer=buyer_party(db, client),
        lines=[_line(i, line) for i, line in enumerate(order.lines, 1)],
        notes=order.note or "",
    )
    return data.with_totals()


def contract_document(
    db: Session, actor: Principal, contract_id: int, language: str | None, kind: str | None = None
) -> DocumentData:
    """A contract: its amount as one line (its order's lines when it has an order)."""
    from crm_core.contracts.service import get_contract

    contract = get_contract(db, actor, contract_id)
    if kind not in (None, "contract"):
        raise Invalid("kind", "must be contract")
    client = db.get(Client, contract.client_id)
    lines: list[DocumentLine] = []
    if contract.order_id:
        from crm_core.orders.models import Order

        order = db.get(Order, contract.order_id)
        if order is not None and order.client_id == contract.client_id:
            lines = [_line(i, line) for i, line in enumerate(order.lines, 1)]
    if not lines and contract.amount is not None:
        lines = [DocumentLine.compute(contract.title or contract.number, 1, contract.amount)]
    data = DocumentData(
        kind="contract",
        language=_language(language or client.language),  # type: ignore[arg-type]
        number=contract.number,
        issue_date=contract.signed_on or contract.starts_on or date.today(),
        valid_until=contract.ends_on,
        currency=contract.currency,
        seller=seller_party(get_company(db)),
        buyer=buyer_party(db, client),
        lines=lines,
        notes=contract.title or "",
        terms=contract.notes or "",
    )
    return data.with_totals()
