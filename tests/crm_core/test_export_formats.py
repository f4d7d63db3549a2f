"""Every export format read back with the library that reads it; vCard 4.0 via vobject;
the fast phone and e-mail checks of the import agree with the clients API."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import colleagues

DATA = Path(__file__).resolve().parent.parent / "data" / "exchange"
NAMES = {"Ștefan Țurcanu", "Анна Петрова", "Ion Rusu", "Brutăria SRL"}


@pytest.fixture
def boss(client):
    made = colleagues(boss=("manager", "Sales"), ana=("operator", "Sales"))
    upload = (DATA / "clients.xlsx").read_bytes()
    r = client.post(
        "/api/import/clients",
        files={"file": ("clients.xlsx", upload, "application/octet-stream")},
        headers=made["boss"],
    )
    assert r.status_code == 200, r.text
    return made


def export(client, headers, fmt: str, kind: str = "clients", **params) -> bytes:
    r = client.get(f"/api/export/{kind}", params={"format": fmt, **params}, headers=headers)
    assert r.status_code == 200, r.text
    return r.content


def test_csv_xml_and_html(client, boss):
    rows = list(csv.reader(io.StringIO(export(client, boss["boss"], "csv").decode("utf-8-sig"))))
    names = {row[rows[0].index("display_name")] for row in rows[1:]}
    assert names == NAMES
    root = ET.fromstring(export(client, boss["boss"], "xml"))
    shown = {f.text for f in root.iter("field") if f.get("name") == "display_name"}
    assert root.get("kind") == "clients" and shown == NAMES
    html = export(client, boss["boss"], "html").decode()
    assert "<table>" in html and "Ștefan Țurcanu" in html and 'scope="col"' in html
    only = export(client, boss["boss"], "csv", city="Москва").decode("utf-8-sig")
    assert "Анна" in only and "Ștefan" not in only  # the list's filters apply


def test_xlsx_ods_and_docx(client, boss):
    from docx import Document
    from odf.opendocument import load
    from odf.table import TableRow
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(export(client, boss["boss"], "xlsx"))).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert {row[values[0].index("display_name")] for row in values[1:]} == NAMES
    doc = load(io.BytesIO(export(client, boss["boss"], "ods")))
    rows = doc.spreadsheet.getElementsByType(TableRow)
    assert len(rows) == 5 and "Анна Петрова" in str(rows[2]) + str(rows[3]) + str(rows[1])
    document = Document(io.BytesIO(export(client, boss["boss"], "docx")))
    table = document.tables[0]
    header = [c.text for c in table.rows[0].cells]
    column = header.index("display_name")
    assert {r.cells[column].text for r in table.rows[1:]} == NAMES


def test_vcard_4_0_reads_back_with_vobject(client, boss):
    import vobject

    text = export(client, boss["boss"], "vcf").decode()
    cards = {c.fn.value: c for c in vobject.readComponents(text)}
    assert set(cards) == NAMES
    stefan = cards["Ștefan Țurcanu"]
    assert stefan.version.value == "4.0"
    assert stefan.tel.value == "tel:+40721234567"
    assert stefan.org.value == ["Brutăria SRL"]
    assert stefan.bday.value == "19850314"
    assert cards["Brutăria SRL"].kind.value == "org"


def test_tasks_export_and_rights(client, boss):
    r = client.post(
        "/api/tasks", json={"title": "Sună-l pe Ștefan", "kind": "task"}, headers=boss["boss"]
    )
    assert r.status_code == 201, r.text
    rows = list(
        csv.reader(io.StringIO(export(client, boss["boss"], "csv", "tasks").decode("utf-8-sig")))
    )
    assert rows[0][:3] == ["id", "kind", "title"] and rows[1][2] == "Sună-l pe Ștefan"
    assert client.get("/api/export/tasks", headers=boss["ana"]).status_code == 403
    assert client.get("/api/export/clients?format=pdf", headers=boss["boss"]).status_code == 422


phone_text = st.text(alphabet="0123456789 +-()", min_size=5, max_size=18)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    number=st.one_of(
        phone_text,
        st.builds(
            lambda p, d: p + d,
            st.sampled_from(["07", "+40 7", "+7 9", "+373 6", "8 9", "00"]),
            st.text(alphabet="0123456789", min_size=6, max_size=10),
        ),
    ),
    region=st.sampled_from(["RO", "RU", "MD", "US", "GB", "IT", "DE"]),
)
def test_the_fast_phone_check_agrees_with_the_api(number, region):
    from crm_core.exchange.values import fast_e164
    from crm_core.phones import InvalidPhone, to_e164

    fast = fast_e164(number, region)
    if fast is not None:
        try:
            assert to_e164(number, region) == fast
        except InvalidPhone:
            pytest.fail(f"{number!r} accepted by the fast check, refused by the API")


@settings(max_examples=400, deadline=None)
@given(
    address=st.builds(
        lambda a, b, c: f"{a}@{b}.{c}",
        st.text(alphabet="aZ09._-+%", min_size=1, max_size=12),
        st.text(alphabet="ab-09.", min_size=1, max_size=12),
        st.sampled_from(["ro", "com", "test", "c", "RU", "local", "xn--p1ai"]),
    )
)
def test_the_fast_email_check_agrees_with_the_api(address):
    from pydantic import ValidationError

    from crm_core.clients.schemas import EmailIn
    from crm_core.exchange.values import fast_email

    fast = fast_email(address)
    if fast is not None:
        try:
            assert str(EmailIn(address=address).address) == fast
        except ValidationError:
            pytest.fail(f"{address!r} accepted by the fast check, refused by the API")
