"""Print-form renderers on typed input: the PDF's text (pdftotext) and the Word file
(python-docx) hold the number, both parties and the totals with Ș/Ț and Cyrillic intact; the
total in words; the sandbox refuses internals and unbounded output, naming the template."""

from __future__ import annotations

import io
import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path

import docx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_core.documents.errors import TemplateFailed
from crm_core.documents.render_docx import render_docx
from crm_core.documents.render_pdf import render_html, render_pdf
from crm_core.documents.schemas import DocumentData, DocumentLine, Party, cents
from crm_core.documents.words import amount_in_words

SHIPPED = Path(__file__).resolve().parents[2] / "crm_core" / "documents" / "shipped"
SELLER = Party(
    name="Ștefănescu & Țurcanu",
    legal_form="SRL",
    tax_id="RO12345678",
    registration_no="J40/1234/2020",
    address="Str. Știrbei Vodă 12, București",
    bank_name="Banca Transilvania",
    bank_account="RO49AAAA1B31007593840000",
    bank_code="BTRLRO22",
    kpp="770101001",
)
BUYER = Party(name="ООО «Ромашка»", tax_id="7701234567", address="Москва, ул. Щукинская, 5")


def sample(language: str = "ro", kind: str = "invoice", lines: int = 3) -> DocumentData:
    items = [
        DocumentLine.compute(
            f"Țesătură {i} / Ткань", i, "123.45", vat_rate=21 if i % 2 else 11, unit="buc", number=i
        )
        for i in range(1, lines + 1)
    ]
    return DocumentData(
        kind=kind,
        language=language,
        number="CC-2026-00042",
        issue_date=date(2026, 3, 15),
        due_date=date(2026, 3, 30),
        currency={"ro": "RON", "ru": "RUB", "en": "EUR"}[language],
        seller=SELLER,
        buyer=BUYER,
        lines=items,
    ).with_totals()


def pdf_text(pdf: bytes) -> str:
    out = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True)
    return " ".join(out.stdout.decode("utf-8").split())


def shipped(name: str) -> str:
    return (SHIPPED / name).read_text(encoding="utf-8")


def test_totals_are_sums_of_lines_rounded_half_up():
    data = sample(lines=3)
    # 1 x 123.45 = 123.45, VAT 21% 25.9245 -> 25.92; 2 x 123.45 = 246.90, 11% 27.159 -> 27.16
    # 3 x 123.45 = 370.35, 21% 77.7735 -> 77.77
    assert [line.vat for line in data.lines] == [
        Decimal("25.92"),
        Decimal("27.16"),
        Decimal("77.77"),
    ]
    assert data.net_total == Decimal("740.70")
    assert data.vat_total == Decimal("130.85")
    assert data.total == Decimal("871.55")
    assert cents(Decimal("0.005")) == Decimal("0.01")  # half-up, not banker's rounding


@pytest.mark.parametrize(
    ("language", "title", "words", "total"),
    [
        ("ro", "Factură fiscală", "Opt sute șaptezeci și unu de lei și 55 de bani", "871,55"),
        ("ru", "Счёт на оплату", "Восемьсот семьдесят один рубль 55 копеек", "871,55"),
        ("en", "Invoice", "Eight hundred and seventy-one euro and 55 cents", "871.55"),
    ],
)
def test_invoice_pdf_holds_number_parties_totals(language, title, words, total):
    pdf = render_pdf(shipped("invoice.html"), sample(language), "invoice/ro/html")
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    for expected in (title, "CC-2026-00042", "Ștefănescu & Țurcanu SRL", "ООО «Ромашка»", total):
        assert expected in text
    assert words in text
    assert "Știrbei Vodă" in text and "Щукинская" in text


def test_pdf_footer_states_the_rounding_rule():
    text = pdf_text(render_pdf(shipped("invoice.html"), sample("en"), "invoice/en/html"))
    assert "rounded half-up to the cent" in text and "sums of the lines" in text


@pytest.mark.parametrize(
    ("kind", "name", "title"),
    [("act", "act.html", "Акт выполненных работ"), ("contract", "contract.html", "Договор")],
)
def test_act_and_contract_pdfs(kind, name, title):
    text = pdf_text(render_pdf(shipped(name), sample("ru", kind), f"{kind}/ru/html"))
    assert title in text and "CC-2026-00042" in text
    assert "Исполнитель" in text and "Заказчик" in text


def docx_text(content: bytes) -> str:
    document = docx.Document(io.BytesIO(content))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    parts += [p.text for p in document.sections[0].footer.paragraphs]
    return "\n".join(parts)


@pytest.mark.parametrize("language", ["ro", "ru", "en"])
def test_invoice_docx_holds_number_parties_totals(language):
    content = render_docx((SHIPPED / "invoice.docx").read_bytes(), sample(language), "x")
    text = docx_text(content)
    assert "CC-2026-00042" in text
    assert "Ștefănescu & Țurcanu SRL" in text and "ООО «Ромашка»" in text
    assert ("871,55" if language != "en" else "871.55") in text
    assert "{{" not in text and "{%" not in text
    # the loop made one row per line
    assert "Țesătură 3 / Ткань" in text


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ doc.__class__.__init__.__globals__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    ],
)
def test_sandbox_refuses_python_internals(source):
    with pytest.raises(TemplateFailed) as failed:
        render_html(source, sample(), "invoice/ro/html")
    assert failed.value.loc == ["template", "invoice/ro/html"]


@pytest.mark.parametrize(
    "source",
    [
        "{{ 'a' * 10000000 }}",
        "{% for i in range(3000) %}{{ 'x' * 2000 }}{% endfor %}",
        "{{ 'a'|center(100000000) }}",
        "{{ 9 ** 999999 }}",
    ],
)
def test_sandbox_refuses_unbounded_output(source):
    with pytest.raises(TemplateFailed) as failed:
        render_html(source, sample(), "invoice/en/html")
    assert "invoice/en/html" in failed.value.message


def test_docx_template_in_the_sandbox_too():
    document = docx.Document()
    document.add_paragraph("{{ ''.__class__.__mro__ }}")
    buffer = io.BytesIO()
    document.save(buffer)
    with pytest.raises(TemplateFailed):
        render_docx(buffer.getvalue(), sample(), "invoice/ro/docx")
    with pytest.raises(TemplateFailed):
        render_docx(b"not a zip", sample(), "invoice/ro/docx")


@pytest.mark.parametrize(
    ("amount", "currency", "language", "expected"),
    [
        ("123.45", "RON", "ro", "O sută douăzeci și trei de lei și 45 de bani"),
        ("1.01", "RON", "ro", "Un leu și 1 ban"),
        ("19.00", "RON", "ro", "Nouăsprezece lei"),
        ("123.45", "RUB", "ru", "Сто двадцать три рубля 45 копеек"),
        ("21.00", "RUB", "ru", "Двадцать один рубль 00 копеек"),
        ("1000000.99", "RUB", "ru", "Один миллион рублей 99 копеек"),
        ("123.45", "EUR", "en", "One hundred and twenty-three euro and 45 cents"),
        ("2.00", "USD", "en", "Two dollars"),
    ],
)
def test_total_in_words(amount, currency, language, expected):
    assert amount_in_words(Decimal(amount), currency, language) == expected


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.decimals("0.001", "1000", places=3),
            st.decimals("0", "100000", places=2),
            st.sampled_from(["0", "11", "21", "22", "10"]),
            st.decimals("0", "100", places=2),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_totals_are_exact_sums_of_rounded_lines(rows):
    lines = [
        DocumentLine.compute("x", q, p, vat_rate=r, discount_percent=d, number=i)
        for i, (q, p, r, d) in enumerate(rows, 1)
    ]
    data = DocumentData(
        number="1", issue_date=date(2026, 1, 1), seller=SELLER, buyer=BUYER, lines=lines
    ).with_totals()
    for line, (q, p, _rate, d) in zip(lines, rows, strict=True):
        exact_net = q * p * (100 - d) / 100
        assert abs(line.net - exact_net) <= Decimal("0.005")
        assert line.net == line.net.quantize(Decimal("0.01"))
    assert data.total == sum(line.net + line.vat for line in lines)
    assert data.vat_total == sum(g.vat for g in data.vat_groups)
