"""The server's answers in the reader's language: business errors raised by the parts below
(English texts marked with ``crm_core.errors.said``) and the validation errors of request
fields, translated for the language the request asks for (``Accept-Language``: the pages' script
sends the user's language)."""

from __future__ import annotations

from typing import Any

from crm_core.errors import Invalid, ServiceError, validation_template
from dashboard import i18n
from dashboard.i18n import _


def request_language(headers: Any) -> str:
    return i18n.from_accept_language(headers.get("accept-language")) or i18n.DEFAULT


def _filled(template: str, params: dict[str, Any]) -> str:
    text = _(template)
    if not params:
        return text
    try:
        return text % params
    except (KeyError, TypeError, ValueError):
        return template % params


def service_error_body(exc: ServiceError, language: str) -> dict[str, Any]:
    """``exc.body()`` with its message in ``language``."""
    i18n.set_language(language)
    body = exc.body()
    if isinstance(exc, Invalid):
        body["detail"][0]["msg"] = _filled(exc.template, exc.params)
    else:
        body["detail"] = _filled(exc.template, exc.params)
    return body


def validation_message(error: dict[str, Any], language: str) -> str:
    """One field's validation error as a person reads it, in ``language``."""
    i18n.set_language(language)
    template, params = validation_template(error)
    return _filled(template, params)
