"""Request body limits, applied before any route reads a body (pure ASGI middleware).

A request that presents no credentials (no bearer token, no session cookie) may send only a
small body (``max_anonymous_body_bytes``: sign-in forms, signed provider callbacks), so an
unauthenticated client cannot make the server buffer or parse megabytes before the 401. With
credentials, JSON and form bodies are bounded by ``max_body_bytes`` and multipart uploads by
``max_upload_bytes`` (plus room for the multipart framing). A declared ``Content-Length`` over
the limit is refused at once; a streamed body is cut off as soon as it passes the limit.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crm_core.auth.deps import SESSION_COOKIE
from crm_core.config import CoreSettings, get_settings

MULTIPART_OVERHEAD = 64 * 1024


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` once a body passes its limit; FastAPI lets it through as a 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"Request body larger than {limit} bytes")
        self.limit = limit


def presents_credentials(headers: Headers) -> bool:
    """A bearer token or a session cookie was sent (whether valid is for the route to say)."""
    if headers.get("authorization", "").strip():
        return True
    return f"{SESSION_COOKIE}=" in headers.get("cookie", "")


def body_limit_for(headers: Headers, settings: CoreSettings) -> int:
    """The most bytes this request may send."""
    if not presents_credentials(headers):
        return settings.max_anonymous_body_bytes
    if headers.get("content-type", "").startswith("multipart/form-data"):
        return settings.max_upload_bytes + MULTIPART_OVERHEAD
    return settings.max_body_bytes


def _declared_length(headers: Headers) -> int | None:
    try:
        return int(headers["content-length"])
    except (KeyError, ValueError):
        return None


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        limit = body_limit_for(headers, get_settings())
        declared = _declared_length(headers)
        if declared is not None and declared > limit:
            await _refuse(limit, scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        started = False

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except BodyTooLarge:
            if started:
                raise
            await _refuse(limit, scope, receive, send)


async def _refuse(limit: int, scope: Scope, receive: Receive, send: Send) -> None:
    response = JSONResponse(
        {"detail": f"Request body larger than {limit} bytes", "code": "too_large"},
        status_code=413,
        headers={"Connection": "close"},
    )
    await response(scope, receive, send)
