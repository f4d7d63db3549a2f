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
from sqlalchemy import and_, column, or_, select, table, text
from sqlalchemy.orm import Session

from crm_core.auth.principal import Principal
from crm_core.auth.rights import visible_clients
from crm_core.clients.models import Client
from crm_core.clients.schemas import ClientSummary
from crm_core.clients.service import summaries
from crm_core.errors import Invalid
from crm_core.search.text import fold, is_phone_query, query_terms

CANDIDATES = 150
PREFIX_CANDIDATES = 50
MAX_QUERY = 200

_fts = table("clients_fts", column("rowid"), column("rank"))


class SearchHit(ClientSummary):
    matched: str = Field(description="name | phone | other: where the query was found")


class SearchResults(BaseModel):
    query: str
    items: list[SearchHit]


def _words(needle: str) -> list[str]:
    return [w for w in needle.split(" ") if len(w) >= 3]


def _fts_query(alternatives: list[list[str]]) -> str:
    """``("a" "b") OR ("c")``: every word of one alternative, any alternative."""
    return " OR ".join(
        "(" + " ".join('"' + w.replace('"', '""') + '"' for w in words) + ")"
        for words in alternatives
    )


def _like(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


Row = tuple[int, str, str]  # id, display_name, search_text


def _candidates(db: Session, actor: Principal, needles: list[str], raw: str) -> list[Row]:
    """Matching clients the actor may see (see the module docstring)."""
    visible = visible_clients(actor)
    columns = (Client.id, Client.display_name, Client.search_text)
    rows: dict[int, Row] = {}
    for row in db.execute(_name_prefix_query(raw, visible, columns)):
        rows[row[0]] = tuple(row)
    alternatives = [words for words in (_words(n) for n in needles) if words]
    if not alternatives:
        return list(rows.values())
    if db.get_bind().dialect.name == "sqlite":
        match = text("clients_fts MATCH :fts").bindparams(fts=_fts_query(alternatives))
        query = select(*columns).join(_fts, _fts.c.rowid == Client.id).where(match, visible)
    else:
        matches = [
            and_(*(Client.search_text.like(_like(w), escape="\\") for w in words))
            for words in alternatives
        ]
        query = select(*columns).where(or_(*matches), visible)
    for row in db.execute(query.limit(CANDIDATES)):
        rows.setdefault(row[0], tuple(row))
    return list(rows.values())


def _name_prefix_query(raw: str, visible, columns):
    """Display names starting with what was typed, in a few capitalisations (index range)."""
    raw = raw.strip()
    starts = {raw, raw.capitalize(), raw.title(), raw.lower(), raw.upper()} - {""}
    ranges = [(Client.display_name >= s) & (Client.display_name < s + "\U0010ffff") for s in starts]
    return select(*columns).where(or_(*ranges), visible).limit(PREFIX_CANDIDATES)


def _tier(row: Row, needle: str, phone_query: bool) -> tuple[int, str]:
    """0 best: name equal, then name prefix, word prefix, name contains; then phone; other."""
    _, display_name, search_text = row
    if phone_query:
        runs = [r for part in search_text.split(" | ") for r in part.split(" ")]
        digit_runs = [r for r in runs if r.isdigit()]
        if needle in digit_runs:
            return 0, "phone"
        if any(r.startswith(needle) for r in digit_runs):
            return 2, "phone"
        if any(needle in r for r in digit_runs):
            return 4, "phone"
        return 6, "other"
    name = search_text.split(" | ", 1)[0]  # the folded display name comes first
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
    return 5, "other"


def search_clients(db: Session, actor: Principal, q: str, limit: int = 20) -> SearchResults:
    """The clients matching ``q`` that the actor may see, best first."""
    q = (q or "").strip()
    if not q:
        raise Invalid("q", "type something to search for")
    if len(q) > MAX_QUERY:
        raise Invalid("q", f"at most {MAX_QUERY} characters")
    if "\x00" in q:
        raise Invalid("q", "must not contain NUL characters")
    phone_query = is_phone_query(q)
    needle = query_terms(q)
    needles = [needle, fold(q)] if phone_query and fold(q) != needle else [needle]
    rows = _candidates(db, actor, needles, q)
    if not rows:
        return SearchResults(query=q, items=[])
    ranked = sorted(
        ((_tier(row, needle, phone_query), row) for row in rows),
        key=lambda item: (item[0][0], len(item[1][1]), item[1][1], item[1][0]),
    )[:limit]
    rows_out = summaries(db, [row[0] for _, row in ranked])
    return SearchResults(
        query=q,
        items=[
            SearchHit(**row.model_dump(), matched=tier[1])
            for row, (tier, _) in zip(rows_out, ranked, strict=True)
        ],
    )
