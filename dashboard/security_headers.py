"""Browser hardening headers on every HTTP response (a small pure-ASGI middleware).

The pages load scripts, styles, images and sockets from the Callcard server only, and no inline
script or ``style`` attribute (translations and page data travel in ``<script
type="application/json">`` blocks, which the browser does not run). A response that already
carries a Content-Security-Policy keeps it: the API pages (``/docs``, ``/redoc``) need their
own, since Swagger UI starts with an inline script.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crm_core.config import get_settings

#: 'self' covers the page's own websocket (ws:/wss: on the same host) in CSP level 3
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"
ALWAYS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
)


def hardening_headers(present: Iterable[bytes], secure: bool) -> list[tuple[bytes, bytes]]:
    """The headers to add to a response whose header names (lower case) are ``present``."""
    have = set(present)
    wanted = list(ALWAYS)
    wanted.append((b"content-security-policy", PAGE_POLICY.encode()))
    if secure:
        wanted.append((b"strict-transport-security", HSTS.encode()))
    return [(name, value) for name, value in wanted if name not in have]


class SecurityHeaders:
    """Adds :func:`hardening_headers` to each HTTP response; websockets pass untouched.

    HSTS is sent only with ``CALLCARD_SECURE_COOKIES=true`` (the server is behind HTTPS)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        secure = get_settings().secure_cookies

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = (name.lower() for name, _ in headers)
                headers.extend(hardening_headers(present, secure))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
