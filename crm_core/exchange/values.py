"""Cell values as files write them: dates in the file's locale, phones and e-mails checked fast.

The fast checks accept only what is clearly valid (the same verdict the clients API gives);
anything else goes through the full client schema, which names the problem.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

import phonenumbers
from email_validator import SPECIAL_USE_DOMAIN_NAMES
from phonenumbers import PhoneMetadata, PhoneNumber

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_DOTTED = re.compile(r"^(\d{1,2})[./-](\d{1,2})[./-](\d{2}|\d{4})$")
_SLASHED = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})$")


def parse_date(text: str) -> str:
    """ISO text of a date written as ``yyyy-mm-dd``, ``yyyymmdd``, ``dd.mm.yyyy`` (also with
    ``-``), or ``m/d/yyyy`` (US, Outlook; ``d/m/yyyy`` when the first number passes 12);
    the text unchanged when it is none of these (the schema then names it)."""
    value = text.strip()
    for pattern, order in ((_ISO, "ymd"), (_COMPACT, "ymd"), (_SLASHED, "mdy"), (_DOTTED, "dmy")):
        match = pattern.match(value)
        if not match:
            continue
        parts = dict(zip(order, (int(g) for g in match.groups()), strict=True))
        if order == "mdy" and parts["m"] > 12:
            parts["m"], parts["d"] = parts["d"], parts["m"]
        year = parts["y"]
        if year < 100:
            year += 1900 if year > date.today().year % 100 else 2000
        try:
            return date(year, parts["m"], parts["d"]).isoformat()
        except ValueError:
            return value
    return value


_SEPARATORS = re.compile(r"[\s\-().\u00a0/]")


@lru_cache(maxsize=64)
def _national(region: str) -> tuple[int, str] | None:
    """(country code, national prefix) of a region whose prefix is plain digits."""
    meta = PhoneMetadata.metadata_for_region(region)
    if meta is None or meta.national_prefix_transform_rule:
        return None
    prefix = meta.national_prefix or ""
    if meta.national_prefix_for_parsing not in (None, prefix) or not prefix.isdigit():
        return None
    return meta.country_code, prefix


def fast_e164(number: str, region: str) -> str | None:
    """E.164 of a plainly written valid number, or None (the full check decides then)."""
    text = _SEPARATORS.sub("", number)
    if text.startswith("+"):
        digits, international = text[1:], True
    elif text.startswith("00"):
        digits, international = text[2:], True
    else:
        digits, international = text, False
    if not (digits.isascii() and digits.isdigit()) or not 6 <= len(digits) <= 15:
        return None
    if international:
        if digits.startswith("0"):
            return None
        for size in (1, 2, 3):
            code = int(digits[:size])
            if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
                national = digits[size:]
                break
        else:
            return None
        home = _national(phonenumbers.COUNTRY_CODE_TO_REGION_CODE[code][0])
        if home is None or national.startswith(("0", home[1] or "-")):
            return None
    else:
        home = _national(region)
        if home is None or not home[1] or not digits.startswith(home[1]):
            return None
        code, national = home[0], digits[len(home[1]) :]
        if national.startswith("0"):
            return None
    if not national or not _valid(code, national):
        return None
    return f"+{code}{national}"


#: the number types of the metadata: a valid number is of one of them (the common first)
_TYPES = (
    "mobile",
    "fixed_line",
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
)


def _pattern(desc) -> tuple[frozenset[int], re.Pattern[str]] | None:
    if desc is None or not desc.national_number_pattern:
        return None
    return frozenset(desc.possible_length or ()), re.compile(desc.national_number_pattern)


@lru_cache(maxsize=512)
def _validator(code: int) -> tuple | None:
    """(general pattern, type patterns) of a country code served by one region, the same
    rules ``phonenumbers.is_valid_number`` applies, compiled once; None for a code shared by
    several regions (phonenumbers then picks the region itself)."""
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(code, ())
    if len(regions) != 1:
        return None
    meta = PhoneMetadata.metadata_for_region_or_calling_code(code, regions[0])
    if meta is None:
        return None
    general = _pattern(meta.general_desc)
    types = [p for p in (_pattern(getattr(meta, name)) for name in _TYPES) if p is not None]
    return general, types


def _matches(pattern: tuple[frozenset[int], re.Pattern[str]] | None, national: str) -> bool:
    if pattern is None:
        return False
    lengths, regex = pattern
    return (not lengths or len(national) in lengths) and regex.fullmatch(national) is not None


def _valid(code: int, national: str) -> bool:
    """``phonenumbers.is_valid_number`` of +code national, without building the number
    and walking the metadata for each row: the hot path of a large import."""
    rules = _validator(code)
    if rules is None:
        return phonenumbers.is_valid_number(
            PhoneNumber(country_code=code, national_number=int(national))
        )
    general, types = rules
    return _matches(general, national) and any(_matches(t, national) for t in types)


_EMAIL = re.compile(
    r"^[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*@"
    r"((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})$"
)


def fast_email(address: str) -> str | None:
    """The address with its domain in lower case when it is a plain valid one, else None."""
    if len(address) > 254:
        return None
    match = _EMAIL.match(address)
    if not match:
        return None
    domain = match.group(1).lower()
    labels = domain.split(".")
    if any(label[2:4] == "--" for label in labels):  # reserved for IDNA (xn--)
        return None
    if any(".".join(labels[i:]) in SPECIAL_USE_DOMAIN_NAMES for i in range(len(labels))):
        return None
    local = address[: match.start(1) - 1]
    if len(local) > 64:
        return None
    return f"{local}@{domain}"
