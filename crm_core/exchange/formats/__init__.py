"""Reading the files people bring: :func:`open_table` picks the reader by the file's name and
first bytes (see :mod:`crm_core.exchange.formats.base` for the :class:`Table` they return)."""

from __future__ import annotations

from crm_core.errors import Invalid
from crm_core.exchange.formats.base import (
    CONTACT_COLUMNS,
    Rows,
    Source,
    Table,
    head_bytes,
    opener,
)

__all__ = ["CONTACT_COLUMNS", "Rows", "Source", "Table", "kind_of", "open_table", "opener"]


def kind_of(source: Source, filename: str) -> str:
    """The file's kind by its name, checked against its first bytes (not what it claims: 422)."""
    name = filename.lower()
    head = head_bytes(source, 64)
    is_zip = head[:4] == b"PK\x03\x04"
    if name.endswith((".xlsx", ".xlsm")):
        if not is_zip:
            raise Invalid("file", "is named .xlsx but is not an Excel workbook")
        return "xlsx"
    if name.endswith(".ods"):
        if not is_zip:
            raise Invalid("file", "is named .ods but is not an OpenDocument spreadsheet")
        return "ods"
    if name.endswith((".xls", ".doc", ".pdf")):
        raise Invalid("file", "this kind of file cannot be imported: save it as XLSX, ODS or CSV")
    if name.endswith((".vcf", ".vcard")) or head.lstrip(b"\xef\xbb\xbf \r\n").upper().startswith(
        b"BEGIN:VCARD"
    ):
        return "vcard"
    if is_zip:
        from crm_core.exchange.formats.ods import is_ods

        return "ods" if is_ods(source) else "xlsx"
    if head.startswith((b"%PDF", b"\xd0\xcf\x11\xe0")):
        raise Invalid("file", "this kind of file cannot be imported: save it as XLSX, ODS or CSV")
    return "csv"


def open_table(source: Source, filename: str = "") -> Table:
    """The file as a table of rows (see the module docstring)."""
    kind = kind_of(source, filename)
    if kind == "xlsx":
        from crm_core.exchange.formats.xlsx import read_xlsx

        return read_xlsx(source)
    if kind == "ods":
        from crm_core.exchange.formats.ods import read_ods

        return read_ods(source)
    if kind == "vcard":
        from crm_core.exchange.formats.vcard import read_vcards

        return read_vcards(source)
    from crm_core.exchange.formats.csv_sniff import read_csv
    from crm_core.exchange.formats.google_outlook import recognise

    return recognise(read_csv(source))
