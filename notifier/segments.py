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

from dataclasses import asdict, dataclass

import gsm0338  # noqa: F401  (registers the "gsm03.38" codec)

GSM_CODEC = "gsm03.38"
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

    def as_dict(self) -> dict:
        return asdict(self)


def transliterate_romanian(text: str) -> str:
    """Replace ă â î ș ş ț ţ (and capitals) with their plain Latin letters."""
    return text.translate(ROMANIAN_TRANSLITERATION)


def _gsm_units(char: str) -> int | None:
    try:
        return len(char.encode(GSM_CODEC))
    except UnicodeEncodeError:
        return None


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


def count_segments(text: str, *, transliterate: bool = False) -> SegmentInfo:
    if transliterate:
        text = transliterate_romanian(text)
    try:  # fast path: most messages are short GSM-7 text
        septets = len(text.encode(GSM_CODEC))
    except UnicodeEncodeError:
        septets = None
    if septets is not None and septets <= GSM_SINGLE:
        return SegmentInfo("GSM-7", 1 if septets else 0, len(text), septets, GSM_SINGLE, text)
    gsm_sizes: list[int] = []
    for char in text:
        size = _gsm_units(char)
        if size is None:
            break
        gsm_sizes.append(size)
    else:
        return SegmentInfo(
            encoding="GSM-7",
            segments=_pack(gsm_sizes, GSM_SINGLE, GSM_MULTI),
            characters=len(text),
            units=sum(gsm_sizes),
            per_segment=GSM_SINGLE if sum(gsm_sizes) <= GSM_SINGLE else GSM_MULTI,
            text=text,
        )
    ucs_sizes = [2 if ord(char) > 0xFFFF else 1 for char in text]
    units = sum(ucs_sizes)
    return SegmentInfo(
        encoding="UCS-2",
        segments=_pack(ucs_sizes, UCS2_SINGLE, UCS2_MULTI),
        characters=len(text),
        units=units,
        per_segment=UCS2_SINGLE if units <= UCS2_SINGLE else UCS2_MULTI,
        text=text,
    )
