"""Ranked search over names, company, phone digits (any format, partial), e-mails, handles,
tags and searchable custom text fields.

The database finds candidates through two indexes: a b-tree range scan for display names
starting with the text, and a substring index over ``clients.search_text`` (SQLite FTS5 with
the trigram tokenizer, PostgreSQL pg_trgm GIN) read up to ``CANDIDATES`` rows, all filtered
by the actor's row rights. The candidates are ranked here: name equal to the text, name
starting with it, a word of the name starting with it, name containing it, then phone and other
matches; shorter names first within a tier. A fragment matching more than ``CANDIDATES``
clients is ranked among the candidates read (all of them strong matches), which keeps a search
over a million clients in milliseconds. Queries shorter than three characters (too short for
trigrams) match name prefixes only.
"""

from __future__ import annotations

from pydantic import BaseModel, Field
from sqlalchemy import and_, or_, select, text
from sqlalchemy.orm import Session

from crm_core.auth.principal import Principal
from crm_core.auth.rights import visible_clients
from crm_core.clients.listing import summaries
from crm_core.clients.models import Client, Phone
from crm_core.clients.schemas import ClientSummary
from crm_core.database import like_escaped
from crm_core.errors import Invalid
from crm_core.search.refresh import SearchRefreshNotice, pending_notice
from crm_core.search.text import PhoneQuery, fold, is_phone_query, phone_query, query_terms

CANDIDATES = 150
PREFIX_CANDIDATES = 50
MAX_QUERY = 200


class SearchHit(ClientSummary):
    matched: str = Field(description="name | phone | other: where the query was found")


class SearchResults(BaseModel):
    query: str
    items: list[SearchHit]
    refresh: SearchRefreshNotice | None = Field(
        None,
        description="Set while the search text of some clients is still being refreshed "
        "after a custom field change (GET /api/search/refresh): until it finishes, results "
        "may miss those clients or still find them by that field's old values",
    )


def _words(needle: str) -> list[str]:
    return [w for w in needle.split(" ") if len(w) >= 3]


def _fts_query(alternatives: list[list[str]]) -> str:
    """``("a" "b") OR ("c")``: every word of one alternative, any alternative."""
    return " OR ".join(
        "(" + " ".join('"' + w.replace('"', '""') + '"' for w in words) + ")"
        for words in alternatives
    )


def _like(word: str) -> str:
    return f"%{like_escaped(word)}%"


Row = tuple[int, str, str]  # id, display_name, search_text


def _visible_sql(db: Session, actor: Principal) -> str:
    """The actor's row rights (crm_core.auth.rights) as SQL text on the ``clients`` table."""
    clause = visible_clients(actor)
    return str(
        clause.compile(dialect=db.get_bind().dialect, compile_kwargs={"literal_binds": True})
    )


def _fts_rows(db: Session, actor: Principal, alternatives: list[list[str]]) -> list[Row]:
    """Substring matches from the trigram index, the index driving the join (CROSS JOIN keeps
    SQLite from starting at the team index and probing the full-text table per client)."""
    if db.get_bind().dialect.name == "sqlite":
        sql = text(
            "SELECT clients.id, clients.display_name, clients.search_text "
            "FROM clients_fts CROSS JOIN clients ON clients.id = clients_fts.rowid "
            f"WHERE clients_fts MATCH :fts AND {_visible_sql(db, actor)} LIMIT :n"
        )
        return [
            tuple(r) for r in db.execute(sql, {"fts": _fts_query(alternatives), "n": CANDIDATES})
        ]
    matches = [
        and_(*(Client.search_text.like(_like(w), escape="\\") for w in words))
        for words in alternatives
    ]
    query = (
        select(Client.id, Client.display_name, Client.search_text)
        .where(or_(*matches), visible_clients(actor))
        .limit(CANDIDATES)
    )
    # With LIMIT and a guessed-common fragment PostgreSQL may prefer a sequential scan that
    # stops early, and reads the whole table when the guess is wrong: use the trigram index.
    db.execute(text("SET LOCAL enable_seqscan = off"))
    try:
        return [tuple(r) for r in db.execute(query)]
    finally:
        db.execute(text("SET LOCAL enable_seqscan = on"))


def _phone_rows(db: Session, actor: Principal, pq: PhoneQuery) -> list[tuple[Row, str]]:
    """Clients with a number equal to, or starting with, ``pq.e164_prefix`` (E.164 index)."""
    low = pq.e164_prefix
    high = low + ":"  # ':' sorts right after '9'; a whole number may start a longer one
    if db.get_bind().dialect.name == "sqlite":
        sql = text(
            "SELECT clients.id, clients.display_name, clients.search_text, p.e164 "
            "FROM client_phones p CROSS JOIN clients ON clients.id = p.client_id "
            f"WHERE p.e164 >= :low AND p.e164 <= :high AND {_visible_sql(db, actor)} LIMIT :n"
        )
        result = db.execute(sql, {"low": low, "high": high, "n": CANDIDATES})
    else:
        result = db.execute(
            select(Client.id, Client.display_name, Client.search_text, Phone.e164)
            .join(Phone, Phone.client_id == Client.id)
            .where(Phone.e164 >= low, Phone.e164 <= high, visible_clients(actor))
            .limit(CANDIDATES)
        )
    return [((r[0], r[1], r[2]), r[3]) for r in result]


def _name_prefix_rows(db: Session, actor: Principal, raw: str) -> list[Row]:
    """Display names starting with what was typed, in a few capitalisations (index range;
    SQLite is told which index, or it would walk the team index for an operator)."""
    raw = raw.strip()
    starts = sorted({raw, raw.capitalize(), raw.title(), raw.lower(), raw.upper()} - {""})
    rows: list[Row] = []
    if db.get_bind().dialect.name == "sqlite":
        sql = text(
            "SELECT clients.id, clients.display_name, clients.search_text "
            "FROM clients INDEXED BY ix_clients_display_name "
            "WHERE clients.display_name >= :low AND clients.display_name < :high "
            f"AND {_visible_sql(db, actor)} LIMIT :n"
        )
        for start in starts:
            params = {"low": start, "high": start + "\U0010ffff", "n": PREFIX_CANDIDATES}
            rows += [tuple(r) for r in db.execute(sql, params)]
        return rows
    ranges = [(Client.display_name >= s) & (Client.display_name < s + "\U0010ffff") for s in starts]
    query = (
        select(Client.id, Client.display_name, Client.search_text)
        .where(or_(*ranges), visible_clients(actor))
        .limit(PREFIX_CANDIDATES)
    )
    return [tuple(r) for r in db.execute(query)]


def _name_tier(row: Row, needle: str) -> tuple[int, str]:
    """0 best: name equal, then name prefix, word prefix, name contains; other."""
    name = row[2].split(" | ", 1)[0]  # the folded display name comes first
    if name == needle:
        return 0, "name"
    if name.startswith(needle):
        return 1, "name"
    words = needle.split(" ")
    name_words = name.split(" ")
    if all(any(nw.startswith(w) for nw in name_words) for w in words):
        return 2, "name"
    if needle in name:
        return 3, "name"
    return 6, "other"


def _fragment_tier(row: Row, fragment: str) -> tuple[int, str]:
    runs = [r for part in row[2].split(" | ") for r in part.split(" ") if r.isdigit()]
    if any(r.startswith(fragment) for r in runs):
        return 2, "phone"
    if any(fragment in r for r in runs):
        return 4, "phone"
    return 6, "other"


def _ranked(db: Session, actor: Principal, q: str, limit: int) -> list[tuple[tuple[int, str], Row]]:
    tiers: dict[int, tuple[tuple[int, str], Row]] = {}

    def offer(tier: tuple[int, str], row: Row) -> None:
        if row[0] not in tiers or tier[0] < tiers[row[0]][0][0]:
            tiers[row[0]] = (tier, row)

    def enough() -> bool:
        """A page of matches no substring match can outrank (tiers 0 and 1) is found."""
        return sum(1 for tier, _ in tiers.values() if tier[0] <= 1) >= limit

    if is_phone_query(q):
        pq = phone_query(q)
        if pq.e164_prefix:
            for row, e164 in _phone_rows(db, actor, pq):
                offer((0 if e164 == pq.e164_prefix else 1, "phone"), row)
        alternatives = [_words(pq.fragment)] if pq.fragment else []
        folded = fold(q)
        if _words(folded) and folded != pq.fragment:
            alternatives.append(_words(folded))  # digits in custom text, e.g. a contract no.
        alternatives = [a for a in alternatives if a]
        if alternatives and not (pq.exact and tiers) and not enough():
            for row in _fts_rows(db, actor, alternatives):
                tier = _fragment_tier(row, pq.fragment) if pq.fragment else (6, "other")
                offer(tier if tier[0] < 6 else (5, "other"), row)
        return list(tiers.values())
    needle = query_terms(q)
    for row in _name_prefix_rows(db, actor, q):
        offer(_name_tier(row, needle), row)
    words = _words(needle)
    if words and not enough():
        for row in _fts_rows(db, actor, [words]):
            offer(_name_tier(row, needle), row)
    return list(tiers.values())


def search_clients(db: Session, actor: Principal, q: str, limit: int = 20) -> SearchResults:
    """The clients matching ``q`` that the actor may see, best first."""
    q = (q or "").strip()
    if not q:
        raise Invalid("q", "type something to search for")
    if len(q) > MAX_QUERY:
        raise Invalid("q", f"at most {MAX_QUERY} characters")
    if "\x00" in q:
        raise Invalid("q", "must not contain NUL characters")
    ranked = sorted(
        _ranked(db, actor, q, limit),
        key=lambda item: (item[0][0], len(item[1][1]), item[1][1], item[1][0]),
    )[:limit]
    rows_out = summaries(db, [row[0] for _, row in ranked])
    return SearchResults(
        query=q,
        items=[
            SearchHit(**row.model_dump(), matched=tier[1])
            for row, (tier, _) in zip(rows_out, ranked, strict=True)
        ],
        refresh=pending_notice(db),
    )
