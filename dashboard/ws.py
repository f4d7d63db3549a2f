"""``/ws``: the live channel to browsers (popups, task reminders, the wall).

A browser sends its session cookie with every websocket, whatever page opened it, so the
``Origin`` must be this server's (its public URL or the host it was reached by): another site
cannot open the channel in a signed-in user's name. Wall screens and scripts sign in with
``/ws?token=``; the server's access log never shows that token (:class:`HideTokens`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from urllib.parse import urlsplit

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from crm_core.auth.deps import SESSION_COOKIE
from crm_core.auth.principal import Principal
from crm_core.auth.service import resolve_token
from crm_core.config import get_settings
from crm_core.database import session_scope
from dashboard.hub import Connection, hub

router = APIRouter()

_TOKEN_IN_QUERY = re.compile(r"(?<=[?&]token=)[^&\s\"]+")


class HideTokens(logging.Filter):
    """Replaces the value of ``token=`` in a logged request line with ``[hidden]``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(
                _TOKEN_IN_QUERY.sub("[hidden]", arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        if isinstance(record.msg, str):
            record.msg = _TOKEN_IN_QUERY.sub("[hidden]", record.msg)
        return True


# uvicorn logs websocket requests on "uvicorn.error" and HTTP ones on "uvicorn.access"; its
# logging setup runs before the app is imported and keeps filters added here
for _server_log in ("uvicorn.error", "uvicorn.access"):
    if not any(isinstance(f, HideTokens) for f in logging.getLogger(_server_log).filters):
        logging.getLogger(_server_log).addFilter(HideTokens())


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def origin_allowed(ws: WebSocket) -> bool:
    """No ``Origin`` (not a browser), or the configured public URL's, or the host's own."""
    origin = ws.headers.get("origin")
    if origin is None:
        return True
    origin = origin.strip().lower()
    own_scheme = "https" if ws.url.scheme == "wss" else "http"
    allowed = {_origin_of(get_settings().public_url)}
    host = ws.headers.get("host")
    if host:
        allowed.add(f"{own_scheme}://{host.strip().lower()}")
    return origin in allowed


def _authenticate(cookie: str | None, token: str | None) -> Principal | None:
    with session_scope() as db:
        if token:
            return resolve_token(db, token, ("bearer", "wall"))
        if cookie:
            return resolve_token(db, cookie, ("cookie",))
    return None


@router.websocket("/ws")
async def websocket(ws: WebSocket, token: str | None = None) -> None:
    if not origin_allowed(ws):
        await ws.close(code=4403, reason="origin not allowed")
        return
    principal = await run_in_threadpool(_authenticate, ws.cookies.get(SESSION_COOKIE), token)
    if principal is None:
        await ws.close(code=4401, reason="not signed in")
        return
    await ws.accept()
    conn = Connection(ws, principal)
    await ws.send_json({"type": "hello", "user": principal.username, "role": principal.role})
    hub.add(conn)
    writer = asyncio.create_task(conn.writer())
    try:
        while True:
            text = await ws.receive_text()
            if text == "ping":
                conn.send('{"type":"pong"}')
    except WebSocketDisconnect:
        pass
    finally:
        hub.remove(conn)
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await writer
