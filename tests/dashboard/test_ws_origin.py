"""``/ws`` checks the Origin and keeps tokens out of the server's logs (issue 13, finding 10)."""

from __future__ import annotations

import logging

import pytest
from starlette.websockets import WebSocketDisconnect


def _signed_in_cookie(users) -> str:
    from sqlalchemy import select

    from crm_core.auth.models import User
    from crm_core.auth.service import open_session
    from crm_core.database import session_scope

    users.add("ana")
    with session_scope() as s:
        return open_session(s, s.scalar(select(User).where(User.username == "ana")), "cookie")


def test_another_sites_page_cannot_open_the_channel_with_the_cookie(client, users):
    client.cookies.set("callcard_session", _signed_in_cookie(users))
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        client.websocket_connect("/ws", headers={"Origin": "https://evil.example"}) as ws,
    ):
        ws.receive_json()
    assert closed.value.code == 4403


@pytest.mark.parametrize("origin", ["http://testserver", "http://127.0.0.1:8000", None])
def test_own_origins_and_non_browsers_are_let_in(client, users, origin):
    client.cookies.set("callcard_session", _signed_in_cookie(users))
    headers = {"Origin": origin} if origin else {}
    with client.websocket_connect("/ws", headers=headers) as ws:
        assert ws.receive_json()["type"] == "hello"


def test_the_public_url_is_an_allowed_origin(client, users, monkeypatch):
    from crm_core.config import get_settings

    monkeypatch.setenv("CALLCARD_PUBLIC_URL", "https://crm.example.com/")
    get_settings.cache_clear()
    client.cookies.set("callcard_session", _signed_in_cookie(users))
    with client.websocket_connect("/ws", headers={"Origin": "https://CRM.example.com"}) as ws:
        assert ws.receive_json()["type"] == "hello"
    with (
        pytest.raises(WebSocketDisconnect),
        client.websocket_connect("/ws", headers={"Origin": "https://crm.example.org"}) as ws,
    ):
        ws.receive_json()


@pytest.mark.parametrize("logger_name", ["uvicorn.error", "uvicorn.access"])
def test_bearer_tokens_in_the_query_do_not_reach_the_server_log(logger_name, caplog):
    import dashboard.ws  # noqa: F401 - installs the filter, as mounting the app does

    secret = "s3cr3t-T0ken_value"
    logger = logging.getLogger(logger_name)
    with caplog.at_level(logging.INFO, logger=logger_name):
        logger.info('%s - "WebSocket %s" [accepted]', "127.0.0.1:5", f"/ws?token={secret}")
        logger.info('%s - "%s %s" %d', "127.0.0.1:5", "GET", f"/ws?a=1&token={secret}", 403)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert secret not in text
    assert "/ws?token=[hidden]" in text and "a=1&token=[hidden]" in text
