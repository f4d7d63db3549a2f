"""OpenDocument spreadsheets (.ods, LibreOffice Calc): the first sheet, streamed.

``content.xml`` is parsed incrementally (iterparse) straight from the zip, so a large sheet is
never built as a document tree; repeated rows and columns are expanded (trailing empty ones,
which Calc writes as "repeated a million times", are not).
"""

from __future__ import annotations

import zipfile
from xml.etree.ElementTree import ParseError, iterparse

from crm_core.errors import Invalid
from crm_core.exchange.formats.base import Rows, Source, Table, opener, with_header

TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
ROW, CELL, COVERED = (
    f"{{{TABLE}}}table-row",
    f"{{{TABLE}}}table-cell",
    f"{{{TABLE}}}covered-table-cell",
)
SHEET = f"{{{TABLE}}}table"
MAX_REPEAT = 10_000


def is_ods(source: Source) -> bool:
    try:
        with zipfile.ZipFile(opener(source)()) as archive:
            return archive.read("mimetype").startswith(b"application/vnd.oasis.opendocument")
    except (zipfile.BadZipFile, KeyError):
        return False


def read_ods(source: Source) -> Table:
    try:
        archive = zipfile.ZipFile(opener(source)())
        content = archive.open("content.xml")
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise Invalid("file", f"is not a readable ODS spreadsheet ({exc})") from None
    return with_header(
        "ods", _rows(archive, content), "is empty: the first row must name the columns"
    )


def _cell_value(element) -> str:
    kind = element.get(f"{{{OFFICE}}}value-type")
    if kind in ("float", "percentage", "currency"):
        value = element.get(f"{{{OFFICE}}}value", "")
        return value[:-2] if value.endswith(".0") else value
    if kind == "date":
        value = element.get(f"{{{OFFICE}}}date-value", "")
        return value[:10] if value.endswith("T00:00:00") or len(value) == 10 else value
    if kind == "boolean":
        return element.get(f"{{{OFFICE}}}boolean-value", "")
    return "\n".join(_paragraph(p) for p in element.iter(f"{{{TEXT}}}p")).strip()


def _paragraph(p) -> str:
    parts = [p.text or ""]
    for child in p:
        if child.tag == f"{{{TEXT}}}s":
            parts.append(" " * int(child.get(f"{{{TEXT}}}c", "1")))
        elif child.tag == f"{{{TEXT}}}tab":
            parts.append("\t")
        else:
            parts.append("".join(child.itertext()))
        parts.append(child.tail or "")
    return "".join(parts)


def _row_cells(row) -> list[str]:
    cells: list[str] = []
    for cell in row:
        if cell.tag not in (CELL, COVERED):
            continue
        repeat = min(int(cell.get(f"{{{TABLE}}}number-columns-repeated", "1")), MAX_REPEAT)
        value = _cell_value(cell) if cell.tag == CELL else ""
        cells.extend([value] * repeat)
    while cells and not cells[-1]:
        cells.pop()
    return cells


def _rows(archive: zipfile.ZipFile, content) -> Rows:
    number, sheet = 0, None
    try:
        for event, element in iterparse(content, events=("start", "end")):
            if element.tag == SHEET:
                if event == "end":
                    return  # the first sheet only
                sheet = element
                continue
            if event != "end" or element.tag != ROW:
                continue
            cells = _row_cells(element)
            repeat = int(element.get(f"{{{TABLE}}}number-rows-repeated", "1"))
            if sheet is not None:
                sheet.clear()  # the rows read so far: memory stays flat
            if not any(cells):
                number += repeat
                continue
            for _ in range(min(repeat, MAX_REPEAT)):
                number += 1
                yield number, list(cells)
    except ParseError as exc:
        raise Invalid("file", f"row {number + 1}: the spreadsheet is damaged ({exc})") from None
    finally:
        content.close()
        archive.close()
