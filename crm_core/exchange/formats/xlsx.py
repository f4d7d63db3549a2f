"""XLSX workbooks (the first sheet), read row by row with openpyxl's read-only mode."""

from __future__ import annotations

import zipfile

from crm_core.errors import Invalid
from crm_core.exchange.formats.base import Rows, Source, Table, cell_text, opener, with_header


def read_xlsx(source: Source) -> Table:
    from openpyxl import load_workbook

    try:
        book = load_workbook(opener(source)(), read_only=True, data_only=True)
        sheet = book.worksheets[0]
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, IndexError) as exc:
        raise Invalid("file", f"is not a readable XLSX workbook ({_why(exc)})") from None
    except Exception as exc:  # openpyxl raises many kinds on broken files
        raise Invalid("file", f"is not a readable XLSX workbook ({_why(exc)})") from None
    return with_header("xlsx", _rows(book, sheet), "is empty: the first row must name the columns")


def _why(exc: Exception) -> str:
    return str(exc).splitlines()[0][:120] if str(exc) else exc.__class__.__name__


def _rows(book, sheet) -> Rows:
    number = 0
    try:
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, [cell_text(v) for v in values]
    except Exception as exc:  # a damaged sheet part is found while reading it
        raise Invalid("file", f"row {number + 1}: the workbook is damaged ({_why(exc)})") from None
    finally:
        book.close()
