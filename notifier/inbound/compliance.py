"""SMS opt-out and opt-in keywords (carrier rules plus our Romanian and Russian equivalents).

A reply that is exactly one of these words (case, surrounding spaces and punctuation ignored)
changes the number's consent. Twilio blocks the English STOP words itself on its side; we record
every one of them in the engine's ``opt_outs`` table so that no channel ever sends to the number
again (the engine checks it when it claims a message).

Chosen equivalents (documented in docs/notifier.md):

- Romanian opt-out: STOP, DEZABONARE, DEZABONEAZA/DEZABONEAZĂ, RENUNT/RENUNȚ, ANULARE;
  opt-in: START, PORNIRE, ABONARE, DA.
- Russian opt-out: СТОП, ОТПИСАТЬСЯ, ОТПИСКА, ОТМЕНА; opt-in: СТАРТ, ПОДПИСАТЬСЯ, ДА.
"""

from __future__ import annotations

import re
import unicodedata

OPT_OUT_EN = ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT")
OPT_IN_EN = ("START", "UNSTOP", "YES")
HELP_EN = ("HELP", "INFO")
OPT_OUT_RO = ("DEZABONARE", "DEZABONEAZA", "RENUNT", "ANULARE")
OPT_IN_RO = ("PORNIRE", "ABONARE", "DA")
OPT_OUT_RU = ("СТОП", "ОТПИСАТЬСЯ", "ОТПИСКА", "ОТМЕНА")
OPT_IN_RU = ("СТАРТ", "ПОДПИСАТЬСЯ", "ДА")

OPT_OUT_WORDS = frozenset(OPT_OUT_EN + OPT_OUT_RO + OPT_OUT_RU)
OPT_IN_WORDS = frozenset(OPT_IN_EN + OPT_IN_RO + OPT_IN_RU)
HELP_WORDS = frozenset(HELP_EN + ("AJUTOR", "ПОМОЩЬ"))


def keyword(body: str) -> str:
    """The reply reduced to one comparable word: upper case, no diacritics or punctuation."""
    text = unicodedata.normalize("NFKD", body.strip())
    # drop combining marks (Romanian diacritics) but keep Cyrillic letters whole: Й/Ё decompose
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = unicodedata.normalize("NFC", text)
    text = re.sub(r"[\s\.\!\?,;:'\"()\-]+", " ", text).strip().upper()
    return text


def classify(body: str) -> str | None:
    """``"opt_out"``, ``"opt_in"``, ``"help"`` or None for an ordinary message."""
    word = keyword(body)
    if word in OPT_OUT_WORDS:
        return "opt_out"
    if word in OPT_IN_WORDS:
        return "opt_in"
    if word in HELP_WORDS:
        return "help"
    return None
