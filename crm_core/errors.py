"""Business errors raised by services; the API turns them into clear HTTP answers.

A message a person reads is an English text marked with :func:`said`, its variable parts passed
as ``params`` (``Conflict(said("Extension %(extension)s is busy"), params={...})``): the parts
above translate the marked text into the reader's language (``callcard i18n extract`` collects
every ``said(...)`` of every part) and fill in the params.
"""

from __future__ import annotations

import re
from typing import Any


def said(text: str) -> str:
    """Mark an English message for translation where it is shown (it is returned as is)."""
    return text


class ServiceError(Exception):
    status_code = 400
    code = "error"

    def __init__(self, message: str, *, params: dict[str, Any] | None = None, **extra: Any):
        self.template = message
        self.params = params or {}
        self.message = message % self.params if self.params else message
        super().__init__(self.message)
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"detail": self.message, "code": self.code, **self.extra}


class NotFound(ServiceError):
    """Also used for rows the actor may not see, so that ids do not leak."""

    status_code = 404
    code = "not_found"


class Forbidden(ServiceError):
    status_code = 403
    code = "forbidden"


class Conflict(ServiceError):
    status_code = 409
    code = "conflict"


class TooLarge(ServiceError):
    status_code = 413
    code = "too_large"


class TooManyRequests(ServiceError):
    status_code = 429
    code = "too_many_requests"


class Unavailable(ServiceError):
    status_code = 503
    code = "unavailable"


class Invalid(ServiceError):
    """Bad input on a named field: rendered like FastAPI's own 422s."""

    status_code = 422
    code = "invalid"

    def __init__(
        self,
        field: str | list[str | int],
        message: str,
        *,
        params: dict[str, Any] | None = None,
    ) -> None:
        loc = [field] if isinstance(field, str) else list(field)
        filled = message % params if params else message
        super().__init__(f"{'.'.join(map(str, loc))}: {filled}")
        self.template, self.params = message, params or {}  # the field's message alone
        self.loc = loc

    def body(self) -> dict[str, Any]:
        return {
            "detail": [
                {
                    "loc": ["body", *self.loc],
                    "msg": self.message.split(": ", 1)[1],
                    "type": "value_error",
                }
            ]
        }


#: pydantic's error types -> a message people read (its ``ctx`` fills the placeholders)
VALIDATION_MESSAGES: dict[str, str] = {
    "missing": said("This field is required."),
    "string_too_long": said("At most %(max_length)s characters."),
    "string_too_short": said("At least %(min_length)s characters."),
    "too_long": said("At most %(max_length)s items."),
    "too_short": said("At least %(min_length)s items."),
    "int_parsing": said("Enter a whole number."),
    "int_from_float": said("Enter a whole number."),
    "float_parsing": said("Enter a number."),
    "decimal_parsing": said("Enter a number."),
    "greater_than_equal": said("Must be at least %(ge)s."),
    "less_than_equal": said("Must be at most %(le)s."),
    "greater_than": said("Must be more than %(gt)s."),
    "less_than": said("Must be less than %(lt)s."),
    "enum": said("Choose one of: %(expected)s."),
    "literal_error": said("Choose one of: %(expected)s."),
    "bool_parsing": said("Enter yes or no."),
    "date_parsing": said("Enter a date (YYYY-MM-DD)."),
    "date_from_datetime_parsing": said("Enter a date (YYYY-MM-DD)."),
    "datetime_parsing": said("Enter a date and time with its time zone (ISO 8601)."),
    "datetime_from_date_parsing": said("Enter a date and time with its time zone (ISO 8601)."),
    "timezone_aware": said("Enter a date and time with its time zone (ISO 8601)."),
    "string_pattern_mismatch": said("The format is not right."),
    "string_type": said("Enter text."),
    "json_invalid": said("The request is not valid JSON."),
    "model_attributes_type": said("This value has the wrong shape."),
    "dict_type": said("This value has the wrong shape."),
    "list_type": said("Enter a list."),
    "extra_forbidden": said("This field is not known."),
}
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def validation_template(error: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(English message, its params) of one pydantic error, for a person: our validators' own
    messages (marked with :func:`said`), the e-mail check's, or the message of its type; a type
    with no message of ours keeps pydantic's English."""
    kind = str(error.get("type", ""))
    message = str(error.get("msg", ""))
    if kind in ("value_error", "assertion_error"):
        for prefix in ("Value error, ", "Assertion failed, "):
            message = message.removeprefix(prefix)
        if message.startswith("value is not a valid email address"):  # the e-mail check's own
            return said("not a valid e-mail address"), {}
        return message, {}
    template = VALIDATION_MESSAGES.get(kind)
    ctx = dict(error.get("ctx") or {})
    names = _PLACEHOLDER.findall(template or "")
    if template is None or any(name not in ctx for name in names):
        return message, {}
    params = {name: ctx[name] for name in names}
    if "expected" in params:
        params["expected"] = str(params["expected"]).replace("'", "")
    return template, params
