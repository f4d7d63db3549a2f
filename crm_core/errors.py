"""Business errors raised by services; the API turns them into clear HTTP answers."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    status_code = 400
    code = "error"

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
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

    def __init__(self, field: str | list[str | int], message: str) -> None:
        loc = [field] if isinstance(field, str) else list(field)
        super().__init__(f"{'.'.join(map(str, loc))}: {message}")
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
