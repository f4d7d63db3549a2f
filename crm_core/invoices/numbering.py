"""Document numbers per kind, series and year, without gaps or repeats.

A number is taken inside the transaction that issues the document, from a counter row
(``document_counters``) that stays locked until that transaction ends:

- PostgreSQL: the row is created if missing (``INSERT ... ON CONFLICT DO NOTHING``), then
  read with ``SELECT ... FOR UPDATE``: a concurrent issuer waits on the lock and reads the
  value this one wrote once it commits (or the old one if it rolled back: no gap);
- SQLite: the first statement is a write (``INSERT ... ON CONFLICT DO NOTHING`` then
  ``UPDATE ... RETURNING``), which takes the database's single write lock for the rest of the
  transaction; other writers wait for it (``busy_timeout``).

A number taken by a transaction that then fails is given back by the rollback, so the series
never skips one. Call :func:`take_number` before other writes of the transaction, so that the
lock is held as briefly as possible.
"""

from __future__ import annotations

import re

from sqlalchemy import text
from sqlalchemy.orm import Session

from crm_core.errors import Invalid

SERIES_RE = re.compile(r"^[A-Z0-9]{1,12}$")

_ENSURE = (
    "INSERT INTO document_counters (kind, series, year, last) "
    "VALUES (:kind, :series, :year, 0) ON CONFLICT DO NOTHING"
)
_WHERE = "WHERE kind = :kind AND series = :series AND year = :year"


def clean_series(value: str, field: str = "series") -> str:
    series = (value or "").strip().upper()
    if not SERIES_RE.match(series):
        raise Invalid(field, "must be 1-12 letters or digits, e.g. INV")
    return series


def format_number(series: str, year: int, seq: int) -> str:
    """``INV-2026-0001``: series, year, then the sequence (4 digits at least)."""
    return f"{series}-{year}-{seq:04d}"


def take_number(db: Session, kind: str, series: str, year: int) -> int:
    """The next sequence number of (kind, series, year), locked until the transaction ends."""
    params = {"kind": kind, "series": series, "year": year}
    db.execute(text(_ENSURE), params)
    if db.get_bind().dialect.name == "postgresql":
        last = db.execute(
            text(f"SELECT last FROM document_counters {_WHERE} FOR UPDATE"), params
        ).scalar_one()
        db.execute(text(f"UPDATE document_counters SET last = :next {_WHERE}"), {
            **params, "next": last + 1
        })  # fmt: skip
        return last + 1
    return db.execute(
        text(f"UPDATE document_counters SET last = last + 1 {_WHERE} RETURNING last"), params
    ).scalar_one()
