"""Request bodies are bounded before any route reads them (issue 13, finding 6)."""

from __future__ import annotations

import asyncio

import pytest

CHUNK = b"[" + b"1," * (512 * 1024 - 1)  # half a megabyte of a JSON array, never closed


class StreamedBody:
    """An ASGI ``receive`` that streams ``chunks`` pieces of CHUNK and counts what was read."""

    def __init__(self, chunks: int) -> None:
        self.chunks = chunks
        self.read = 0

    async def __call__(self) -> dict:
        if self.read >= self.chunks:
            await asyncio.sleep(3600)  # the client would wait for the answer
        self.read += 1
        return {"type": "http.request", "body": CHUNK, "more_body": self.read < self.chunks}


def _call(app, path: str, receive, headers: list[tuple[bytes, bytes]]) -> tuple[int, bytes]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    answer: dict = {"body": b""}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        elif message["type"] == "http.response.body":
            answer["body"] += message.get("body", b"")

    asyncio.run(asyncio.wait_for(app(scope, receive, send), 30))
    return answer["status"], answer["body"]


@pytest.mark.parametrize("path", ["/api/clients", "/api/auth/login"])
def test_an_anonymous_streamed_body_is_cut_off_before_it_is_parsed(sqlite_database, path):
    from callcard.app import create_app

    body = StreamedBody(chunks=160)  # 80 MB, without Content-Length
    status, _ = _call(create_app(), path, body, [])
    assert status == 413
    assert body.read <= 2, f"read {body.read} of 160 half-megabyte chunks"


@pytest.mark.parametrize("path", ["/api/clients", "/api/auth/login"])
def test_an_anonymous_declared_length_over_the_limit_is_refused_unread(sqlite_database, path):
    from callcard.app import create_app

    body = StreamedBody(chunks=160)
    status, text = _call(create_app(), path, body, [(b"content-length", b"83886080")])
    assert status == 413
    assert body.read == 0
    assert b"too_large" in text


def test_signed_in_bodies_have_their_own_configurable_limit(client, as_user, monkeypatch):
    from crm_core.config import get_settings

    headers = as_user("ana")
    big = {"first_name": "Ana", "comment": "x" * 20000, "tags": ["t" * 60] * 50}
    assert client.post("/api/clients", json=big, headers=headers).status_code == 201
    monkeypatch.setenv("CALLCARD_MAX_BODY_BYTES", "1000")
    get_settings.cache_clear()
    refused = client.post("/api/clients", json=big, headers=headers)
    assert refused.status_code == 413
    assert (
        client.post("/api/clients", json={"first_name": "Ion"}, headers=headers).status_code == 201
    )


def test_uploads_keep_the_upload_limit(client, as_user):
    from tests.factories import add_client

    headers = as_user("ana")
    client_id = add_client("Ana Upload")
    three_mb = b"%PDF-1.4\n" + b"0" * (3 * 1024 * 1024)
    answer = client.post(
        f"/api/clients/{client_id}/attachments",
        files={"file": ("offer.pdf", three_mb, "application/pdf")},
        headers=headers,
    )
    assert answer.status_code == 201, answer.text


def test_an_anonymous_login_of_ordinary_size_still_works(client, users):
    users.add("olga")
    answer = client.post("/api/auth/login", json={"username": "olga", "password": "password-olga"})
    assert answer.status_code in (200, 204), answer.text
