"""Build the shipped Word templates (``shipped/*.docx``) with python-docx.

Run ``python -m crm_core.documents.make_shipped`` after changing this file; the .docx files
are committed. Placeholders are docxtpl's Jinja (``{{ doc.number }}``, ``{%tr for ... %}``
rows); the words come from ``L`` (crm_core/documents/labels.py) so one file serves en/ro/ru.
"""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Mm, Pt

SHIPPED = Path(__file__).resolve().parent / "shipped"

PARTY = [
    "{{ p.full_name }}",
    "{% if p.tax_id %}{{ L.tax_id }}: {{ p.tax_id }}{% endif %}"
    "{% if p.kpp and L.kpp %}, {{ L.kpp }}: {{ p.kpp }}{% endif %}",
    "{% if p.registration_no %}{{ L.registration_no }}: {{ p.registration_no }}{% endif %}",
    "{% if p.address %}{{ L.address }}: {{ p.address }}{% endif %}",
    "{% if p.bank_account %}{{ L.account }}: {{ p.bank_account }}{% endif %}",
    "{% if p.bank_name %}{{ L.bank }}: {{ p.bank_name }} {{ p.bank_code }}{% endif %}",
]


def _document() -> Document:
    document = Document()
    section = document.sections[0]
    section.page_height, section.page_width = Mm(297), Mm(210)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(15))
    style = document.styles["Normal"]
    style.font.name = "DejaVu Sans"
    style.font.size = Pt(9)
    footer = section.footer.paragraphs[0]
    footer.text = "{{ doc.rounding_rule }}"
    footer.runs[0].font.size = Pt(7)
    return document


def _parties(document: Document) -> None:
    table = document.add_table(rows=1, cols=2)
    table.style = "Table Grid"
    for cell, (role, var) in zip(
        table.rows[0].cells, (("L.seller", "seller"), ("L.buyer", "buyer")), strict=True
    ):
        cell.paragraphs[0].add_run("{{ " + role + " }}").bold = True
        for line in PARTY:
            cell.add_paragraph(line.replace("p.", f"{var}."))


def _lines(document: Document, vat: bool = True) -> None:
    heads = ["col_no", "col_description", "col_unit", "col_quantity", "col_price", "col_net"]
    cells = ["number", "description", "unit", "quantity", "unit_price", "net"]
    if vat:
        heads += ["col_vat_rate", "col_vat"]
        cells += ["vat_rate", "vat"]
    heads.append("col_gross")
    cells.append("gross")
    table = document.add_table(rows=3, cols=len(heads))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, key in zip(table.rows[0].cells, heads, strict=True):
        cell.paragraphs[0].add_run("{{ L." + key + " }}").bold = True
    row = table.rows[1].cells
    row[0].text = "{%tr for line in lines %}"
    for cell, key in zip(table.rows[2].cells, cells, strict=True):
        cell.text = "{{ line." + key + " }}"
    table.add_row().cells[0].text = "{%tr endfor %}"
    # the loop rows: the tags row, the values row, the closing row
    values = table.rows[2]
    table._tbl.remove(values._tr)
    table._tbl.insert(table._tbl.index(table.rows[1]._tr) + 1, values._tr)


def _totals(document: Document) -> None:
    for text in (
        "{{ L.net_total }}: {{ doc.net_total }} {{ doc.currency_label }}",
        "{% if seller.vat_payer %}{{ L.vat_total }}: {{ doc.vat_total }} "
        "{{ doc.currency_label }}{% else %}{{ L.no_vat }}{% endif %}",
    ):
        document.add_paragraph(text).alignment = WD_ALIGN_PARAGRAPH.RIGHT
    grand = document.add_paragraph()
    grand.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    grand.add_run("{{ L.total }}: {{ doc.total }} {{ doc.currency_label }}").bold = True
    document.add_paragraph("{{ L.in_words }}: {{ doc.total_in_words }}")


def build_invoice() -> Document:
    document = _document()
    document.add_heading(
        "{{ doc.title }} {{ L.number }} {{ doc.series }}{{ doc.number }} "
        "{{ L.dated }} {{ doc.issue_date }}",
        level=1,
    )
    document.add_paragraph(
        "{% if doc.due_date %}{{ L.due_date }}: {{ doc.due_date }}{% endif %}"
        "{% if doc.reference %} · {{ L.reference }}: {{ doc.reference }}{% endif %}"
    )
    _parties(document)
    document.add_paragraph()
    _lines(document)
    _totals(document)
    document.add_paragraph("{% if doc.notes %}{{ L.notes }}: {{ doc.notes }}{% endif %}")
    document.add_paragraph()
    document.add_paragraph(
        "{{ L.seller_signature }} ____________ {{ seller.director }}"
        "          {{ L.buyer_signature }} ____________"
    )
    return document


def build_act() -> Document:
    document = _document()
    document.add_heading(
        "{{ doc.title }} {{ L.number }} {{ doc.number }} {{ L.dated }} {{ doc.issue_date }}",
        level=1,
    )
    _parties(document)
    document.add_paragraph()
    _lines(document)
    _totals(document)
    document.add_paragraph("{{ doc.items_count }}")
    document.add_paragraph("{{ L.act_statement }}")
    document.add_paragraph()
    document.add_paragraph(
        "{{ L.seller }}: ____________ {{ seller.director }}          {{ L.buyer }}: ____________"
    )
    return document


def build_contract() -> Document:
    document = _document()
    heading = document.add_heading(
        "{{ doc.title }} {{ L.number }} {{ doc.series }}{{ doc.number }}", level=1
    )
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    document.add_paragraph(
        "{{ L.dated }} {{ doc.issue_date }}"
    ).alignment = WD_ALIGN_PARAGRAPH.CENTER
    document.add_paragraph("{{ L.contract_parties }}")
    document.add_heading("1. {{ L.contract_subject }}", level=2)
    _lines(document)
    document.add_heading("2. {{ L.contract_value }}", level=2)
    document.add_paragraph("{{ doc.total }} {{ doc.currency_label }} ({{ doc.total_in_words }})")
    document.add_heading("3. {{ L.contract_terms }}", level=2)
    document.add_paragraph("{{ doc.terms }}")
    document.add_heading("{{ L.contract_details }}", level=2)
    _parties(document)
    return document


def main() -> None:
    for name, build in (
        ("invoice", build_invoice),
        ("act", build_act),
        ("contract", build_contract),
    ):
        build().save(SHIPPED / f"{name}.docx")


if __name__ == "__main__":
    main()
