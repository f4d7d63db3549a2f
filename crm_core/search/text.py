"""What goes into ``clients.search_text``, and how a query is folded the same way.

The text is lower-cased and stripped of diacritics (``Ștefan`` -> ``stefan``), so a query typed
without them finds the name with them. Phone numbers are added as their E.164 digits; a
query is reduced to digits the same way (international prefix and national trunk prefix
dropped), so any fragment matches whatever format it is typed in.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

import phonenumbers

_SPACES = re.compile(r"\s+")
_PHONE_QUERY = re.compile(r"^[\d\s()+\-./]+$")
_NON_DIGITS = re.compile(r"\D")


def fold(text: str) -> str:
    """Lower case, no diacritics, single spaces: the form both the index and queries use."""
    if not text:
        return ""
    if text.isascii():
        return _SPACES.sub(" ", text.lower()).strip()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", unicodedata.normalize("NFC", stripped)).strip()


def phone_digits(e164: str) -> str:
    """``+40721234567`` -> ``40721234567``: any fragment of the number is in there."""
    return e164.lstrip("+")


def digit_runs(country_code: int, national_number: str) -> str:
    """The digits of a number as stored in the search text (bulk seeding builds them so)."""
    return f"{country_code}{national_number}"


@lru_cache(maxsize=64)
def _trunk_prefix(region: str) -> str:
    """The national (trunk) prefix dialled before a number at home: ``0`` in Romania."""
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    return (meta.national_prefix or "") if meta is not None else ""


def build_search_text(
    *,
    names: Iterable[str] = (),
    phones_e164: Iterable[str] = (),
    emails: Iterable[str] = (),
    extra: Iterable[str] = (),
    phone_runs: Iterable[str] = (),
) -> str:
    """One line: folded names, phone digits, e-mails and other searchable words.

    ``phone_runs``: already computed :func:`digit_runs` (bulk seeding skips the parsing).
    """
    parts = [fold(n) for n in names if n]
    parts += [phone_digits(p) for p in phones_e164 if p]
    parts += list(phone_runs)
    parts += [e.lower() for e in emails if e]
    parts += [fold(x) for x in extra if x]
    seen: list[str] = []
    for part in parts:
        if part and part not in seen:
            seen.append(part)
    return " | ".join(seen)


def is_phone_query(q: str) -> bool:
    """Digits with phone punctuation only: search it as a digit run."""
    return bool(_PHONE_QUERY.match(q)) and sum(c.isdigit() for c in q) >= 3


def query_terms(q: str) -> str:
    """The folded needle to look for: for phone-like queries, the E.164 digits when the text
    is a whole valid number (any format), else the digits typed (a fragment)."""
    if is_phone_query(q):
        from crm_core.phones import try_e164

        e164 = try_e164(q)
        if e164:
            return e164[1:]
        digits = _NON_DIGITS.sub("", q)
        # 0040... and +40... are the same digits once the international prefix is gone
        if digits.startswith("00") and len(digits) > 4:
            return digits[2:]
        # a national fragment (0721 23...): the stored digits carry no trunk prefix
        from crm_core.config import get_settings

        trunk = _trunk_prefix(get_settings().default_region)
        if trunk and q.lstrip(" (").startswith(trunk) and len(digits) > len(trunk) + 2:
            return digits[len(trunk) :]
        return digits
    return fold(q)
