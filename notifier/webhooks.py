"""Twilio webhook authentication, shared by every notifier webhook (status callbacks, inbound SMS).

Twilio signs the full public URL it called (with the query string) plus the sorted POST
parameters. Behind a proxy the app sees another URL, so the URL is rebuilt from
``settings.public_url`` and the request path. A bad or missing signature is answered 403 and the
request is never processed.
"""

from __future__ import annotations

import logging

from fastapi import HTTPException, Request
from twilio.request_validator import RequestValidator

from notifier.config import get_settings

log = logging.getLogger("callcard.notifier.webhooks")


def public_url_of(request: Request) -> str:
    base = get_settings().public_url.rstrip("/")
    url = base + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    return url


async def verified_twilio_form(request: Request) -> dict[str, str]:
    """FastAPI dependency: the webhook's form fields, once the signature has been checked."""
    token = get_settings().twilio_auth_token.get_secret_value()
    form = await request.form()
    params = {k: v for k, v in form.items() if isinstance(v, str)}
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token:
        log.warning("Twilio webhook refused: CALLCARD_TWILIO_AUTH_TOKEN is not set")
        raise HTTPException(403, "webhook signature cannot be checked (no auth token configured)")
    if not signature or not RequestValidator(token).validate(
        public_url_of(request), params, signature
    ):
        log.warning("Twilio webhook refused: bad signature for %s", request.url.path)
        raise HTTPException(403, "bad or missing X-Twilio-Signature")
    return params
