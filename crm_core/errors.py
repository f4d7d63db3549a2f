"""Business errors raised by services; the API turns them into clear HTTP answers.

A message a person reads is an English text marked with :func:`said`, its variable parts passed
as ``params`` (``Conflict(said("Extension %(extension)s is busy"), params={...})``): the parts
above translate the marked text into the reader's language (``callcard i18n extract`` collects
every ``said(...)`` of every part) and fill in the params.
"""

from __future__ import annotations

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
