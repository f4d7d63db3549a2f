"""The reports as XLSX workbooks (openpyxl), headers in the reader's language."""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from dashboard.i18n import _


def _call_headers() -> list[str]:
    return [
        _("Calls"),
        _("Answered"),
        _("Missed"),
        _("Abandoned"),
        _("Service level"),
        _("Average wait (s)"),
        _("Average talk (s)"),
    ]


def _call_values(row: dict[str, Any]) -> list[Any]:
    return [
        row["calls"],
        row["answered"],
        row["missed"],
        row["abandoned"],
        row["service_level"],
        row["avg_wait"],
        row["avg_talk"],
    ]


def _sheet(wb: Workbook, title: str, headers: list[str], rows: list[list[Any]]) -> None:
    ws = wb.create_sheet(title[:31])
    ws.append(headers)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(row)
    for i, header in enumerate(headers, start=1):
        ws.column_dimensions[ws.cell(1, i).column_letter].width = max(12, len(header) + 2)


def _unnamed(name: str | None, fallback: str) -> str:
    return name if name else fallback


def add_calls(wb: Workbook, report: dict[str, Any]) -> None:
    heads = _call_headers()
    _sheet(
        wb, _("Days"), [_("Day"), *heads], [[r["day"], *_call_values(r)] for r in report["days"]]
    )
    _sheet(
        wb,
        _("Hours"),
        [_("Hour"), *heads],
        [[f"{r['hour']:02d}:00", *_call_values(r)] for r in report["hours"]],
    )
    _sheet(
        wb,
        _("Operators"),
        [_("Operator"), *heads],
        [[_unnamed(r["name"], _("Not answered")), *_call_values(r)] for r in report["operators"]],
    )
    _sheet(
        wb,
        _("Queues"),
        [_("Queue"), *heads],
        [[r["queue"] or _("No queue"), *_call_values(r)] for r in report["queues"]],
    )


def add_csat(wb: Workbook, report: dict[str, Any]) -> None:
    heads = [_("Ratings"), _("Average rating"), _("CSAT")]

    def values(r: dict[str, Any]) -> list[Any]:
        return [r["responses"], r["average"], r["csat"]]

    _sheet(
        wb,
        _("CSAT by operator"),
        [_("Operator"), *heads],
        [[_unnamed(r["name"], _("Nobody")), *values(r)] for r in report["operators"]],
    )
    _sheet(
        wb,
        _("CSAT by team"),
        [_("Team"), *heads],
        [[_unnamed(r["name"], _("No team")), *values(r)] for r in report["teams"]],
    )
    rows = [
        [d["day"], _unnamed(t["name"], _("No team")), *values(d)]
        for t in report["trend"]
        for d in t["days"]
        if d["responses"]
    ]
    _sheet(wb, _("CSAT trend"), [_("Day"), _("Team"), *heads], rows)


def add_tasks(wb: Workbook, report: dict[str, Any]) -> None:
    _sheet(
        wb,
        _("Tasks"),
        [_("Employee"), _("Done"), _("Overdue")],
        [
            [_unnamed(r["name"], _("Not assigned")), r["done"], r["overdue"]]
            for r in report["people"]
        ],
    )


def add_sales(wb: Workbook, sales: list[dict[str, Any]]) -> None:
    _sheet(
        wb,
        _("Sales"),
        [_("Currency"), _("Invoices"), _("Invoiced"), _("Paid")],
        [[s["currency"], s["invoices"], Decimal(s["total"]), Decimal(s["paid"])] for s in sales],
    )


def workbook_bytes(*parts: tuple[Any, Any]) -> bytes:
    """``parts``: (add function, report) pairs, written in order into one workbook."""
    wb = Workbook()
    wb.remove(wb.active)
    for add, report in parts:
        add(wb, report)
    out = BytesIO()
    wb.save(out)
    return out.getvalue()
