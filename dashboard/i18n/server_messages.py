"""The server's answers in the reader's language: business errors raised by the parts below
(English texts marked with ``crm_core.errors.said``) and the validation errors of request
fields, translated for the language the request asks for (``Accept-Language``: the pages' script
sends the user's language)."""

from __future__ import annotations

from typing import Any

from crm_core.errors import Invalid, ServiceError
from dashboard import i18n
from dashboard.i18n import _, lazy

#: pydantic's error types -> a message people read (its ``ctx`` fills the placeholders)
VALIDATION_MESSAGES: dict[str, str] = {
    "missing": lazy("This field is required."),
    "string_too_long": lazy("At most %(max_length)s characters."),
    "string_too_short": lazy("At least %(min_length)s characters."),
    "too_long": lazy("At most %(max_length)s items."),
    "too_short": lazy("At least %(min_length)s items."),
    "int_parsing": lazy("Enter a whole number."),
    "int_from_float": lazy("Enter a whole number."),
    "float_parsing": lazy("Enter a number."),
    "decimal_parsing": lazy("Enter a number."),
    "greater_than_equal": lazy("Must be at least %(ge)s."),
    "less_than_equal": lazy("Must be at most %(le)s."),
    "greater_than": lazy("Must be more than %(gt)s."),
    "less_than": lazy("Must be less than %(lt)s."),
    "enum": lazy("Choose one of: %(expected)s."),
    "literal_error": lazy("Choose one of: %(expected)s."),
    "bool_parsing": lazy("Enter yes or no."),
    "date_parsing": lazy("Enter a date (YYYY-MM-DD)."),
    "date_from_datetime_parsing": lazy("Enter a date (YYYY-MM-DD)."),
    "datetime_parsing": lazy("Enter a date and time with its time zone (ISO 8601)."),
    "datetime_from_date_parsing": lazy("Enter a date and time with its time zone (ISO 8601)."),
    "timezone_aware": lazy("Enter a date and time with its time zone (ISO 8601)."),
    "string_pattern_mismatch": lazy("The format is not right."),
    "string_type": lazy("Enter text."),
    "json_invalid": lazy("The request is not valid JSON."),
    "model_attributes_type": lazy("This value has the wrong shape."),
    "dict_type": lazy("This value has the wrong shape."),
    "list_type": lazy("Enter a list."),
    "extra_forbidden": lazy("This field is not known."),
}


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
    kind = str(error.get("type", ""))
    message = str(error.get("msg", ""))
    if kind in ("value_error", "assertion_error"):
        for prefix in ("Value error, ", "Assertion failed, "):
            message = message.removeprefix(prefix)
        if message.startswith("value is not a valid email address"):  # the e-mail check's own
            return _("not a valid e-mail address")
        return _(message)
    template = VALIDATION_MESSAGES.get(kind)
    if template is None:
        return message
    ctx = dict(error.get("ctx") or {})
    if "expected" in ctx:
        ctx["expected"] = str(ctx["expected"]).replace("'", "")
    return _filled(template, ctx)
