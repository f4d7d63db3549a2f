"""vCard files (.vcf) with one card or many, as phones and programs write them.

2.1 (old phones: ``TEL;CELL:``, ``ENCODING=QUOTED-PRINTABLE`` with ``=`` soft line breaks,
``CHARSET=`` parameters), 3.0 and 4.0 (``TYPE=``, escaped ``\\,`` and ``\\;``, ``tel:`` URIs),
folded lines (a line starting with a space continues the one before). Each card becomes one
row of client fields, numbered by the line where it begins; a line that is not a property
is reported by its number.
"""

from __future__ import annotations

import quopri
import re
from collections.abc import Iterator

from crm_core.errors import Invalid
from crm_core.exchange.formats.base import (
    CONTACT_COLUMNS,
    Rows,
    Source,
    Table,
    contact_row,
    country_code,
    opener,
)

PHONE_KINDS = {"cell": "mobile", "mobile": "mobile", "work": "work", "home": "home", "fax": "fax"}
_SPLIT = re.compile(r"(?<!\\);")


def read_vcards(source: Source) -> Table:
    return Table("vcard", list(CONTACT_COLUMNS), _cards(source), preset=True, numbered_by="line")


def _logical_lines(source: Source) -> Iterator[tuple[int, bytes]]:
    """(line number, unfolded line) of the file: folded and QP soft-broken lines joined."""
    current: bytes | None = None
    start = 0
    with opener(source)() as handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.rstrip(b"\r\n")
            if number == 1:
                line = line.removeprefix(b"\xef\xbb\xbf")
            if current is not None and line[:1] in (b" ", b"\t"):
                current += line[1:]
                continue
            if current is not None and _soft_broken(current):
                current = current[:-1] + line
                continue
            if current is not None:
                yield start, current
            current, start = line, number
    if current is not None:
        yield start, current


def _soft_broken(line: bytes) -> bool:
    """A quoted-printable value continued on the next line (2.1 writes ``=`` at the end)."""
    head = line.split(b":", 1)[0].upper()
    return line.endswith(b"=") and b"QUOTED-PRINTABLE" in head


def _cards(source: Source) -> Rows:
    card: list[tuple[int, bytes]] | None = None
    begin = 0
    for number, line in _logical_lines(source):
        if not line.strip():
            continue
        upper = line.strip().upper()
        if upper == b"BEGIN:VCARD":
            if card is not None:
                raise Invalid("file", f"line {number}: a card begins before line {begin}'s ends")
            card, begin = [], number
        elif upper == b"END:VCARD":
            if card is None:
                raise Invalid("file", f"line {number}: END:VCARD without BEGIN:VCARD")
            yield begin, contact_row(_contact(card))
            card = None
        elif card is None:
            raise Invalid("file", f"line {number}: text outside a BEGIN:VCARD ... END:VCARD card")
        else:
            card.append((number, line))
    if card is not None:
        raise Invalid("file", f"line {begin}: the card is not closed with END:VCARD")


def _property(number: int, line: bytes) -> tuple[str, dict[str, list[str]], str]:
    """(NAME, params, decoded value) of one property line."""
    head, sep, value = _split_head(line)
    if not sep or not head:
        text = line[:40].decode("utf-8", "replace")
        raise Invalid("file", f"line {number}: not a vCard property line ({text!r})")
    parts = head.decode("ascii", "replace").split(";")
    name = parts[0].rsplit(".", 1)[-1].upper()
    params: dict[str, list[str]] = {}
    for part in parts[1:]:
        key, eq, val = part.partition("=")
        if not eq:  # 2.1: TEL;CELL;HOME
            key, val = (
                ("ENCODING" if key.upper() in ("QUOTED-PRINTABLE", "BASE64") else "TYPE"),
                key,
            )
        values = [v.strip('"').lower() for v in val.split(",")]
        params.setdefault(key.upper(), []).extend(values)
    raw = value
    if "quoted-printable" in params.get("ENCODING", []):
        raw = quopri.decodestring(value)
    return name, params, _decode(number, raw, params.get("CHARSET", [""])[0])


def _split_head(line: bytes) -> tuple[bytes, bytes, bytes]:
    quoted = False
    for i, byte in enumerate(line):
        if byte == 0x22:
            quoted = not quoted
        elif byte == 0x3A and not quoted:
            return line[:i], b":", line[i + 1 :]
    return line, b"", b""


def _decode(number: int, raw: bytes, charset: str) -> str:
    for encoding in (charset or "utf-8", "utf-8"):
        try:
            return raw.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    from crm_core.exchange.formats.csv_sniff import _legacy_encoding

    try:
        return raw.decode(_legacy_encoding(raw))
    except Invalid:
        raise Invalid("file", f"line {number}: text in an unknown encoding") from None


def _unescape(text: str) -> str:
    return (
        text.replace("\\n", "\n")
        .replace("\\N", "\n")
        .replace("\\,", ",")
        .replace("\\;", ";")
        .replace("\\\\", "\\")
    )


def _parts(value: str) -> list[str]:
    return [_unescape(p).strip() for p in _SPLIT.split(value)]


def _contact(lines: list[tuple[int, bytes]]) -> dict[str, list[str] | str]:
    out: dict[str, list[str] | str] = {}
    full_name = ""
    for number, line in lines:
        name, params, value = _property(number, line)
        types = params.get("TYPE", [])
        if name == "N":
            last, first, middle = (_parts(value) + ["", "", ""])[:3]
            out.update(last_name=last, first_name=first, middle_name=middle)
        elif name == "FN":
            full_name = _unescape(value).strip()
        elif name == "ORG":
            out["org_name"] = _parts(value)[0]
        elif name == "TITLE":
            out["job_title"] = _unescape(value).strip()
        elif name == "TEL":
            kind = next((PHONE_KINDS[t] for t in types if t in PHONE_KINDS), "other")
            kind = "mobile" if kind == "other" and not types else kind
            out.setdefault(f"phone_{kind}", []).append(value.strip().removeprefix("tel:"))  # type: ignore[union-attr]
        elif name == "EMAIL":
            out.setdefault("email", []).append(value.strip().removeprefix("mailto:"))  # type: ignore[union-attr]
        elif name == "ADR" and "street" not in out:
            _, _, street, city, region, code, country = (_parts(value) + [""] * 7)[:7]
            out.update(street=street, city=city, region=region, postal_code=code)
            out["country"] = country_code(country)
        elif name == "BDAY":
            out["birthday"] = value.strip()
        elif name == "NOTE":
            out["comment"] = _unescape(value).strip()
        elif name == "CATEGORIES":
            out["tags"] = [t for t in _parts(value.replace(",", ";")) if t]
        elif name == "KIND" and value.strip().lower() == "org":
            out["kind"] = "organization"
    named = out.get("first_name") or out.get("last_name")
    if not named and full_name and out.get("org_name") != full_name:
        first, _, last = full_name.rpartition(" ")
        out["first_name"], out["last_name"] = (first, last) if first else (last, "")
    return out
