"""``/ws``: the live channel to browsers (popups, task reminders, the wall)."""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from crm_core.auth.deps import SESSION_COOKIE
from crm_core.auth.principal import Principal
from crm_core.auth.service import resolve_token
from crm_core.database import session_scope
from dashboard.hub import Connection, hub

router = APIRouter()


def _authenticate(cookie: str | None, token: str | None) -> Principal | None:
    with session_scope() as db:
        if token:
            return resolve_token(db, token, ("bearer", "wall"))
        if cookie:
            return resolve_token(db, cookie, ("cookie",))
    return None


@router.websocket("/ws")
async def websocket(ws: WebSocket, token: str | None = None) -> None:
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
