from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.database import Base, utcnow

DOCUMENT_KINDS = ("invoice", "proforma", "credit_note", "contract", "act", "order_confirmation")
TEMPLATE_FORMATS = ("html", "docx")
LANGUAGES = ("en", "ro", "ru")


class CompanyProfile(Base):
    """The business's own details, printed as the seller on every form (one row, id 1)."""

    __tablename__ = "company_profile"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    legal_form: Mapped[str] = mapped_column(String(40), default="")  # SRL, ООО, Ltd
    tax_id: Mapped[str] = mapped_column(String(40), default="")  # CUI / ИНН / VAT no.
    kpp: Mapped[str] = mapped_column(String(20), default="")  # КПП (Russia)
    registration_no: Mapped[str] = mapped_column(String(60), default="")  # Nr. Reg. Com. / ОГРН
    address: Mapped[str] = mapped_column(String(400), default="")
    bank_name: Mapped[str] = mapped_column(String(200), default="")
    bank_account: Mapped[str] = mapped_column(String(60), default="")  # IBAN / р/с
    bank_code: Mapped[str] = mapped_column(String(40), default="")  # BIC / SWIFT / БИК
    correspondent_account: Mapped[str] = mapped_column(String(40), default="")  # к/с
    phone: Mapped[str] = mapped_column(String(60), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    director: Mapped[str] = mapped_column(String(200), default="")
    accountant: Mapped[str] = mapped_column(String(200), default="")
    default_currency: Mapped[str] = mapped_column(String(3), default="RON")
    vat_payer: Mapped[bool] = mapped_column(Boolean, default=True)
    logo: Mapped[bytes | None] = mapped_column(LargeBinary)
    logo_content_type: Mapped[str] = mapped_column(String(40), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class DocumentTemplate(Base):
    """An admin's replacement of a shipped template; no row means the shipped one is used."""

    __tablename__ = "document_templates"
    __table_args__ = (UniqueConstraint("kind", "language", "format", name="uq_document_templates"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    language: Mapped[str] = mapped_column(String(5))
    format: Mapped[str] = mapped_column(String(5))  # html | docx
    content: Mapped[bytes] = mapped_column(LargeBinary)
    filename: Mapped[str] = mapped_column(String(255), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
