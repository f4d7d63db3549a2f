"""SMS segment counting: GSM-7 (GSM 03.38) or UCS-2, as the handset network will bill it.

- GSM-7: 160 septets in one segment, 153 per part when split; the extension characters
  (``€ [ ] { } ^ ~ | \\`` and the form feed) are an escape plus a septet, so they count double and a
  part never splits such a pair.
- Any character outside GSM 03.38 switches the whole message to UCS-2: 70 units, 67 per part;
  characters outside the Basic Multilingual Plane (emoji) take two units (a surrogate pair) and are
  never split across parts.
- Romanian diacritics (ă â î ș ț, comma and cedilla forms) are not in GSM 03.38: transliterating
  them usually halves the cost, so the API offers it.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import gsm0338  # noqa: F401  (registers the "gsm03.38" codec)
from gsm0338.charset import BASIC_CHARACTER_SET, BASIC_CHARACTER_SET_EXTENSION

GSM_SINGLE, GSM_MULTI = 160, 153
UCS2_SINGLE, UCS2_MULTI = 70, 67

ROMANIAN_TRANSLITERATION = str.maketrans(
    {
        "ș": "s", "ş": "s", "Ș": "S", "Ş": "S",
        "ț": "t", "ţ": "t", "Ț": "T", "Ţ": "T",
        "ă": "a", "â": "a", "Ă": "A", "Â": "A",
        "î": "i", "Î": "I",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class SegmentInfo:
    encoding: str  # "GSM-7" | "UCS-2"
    segments: int
    characters: int  # characters as the user sees them (code points)
    units: int  # septets (GSM-7) or 16-bit units (UCS-2) billed
    per_segment: int  # capacity of each part for this message
    text: str  # the text that was measured (transliterated when asked)


_CONTROL_NAMES = {"LINE FEED": "\n", "FORM FEED": "\f", "CARRIAGE RETURN": "\r", "ESCAPE": "\x1b"}


def _septets_table() -> dict[str, int]:
    """Septets per character, from the ``gsm0338`` package's own GSM 03.38 tables (the codec's
    character-by-character encoder is too slow for 200,000 messages a run)."""

    def char(name: str) -> str:
        try:
            return unicodedata.lookup(name)
        except KeyError:
            return _CONTROL_NAMES[name]

    table = {char(name): 1 for name in BASIC_CHARACTER_SET.values()}
    for name in BASIC_CHARACTER_SET_EXTENSION.values():
        table.setdefault(char(name), 2)
    table.pop("\x1b", None)  # the escape itself is not a character a message can contain
    return table


SEPTETS = _septets_table()


def transliterate_romanian(text: str) -> str:
    """Replace ă â î ș ş ț ţ (and capitals) with their plain Latin letters."""
    return text.translate(ROMANIAN_TRANSLITERATION)


def _pack(sizes: list[int], single: int, multi: int) -> int:
    """Parts needed for characters of the given unit sizes (a character is never split)."""
    total = sum(sizes)
    if total <= single:
        return 1 if total else 0
    parts, used = 1, 0
    for size in sizes:
        if used + size > multi:
            parts += 1
            used = 0
        used += size
    return parts


GSM_CHARS = frozenset(SEPTETS)
GSM_EXTENSION = tuple(c for c, n in SEPTETS.items() if n == 2)
#: the ASCII characters of GSM 03.38, and those of them that take an escape pair, as bytes: most
#: texts are ASCII, and ``bytes.translate`` checks them in C (a bulk run counts 100,000 texts)
_GSM_ASCII = bytes(code for code in range(128) if chr(code) in GSM_CHARS)
_GSM_ASCII_EXTENSION = bytes(code for code in range(128) if chr(code) in GSM_EXTENSION)


def _gsm_units(text: str) -> int | None:
    """Septets of the text in GSM-7, or None when a character is outside GSM 03.38."""
    if text.isascii():
        raw = text.encode("ascii")
        if raw.translate(None, _GSM_ASCII):  # something left: not a GSM character
            return None
        return 2 * len(raw) - len(raw.translate(None, _GSM_ASCII_EXTENSION))
    if GSM_CHARS.issuperset(text):
        return len(text) + sum(text.count(c) for c in GSM_EXTENSION)
    return None


def _measure(text: str) -> tuple[str, int, int, int]:
    """(encoding, segments, units, per_segment) of the text as it will be billed."""
    units = _gsm_units(text)
    if units is not None:
        if units <= GSM_SINGLE:
            return "GSM-7", 1 if units else 0, units, GSM_SINGLE
        if units == len(text):  # no escape pairs: nothing can straddle two parts
            return "GSM-7", -(-units // GSM_MULTI), units, GSM_MULTI
        sizes = [SEPTETS[char] for char in text]
        return "GSM-7", _pack(sizes, GSM_SINGLE, GSM_MULTI), units, GSM_MULTI
    units = len(text.encode("utf-16-le")) // 2
    if units <= UCS2_SINGLE:
        return "UCS-2", 1, units, UCS2_SINGLE
    if units == len(text):  # no surrogate pairs
        return "UCS-2", -(-units // UCS2_MULTI), units, UCS2_MULTI
    sizes = [2 if ord(char) > 0xFFFF else 1 for char in text]
    return "UCS-2", _pack(sizes, UCS2_SINGLE, UCS2_MULTI), units, UCS2_MULTI


def segment_count(text: str) -> int:
    """Just the number of segments (what the outbox stores for each of 200,000 reminders)."""
    return _measure(text)[1]


@lru_cache(maxsize=8192)  # a pure function; the same text is often measured more than once
def count_segments(text: str, *, transliterate: bool = False) -> SegmentInfo:
    if transliterate:
        text = transliterate_romanian(text)
    encoding, segments, units, per_segment = _measure(text)
    return SegmentInfo(encoding, segments, len(text), units, per_segment, text)
