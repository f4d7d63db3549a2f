"""Reading a rating (1..5) out of a client's SMS reply.

Accepted: a lone digit ("5", "5!", "4/5", "rating: 4", "5 stars", "5 звезд"), stars ("⭐⭐⭐⭐",
"★★★"), and number or quality words in English, Romanian and Russian ("five", "cinci", "пять",
"excellent", "excelent", "отлично", ...). Anything ambiguous (two different numbers, a number out
of range, no rating at all) is ``None``: the client gets one polite clarification.
"""

from __future__ import annotations

import re
import unicodedata

WORDS: dict[str, int] = {
    # English
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "terrible": 1, "awful": 1, "horrible": 1, "bad": 2, "poor": 2, "ok": 3, "okay": 3,
    "average": 3, "good": 4, "great": 5, "excellent": 5, "perfect": 5,
    # Romanian (compared without diacritics)
    "unu": 1, "una": 1, "doi": 2, "doua": 2, "trei": 3, "patru": 4, "cinci": 5,
    "groaznic": 1, "prost": 2, "rau": 2, "satisfacator": 3, "bine": 4, "bun": 4, "buna": 4,
    "excelent": 5, "excelenta": 5,
    # Russian
    "один": 1, "одна": 1, "единица": 1, "два": 2, "две": 2, "двойка": 2, "три": 3, "тройка": 3,
    "четыре": 4, "четверка": 4, "пять": 5, "пятерка": 5,
    "ужасно": 1, "плохо": 2, "нормально": 3, "средне": 3, "хорошо": 4, "отлично": 5,
    "прекрасно": 5,
}  # fmt: skip
NEGATIONS = {"not", "nu", "не"}
STARS = "⭐★🌟✩☆✭✮"
DIGIT = re.compile(r"(?<![\d.,\-−])(\d+)(?!\d|[.,]\d)")  # not -3, not 3.5


def _fold(text: str) -> str:
    """Lower case without Latin diacritics (Cyrillic letters kept; ё -> е, й kept)."""
    out = []
    for char in unicodedata.normalize("NFC", text.lower()):
        if char in "йё":
            out.append("й" if char == "й" else "е")
            continue
        decomposed = unicodedata.normalize("NFD", char)
        out.append("".join(c for c in decomposed if not unicodedata.combining(c)))
    return "".join(out)


def parse_rating(reply: str) -> int | None:
    if not reply or len(reply) > 500:
        return None
    text = _fold(reply.strip())
    if re.search(r"[\-−]\d", text):
        return None  # a negative number or a range ("1-5"): ask
    found: set[int] = set()
    # "4/5", "4 out of 5", "4 din 5", "4 из 5": the first number is the rating
    scale = re.fullmatch(r"[^\d\-−]*?([1-5])\s*(?:/|out of|din|из)\s*5\D*", text)
    if scale:
        return int(scale.group(1))
    for match in DIGIT.finditer(text):
        found.add(int(match.group(1)))
    stars = sum(text.count(s) for s in STARS)
    if stars:
        found.add(stars)
    tokens = re.findall(r"[^\W\d_]+", text)
    for index, token in enumerate(tokens):
        value = WORDS.get(token)
        if value is None:
            continue
        if index and tokens[index - 1] in NEGATIONS:
            return None  # "not good", "nu e bine", "не плохо": ask rather than guess
        if stars or DIGIT.search(text):
            # quality words next to an explicit number or stars ("5 great!") don't compete
            if token in {"one", "two", "three", "four", "five", "unu", "una", "doi", "doua",
                         "trei", "patru", "cinci", "один", "одна", "два", "две", "три",
                         "четыре", "пять"}:  # fmt: skip
                found.add(value)
            continue
        found.add(value)
    if len(found) != 1:
        return None
    (value,) = found
    return value if 1 <= value <= 5 else None
