"""Company details, the print-form templates (shipped or an admin's replacement) and rendering.

A kind without its own shipped file uses the invoice layout (proforma, credit note, order
confirmation). Replacements are stored per (kind, language, format); "reset" deletes the row
and the shipped file is used again. A replacement is test-rendered with sample data before it
is stored, so a broken template is refused (422 naming it) instead of failing later."""

from __future__ import annotations

import base64
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.audit.service import record, snapshot
from crm_core.auth.principal import Principal
from crm_core.database import utcnow
from crm_core.documents.models import (
    DOCUMENT_KINDS,
    LANGUAGES,
    TEMPLATE_FORMATS,
    CompanyProfile,
    DocumentTemplate,
)
from crm_core.documents.render_docx import check_docx, render_docx
from crm_core.documents.render_pdf import render_html, render_pdf
from crm_core.documents.schemas import DocumentData, DocumentLine, Party
from crm_core.errors import Invalid

SHIPPED_DIR = Path(__file__).resolve().parent / "shipped"
SHIPPED_FILE = {
    "invoice": "invoice",
    "proforma": "invoice",
    "credit_note": "invoice",
    "order_confirmation": "invoice",
    "act": "act",
    "contract": "contract",
}
LOGO_TYPES = {"image/png", "image/jpeg", "image/svg+xml", "image/gif", "image/webp"}
MAX_LOGO_BYTES = 512 * 1024
MAX_TEMPLATE_BYTES = 5 * 1024 * 1024
COMPANY_FIELDS = (
    "name",
    "legal_form",
    "tax_id",
    "kpp",
    "registration_no",
    "address",
    "bank_name",
    "bank_account",
    "bank_code",
    "correspondent_account",
    "phone",
    "email",
    "director",
    "accountant",
    "default_currency",
    "vat_payer",
)


# --- company ------------------------------------------------------------------------------


def _blank() -> CompanyProfile:
    company = CompanyProfile(id=1, default_currency="RON", vat_payer=True, logo_content_type="")
    for name in COMPANY_FIELDS[:-2]:
        setattr(company, name, "")
    return company


def get_company(db: Session) -> CompanyProfile:
    """The company's details (an empty, unsaved profile until an admin fills them in)."""
    return db.get(CompanyProfile, 1) or _blank()


def _stored_company(db: Session) -> CompanyProfile:
    company = db.get(CompanyProfile, 1)
    if company is None:
        company = _blank()
        company.updated_at = utcnow()
        db.add(company)
        db.flush()
    return company


def update_company(db: Session, actor: Principal, changes: dict) -> CompanyProfile:
    company = _stored_company(db)
    before = snapshot(company)
    for name, value in changes.items():
        if name not in COMPANY_FIELDS:
            raise Invalid(name, "unknown field")
        if value is None:
            continue
        setattr(company, name, value.strip() if isinstance(value, str) else value)
    company.updated_at = utcnow()
    db.flush()
    record(db, actor, "update", "company", 1, before, snapshot(company))
    return company


def set_logo(db: Session, actor: Principal, content: bytes, content_type: str) -> None:
    content_type = (content_type or "").split(";")[0].strip().lower()
    if content_type not in LOGO_TYPES:
        raise Invalid("logo", "must be a PNG, JPEG, GIF, WebP or SVG image")
    if not content:
        raise Invalid("logo", "is empty")
    if len(content) > MAX_LOGO_BYTES:
        raise Invalid("logo", f"must be at most {MAX_LOGO_BYTES // 1024} KB")
    company = _stored_company(db)
    company.logo, company.logo_content_type = content, content_type
    company.updated_at = utcnow()
    record(db, actor, "update", "company", 1, {"logo": None}, {"logo": f"{len(content)} bytes"})


def remove_logo(db: Session, actor: Principal) -> None:
    company = _stored_company(db)
    company.logo, company.logo_content_type = None, ""
    record(db, actor, "update", "company", 1, {"logo": "set"}, {"logo": None})


def seller_party(company: CompanyProfile) -> Party:
    values = {name: getattr(company, name) or "" for name in COMPANY_FIELDS}
    values.pop("default_currency")
    values["vat_payer"] = bool(company.vat_payer) if company.vat_payer is not None else True
    logo = ""
    if company.logo:
        encoded = base64.b64encode(company.logo).decode("ascii")
        logo = f"data:{company.logo_content_type};base64,{encoded}"
    return Party(**values, logo_data_uri=logo)


# --- templates ----------------------------------------------------------------------------


def template_name(kind: str, language: str, fmt: str) -> str:
    return f"{kind}/{language}/{fmt}"


def _check_key(kind: str, language: str, fmt: str) -> None:
    if kind not in DOCUMENT_KINDS:
        raise Invalid("kind", f"must be one of {', '.join(DOCUMENT_KINDS)}")
    if language not in LANGUAGES:
        raise Invalid("language", f"must be one of {', '.join(LANGUAGES)}")
    if fmt not in TEMPLATE_FORMATS:
        raise Invalid("format", "must be html or docx")


@lru_cache(maxsize=16)
def shipped_template(kind: str, fmt: str) -> bytes:
    return (SHIPPED_DIR / f"{SHIPPED_FILE[kind]}.{fmt}").read_bytes()


def _custom(db: Session, kind: str, language: str, fmt: str) -> DocumentTemplate | None:
    return db.scalar(
        select(DocumentTemplate).where(
            DocumentTemplate.kind == kind,
            DocumentTemplate.language == language,
            DocumentTemplate.format == fmt,
        )
    )


def template_source(db: Session, kind: str, language: str, fmt: str) -> bytes:
    _check_key(kind, language, fmt)
    custom = _custom(db, kind, language, fmt)
    return custom.content if custom is not None else shipped_template(kind, fmt)


def list_templates(db: Session) -> list[dict]:
    custom = {(t.kind, t.language, t.format): t for t in db.scalars(select(DocumentTemplate))}
    out = []
    for kind in DOCUMENT_KINDS:
        for language in LANGUAGES:
            for fmt in TEMPLATE_FORMATS:
                row = custom.get((kind, language, fmt))
                out.append(
                    {
                        "kind": kind,
                        "language": language,
                        "format": fmt,
                        "customized": row is not None,
                        "filename": row.filename if row else "",
                        "updated_at": row.updated_at.isoformat() if row else None,
                    }
                )
    return out


def sample_document(db: Session, kind: str, language: str) -> DocumentData:
    """What a preview shows, and what a new template is test-rendered with."""
    lines = [
        DocumentLine.compute(
            "Ștampilă și țesătură / Печать и ткань", 2, "123.45", vat_rate=21, unit="buc"
        ),
        DocumentLine.compute(
            "Service", "1.5", "80", vat_rate=11, discount_percent=10, unit="h", number=2
        ),
    ]
    company = get_company(db)
    buyer = Party(name="Client Demo", legal_form="SRL", tax_id="RO1234567", address="Iași")
    return DocumentData(
        kind=kind,  # type: ignore[arg-type]
        language=language,  # type: ignore[arg-type]
        number="0001",
        series="DEMO",
        issue_date=date.today(),
        due_date=date.today(),
        currency=company.default_currency or "RON",
        seller=seller_party(company),
        buyer=buyer,
        lines=lines,
        paid=Decimal("0"),
        terms="1. …\n2. …",
    ).with_totals()


def save_template(
    db: Session,
    actor: Principal,
    kind: str,
    language: str,
    fmt: str,
    content: bytes,
    filename: str = "",
) -> DocumentTemplate:
    """Store a replacement after rendering it once with sample data (422 naming it if not)."""
    _check_key(kind, language, fmt)
    name = template_name(kind, language, fmt)
    if len(content) > MAX_TEMPLATE_BYTES:
        raise Invalid("file", f"must be at most {MAX_TEMPLATE_BYTES // (1024 * 1024)} MB")
    sample = sample_document(db, kind, language)
    if fmt == "docx":
        check_docx(content, name)
        render_docx(content, sample, name)
    else:
        try:
            source = content.decode("utf-8")
        except UnicodeDecodeError:
            raise Invalid("html", "must be UTF-8 text") from None
        render_html(source, sample, name)
    row = _custom(db, kind, language, fmt)
    action = "update" if row else "create"
    if row is None:
        row = DocumentTemplate(kind=kind, language=language, format=fmt)
        db.add(row)
    row.content, row.filename, row.note = content, filename[:255], ""
    row.updated_by_id, row.updated_at = actor.id, utcnow()
    db.flush()
    record(db, actor, action, "document_template", name, None, {"size": len(content)})
    return row


def reset_template(db: Session, actor: Principal, kind: str, language: str, fmt: str) -> None:
    _check_key(kind, language, fmt)
    row = _custom(db, kind, language, fmt)
    if row is not None:
        db.delete(row)
        db.flush()
        record(db, actor, "delete", "document_template", template_name(kind, language, fmt))


# --- rendering ----------------------------------------------------------------------------


def render_document(db: Session, data: DocumentData, fmt: str) -> bytes:
    """The PDF (``fmt="pdf"``, from the HTML template) or the Word file of ``data``."""
    if fmt == "pdf":
        source = template_source(db, data.kind, data.language, "html").decode("utf-8")
        return render_pdf(source, data, template_name(data.kind, data.language, "html"))
    if fmt == "docx":
        content = template_source(db, data.kind, data.language, "docx")
        return render_docx(content, data, template_name(data.kind, data.language, "docx"))
    raise Invalid("format", "must be pdf or docx")


def preview_pdf(db: Session, kind: str, language: str, html: str) -> bytes:
    """An unsaved HTML template rendered with the sample document (the editor's preview)."""
    _check_key(kind, language, "html")
    sample = sample_document(db, kind, language)
    return render_pdf(html, sample, template_name(kind, language, "html"))


def filename_for(data: DocumentData, fmt: str) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in data.number)
    return f"{data.kind}-{data.series}{safe}.{fmt}"
