"""What a template sees: the document's data as plain, already formatted values.

Templates get strings (``"1.234,56"`` in Romanian, ``"1 234,56"`` in Russian, ``"1,234.56"``
in English) and plain dicts, never our objects: less for a sandboxed template to reach, and
the same values in the HTML and the Word forms."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from crm_core.documents.labels import labels
from crm_core.documents.schemas import DocumentData, Party

_SEPARATORS = {"en": (",", "."), "ro": (".", ","), "ru": ("\u00a0", ",")}
_MONTHS_EN = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
CURRENCY_SIGNS = {
    "ro": {"RON": "lei", "MDL": "lei"},
    "ru": {"RUB": "руб.", "RON": "лей", "MDL": "лей"},
}


def fmt_money(value: Decimal, language: str) -> str:
    thousands, decimal = _SEPARATORS.get(language, _SEPARATORS["en"])
    text = f"{Decimal(value):,.2f}"
    return text.replace(",", "\x00").replace(".", decimal).replace("\x00", thousands)


def fmt_quantity(value: Decimal, language: str) -> str:
    text = f"{Decimal(value).normalize():f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", _SEPARATORS.get(language, _SEPARATORS["en"])[1])


def fmt_rate(value: Decimal, language: str) -> str:
    return f"{fmt_quantity(value, language)}%"


def fmt_date(value: date | None, language: str) -> str:
    if value is None:
        return ""
    if language == "en":
        return f"{value.day} {_MONTHS_EN[value.month - 1]} {value.year}"
    return value.strftime("%d.%m.%Y")


def currency_label(currency: str, language: str) -> str:
    return CURRENCY_SIGNS.get(language, {}).get(currency, currency)


def party_dict(party: Party) -> dict[str, Any]:
    values = party.model_dump()
    values["full_name"] = party.full_name
    return values


def build_context(data: DocumentData) -> dict[str, Any]:
    lang = data.language
    money = lambda v: fmt_money(v, lang)  # noqa: E731 - a short local formatter
    words = labels(lang, data.kind)
    cur = currency_label(data.currency, lang)
    lines = [
        {
            "number": line.number,
            "description": line.description,
            "sku": line.sku,
            "quantity": fmt_quantity(line.quantity, lang),
            "unit": line.unit,
            "unit_price": money(line.unit_price),
            "discount": fmt_rate(line.discount_percent, lang) if line.discount_percent else "",
            "vat_rate": fmt_rate(line.vat_rate, lang),
            "net": money(line.net),
            "vat": money(line.vat),
            "gross": money(line.gross),
        }
        for line in data.lines
    ]
    total_text = f"{money(data.total)} {cur}"
    doc = {
        "kind": data.kind,
        "language": lang,
        "title": words["title"],
        "number": data.number,
        "series": data.series,
        "issue_date": fmt_date(data.issue_date, lang),
        "due_date": fmt_date(data.due_date, lang),
        "delivery_date": fmt_date(data.delivery_date, lang),
        "valid_until": fmt_date(data.valid_until, lang),
        "currency": data.currency,
        "currency_label": cur,
        "net_total": money(data.net_total),
        "vat_total": money(data.vat_total),
        "total": money(data.total),
        "paid": money(data.paid),
        "balance": money(data.balance),
        "has_payments": data.paid != 0,
        "has_discount": any(line.discount_percent for line in data.lines),
        "vat_groups": [
            {"rate": fmt_rate(g.rate, lang), "net": money(g.net), "vat": money(g.vat)}
            for g in data.vat_groups
        ],
        "total_in_words": data.total_in_words,
        "items_count": words["items_count"] % {"count": len(lines), "total": total_text},
        "reference": data.reference,
        "notes": data.notes,
        "terms": data.terms,
        "rounding_rule": words["rounding_rule"],
        "line_count": len(lines),
    }
    seller, buyer = party_dict(data.seller), party_dict(data.buyer)
    parties = words["contract_parties"] % {
        "seller": seller["full_name"],
        "buyer": buyer["full_name"],
    }
    return {
        "doc": doc,
        "seller": seller,
        "buyer": buyer,
        "lines": lines,
        "L": {**words, "contract_parties": parties},
        "lang": lang,
    }
