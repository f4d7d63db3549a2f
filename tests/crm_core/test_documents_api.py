"""Company details and print forms through the API: admins edit, an invoice's PDF and Word
file hold its data, other teams' invoices are 404 for operators, templates replaced, refused
with 422 naming the template, and reset; the PDF kept on the record as an attachment."""

from __future__ import annotations

import io
import subprocess

import docx
import pytest

from tests.factories import colleagues, loc, make_client

COMPANY = {
    "name": "Ștefănescu & Țurcanu",
    "legal_form": "SRL",
    "tax_id": "RO12345678",
    "registration_no": "J40/1234/2020",
    "address": "Str. Știrbei Vodă 12, București",
    "bank_name": "Banca Transilvania",
    "bank_account": "RO49AAAA1B31007593840000",
    "bank_code": "BTRLRO22",
    "default_currency": "RON",
    "vat_payer": True,
}
LINES = [
    {"description": "Consultanță", "quantity": "3", "unit_price": "33.33",
     "discount_percent": "10", "vat_rate": "21"},
    {"description": "Хлеб", "quantity": "1.5", "unit_price": "19.99", "vat_rate": "11"},
]  # fmt: skip


@pytest.fixture
def people(client):
    return colleagues(
        root=("admin", None),
        boss=("manager", "Sales"),
        ana=("operator", "Sales"),
        vlad=("operator", "Support"),
    )


def pdf_text(pdf: bytes) -> str:
    out = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True)
    return " ".join(out.stdout.decode("utf-8").split())


def issued_invoice(client, headers, client_id) -> dict:
    body = {"client_id": client_id, "currency": "RON", "lines": LINES}
    made = client.post("/api/invoices", json=body, headers=headers)
    assert made.status_code == 201, made.text
    issued = client.post(f"/api/invoices/{made.json()['id']}/issue", headers=headers)
    assert issued.status_code == 200, issued.text
    return issued.json()


def test_company_details_admins_edit_everyone_reads(client, people):
    assert client.put("/api/company", json=COMPANY, headers=people["boss"]).status_code == 403
    saved = client.put("/api/company", json=COMPANY, headers=people["root"])
    assert saved.status_code == 200, saved.text
    got = client.get("/api/company", headers=people["ana"]).json()
    assert got["name"] == "Ștefănescu & Țurcanu" and got["tax_id"] == "RO12345678"
    bad = client.put("/api/company", json={"default_currency": "lei"}, headers=people["root"])
    assert bad.status_code == 422 and loc(bad)[0][-1] == "default_currency"


def test_logo_upload_and_refusal(client, people):
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    up = client.put(
        "/api/company/logo", files={"file": ("l.png", png, "image/png")}, headers=people["root"]
    )
    assert up.status_code == 204, up.text
    assert client.get("/api/company/logo", headers=people["ana"]).content == png
    bad = client.put(
        "/api/company/logo", files={"file": ("x.txt", b"hi", "text/plain")}, headers=people["root"]
    )
    assert bad.status_code == 422 and loc(bad)[0][-1] == "logo"


def test_invoice_pdf_and_docx_hold_the_invoice(client, people):
    client.put("/api/company", json=COMPANY, headers=people["root"])
    buyer = make_client("Ștefan Țurcanu", "Sales")
    inv = issued_invoice(client, people["ana"], buyer)
    pdf = client.get(f"/api/invoices/{inv['id']}/pdf?language=ro", headers=people["ana"])
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == "application/pdf"
    text = pdf_text(pdf.content)
    assert "Factură fiscală" in text and inv["number"] in text
    assert "Ștefănescu & Țurcanu SRL" in text and "Ștefan Țurcanu" in text
    assert "Хлеб" in text and "142,52" not in text
    total = inv["total"].replace(".", ",")
    assert total in text
    word = client.get(f"/api/invoices/{inv['id']}/docx?language=ru", headers=people["ana"])
    assert word.status_code == 200
    document = docx.Document(io.BytesIO(word.content))
    cells = [c.text for t in document.tables for r in t.rows for c in r.cells]
    body = "\n".join([p.text for p in document.paragraphs] + cells)
    assert "Счёт на оплату" in body and inv["number"] in body and total in body
    assert "Ștefănescu & Țurcanu SRL" in body and "Ștefan Țurcanu" in body


def test_proforma_and_act_by_kind(client, people):
    buyer = make_client("Ion Popescu", "Sales")
    inv = issued_invoice(client, people["ana"], buyer)
    act = client.get(f"/api/invoices/{inv['id']}/pdf?kind=act&language=ru", headers=people["ana"])
    assert "Акт выполненных работ" in pdf_text(act.content)
    pro = client.get(
        f"/api/invoices/{inv['id']}/pdf?kind=proforma&language=ro", headers=people["ana"]
    )
    assert "Factură proformă" in pdf_text(pro.content)
    bad = client.get(f"/api/invoices/{inv['id']}/pdf?kind=contract", headers=people["ana"])
    assert bad.status_code == 422


def test_other_teams_invoice_is_404_for_operators(client, people):
    theirs = make_client("Support client", "Support")
    inv = issued_invoice(client, people["vlad"], theirs)
    for fmt in ("pdf", "docx"):
        assert (
            client.get(f"/api/invoices/{inv['id']}/{fmt}", headers=people["ana"]).status_code == 404
        )
        assert (
            client.get(f"/api/invoices/{inv['id']}/{fmt}", headers=people["vlad"]).status_code
            == 200
        )
    assert client.get("/api/invoices/999999/pdf", headers=people["boss"]).status_code == 404


def test_issued_invoice_pdf_kept_once_and_on_request(client, people):
    buyer = make_client("Maria Ionescu", "Sales")
    inv = issued_invoice(client, people["ana"], buyer)
    url = f"/api/invoices/{inv['id']}/pdf"
    client.get(url, headers=people["ana"])
    client.get(url, headers=people["ana"])
    files = client.get(f"/api/clients/{buyer}/attachments", headers=people["ana"]).json()
    pdfs = [f for f in files if f["content_type"] == "application/pdf"]
    assert len(pdfs) == 1 and pdfs[0]["owner_type"] == "invoice"
    client.get(f"/api/invoices/{inv['id']}/docx?keep=1", headers=people["ana"])
    files = client.get(f"/api/clients/{buyer}/attachments", headers=people["ana"]).json()
    assert len(files) == 2
    kept = client.get(f"/api/attachments/{pdfs[0]['id']}/download", headers=people["ana"])
    assert kept.status_code == 200 and kept.content.startswith(b"%PDF")


def test_html_template_replace_preview_refuse_reset(client, people):
    buyer = make_client("Ana Pop", "Sales")
    inv = issued_invoice(client, people["ana"], buyer)
    url = "/api/document-templates/invoice/en/html"
    html = "<html><body><h1>MY FORM {{ doc.number }}</h1>{{ buyer.name }}</body></html>"
    assert client.put(url, json={"html": html}, headers=people["boss"]).status_code == 403
    saved = client.put(url, json={"html": html}, headers=people["root"])
    assert saved.status_code == 200, saved.text
    text = pdf_text(
        client.get(f"/api/invoices/{inv['id']}/pdf?language=en", headers=people["ana"]).content
    )
    assert f"MY FORM {inv['number']}" in text and "Ana Pop" in text
    evil = client.put(url, json={"html": "{{ ''.__class__.__mro__ }}"}, headers=people["root"])
    assert evil.status_code == 422 and loc(evil)[0][-2:] == ["template", "invoice/en/html"]
    huge = client.put(url, json={"html": "{{ 'a' * 100000000 }}"}, headers=people["root"])
    assert huge.status_code == 422 and "invoice/en/html" in huge.text
    preview = client.post(
        "/api/document-templates/invoice/en/preview", json={"html": html}, headers=people["root"]
    )
    assert preview.status_code == 200 and "MY FORM" in pdf_text(preview.content)
    assert client.delete(url, headers=people["root"]).status_code == 204
    text = pdf_text(
        client.get(f"/api/invoices/{inv['id']}/pdf?language=en", headers=people["ana"]).content
    )
    assert "MY FORM" not in text and "Invoice" in text


def test_docx_template_download_upload_reset(client, people):
    url = "/api/document-templates/invoice/ro/docx"
    current = client.get(url, headers=people["root"])
    assert current.status_code == 200 and current.content[:2] == b"PK"
    document = docx.Document()
    document.add_paragraph("Factura mea {{ doc.number }} pentru {{ buyer.name }}")
    buffer = io.BytesIO()
    document.save(buffer)
    up = client.put(url, files={"file": ("mine.docx", buffer.getvalue(), "application/octet-stream")},
                    headers=people["root"])  # fmt: skip
    assert up.status_code == 200, up.text
    listed = client.get("/api/document-templates", headers=people["root"]).json()
    mine = [
        t for t in listed if (t["kind"], t["language"], t["format"]) == ("invoice", "ro", "docx")
    ]
    assert mine[0]["customized"] and mine[0]["filename"] == "mine.docx"
    bad = client.put(
        url, files={"file": ("x.docx", b"plain text", "text/plain")}, headers=people["root"]
    )
    assert bad.status_code == 422
    assert client.delete(url, headers=people["root"]).status_code == 204
    assert client.get(url, headers=people["root"]).content == current.content
