"""English, Romanian and Russian: complete catalogs, placeholders intact, locale formatting."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from dashboard import i18n
from dashboard.i18n.tool import all_messages, area_po_paths, extract, po_path

PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def catalog(language: str):
    """Every message of the language: messages.po and the business areas' catalogs."""
    return all_messages(language)


def test_every_string_of_the_pages_is_in_the_catalogs():
    """A string added to a page or script without running `callcard i18n extract` fails here."""
    used = {m.id for m in extract(write=False) if m.id}
    for language in ("ro", "ru"):
        known = {m.id for m in catalog(language) if m.id}
        assert used - known == set(), f"{language}: run `callcard i18n extract` and translate"


@pytest.mark.parametrize("language", ["ro", "ru"])
def test_every_string_is_translated_with_the_same_placeholders(language):
    for message in catalog(language):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), f"{language}: {message.id!r} is not translated"
        expected = set(PLACEHOLDER.findall(ids[0]))
        for text in strings:
            assert set(PLACEHOLDER.findall(text)) == expected, (language, message.id, text)


@pytest.mark.parametrize("language", ["ro", "ru"])
def test_compiled_catalogs_match_the_sources(language):
    for path in [po_path(language), *area_po_paths(language)]:
        with path.with_suffix(".mo").open("rb") as fh:
            compiled = {(m.context, _key(m.id)): _key(m.string) for m in read_mo(fh) if m.id}
        with path.open("rb") as fh:
            for message in read_po(fh, locale=language):
                if message.id:
                    key = (message.context, _key(message.id))
                    assert compiled.get(key) == _key(message.string), (
                        f"{path.name}: run `callcard i18n compile`"
                    )


def _spaces(text: str) -> str:
    """CLDR versions differ in which no-break space they use."""
    return text.replace("\u202f", " ").replace("\xa0", " ")


def _key(value):
    return tuple(value) if isinstance(value, list | tuple) else value


def test_language_choice_and_plurals():
    assert i18n.normalize("ro-RO") == "ro" and i18n.normalize("de") == "en"
    assert i18n.from_accept_language("de-DE,ru;q=0.8,en;q=0.5") == "ru"
    i18n.set_language("ru")
    try:
        assert i18n.gettext("Clients") == "Клиенты"
        assert i18n.ngettext("%(num)s client", "%(num)s clients", 1) == "1 клиент"
        assert i18n.ngettext("%(num)s client", "%(num)s clients", 3) == "3 клиента"
        assert i18n.ngettext("%(num)s client", "%(num)s clients", 25) == "25 клиентов"
        # the count is written as the reader writes numbers, the form chosen by its value
        many = i18n.ngettext("%(num)s client", "%(num)s clients", 11151)
        assert _spaces(many) == "11 151 клиент"
        i18n.set_language("ro")
        assert i18n.ngettext("%(num)s client", "%(num)s clients", 25) == "25 de clienți"
        assert i18n.ngettext("%(num)s client", "%(num)s clients", 1500) == "1.500 de clienți"
        i18n.set_language("en")
        assert i18n.ngettext("%(num)s client", "%(num)s clients", 1500) == "1,500 clients"
    finally:
        i18n.set_language("en")


def test_numbers_dates_and_durations_follow_the_language():
    moment = datetime(2026, 3, 10, 10, 5, tzinfo=UTC)  # 12:05 in Bucharest
    expected = {
        "en": ("1,234.5", "Mar 10, 2026"),
        "ro": ("1.234,5", "10 mar. 2026"),
        "ru": ("1\xa0234,5", "10 мар. 2026\xa0г."),
    }
    try:
        for language, (number, day) in expected.items():
            i18n.set_language(language)
            assert _spaces(i18n.format_number(1234.5)) == _spaces(number)
            assert _spaces(i18n.format_date(moment)) == _spaces(day)
            assert "12:05" in i18n.format_datetime(moment).replace("12:05 PM", "12:05")
    finally:
        i18n.set_language("en")
    assert i18n.format_duration(125) == "2:05" and i18n.format_duration(3725) == "1:02:05"


def test_the_noun_and_the_verb_call_are_two_messages():
    """A history entry says "Apel"/"Звонок"; the button that dials says "Sună"/"Позвонить"."""
    try:
        for language, noun, verb in (("ro", "Apel", "Sună"), ("ru", "Звонок", "Позвонить")):
            i18n.set_language(language)
            assert (i18n.gettext("Call"), i18n.pgettext("verb", "Call")) == (noun, verb)
    finally:
        i18n.set_language("en")


def test_pages_write_plural_counts_as_the_reader_writes_numbers():
    from dashboard.views.common import templates

    page = templates.from_string(
        '{{ ngettext("%(num)s client", "%(num)s clients", n) }} / '
        '{{ ngettext("%(num)s client", "%(num)s clients", 1) }}'
    )
    expected = {"en": "11,151 clients / 1 client", "ru": "11 151 клиент / 1 клиент"}
    try:
        for language, text in expected.items():
            i18n.set_language(language)
            assert _spaces(page.render(n=11151)) == text
    finally:
        i18n.set_language("en")
