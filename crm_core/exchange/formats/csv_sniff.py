"""CSV files as spreadsheets and old programs write them: the encoding and the delimiter are
sniffed from the first 64 KB, then the file is read row by row (streaming).

Encodings: UTF-8 (with or without BOM), UTF-16 with BOM, Windows-1250/1251/1252 and KOI8-R.
UTF-8 is taken when the sample decodes as UTF-8; otherwise charset-normalizer picks among the
legacy code pages, and Cyrillic text is checked the way a reader would: KOI8-R read as
Windows-1251 (or the other way round) comes out in mostly capital letters.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator

from crm_core.errors import Invalid
from crm_core.exchange.formats.base import Rows, Source, Table, opener, with_header

SAMPLE_BYTES = 64 * 1024
LEGACY = ("cp1250", "cp1251", "cp1252", "koi8_r")
DELIMITERS = ",;\t|"
#: fields this long are not a CSV a person made: a binary file read as text
MAX_FIELD = 1_000_000


def sniff_encoding(sample: bytes) -> str:
    """The encoding of a file whose first bytes are ``sample``; Invalid when none fits."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in sample:
        raise Invalid("file", "is not a text file (CSV): it holds binary data")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    return _legacy_encoding(sample)


def _legacy_encoding(sample: bytes) -> str:
    from charset_normalizer import from_bytes

    best = from_bytes(sample, cp_isolation=list(LEGACY)).best()
    if best is None:
        raise Invalid("file", "has an unknown text encoding: save it as UTF-8 CSV")
    encoding = best.encoding
    if encoding in ("cp1251", "koi8_r"):
        encoding = max(("cp1251", "koi8_r"), key=lambda e: _lowercase_share(sample, e))
    return encoding


def _lowercase_share(sample: bytes, encoding: str) -> float:
    """Share of lower-case letters among the Cyrillic ones: high for the right code page."""
    text = sample.decode(encoding, errors="replace")
    letters = [c for c in text if "\u0400" <= c <= "\u04ff"]
    if not letters:
        return 0.0
    return sum(c.islower() for c in letters) / len(letters)


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the same number of columns."""
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    if not lines:
        return ","
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=DELIMITERS).delimiter
    except csv.Error:
        return max(DELIMITERS, key=lines[0].count)


def read_csv(source: Source) -> Table:
    """The CSV file as a table (encoding and delimiter sniffed)."""
    with opener(source)() as handle:
        sample = handle.read(SAMPLE_BYTES)
    if not sample.strip():
        raise Invalid("file", "is empty: the first row must name the columns")
    encoding = sniff_encoding(sample)
    text = sample.decode(encoding, errors="ignore")
    delimiter = sniff_delimiter(text.lstrip("\ufeff"))
    rows = _rows(source, encoding, delimiter)
    return with_header(
        "csv",
        rows,
        "is empty: the first row must name the columns",
        encoding=encoding.replace("_", "-").removesuffix("-sig").upper(),
        delimiter=delimiter,
    )


def _rows(source: Source, encoding: str, delimiter: str) -> Rows:
    handle = opener(source)()
    text = io.TextIOWrapper(handle, encoding=encoding, newline="")
    reader = csv.reader(_lines(text), delimiter=delimiter)
    number = 0
    try:
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise Invalid("file", f"row {number + 1}: not a readable CSV row ({exc})") from None
            except UnicodeDecodeError:
                line = _undecodable_line(source, encoding)
                raise Invalid("file", f"line {line}: bytes that are not {encoding} text") from None
            number += 1
            if number == 1 and cells and cells[0].startswith("\ufeff"):
                cells[0] = cells[0][1:]
            if any(len(c) > MAX_FIELD for c in cells):
                raise Invalid("file", f"row {number}: a cell longer than {MAX_FIELD} characters")
            yield number, [c.strip().replace("\x00", "") for c in cells]
    finally:
        text.close()


def _undecodable_line(source: Source, encoding: str) -> int:
    """The number of the first line that does not decode (read again, only on error)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    with opener(source)() as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                decoder.decode(raw)
            except UnicodeDecodeError:
                return number
    return 0


def _lines(text: io.TextIOWrapper) -> Iterator[str]:
    yield from text
