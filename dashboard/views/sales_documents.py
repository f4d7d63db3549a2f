"""``/admin/company`` (company details and logo), ``/admin/document-templates`` (print-form
templates: download, replace, edit HTML with a PDF preview, reset) and ``/reports/sales``
(sales by period, operator, product and client; debts by age; XLSX export).

Changes go through the JSON API of :mod:`crm_core.documents.api` (sales_documents.js)."""

from __future__ import annotations

import json
from io import BytesIO
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from markupsafe import Markup
from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy.orm import Session

from crm_core.auth.principal import Principal
from crm_core.database import request_session
from crm_core.documents import service as documents
from crm_core.documents.models import DOCUMENT_KINDS, LANGUAGES
from crm_core.errors import Invalid
from crm_core.invoices.service import today as ledger_today
from dashboard import i18n, sales_reports
from dashboard.i18n import _, lazy
from dashboard.views.common import forbidden_page, page_user, render

router = APIRouter(include_in_schema=False)

KIND_LABELS = {
    "invoice": lazy("Invoice"),
    "proforma": lazy("Proforma invoice"),
    "credit_note": lazy("Credit note"),
    "contract": lazy("Contract"),
    "act": lazy("Act of completed work"),
    "order_confirmation": lazy("Order confirmation"),
}
JS_TEXT = {
    "saved": lazy("Saved"),
    "error": lazy("Something went wrong"),
    "uploaded": lazy("Uploaded"),
    "reset_done": lazy("Reset to the shipped template"),
    "confirm_reset": lazy("Replace your template with the shipped one?"),
    "confirm_logo": lazy("Delete the logo?"),
    "logo_deleted": lazy("Logo deleted"),
    "loading": lazy("Loading…"),
}


def _page_text() -> Markup:
    data = {key: _(text) for key, text in JS_TEXT.items()}
    return Markup(json.dumps(data, ensure_ascii=False).replace("</", "<\\/"))


# --- company ------------------------------------------------------------------------------


def company_fields() -> list[tuple[str, str, str, int]]:
    """(field, label, input type, max length) of the company form, in the API's order."""
    return [
        ("name", _("Company name"), "text", 200),
        ("legal_form", _("Legal form (SRL, ООО, Ltd)"), "text", 40),
        ("tax_id", _("Tax ID (CUI, ИНН, VAT no.)"), "text", 40),
        ("kpp", _("KPP (Russia)"), "text", 20),
        ("registration_no", _("Registration number (Nr. Reg. Com., ОГРН)"), "text", 60),
        ("address", _("Address"), "text", 400),
        ("bank_name", _("Bank"), "text", 200),
        ("bank_account", _("Bank account (IBAN)"), "text", 60),
        ("bank_code", _("Bank code (BIC, SWIFT, БИК)"), "text", 40),
        ("correspondent_account", _("Correspondent account"), "text", 40),
        ("phone", _("Phone"), "tel", 60),
        ("email", _("E-mail"), "email", 200),
        ("director", _("Director"), "text", 200),
        ("accountant", _("Accountant"), "text", 200),
    ]


@router.get("/admin/company")
def company_page(request: Request, user: Principal = Depends(page_user), db=request_session):
    if user.role != "admin":
        return forbidden_page(request, user)
    company = documents.get_company(db)
    return render(
        request,
        "sales/company.html",
        {
            "title": _("Company details"),
            "company": company,
            "fields": company_fields(),
            "page_text": _page_text(),
        },
        user=user,
    )


# --- templates ----------------------------------------------------------------------------


@router.get("/admin/document-templates")
def templates_page(request: Request, user: Principal = Depends(page_user), db=request_session):
    if user.role != "admin":
        return forbidden_page(request, user)
    listed = {(t["kind"], t["language"], t["format"]): t for t in documents.list_templates(db)}
    kind = request.query_params.get("kind", "invoice")
    language = request.query_params.get("language", user.language or "en")
    kind = kind if kind in DOCUMENT_KINDS else "invoice"
    language = language if language in LANGUAGES else "en"
    html = documents.template_source(db, kind, language, "html").decode("utf-8")
    return render(
        request,
        "sales/document_templates.html",
        {
            "title": _("Print-form templates"),
            "kinds": DOCUMENT_KINDS,
            "languages": LANGUAGES,
            "kind_labels": {k: _(v) for k, v in KIND_LABELS.items()},
            "listed": listed,
            "edit_kind": kind,
            "edit_language": language,
            "edit_html": html,
            "page_text": _page_text(),
        },
        user=user,
    )


# --- sales reports ------------------------------------------------------------------------

TABLES = ("period", "operator", "product", "client", "debts")


def _money(value) -> str:
    return i18n.format_number(value, 2)


def _period_label(row: dict[str, Any], monthly: bool) -> str:
    return i18n.format_date(row["start"], "LLLL y") if monthly else i18n.format_date(row["start"])


def _resolve(params) -> tuple[sales_reports.SalesPeriod, str]:
    today = ledger_today()
    try:
        period = sales_reports.resolve_period(
            params.get("period"), today, params.get("from"), params.get("to")
        )
        return period, ""
    except Invalid:
        error = _("Choose a valid period: the end date not before the start, at most 3 years.")
        return sales_reports.resolve_period(None, today), error


def _sheet(wb: Workbook, title: str, headers: list[str], rows: list[list[Any]], money_cols):
    ws = wb.create_sheet(title[:31])
    ws.append(headers)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(row)
    for col in money_cols:
        for (cell,) in ws.iter_rows(min_row=2, min_col=col, max_col=col):
            cell.number_format = "#,##0.00"
    for i, header in enumerate(headers, start=1):
        ws.column_dimensions[ws.cell(1, i).column_letter].width = max(12, len(header) + 2)


def xlsx_table(table: str, report: dict, period: sales_reports.SalesPeriod) -> bytes:
    """One table of the report as a workbook; amounts are numbers with 2 decimals."""
    wb = Workbook()
    wb.remove(wb.active)
    cur, total = _("Currency"), _("Total")
    if table == "period":
        rows = [
            [r["start"], r["end"], r["currency"], r["invoices"], r["net"], r["vat"], r["total"]]
            for r in report["by_period"]
        ]
        heads = [_("From"), _("To"), cur, _("Invoices"), _("Net"), _("VAT"), total]
        _sheet(wb, _("Sales by period"), heads, rows, (5, 6, 7))
    elif table == "operator":
        rows = [
            [r["name"] or _("Nobody"), r["currency"], r["invoices"], r["total"]]
            for r in report["by_operator"]
        ]
        heads = [_("Operator"), cur, _("Invoices"), total]
        _sheet(wb, _("Sales by operator"), heads, rows, (4,))
    elif table == "product":
        rows = [
            [
                r["name"] or _("Free-text lines"),
                r["sku"],
                r["currency"],
                r["quantity"],
                r["net"],
                r["total"],
            ]  # fmt: skip
            for r in report["by_product"]
        ]
        heads = [_("Product"), _("SKU"), cur, _("Quantity"), _("Net"), total]
        _sheet(wb, _("Sales by product"), heads, rows, (5, 6))
    elif table == "client":
        rows = [
            [r["name"], r["currency"], r["invoices"], r["total"], r["paid"], r["balance"]]
            for r in report["by_client"]
        ]
        heads = [_("Client"), cur, _("Invoices"), total, _("Paid"), _("Outstanding")]
        _sheet(wb, _("Sales by client"), heads, rows, (4, 5, 6))
    else:
        keys = [*sales_reports.AGE_BUCKETS, "total"]
        heads = [_("Client"), cur, *age_labels().values(), total]
        rows = [
            [r["name"], r["currency"], *(r[k] for k in keys)] for r in report["debts"]["clients"]
        ]
        rows += [[total, r["currency"], *(r[k] for k in keys)] for r in report["debts"]["totals"]]
        _sheet(wb, _("Debts by age"), heads, rows, range(3, 3 + len(keys)))
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def age_labels() -> dict[str, str]:
    return {
        "not_due": _("Not due"),
        "d0_30": _("0–30 days"),
        "d31_60": _("31–60 days"),
        "d61_90": _("61–90 days"),
        "d90_plus": _("Over 90 days"),
    }


@router.get("/reports/sales")
def sales_report_page(
    request: Request, user: Principal = Depends(page_user), db: Session = request_session
):
    if user.role not in ("admin", "manager"):
        return forbidden_page(request, user)
    params = request.query_params
    period, error = _resolve(params)
    today = ledger_today()
    report = sales_reports.sales_report(db, user, period, today)
    query = {"period": period.key}
    if period.key == "custom":
        query.update({"from": period.first_day.isoformat(), "to": period.last_day.isoformat()})
    table = params.get("table", "")
    if params.get("export") == "xlsx":
        if table not in TABLES:
            error = _("Choose a table to export.")
        else:
            name = f"sales-{table}-{period.first_day}-{period.last_day}.xlsx"
            return Response(
                xlsx_table(table, report, period),
                media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                headers={"Content-Disposition": f'attachment; filename="{name}"'},
            )
    for row in report["by_period"]:
        row["label"] = _period_label(row, period.monthly)
    return render(
        request,
        "sales/sales_reports.html",
        {
            "title": _("Sales reports"),
            "period": period,
            "report": report,
            "error": error,
            "query": query,
            "today": today,
            "age_labels": age_labels(),
            "money": _money,
        },
        user=user,
    )
