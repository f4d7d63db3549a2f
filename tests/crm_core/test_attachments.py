"""Files on clients and records: checksum, download, size limit (413, nothing stored), rights."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.factories import audit_entries, colleagues, make_client


@pytest.fixture
def people(client):
    made = colleagues(
        boss=("manager", "Sales"),
        ana=("operator", "Sales"),
        vlad=("operator", "Support"),
    )
    return {
        "boss": made["boss"],
        "ana": made["ana"],
        "vlad": made["vlad"],
    }


def stored_files() -> list[Path]:
    from callcard.settings import get_settings

    root = Path(get_settings().attachments_dir)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def attachment_rows() -> int:
    from sqlalchemy import func, select

    from crm_core.attachments.models import Attachment
    from crm_core.database import session_scope

    with session_scope() as s:
        return s.scalar(select(func.count(Attachment.id)))


def test_upload_and_download_with_checksum(client, people):
    cid = make_client()
    data = "Contract semnat — Договор ✓\n".encode() * 100
    r = client.post(
        f"/api/clients/{cid}/attachments",
        files={"file": ("Contract Ștefan.pdf", data, "application/pdf")},
        headers=people["ana"],
    )
    assert r.status_code == 201, r.text
    meta = r.json()
    assert meta["sha256"] == hashlib.sha256(data).hexdigest()
    assert (meta["size"], meta["content_type"], meta["filename"]) == (
        len(data),
        "application/pdf",
        "Contract Ștefan.pdf",
    )
    got = client.get(f"/api/attachments/{meta['id']}/download", headers=people["ana"])
    assert got.status_code == 200
    assert got.content == data
    assert got.headers["content-type"].startswith("application/pdf")
    disposition = got.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''Contract%20%C8%98tefan.pdf" in disposition
    listed = client.get(f"/api/clients/{cid}/attachments", headers=people["ana"]).json()
    assert [a["id"] for a in listed] == [meta["id"]]
    assert audit_entries("attachment", meta["id"])[0][0] == "create"


def test_oversize_upload_is_413_and_stores_nothing(client, people, monkeypatch):
    from crm_core import config

    monkeypatch.setenv("CALLCARD_MAX_UPLOAD_BYTES", "1000")
    config.get_settings.cache_clear()
    cid = make_client()
    ok = client.post(
        f"/api/clients/{cid}/attachments",
        files={"file": ("small.txt", b"x" * 1000, "text/plain")},
        headers=people["ana"],
    )
    assert ok.status_code == 201
    before_files, before_rows = stored_files(), attachment_rows()
    r = client.post(
        f"/api/clients/{cid}/attachments",
        files={"file": ("big.bin", b"y" * 1001, "application/octet-stream")},
        headers=people["ana"],
    )
    assert r.status_code == 413, r.text
    assert "1000" in r.json()["detail"]
    assert stored_files() == before_files  # no temporary leftovers either
    assert attachment_rows() == before_rows
    # far too large: refused by the declared length before reading
    huge = client.post(
        f"/api/clients/{cid}/attachments",
        files={"file": ("huge.bin", b"z" * 200_000, "application/octet-stream")},
        headers=people["ana"],
    )
    assert huge.status_code == 413
    assert stored_files() == before_files and attachment_rows() == before_rows


def test_streamed_upload_without_length_is_cut_at_the_limit(client, people, monkeypatch):
    """A chunked body (no Content-Length) is counted while it streams."""
    from crm_core import config

    monkeypatch.setenv("CALLCARD_MAX_UPLOAD_BYTES", "5000")
    config.get_settings.cache_clear()
    cid = make_client()
    boundary = "callcardboundary"

    def body():
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        for _ in range(10):
            yield b"q" * 1000
        yield f"\r\n--{boundary}--\r\n".encode()

    r = client.post(
        f"/api/clients/{cid}/attachments",
        content=body(),
        headers={**people["ana"], "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert r.status_code == 413
    assert stored_files() == [] and attachment_rows() == 0


def test_missing_or_empty_file_is_422(client, people):
    cid = make_client()
    r = client.post(
        f"/api/clients/{cid}/attachments",
        data={"other": "x"},
        files={"x": ("a", b"1")},
        headers=people["ana"],
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "file"]
    empty = client.post(
        f"/api/clients/{cid}/attachments",
        files={"file": ("a.txt", b"", "text/plain")},
        headers=people["ana"],
    )
    assert empty.status_code == 422
    assert stored_files() == [] and attachment_rows() == 0


def test_files_on_records_follow_the_clients_rights(client, people):
    theirs = make_client("Support client", team="Support")
    note = client.post(
        f"/api/clients/{theirs}/interactions", json={"kind": "note"}, headers=people["vlad"]
    ).json()
    up = client.post(
        f"/api/interactions/{note['id']}/attachments",
        files={"file": ("scan.png", b"\x89PNG....", "image/png")},
        headers=people["vlad"],
    )
    assert up.status_code == 201, up.text
    aid = up.json()["id"]
    assert up.json()["client_id"] == theirs
    for path in (f"/api/attachments/{aid}", f"/api/attachments/{aid}/download"):
        assert client.get(path, headers=people["ana"]).status_code == 404
    assert client.delete(f"/api/attachments/{aid}", headers=people["ana"]).status_code == 404
    assert (
        client.get(f"/api/clients/{theirs}/attachments", headers=people["ana"]).status_code == 404
    )
    denied = client.post(
        f"/api/clients/{theirs}/attachments",
        files={"file": ("x.txt", b"hello", "text/plain")},
        headers=people["ana"],
    )
    assert denied.status_code == 404
    # the client's list includes files on its records
    listed = client.get(f"/api/clients/{theirs}/attachments", headers=people["boss"]).json()
    assert [a["owner_type"] for a in listed] == ["interaction"]


def test_delete_removes_row_and_file(client, people):
    cid = make_client()
    a = client.post(
        f"/api/clients/{cid}/attachments",
        files={"file": ("x.txt", b"hello", "text/plain")},
        headers=people["ana"],
    ).json()
    assert len(stored_files()) == 1
    ion_like = people["vlad"]  # cannot see it at all
    assert client.delete(f"/api/attachments/{a['id']}", headers=ion_like).status_code == 404
    assert client.delete(f"/api/attachments/{a['id']}", headers=people["ana"]).status_code == 204
    assert stored_files() == [] and attachment_rows() == 0
    assert client.get(f"/api/attachments/{a['id']}", headers=people["boss"]).status_code == 404


def test_filename_cannot_escape_the_store(client, people):
    cid = make_client()
    r = client.post(
        f"/api/clients/{cid}/attachments",
        files={"file": ("../../etc/passwd", b"root:x", "text/plain")},
        headers=people["ana"],
    )
    assert r.status_code == 201 and r.json()["filename"] == "passwd"
    from callcard.settings import get_settings

    root = Path(get_settings().attachments_dir).resolve()
    assert all(root in p.resolve().parents for p in stored_files())


def test_files_of_a_deleted_task_stay_with_the_client(client, people):
    cid = make_client()
    task = client.post(
        "/api/tasks", json={"title": "Sign", "client_id": cid}, headers=people["ana"]
    ).json()
    up = client.post(
        f"/api/tasks/{task['id']}/attachments",
        files={"file": ("contract.pdf", b"%PDF-1.4", "application/pdf")},
        headers=people["ana"],
    ).json()
    assert up["owner_type"] == "task" and up["client_id"] == cid
    assert client.delete(f"/api/tasks/{task['id']}", headers=people["boss"]).status_code == 204
    kept = client.get(f"/api/attachments/{up['id']}", headers=people["ana"]).json()
    assert (kept["owner_type"], kept["owner_id"]) == ("client", cid)
    assert client.get(f"/api/attachments/{up['id']}/download", headers=people["ana"]).content == (
        b"%PDF-1.4"
    )
