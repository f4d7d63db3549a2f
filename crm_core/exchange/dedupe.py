"""Duplicates of an import: sure ones (a phone or e-mail already in the base or on an earlier
row; a client with neither whose exact name and city are already there) and likely ones
(a similar name in the same city, by rapidfuzz) that are only reported, never merged.

The phones and e-mails seen in the file are kept in a temporary SQLite file, not in memory,
so that a file of a million rows is checked with flat memory.
"""

from __future__ import annotations

import sqlite3
import tempfile
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_core.clients.models import Address, Client, Email, Phone
from crm_core.database import among
from crm_core.exchange.records import Record

#: a similar name in the same city at or above this score (0..100) is a likely duplicate
LIKELY_SCORE = 88
#: likely duplicates are looked for in files up to this many rows (then the report says so)
LIKELY_MAX_ROWS = 5_000
#: names of the file compared with each row: the latest of its city and first letters
LIKELY_POOL = 500
#: likely duplicates listed in a report
LIKELY_SHOWN = 200


@dataclass
class LikelyDuplicate:
    row: int
    name: str
    city: str
    match_name: str
    score: int
    client_id: int | None = None  # a client of the base, or
    other_row: int | None = None  # an earlier row of the file


class SeenKeys:
    """Keys (E.164 numbers, lower-case e-mails, exact names) and the first row holding each."""

    def __init__(self) -> None:
        self._file = tempfile.NamedTemporaryFile(suffix=".seen.sqlite")  # noqa: SIM115
        self.db = sqlite3.connect(self._file.name, isolation_level=None)
        for pragma in (
            "journal_mode=OFF",
            "synchronous=OFF",
            "locking_mode=EXCLUSIVE",  # this process's own file: no lock taken per statement
            "cache_size=-65536",  # 64 MB of pages at most: a million keys mostly in cache
        ):
            self.db.execute(f"PRAGMA {pragma}")
        self.db.execute("CREATE TABLE seen (key TEXT PRIMARY KEY, row INTEGER) WITHOUT ROWID")

    def earlier(self, keys: Iterable[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        items = list(set(keys))
        for start in range(0, len(items), 500):
            chunk = items[start : start + 500]
            marks = ",".join("?" * len(chunk))
            found.update(
                self.db.execute(f"SELECT key, row FROM seen WHERE key IN ({marks})", chunk)
            )
        return found

    def add(self, pairs: Iterable[tuple[str, int]]) -> None:
        self.db.execute("BEGIN")
        self.db.executemany("INSERT OR IGNORE INTO seen VALUES (?, ?)", pairs)
        self.db.execute("COMMIT")

    def close(self) -> None:
        self.db.close()
        self._file.close()


def keys_of(record: Record) -> list[str]:
    """What makes a record the same client: its numbers and e-mails, else its name and city."""
    keys = [f"p:{e164}" for _, _, e164 in record.phones]
    keys += [f"e:{address.lower()}" for _, address in record.emails]
    if not keys:
        keys.append(f"n:{record.display_name.casefold()}|{record.city.casefold()}")
    return keys


def in_base(db: Session, records: list[Record]) -> dict[str, int]:
    """key -> id of the live client holding it, for the keys of ``records``: one query each
    for their numbers, e-mails and (for records with neither) names."""
    phones = {e164 for r in records for _, _, e164 in r.phones}
    emails = {a.lower() for r in records for _, a in r.emails}
    names = {r.display_name for r in records if not r.phones and not r.emails}
    found: dict[str, int] = {}
    live = Client.deleted_at.is_(None)
    if phones:
        q = select(Phone.e164, Phone.client_id).join(Client)
        found.update(
            (f"p:{k}", cid) for k, cid in db.execute(q.where(among(db, Phone.e164, phones), live))
        )
    if emails:
        q = select(Email.address_lower, Email.client_id).join(Client)
        q = q.where(among(db, Email.address_lower, emails), live)
        found.update((f"e:{k}", cid) for k, cid in db.execute(q))
    if names:
        city = func.coalesce(Address.city, "")
        q = (
            select(Client.display_name, city, Client.id)
            .outerjoin(Address, (Address.client_id == Client.id) & (Address.position == 0))
            .where(among(db, Client.display_name, names), live)
        )
        for name, town, cid in db.execute(q):
            found.setdefault(f"n:{name.casefold()}|{town.casefold()}", cid)
    return found


def plain_name(name: str) -> str:
    """A name compared without case and accents: "Ștefan" and "stefan" are alike."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


class LikelyFinder:
    """Similar names in the same city, in the base and on earlier rows of the file."""

    def __init__(self, db: Session) -> None:
        self.db = db
        self.base: dict[str, list[tuple[str, int]]] = {}
        self.rows: dict[str, list[tuple[str, int]]] = {}
        self.base_plain: dict[str, list[str]] = {}
        self.rows_plain: dict[str, list[str]] = {}

    def _base_names(self, city: str) -> tuple[list[str], list[tuple[str, int]]]:
        key = city.casefold()
        if key not in self.base:
            variants = {city, city.title(), city.lower(), city.upper()}
            q = (
                select(Client.display_name, Client.id)
                .join(Address, Address.client_id == Client.id)
                .where(Address.city.in_(variants), Client.deleted_at.is_(None))
                .limit(5000)
            )
            self.base[key] = [(n, i) for n, i in self.db.execute(q)]
            self.base_plain[key] = [plain_name(n) for n, _ in self.base[key]]
        return self.base_plain[key], self.base[key]

    def check(self, record: Record) -> list[LikelyDuplicate]:
        from rapidfuzz import fuzz, process

        name, city = record.display_name, record.city
        if not name or not city:
            return []
        plain = plain_name(name)
        key = f"{city.casefold()}|{' '.join(sorted(plain.split()))[:2]}"
        rows = self.rows.setdefault(key, [])
        plain_rows = self.rows_plain.setdefault(key, [])
        found = []
        for names, pool, is_row in (
            (*self._base_names(city), False),  # the base: by city only
            (plain_rows, rows, True),
        ):
            for _, score, i in process.extract(
                plain, names, scorer=fuzz.token_sort_ratio, score_cutoff=LIKELY_SCORE, limit=3
            ):
                other = pool[i][1]
                found.append(
                    LikelyDuplicate(
                        record.number,
                        name,
                        city,
                        pool[i][0],
                        round(score),
                        client_id=None if is_row else other,
                        other_row=other if is_row else None,
                    )
                )
        rows.append((name, record.number))
        plain_rows.append(plain)
        if len(rows) > LIKELY_POOL:
            del rows[0], plain_rows[0]
        return found
