"""Company details, print-form templates and the print forms of invoices, orders, contracts.

``GET /api/invoices/{id}/pdf|docx`` (``?kind=proforma|act|credit_note``, ``?language=``,
``?keep=1``), the same under ``/api/orders`` and ``/api/contracts``: rights as the record
(another team's record: 404). See :mod:`crm_core.documents.keep` for when the file is kept."""

from __future__ import annotations

from typing import Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from crm_core.apitypes import ERROR_RESPONSES, RowId
from crm_core.attachments.api import UPLOAD_BODY, receive_file
from crm_core.auth.deps import admins, staff
from crm_core.auth.principal import Principal
from crm_core.database import request_session
from crm_core.documents import keep, service, sources
from crm_core.documents.render_docx import DOCX_TYPE
from crm_core.documents.schemas import (
    CompanyIn,
    CompanyOut,
    HtmlTemplateIn,
    Kind,
    Language,
    TemplateOut,
)
from crm_core.errors import NotFound

router = APIRouter(responses=ERROR_RESPONSES)
Format = Literal["pdf", "docx"]
TemplateFormat = Literal["html", "docx"]
CONTENT_TYPES = {"pdf": "application/pdf", "docx": DOCX_TYPE, "html": "text/html; charset=utf-8"}


def _company_out(db: Session) -> CompanyOut:
    company = service.get_company(db)
    out = CompanyOut.model_validate(company)
    return out.model_copy(update={"has_logo": bool(company.logo)})


@router.get("/company", response_model=CompanyOut, tags=["company"], summary="Company details")
def get_company(_: Principal = Depends(staff), db: Session = request_session):
    return _company_out(db)


@router.put("/company", response_model=CompanyOut, tags=["company"], summary="Change them")
def put_company(body: CompanyIn, actor: Principal = Depends(admins), db: Session = request_session):
    service.update_company(db, actor, body.model_dump(exclude_unset=True))
    return _company_out(db)


@router.get("/company/logo", tags=["company"], summary="The logo image")
def get_logo(_: Principal = Depends(staff), db: Session = request_session):
    company = service.get_company(db)
    if not company.logo:
        raise NotFound("no logo")
    return Response(company.logo, media_type=company.logo_content_type)


@router.put("/company/logo", tags=["company"], status_code=204, openapi_extra=UPLOAD_BODY)
async def put_logo(
    request: Request, actor: Principal = Depends(admins), db: Session = request_session
) -> None:
    """Upload the logo (PNG, JPEG, GIF, WebP or SVG, at most 512 KB) as multipart ``file``."""
    _, content_type, sink = await receive_file(request)
    try:
        sink.close()
        content = sink.path.read_bytes()
    finally:
        sink.discard()
    service.set_logo(db, actor, content, content_type or "")


@router.delete("/company/logo", tags=["company"], status_code=204)
def delete_logo(actor: Principal = Depends(admins), db: Session = request_session) -> None:
    service.remove_logo(db, actor)


# --- templates ----------------------------------------------------------------------------

TEMPLATE_PATH = "/document-templates/{kind}/{language}/{fmt}"


@router.get("/document-templates", response_model=list[TemplateOut], tags=["print forms"])
def list_templates(_: Principal = Depends(admins), db: Session = request_session):
    return service.list_templates(db)


@router.get(TEMPLATE_PATH, tags=["print forms"], summary="Download the current template")
def download_template(
    kind: Kind,
    language: Language,
    fmt: TemplateFormat,
    _: Principal = Depends(admins),
    db: Session = request_session,
):
    content = service.template_source(db, kind, language, fmt)
    name = f"{kind}-{language}.{fmt}"
    return Response(
        content,
        media_type=CONTENT_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.put("/document-templates/{kind}/{language}/html", tags=["print forms"])
def put_html_template(
    kind: Kind,
    language: Language,
    body: HtmlTemplateIn,
    actor: Principal = Depends(admins),
    db: Session = request_session,
) -> dict:
    """Replace the HTML (PDF) template; it must render with sample data (422 naming it)."""
    service.save_template(db, actor, kind, language, "html", body.html.encode("utf-8"))
    return {"saved": True}


@router.put(
    "/document-templates/{kind}/{language}/docx", tags=["print forms"], openapi_extra=UPLOAD_BODY
)
async def put_docx_template(
    kind: Kind,
    language: Language,
    request: Request,
    actor: Principal = Depends(admins),
    db: Session = request_session,
) -> dict:
    """Upload a replacement Word template (multipart ``file``)."""
    filename, _, sink = await receive_file(request)
    try:
        sink.close()
        content = sink.path.read_bytes()
    finally:
        sink.discard()
    service.save_template(db, actor, kind, language, "docx", content, filename or "")
    return {"saved": True}


@router.delete(TEMPLATE_PATH, tags=["print forms"], status_code=204, summary="Reset to shipped")
def reset_template(
    kind: Kind,
    language: Language,
    fmt: TemplateFormat,
    actor: Principal = Depends(admins),
    db: Session = request_session,
) -> None:
    service.reset_template(db, actor, kind, language, fmt)


@router.post("/document-templates/{kind}/{language}/preview", tags=["print forms"])
def preview_template(
    kind: Kind,
    language: Language,
    body: HtmlTemplateIn,
    _: Principal = Depends(admins),
    db: Session = request_session,
):
    """An unsaved HTML template rendered with sample data, as PDF."""
    return Response(
        service.preview_pdf(db, kind, language, body.html), media_type="application/pdf"
    )


# --- the print forms of records -----------------------------------------------------------

SOURCES = {
    "invoice": sources.invoice_document,
    "order": sources.order_document,
    "contract": sources.contract_document,
}


def _status_of(db: Session, owner_type: str, owner_id: int) -> tuple[int, str]:
    model = {
        "invoice": "crm_core.invoices.models:Invoice",
        "order": "crm_core.orders.models:Order",
        "contract": "crm_core.contracts.models:Contract",
    }[owner_type]
    module, name = model.split(":")
    import importlib

    row = db.get(getattr(importlib.import_module(module), name), owner_id)
    return row.client_id, getattr(row, "status", "")


def print_form(
    db: Session,
    actor: Principal,
    owner_type: str,
    owner_id: int,
    fmt: str,
    kind: str | None,
    language: str | None,
    keep_it: bool,
) -> Response:
    data = SOURCES[owner_type](db, actor, owner_id, language, kind)
    content = service.render_document(db, data, fmt)
    filename = service.filename_for(data, fmt)
    client_id, status = _status_of(db, owner_type, owner_id)
    auto = fmt == "pdf" and data.kind in ("invoice", "credit_note")
    if keep_it or (auto and keep.should_keep_issued(db, owner_type, owner_id, status)):
        keep.keep_file(
            db,
            actor,
            owner_type=owner_type,
            owner_id=owner_id,
            client_id=client_id,
            filename=filename,
            content_type=CONTENT_TYPES[fmt],
            content=content,
        )
    return Response(
        content,
        media_type=CONTENT_TYPES[fmt],
        headers={"Content-Disposition": f"inline; filename*=UTF-8''{quote(filename)}"},
    )


def _fmt(request: Request) -> str:
    return request.url.path.rsplit("/", 1)[-1]


KindQuery = Query(None, description="invoice (default), proforma, act, credit_note")
LanguageQuery = Query(None, description="en, ro or ru; default: the client's language")
KeepQuery = Query(False, alias="keep", description="keep the file on the record")


@router.get("/invoices/{invoice_id}/pdf", tags=["print forms"], response_class=Response)
@router.get("/invoices/{invoice_id}/docx", tags=["print forms"], response_class=Response)
def invoice_print_form(
    invoice_id: RowId,
    request: Request,
    kind: Kind | None = KindQuery,
    language: Language | None = LanguageQuery,
    keep_it: bool = KeepQuery,
    actor: Principal = Depends(staff),
    db: Session = request_session,
) -> Response:
    """The invoice (or credit note) as PDF or Word; ``?kind=proforma`` or ``act`` too."""
    return print_form(db, actor, "invoice", invoice_id, _fmt(request), kind, language, keep_it)


@router.get("/orders/{order_id}/pdf", tags=["print forms"], response_class=Response)
@router.get("/orders/{order_id}/docx", tags=["print forms"], response_class=Response)
def order_print_form(
    order_id: RowId,
    request: Request,
    kind: Kind | None = Query(None, description="order_confirmation (default), proforma, act"),
    language: Language | None = LanguageQuery,
    keep_it: bool = KeepQuery,
    actor: Principal = Depends(staff),
    db: Session = request_session,
) -> Response:
    """The order's confirmation (or proforma, act) as PDF or Word."""
    return print_form(db, actor, "order", order_id, _fmt(request), kind, language, keep_it)


@router.get("/contracts/{contract_id}/pdf", tags=["print forms"], response_class=Response)
@router.get("/contracts/{contract_id}/docx", tags=["print forms"], response_class=Response)
def contract_print_form(
    contract_id: RowId,
    request: Request,
    language: Language | None = LanguageQuery,
    keep_it: bool = KeepQuery,
    actor: Principal = Depends(staff),
    db: Session = request_session,
) -> Response:
    """The contract as PDF or Word."""
    return print_form(db, actor, "contract", contract_id, _fmt(request), None, language, keep_it)
