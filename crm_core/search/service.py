"""Ranked search over names, company, phone digits (any format, partial), e-mails, handles,
tags and searchable custom text fields.

The database does the heavy part with a substring index over ``clients.search_text``:
SQLite FTS5 (trigram tokenizer, ranked by bm25) and PostgreSQL pg_trgm (GIN index, ranked by
``word_similarity``). The best ``CANDIDATES`` rows the actor may see are then re-ranked here so
that a name equal to, or starting with, what was typed comes first.
Queries shorter than three characters (too short for trigrams) match name prefixes only.
"""

from __future__ import annotations

from pydantic import BaseModel, Field
from sqlalchemy import and_, column, func, or_, select, table, text
from sqlalchemy.orm import Session

from crm_core.auth.principal import Principal
from crm_core.auth.rights import visible_clients
from crm_core.clients.models import Client
from crm_core.clients.schemas import ClientSummary
from crm_core.clients.service import summaries
from crm_core.errors import Invalid
from crm_core.search.text import fold, is_phone_query, query_terms

CANDIDATES = 200
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


def _candidates(db: Session, actor: Principal, needles: list[str]) -> list[int]:
    """Ids of the best-ranked matching clients the actor may see, best first."""
    alternatives = [words for words in (_words(n) for n in needles) if words]
    visible = visible_clients(actor)
    if not alternatives:
        return _name_prefix(db, actor, needles[0])
    if db.get_bind().dialect.name == "sqlite":
        query = (
            select(Client.id)
            .join(_fts, _fts.c.rowid == Client.id)
            .where(text("clients_fts MATCH :fts").bindparams(fts=_fts_query(alternatives)), visible)
            .order_by(_fts.c.rank)
            .limit(CANDIDATES)
        )
    else:
        matches = [
            and_(*(Client.search_text.like(_like(w), escape="\\") for w in words))
            for words in alternatives
        ]
        query = (
            select(Client.id)
            .where(or_(*matches), visible)
            .order_by(func.word_similarity(needles[0], Client.search_text).desc(), Client.id)
            .limit(CANDIDATES)
        )
    return list(db.scalars(query))


def _name_prefix(db: Session, actor: Principal, needle: str) -> list[int]:
    """One or two characters: names starting with them (index range scan on display_name)."""
    if not needle:
        return []
    starts = {needle, needle.capitalize(), needle.upper()}
    ranges = [(Client.display_name >= s) & (Client.display_name < s + "\U0010ffff") for s in starts]
    query = (
        select(Client.id)
        .where(or_(*ranges), visible_clients(actor))
        .order_by(Client.display_name, Client.id)
        .limit(CANDIDATES)
    )
    return list(db.scalars(query))


def _tier(client: Client, needle: str, phone_query: bool) -> tuple[int, str]:
    """0 best: name equal, then name prefix, word prefix, name contains; then phone; other."""
    if phone_query:
        runs = [r for part in client.search_text.split(" | ") for r in part.split(" ")]
        digit_runs = [r for r in runs if r.isdigit()]
        if needle in digit_runs:
            return 0, "phone"
        if any(r.startswith(needle) for r in digit_runs):
            return 2, "phone"
        if any(needle in r for r in digit_runs):
            return 4, "phone"
        return 6, "other"
    name = fold(client.display_name)
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
    ids = _candidates(db, actor, needles)
    if not ids:
        return SearchResults(query=q, items=[])
    clients = {c.id: c for c in db.scalars(select(Client).where(Client.id.in_(ids)))}
    position = {client_id: i for i, client_id in enumerate(ids)}
    ranked = sorted(
        (
            (_tier(clients[i], needle, phone_query), position[i], clients[i])
            for i in ids
            if i in clients
        ),
        key=lambda item: (item[0][0], item[1]),
    )[:limit]
    rows = summaries(db, [client for _, _, client in ranked])
    return SearchResults(
        query=q,
        items=[
            SearchHit(**row.model_dump(), matched=tier[1])
            for row, (tier, _, _) in zip(rows, ranked, strict=True)
        ],
    )
