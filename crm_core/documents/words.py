"""The total in words, as invoices of Romania, Russia and English-speaking clients write it.

The whole units are spelled out with num2words, the cents are written as two digits (as on
Russian invoices: "Сто двадцать три рубля 45 копеек"); currency names agree with the number
(Romanian "de" after 20 and above: "douăzeci și trei de lei", Russian three plural forms).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from num2words import num2words

#: currency -> language -> (unit forms, cent forms); ru: (1, 2-4, 5+), ro/en: (1, many)
CURRENCY_FORMS: dict[str, dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "RON": {
        "ro": (("leu", "lei"), ("ban", "bani")),
        "ru": (("лей", "лея", "леев"), ("бан", "бана", "банов")),
        "en": (("leu", "lei"), ("ban", "bani")),
    },
    "MDL": {
        "ro": (("leu", "lei"), ("ban", "bani")),
        "ru": (("лей", "лея", "леев"), ("бан", "бана", "банов")),
        "en": (("leu", "lei"), ("ban", "bani")),
    },
    "RUB": {
        "ro": (("rublă", "ruble"), ("copeică", "copeici")),
        "ru": (("рубль", "рубля", "рублей"), ("копейка", "копейки", "копеек")),
        "en": (("rouble", "roubles"), ("kopeck", "kopecks")),
    },
    "EUR": {
        "ro": (("euro", "euro"), ("cent", "cenți")),
        "ru": (("евро", "евро", "евро"), ("цент", "цента", "центов")),
        "en": (("euro", "euro"), ("cent", "cents")),
    },
    "USD": {
        "ro": (("dolar", "dolari"), ("cent", "cenți")),
        "ru": (("доллар", "доллара", "долларов"), ("цент", "цента", "центов")),
        "en": (("dollar", "dollars"), ("cent", "cents")),
    },
}


def ru_form(n: int, forms: tuple[str, ...]) -> str:
    if n % 10 == 1 and n % 100 != 11:
        return forms[0]
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return forms[1]
    return forms[2]


def ro_form(n: int, forms: tuple[str, ...]) -> str:
    """ "un leu", "doi lei", "douăzeci de lei", "o sută de lei", "o sută unu lei"."""
    if n == 1:
        return forms[0]
    last_two = n % 100
    if last_two >= 20 or (last_two == 0 and n >= 100):
        return f"de {forms[1]}"
    return forms[1]


def _form(language: str, n: int, forms: tuple[str, ...]) -> str:
    if language == "ru":
        return ru_form(n, forms)
    if language == "ro":
        return ro_form(n, forms)
    return forms[0] if n == 1 else forms[1]


def _whole_words(n: int, language: str) -> str:
    words = num2words(n, lang=language)
    if language == "ro" and n == 1:
        words = "un"
    return words


def amount_in_words(amount: Decimal, currency: str, language: str) -> str:
    """E.g. ``Decimal("123.45"), "RON", "ro"`` -> "O sută douăzeci și trei de lei și 45 de
    bani"; an unknown currency is named by its code."""
    language = language if language in ("ro", "ru", "en") else "en"
    amount = Decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    whole, cents = int(amount), int((amount - int(amount)) * 100)
    words = _whole_words(whole, language)
    forms = CURRENCY_FORMS.get(currency.upper(), {}).get(language)
    if forms is None:
        text = f"{words} {currency.upper()}"
        if cents:
            text += f" {cents:02d}/100"
    else:
        unit_forms, cent_forms = forms
        text = f"{words} {_form(language, whole, unit_forms)}"
        if language == "ru":
            text += f" {cents:02d} {ru_form(cents, cent_forms)}"
        elif cents:
            joiner = "și" if language == "ro" else "and"
            text += f" {joiner} {cents} {_form(language, cents, cent_forms)}"
    return text[:1].upper() + text[1:]
