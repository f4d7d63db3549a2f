"""Property: a valid number, written in any of the ways people and PBXs write it, finds the same
client through the caller lookup and through search, on both backends."""

from __future__ import annotations

import phonenumbers
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from crm_core.auth.principal import SYSTEM
from crm_core.clients.lookup import caller_card
from crm_core.clients.schemas import ClientIn
from crm_core.clients.service import create_client
from crm_core.search.service import search_clients

REGIONS = ["RO", "RU", "MD", "UA", "GB", "DE", "FR", "IT", "US", "ES", "PL", "TR", "IL"]
KINDS = [phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE]
SEPARATORS = [" ", "-", ".", "  ", " - ", "/"]


@st.composite
def valid_numbers(draw) -> phonenumbers.PhoneNumber:
    region = draw(st.sampled_from(REGIONS))
    example = phonenumbers.example_number_for_type(region, draw(st.sampled_from(KINDS)))
    assume(example is not None)
    nsn = str(example.national_number)
    keep = draw(st.integers(min_value=max(2, len(nsn) - 6), max_value=len(nsn) - 1))
    tail = draw(st.text("0123456789", min_size=len(nsn) - keep, max_size=len(nsn) - keep))
    number = phonenumbers.parse(f"+{example.country_code}{nsn[:keep]}{tail}", None)
    assume(phonenumbers.is_valid_number(number))
    return number


@st.composite
def written(draw, number: phonenumbers.PhoneNumber) -> str:
    """One way of writing ``number``: a phonenumbers format, 00 prefix, random separators."""
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    ways = [
        e164,
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL),
        "00" + e164[1:],
        "00 "
        + phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)[1:],
    ]
    if phonenumbers.region_code_for_number(number) == "RO":  # the configured default region
        ways.append(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL))
    way = draw(st.sampled_from(ways))
    if draw(st.booleans()):  # scatter separators between the digits
        head = "+" if way.startswith("+") else ""
        digits = [c for c in way if c.isdigit()]
        out = head
        for digit in digits:
            out += digit + (draw(st.sampled_from(SEPARATORS)) if draw(st.booleans()) else "")
        way = out.strip(" -./")
    if draw(st.booleans()):
        way = f"  {way} "
    return way


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data(), number=valid_numbers())
def test_any_format_finds_the_same_client(db, data, number):
    db.rollback()
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    client = create_client(
        db,
        SYSTEM,
        ClientIn(last_name="Caller", phones=[{"number": e164}]),
        force=True,
    )
    for _ in range(3):
        text = data.draw(written(number), label="written")
        card = caller_card(db, text)
        assert card is not None, text
        assert card.client_id == client.id and card.matched_e164 == e164
        found = search_clients(db, SYSTEM, text).items
        assert found and found[0].id == client.id, text
    db.rollback()
