"""The password policy (OWASP ASVS 4 section 2.1), applied wherever a password is set.

- any Unicode is allowed; the password is compared after NFKC normalisation with runs of
  white space taken as one space and none at the ends, so eight spaces (or eight no-break
  spaces) count as nothing;
- at least :data:`MIN_LENGTH` characters counted that way;
- not one of the 10,000 most common passwords (``common-passwords.txt`` beside this module:
  the first 10,000 lines of the list Django ships, which it took from Royce Williams' list of
  passwords seen in breaches; data only, compared without regard to case);
- not the username.

The password itself is stored (hashed) as typed: only the checks use the normalised form.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from pathlib import Path

from crm_core.errors import Invalid

MIN_LENGTH = 8
COMMON_PASSWORDS = Path(__file__).with_name("common-passwords.txt")


def normalized(password: str) -> str:
    """What the checks look at: NFKC, white space runs as one space, trimmed, case-folded."""
    return " ".join(unicodedata.normalize("NFKC", password).split()).casefold()


@cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(normalized(line) for line in lines if line)


def check_password(password: str, username: str) -> None:
    """Refuse a password the policy does not allow (422 naming the ``password`` field)."""
    value = normalized(password)
    if len(value) < MIN_LENGTH:
        raise Invalid(
            "password",
            f"must be at least {MIN_LENGTH} characters, not counting repeated or outer spaces",
        )
    if value in common_passwords():
        raise Invalid("password", "is one of the most common passwords; choose another")
    if value == normalized(username):
        raise Invalid("password", "must not be the username")
