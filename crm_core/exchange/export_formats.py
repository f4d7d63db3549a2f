"""Format writers for every list export: rows in (the first row names the columns), file out.

CSV, XML and HTML are streamed (bytes as the rows come: the first byte leaves at once, memory
stays flat); XLSX is written in openpyxl's write-only mode; ODS (odfpy) and DOCX (python-docx,
a table) are built whole, so their exports are capped at :data:`DOCUMENT_ROWS_MAX` rows.
Values are made spreadsheet-safe by the caller (see ``export._safe``).
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator
from html import escape
from itertools import chain, islice, repeat
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as xml_escape
from xml.sax.saxutils import quoteattr

FORMATS = ("csv", "xlsx", "ods", "xml", "html", "docx")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "xml": "application/xml; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "vcf": "text/vcard; charset=utf-8",
}
STREAMED = ("csv", "xml", "html")
#: rows of an ODS or DOCX export (documents built whole in memory)
DOCUMENT_ROWS_MAX = 20_000
_FLUSH_ROWS = 500


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def csv_stream(rows: Iterable[list[Any]]) -> Iterator[bytes]:
    """UTF-8 CSV with a BOM (Excel opens it right): the header at once, then a chunk every
    few hundred rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    iterator = iter(rows)
    yield "\ufeff".encode()
    for size in chain((1,), repeat(_FLUSH_ROWS)):
        writer.writerows(islice(iterator, size))
        chunk = buffer.getvalue()
        if not chunk:  # every row writes at least its line end: no rows were left
            return
        yield chunk.encode("utf-8")
        buffer.seek(0)
        buffer.truncate()


def xml_stream(rows: Iterable[list[Any]], kind: str) -> Iterator[bytes]:
    """``<export kind=...><row><field name="...">value</field>...</row>...</export>``."""
    iterator = iter(rows)
    headers = [_text(h) for h in next(iterator, [])]
    yield f'<?xml version="1.0" encoding="UTF-8"?>\n<export kind={quoteattr(kind)}>\n'.encode()
    parts: list[str] = []
    for i, row in enumerate(iterator, start=1):
        fields = "".join(
            f"<field name={quoteattr(h)}>{xml_escape(_clean(_text(v)))}</field>"
            for h, v in zip(headers, row, strict=False)
        )
        parts.append(f"  <row>{fields}</row>\n")
        if i % _FLUSH_ROWS == 0:
            yield "".join(parts).encode("utf-8")
            parts = []
    parts.append("</export>\n")
    yield "".join(parts).encode("utf-8")


def _clean(text: str) -> str:
    """XML 1.0 cannot hold most control characters: they are dropped."""
    return "".join(c for c in text if c in "\t\n\r" or ord(c) >= 0x20)


def html_stream(rows: Iterable[list[Any]], title: str, lang: str = "en") -> Iterator[bytes]:
    """A printable HTML page with the rows as one table (prints landscape, repeats headers)."""
    iterator = iter(rows)
    headers = next(iterator, [])
    head = "".join(f'<th scope="col">{escape(_text(h))}</th>' for h in headers)
    yield (
        f'<!DOCTYPE html><html lang="{escape(lang)}"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>"
        "body{font:10pt sans-serif;margin:1cm}table{border-collapse:collapse;width:100%}"
        "th,td{border:1px solid #999;padding:2px 4px;text-align:left;vertical-align:top}"
        "thead{display:table-header-group}@page{size:landscape;margin:1cm}"
        f"</style></head><body><h1>{escape(title)}</h1><table><thead><tr>{head}</tr></thead>"
        "<tbody>\n"
    ).encode()
    parts: list[str] = []
    for i, row in enumerate(iterator, start=1):
        parts.append("<tr>" + "".join(f"<td>{escape(_text(v))}</td>" for v in row) + "</tr>\n")
        if i % _FLUSH_ROWS == 0:
            yield "".join(parts).encode("utf-8")
            parts = []
    parts.append("</tbody></table></body></html>\n")
    yield "".join(parts).encode("utf-8")


def _temp(suffix: str) -> Path:
    with tempfile.NamedTemporaryFile(suffix=suffix, delete=False) as handle:
        return Path(handle.name)


def write_xlsx(rows: Iterable[list[Any]], sheet_name: str) -> Path:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    book = Workbook(write_only=True)
    sheet = book.create_sheet(sheet_name[:31])
    for row in rows:  # control characters cannot be stored in a worksheet: dropped
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in row])
    path = _temp(".xlsx")
    book.save(path)
    return path


def write_ods(rows: Iterable[list[Any]], sheet_name: str) -> Path:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    table = Table(name=sheet_name)
    for row in _capped(rows):
        tr = TableRow()
        for value in row:
            if isinstance(value, int | float) and not isinstance(value, bool):
                cell = TableCell(valuetype="float", value=value)
            else:
                cell = TableCell(valuetype="string")
            cell.addElement(P(text=_clean(_text(value))))
            tr.addElement(cell)
        table.addElement(tr)
    doc.spreadsheet.addElement(table)
    path = _temp(".ods")
    doc.save(str(path))
    return path


def write_docx(rows: Iterable[list[Any]], title: str) -> Path:
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.shared import Pt

    document = Document()
    document.styles["Normal"].font.size = Pt(8)
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = section.page_height, section.page_width
    document.add_heading(title, level=1)
    iterator = iter(_capped(rows))
    headers = next(iterator, [])
    table = document.add_table(rows=1, cols=max(len(headers), 1))
    table.style = "Table Grid"
    for cell, header in zip(table.rows[0].cells, headers, strict=False):
        cell.text = _clean(_text(header))
    for row in iterator:
        cells = table.add_row().cells
        for cell, value in zip(cells, row, strict=False):
            cell.text = _clean(_text(value))
    path = _temp(".docx")
    document.save(str(path))
    return path


def _capped(rows: Iterable[list[Any]]) -> Iterator[list[Any]]:
    for i, row in enumerate(rows):
        if i > DOCUMENT_ROWS_MAX:
            return
        yield row


def export_file(rows: Iterable[list[Any]], fmt: str, title: str) -> Path:
    """The rows as a temporary file of format ``fmt`` (the caller deletes it)."""
    if fmt == "xlsx":
        return write_xlsx(rows, title)
    if fmt == "ods":
        return write_ods(rows, title)
    if fmt == "docx":
        return write_docx(rows, title)
    path = _temp(f".{fmt}")
    stream = csv_stream(rows) if fmt == "csv" else None
    stream = stream or (xml_stream(rows, title) if fmt == "xml" else html_stream(rows, title))
    with path.open("wb") as out:
        for chunk in stream:
            out.write(chunk)
    return path
