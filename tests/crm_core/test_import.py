"""Client import (CSV/XLSX, API and CLI) and export: never half-imports, errors name row+column."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.factories import audit_entries, colleagues, make_client


@pytest.fixture
def people(client):
    made = colleagues(
        root=("admin", None),
        boss=("manager", "Sales"),
        ana=("operator", "Sales"),
    )
    return {
        "admin": made["root"],
        "boss": made["boss"],
        "ana": made["ana"],
    }


def csv_bytes(rows: list[list[str]], delimiter: str = ",") -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter).writerows(rows)
    return out.getvalue().encode("utf-8")


def client_count() -> int:
    from sqlalchemy import func, select

    from crm_core.clients.models import Client
    from crm_core.database import session_scope

    with session_scope() as s:
        return s.scalar(select(func.count(Client.id)))


def phones_of(name: str) -> list[str]:
    from sqlalchemy import select

    from crm_core.clients.models import Client, Phone
    from crm_core.database import session_scope

    with session_scope() as s:
        return list(
            s.scalars(
                select(Phone.e164).join(Client).where(Client.first_name == name).order_by(Phone.id)
            )
        )


GOOD = [
    ["First name", "Last name", "Telefon", "Email", "City", "Tags"],
    ["Ștefan", "Țurcanu", "0721 234 567", "stefan@example.ro", "Iași", "vip; 2024"],
    ["Анна", "Петрова", "+7 (912) 345-67-89", "anna@example.ru", "Москва", ""],
]


def post_import(client, headers, data: bytes, name="clients.csv", mapping=None, **params):
    form = {"mapping": json.dumps(mapping)} if mapping is not None else {}
    return client.post(
        "/api/import/clients",
        files={"file": (name, data, "text/csv")},
        data=form,
        params=params,
        headers=headers,
    )


def test_import_normalises_phones_and_is_audited(client, people):
    r = post_import(client, people["boss"], csv_bytes(GOOD))
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["total_rows"], report["imported"], report["errors"]) == (2, 2, [])
    assert report["mapping"]["Telefon"] == "phone"
    assert phones_of("Ștefan") == ["+40721234567"]
    assert phones_of("Анна") == ["+79123456789"]
    assert audit_entries("client", report["created_ids"][0])[0][0] == "create"


def test_dry_run_previews_row_errors_and_writes_nothing(client, people):
    rows = [
        *GOOD,
        ["Ion", "Rusu", "12", "ion@example.md", "", ""],
        ["Maria", "Popa", "0722 000 111", "not-an-email", "", ""],
    ]
    r = post_import(client, people["boss"], csv_bytes(rows, ";"), dry_run="true")
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["dry_run"] is True and report["rejected"] is True  # would be rejected
    errors = {(e["row"], e["column"]) for e in report["errors"]}
    assert errors == {(4, "Telefon"), (5, "Email")}
    assert client_count() == 0


def test_strict_import_rejects_the_whole_file(client, people):
    rows = [*GOOD, ["Ion", "Rusu", "12", "", "", ""]]
    r = post_import(client, people["boss"], csv_bytes(rows))
    assert r.status_code == 422
    report = r.json()
    assert report["rejected"] is True and report["imported"] == 0
    assert [(e["row"], e["column"], e["field"]) for e in report["errors"]] == [
        (4, "Telefon", "phone")
    ]
    assert client_count() == 0  # the two good rows were not kept either


def test_skip_invalid_imports_the_valid_rows_in_one_go(client, people):
    rows = [*GOOD, ["Ion", "Rusu", "12", "", "", ""]]
    r = post_import(client, people["boss"], csv_bytes(rows), skip_invalid="true")
    assert r.status_code == 200
    report = r.json()
    assert (report["imported"], report["skipped"]) == (2, 1)
    assert client_count() == 2


def test_duplicates_in_the_file_and_in_the_base(client, people):
    make_client("Existing")
    rows = [
        ["First name", "Telefon"],
        ["A", "0721 111 222"],
        ["B", "+40 721 111 222"],  # the same number as row 2
    ]
    r = post_import(client, people["boss"], csv_bytes(rows))
    assert r.status_code == 422
    assert r.json()["errors"][0]["row"] == 3 and "row 2" in r.json()["errors"][0]["message"]
    ok = post_import(client, people["boss"], csv_bytes(rows[:2]))
    assert ok.status_code == 200
    again = post_import(client, people["boss"], csv_bytes(rows[:2]))
    assert again.status_code == 422 and "already belongs" in again.json()["errors"][0]["message"]
    skipped = post_import(client, people["boss"], csv_bytes(rows[:2]), duplicates="skip")
    assert skipped.json()["skipped"] == 1 and skipped.json()["imported"] == 0


def test_explicit_mapping_and_custom_fields(client, people):
    field = {
        "entity": "client",
        "key": "segment",
        "label": "Segment",
        "kind": "choice",
        "choices": ["retail", "b2b"],
    }
    assert client.post("/api/custom-fields", json=field, headers=people["admin"]).status_code == 201
    rows = [["Denumire", "Nr", "Seg"], ["SRL Alfa", "021 300 4000", "b2b"], ["SRL Beta", "", "vip"]]
    mapping = {"Denumire": "org_name", "Nr": "phone_work", "Seg": "cf.segment"}
    r = post_import(client, people["boss"], csv_bytes(rows), mapping=mapping)
    assert r.status_code == 422
    assert [(e["row"], e["column"]) for e in r.json()["errors"]] == [(3, "Seg")]
    rows[2][2] = "retail"
    r = post_import(client, people["boss"], csv_bytes(rows), mapping=mapping)
    assert r.status_code == 200, r.text
    cid = r.json()["created_ids"][0]
    card = client.get(f"/api/clients/{cid}", headers=people["boss"]).json()
    assert card["kind"] == "organization" and card["custom"] == {"segment": "b2b"}
    assert card["phones"][0]["kind"] == "work" and card["phones"][0]["e164"] == "+40213004000"
    bad = post_import(client, people["boss"], csv_bytes(rows), mapping={"Nr": "fax_number"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "mapping", "Nr"]


def test_xlsx_import(client, people):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in GOOD:
        sheet.append(row)
    buf = io.BytesIO()
    book.save(buf)
    r = post_import(client, people["boss"], buf.getvalue(), name="clients.xlsx")
    assert r.status_code == 200, r.text
    assert r.json()["imported"] == 2
    assert phones_of("Ștefan") == ["+40721234567"]


def test_operators_may_not_import_or_export(client, people):
    assert post_import(client, people["ana"], csv_bytes(GOOD)).status_code == 403
    assert client.get("/api/export/clients", headers=people["ana"]).status_code == 403
    assert client_count() == 0


def test_oversize_import_is_413(client, people, monkeypatch):
    from crm_core import config

    monkeypatch.setenv("CALLCARD_MAX_UPLOAD_BYTES", "100")
    config.get_settings.cache_clear()
    r = post_import(client, people["boss"], csv_bytes(GOOD * 10))
    assert r.status_code == 413
    assert client_count() == 0


def test_export_csv_and_xlsx_with_filters(client, people):
    post_import(client, people["boss"], csv_bytes(GOOD))
    cid = make_client('=HYPERLINK("http://evil")')
    r = client.get("/api/export/clients?format=csv", headers=people["boss"])
    assert r.status_code == 200
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    header = rows[0]
    by_name = {row[header.index("first_name")]: row for row in rows[1:]}
    assert by_name["Ștefan"][header.index("phone")] == "+40721234567"
    assert by_name["Ștefan"][header.index("tags")] == "2024; vip"
    assert '\'=HYPERLINK("http://evil")' in by_name  # not run as a formula by spreadsheets
    filtered = client.get("/api/export/clients?format=csv&tag=vip", headers=people["boss"])
    names = [row[3] for row in csv.reader(io.StringIO(filtered.content.decode("utf-8-sig")))][1:]
    assert names == ["Ștefan"]
    assert client.get("/api/export/clients?colour=red", headers=people["boss"]).status_code == 422
    make_client("Bell\x07 and tab\x0b")  # control characters a worksheet cannot hold
    x = client.get("/api/export/clients?format=xlsx", headers=people["admin"])
    assert x.status_code == 200
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(x.content)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][0] == "id" and len(values) == 5
    assert "Bell and tab" in [row[3] for row in values[1:]]
    assert cid in [row[0] for row in values[1:]]


def test_cli_import_with_progress(database, tmp_path, users):
    from typer.testing import CliRunner

    from callcard.cli import app

    good = tmp_path / "good.csv"
    good.write_bytes(csv_bytes(GOOD))
    result = CliRunner().invoke(app, ["import", "clients", str(good), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "would import 2" in result.output
    assert client_count() == 0
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes([*GOOD, ["X", "Y", "12", "", "", ""]]))
    result = CliRunner().invoke(app, ["import", "clients", str(bad)])
    assert result.exit_code == 1
    assert "Rejected" in result.output and "Telefon" in result.output
    assert client_count() == 0
    result = CliRunner().invoke(
        app, ["import", "clients", str(good), "--map", "Telefon=phone_mobile"]
    )
    assert result.exit_code == 0, result.output
    assert "imported 2" in result.output and client_count() == 2


def test_an_export_imports_back(client, people):
    post_import(client, people["boss"], csv_bytes(GOOD))
    exported = client.get("/api/export/clients?format=csv", headers=people["boss"]).content
    again = post_import(client, people["boss"], exported, duplicates="force")
    assert again.status_code == 200, again.text
    report = again.json()
    assert (report["imported"], report["errors"]) == (2, [])
    assert {"phone", "email", "tags", "city", "team", "owner"} <= set(report["mapping"].values())
    assert phones_of("Ștefan") == ["+40721234567", "+40721234567"]
