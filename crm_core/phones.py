"""Phone numbers: everything is matched on E.164, whatever format it was typed or dialed in."""

from __future__ import annotations

import re

import phonenumbers

from crm_core.config import get_settings
from crm_core.errors import said

_INTL_PREFIX = re.compile(r"^\s*(?:00|\+\s*)")
_WITHHELD = {"", "anonymous", "unknown", "<unknown>", "restricted", "private", "unavailable"}


class InvalidPhone(ValueError):
    """The text is not a phone number we can dial; the message says why."""


def to_e164(number: str, region: str | None = None) -> str:
    """Normalise ``number`` to E.164 or raise :class:`InvalidPhone` with the reason.

    Accepts ``+40 721 234 567``, ``0721234567``, ``0040721234567``, ``(0721) 234-567``.
    """
    if number is None:
        raise InvalidPhone(said("no number given"))
    text = str(number).strip()
    if not text:
        raise InvalidPhone(said("no number given"))
    if len(text) > 64:
        raise InvalidPhone(said("too long to be a phone number"))
    region = (region or get_settings().default_region).upper()
    candidate = _INTL_PREFIX.sub("+", text, count=1)
    try:
        parsed = phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(_REASONS.get(exc.error_type, said("not a phone number"))) from None
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidPhone(said("wrong number of digits for the country"))
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhone(said("not a valid number for its country"))
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def try_e164(number: str | None, region: str | None = None) -> str | None:
    """E.164 or None: for numbers that come from outside (a PBX, a webhook) and may be anything."""
    if number is None or is_withheld(number):
        return None
    try:
        return to_e164(number, region)
    except InvalidPhone:
        return None


def is_withheld(number: str | None) -> bool:
    return number is None or number.strip().lower() in _WITHHELD


_REASONS = {
    phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: said("unknown country code"),
    phonenumbers.NumberParseException.NOT_A_NUMBER: said("not a phone number"),
    phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: said("too short"),
    phonenumbers.NumberParseException.TOO_SHORT_NSN: said("too short"),
    phonenumbers.NumberParseException.TOO_LONG: said("too long"),
}
