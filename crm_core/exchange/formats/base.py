"""What every reader shares: the :class:`Table`, the opener of a file's bytes, cell text.

Reading the files people bring: each reader turns a file into a :class:`Table`.

A table is a header row and a stream of ``(number, cells)`` rows, where ``number`` is what a
person looks for in the file: the spreadsheet row (the header is row 1) or, for a vCard, the
line where the card begins. Rows are read lazily, so a file of a million rows is never held in
memory. A file that cannot be read raises :class:`crm_core.errors.Invalid` on ``file`` with the
row or line named.

Programs' own exports (vCard, Google Contacts CSV, Outlook CSV) come out already in client
fields (``preset``): they need no mapping.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from crm_core.errors import Invalid

Rows = Iterator[tuple[int, list[str]]]
#: a file's content: bytes in memory or a path on disk (large files, background jobs)
Source = bytes | Path


@dataclass
class Table:
    kind: str  # csv | xlsx | ods | vcard | google | outlook
    headers: list[str]
    rows: Rows
    #: True when the headers are client fields already (no mapping asked)
    preset: bool = False
    numbered_by: str = "row"  # row | line
    details: dict[str, str] = field(default_factory=dict)  # encoding, delimiter

    def signature(self) -> str:
        """What tells one source from another: its kind and its column names."""
        return f"{self.kind}:" + "|".join(h.strip().lower() for h in self.headers)


def opener(source: Source) -> Callable[[], BinaryIO]:
    """A function that opens the content for reading from the start (each call anew)."""
    if isinstance(source, Path):
        return lambda: source.open("rb")
    return lambda: io.BytesIO(source)


def head_bytes(source: Source, size: int = 8) -> bytes:
    with opener(source)() as handle:
        return handle.read(size)


def cell_text(value: object) -> str:
    """A spreadsheet cell as text: dates ISO, whole numbers without ``.0``."""
    from datetime import date, datetime

    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.time() == datetime.min.time():
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def with_header(kind: str, rows: Rows, empty_message: str, **details: str) -> Table:
    """The table of ``rows`` whose first non-empty row names the columns."""
    for number, cells in rows:
        if any(cells):
            headers = [h.strip() for h in cells]
            while headers and not headers[-1]:
                headers.pop()
            return Table(kind, headers, _skip_blank(rows), details=dict(details))
        del number
    raise Invalid("file", empty_message)


def _skip_blank(rows: Rows) -> Rows:
    for number, cells in rows:
        if any(c for c in cells):
            yield number, cells


#: the client fields a contact-program export (vCard, Google, Outlook) is turned into
CONTACT_COLUMNS = (
    "kind",
    "first_name",
    "middle_name",
    "last_name",
    "org_name",
    "job_title",
    "phone_mobile",
    "phone_work",
    "phone_home",
    "phone_fax",
    "phone_other",
    "email",
    "street",
    "city",
    "region",
    "postal_code",
    "country",
    "birthday",
    "comment",
    "tags",
)


def contact_row(values: dict[str, list[str] | str]) -> list[str]:
    """A contact's fields as a row of CONTACT_COLUMNS (lists joined with "; ")."""
    return [
        "; ".join(v for v in value if v) if isinstance(value, list) else value
        for value in (values.get(column, "") for column in CONTACT_COLUMNS)
    ]


def country_code(name: str) -> str:
    """ISO code of a country written as a code or a name in English, Romanian or Russian."""
    text = name.strip()
    if not text:
        return ""
    if len(text) == 2 and text.isalpha():
        return text.upper()
    return _country_names().get(text.casefold(), "")


_COUNTRIES: dict[str, str] = {}


def _country_names() -> dict[str, str]:
    if not _COUNTRIES:
        from babel import Locale

        for language in ("en", "ro", "ru", "de", "fr"):
            for code, title in Locale.parse(language).territories.items():
                if len(code) == 2 and code.isalpha():
                    _COUNTRIES.setdefault(title.casefold(), code)
        _COUNTRIES.update({"usa": "US", "uk": "GB", "russia": "RU", "moldova": "MD"})
    return _COUNTRIES
