"""What goes into ``clients.search_text``, and how a query is folded the same way.

The text is lower-cased and stripped of diacritics (``Ștefan`` -> ``stefan``), so a query typed
without them finds the name with them. Phone numbers are added as their national digits
(``721234567``), so a fragment typed anywhere in a number matches; numbers typed with a country
or trunk prefix are looked up in the E.164 index instead.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
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
    """``+40721234567`` -> ``721234567``: the national significant number. Fragments of it
    are found through the trigram index; anything typed with a country or trunk prefix is
    found through the E.164 index instead (see :func:`phone_query`)."""
    try:
        return str(phonenumbers.parse(e164, None).national_number)
    except phonenumbers.NumberParseException:
        return e164.lstrip("+")


def digit_runs(country_code: int, national_number: str) -> str:
    """The digits of a number as stored in the search text (bulk seeding builds them so)."""
    return national_number


@lru_cache(maxsize=64)
def _region_prefixes(region: str) -> tuple[str, str]:
    """(country code, trunk prefix) of a region: ``("40", "0")`` for Romania."""
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if meta is None:
        return "", ""
    return str(meta.country_code), meta.national_prefix or ""


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


@dataclass(frozen=True)
class PhoneQuery:
    """How to look a phone-like query up.

    ``e164_prefix``: typed with a country or trunk prefix (``+40 72``, ``0040 72``, ``072``) or
    a whole number: range scan of the E.164 index; ``exact`` when it is a whole valid number.
    ``fragment``: digits to find anywhere in a national number (trigram index); for bare
    digits (``721 23``) also tried as the start of a national number of the default region.
    """

    e164_prefix: str | None
    exact: bool
    fragment: str | None


def phone_query(q: str) -> PhoneQuery:
    from crm_core.config import get_settings
    from crm_core.phones import try_e164

    e164 = try_e164(q)
    if e164:
        return PhoneQuery(e164, True, None)
    digits = _NON_DIGITS.sub("", q)
    text = q.strip().lstrip("(").strip()
    country, trunk = _region_prefixes(get_settings().default_region)
    if text.startswith("+"):
        return PhoneQuery("+" + digits, False, None)
    if digits.startswith("00"):
        return PhoneQuery("+" + digits[2:], False, None)
    if trunk and digits.startswith(trunk):
        return PhoneQuery(f"+{country}{digits[len(trunk) :]}", False, digits[len(trunk) :])
    return PhoneQuery(f"+{country}{digits}" if country else None, False, digits)


def query_terms(q: str) -> str:
    """The folded text to look for (for phone-like queries: the digits typed)."""
    return _NON_DIGITS.sub("", q) if is_phone_query(q) else fold(q)
