"""Small input types shared by the API schemas, so bad input is a 422 and never a 500.

- ``RowId``: a path id within the range every backend's integer column holds;
- ``Moment``: a timezone-aware instant, converted to UTC (naive or out-of-range: 422);
- ``text(n)``: a string of at most ``n`` characters without NUL or lone surrogates (which
  PostgreSQL refuses).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Path, Query
from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints

MAX_ID = 2_147_483_647
RowId = Annotated[int, Path(ge=1, le=MAX_ID)]
QueryId = Annotated[int | None, Query(ge=1, le=MAX_ID)]
BodyId = Annotated[int, Field(ge=1, le=MAX_ID)]


def _utc(value: datetime) -> datetime:
    try:
        moment = value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ValueError("date out of range") from None
    if not 1900 <= moment.year <= 9000:
        raise ValueError("year must be between 1900 and 9000")
    return moment


def no_bad_characters(value: str) -> str:
    """What no database column holds: NUL characters and lone surrogates."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


Moment = Annotated[AwareDatetime, AfterValidator(_utc)]


def text(max_length: int, min_length: int = 0):
    """A str type of bounded length without NUL characters."""
    return Annotated[
        str,
        StringConstraints(max_length=max_length, min_length=min_length),
        AfterValidator(no_bad_characters),
    ]
