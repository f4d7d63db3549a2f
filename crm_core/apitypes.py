"""Small input types shared by the API schemas, so bad input is a 422 and never a 500.

- ``RowId``: a path id within the range every backend's integer column holds;
- ``Moment``: a timezone-aware ISO 8601 instant, converted to UTC (naive, out-of-range or a
  bare number: 422);
- ``text(n)``: a string of at most ``n`` characters without NUL or lone surrogates (which
  PostgreSQL refuses);
- ``name(n)``: a name people read in lists: control characters removed, surrounding spaces
  trimmed, bidirectional overrides refused (they make ``gpj.exe`` read as ``exe.jpg``);
  :func:`name_key` is what two names are compared by to find duplicates;
- ``IsoMoment``: a date-time query value written as ISO 8601 (``0.5`` is not a date).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    Field,
    StringConstraints,
)

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


def text(max_length: int, min_length: int = 0):
    """A str type of bounded length without NUL characters."""
    return Annotated[
        str,
        StringConstraints(max_length=max_length, min_length=min_length),
        AfterValidator(no_bad_characters),
    ]


#: embeddings, overrides and isolates that reorder how the text around them is displayed
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def clean_name(value: str) -> str:
    """Control characters (tabs, newlines, escapes) dropped, spaces trimmed; bidirectional
    overrides refused rather than silently dropped, so what was typed is what is shown."""
    if BIDI_CONTROLS.intersection(value):
        raise ValueError("must not contain right-to-left override or embedding characters")
    return "".join(c for c in value if unicodedata.category(c) != "Cc").strip()


def name_key(value: str) -> str:
    """The form two names are compared in: ``ÉQUIPE``, ``équipe`` and ``Équipe`` are one."""
    shown = "".join(c for c in value if unicodedata.category(c) != "Cc" and c not in BIDI_CONTROLS)
    return unicodedata.normalize("NFKC", shown.strip()).casefold()


def name(max_length: int, min_length: int = 0):
    """A str type for names: bounded in length, then :func:`clean_name` (a name of control
    characters only is as empty as one of spaces)."""
    return Annotated[
        str,
        StringConstraints(max_length=max_length, min_length=min_length),
        AfterValidator(no_bad_characters),
        AfterValidator(clean_name),
        AfterValidator(_at_least(min_length)),
    ]


def _at_least(min_length: int):
    def check(value: str) -> str:
        if len(value) < min_length:
            raise ValueError(
                "must not be empty"
                if min_length == 1
                else f"must be at least {min_length} characters"
            )
        return value

    return check


_NUMBER = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*")


def _iso_only(value: Any) -> Any:
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.fullmatch(value)):
        raise ValueError("must be an ISO 8601 date-time, e.g. 2024-05-01T10:00:00Z")
    return value


IsoMoment = Annotated[datetime, BeforeValidator(_iso_only)]
Moment = Annotated[AwareDatetime, BeforeValidator(_iso_only), AfterValidator(_utc)]


class FieldErrorOut(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorOut(BaseModel):
    """A 422: each field that was refused, and why."""

    detail: list[FieldErrorOut]


class ErrorOut(BaseModel):
    """Any other error: a sentence for people, a code for programs (extra keys may follow)."""

    detail: str
    code: str | None = None


#: the errors every signed-in route may answer, for the ``responses`` of its router
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "the body could not be read (not UTF-8 JSON)"},
    401: {"model": ErrorOut, "description": "not signed in"},
    403: {"model": ErrorOut, "description": "your role may not do this, or CSRF token missing"},
    404: {"model": ErrorOut, "description": "no such record, or not one you may see"},
    413: {"model": ErrorOut, "description": "request body too large"},
    422: {"model": ValidationErrorOut, "description": "a field was refused"},
}
