"""Caller lookup: the card a popup shows while the phone is still ringing.

``caller_card`` is called directly by the CTI listener (no HTTP) on every incoming call, so it
is built for speed: the number is normalised to E.164 once, then ONE statement on the caller's
own connection (on PostgreSQL prepared once per connection and run through libpq directly)
finds the client through the indexed ``client_phones.e164`` column and gathers its
organization, owner, phones, last interactions and open tasks as JSON. No ORM objects are
loaded. The texts among them that the system wrote (the call log's subjects and callbacks) are
worded for the user who reads the card (:mod:`crm_core.wording`): one more indexed query when
the card holds any whose facts the connection has not read yet (the call log keeps them per
connection: on the popups' own, a repeat caller's cost no query; the wording itself about
0.1 ms per card).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Annotated, Any

import phonenumbers
from pydantic import AfterValidator, BaseModel, Field
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from crm_core import wording
from crm_core.auth.principal import SYSTEM, Principal
from crm_core.clients.lookup_pg import pg_card_row
from crm_core.clients.models import is_vip
from crm_core.config import get_settings
from crm_core.phones import to_e164

MAX_OPEN_TASKS = 10


def _as_utc(moment: datetime) -> datetime:
    """Stored times are UTC; SQLite's JSON gives them without an offset."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]


class Ref(BaseModel):
    id: int
    name: str


class CardPhone(BaseModel):
    kind: str
    number: str = Field(description="As typed")
    e164: str


class CardInteraction(BaseModel):
    occurred_at: UtcDatetime
    kind: str
    direction: str
    subject: str = Field(description="As the user reads it (crm_core.wording)")
    result: str
    duration_s: int | None
    call_id: str | None = None


class CardTask(BaseModel):
    id: int
    client_id: int | None = None  # the card's client (wordings read the client's records)
    title: str = Field(description="As the user reads it (crm_core.wording)")
    due_at: UtcDatetime | None
    overdue: bool = False
    source: str = ""
    call_id: str | None = None


class CardDebt(BaseModel):
    currency: str
    amount: Decimal = Field(description="What the client owes; negative: the client's credit")


class CardOrder(BaseModel):
    id: int
    number: str
    status: str
    created_at: UtcDatetime
    total: Decimal
    currency: str


class CallerCard(BaseModel):
    """What the popup shows, for the user who reads it (the texts the system wrote in their
    language and zone). ``restricted``: the caller is a client the user may not open, so only
    the name and category are given (the person is on the line with them anyway)."""

    found: bool = True
    client_id: int
    display_name: str
    kind: str | None
    organization: Ref | None
    category: str
    is_vip: bool
    owner: Ref | None
    team_id: int | None
    phones: list[CardPhone]
    matched_e164: str
    interactions: list[CardInteraction] = Field(description="Last 5, newest first")
    open_tasks: list[CardTask]
    last_rating: int | None
    debts: list[CardDebt] = Field(default_factory=list, description="Per currency, non-zero")
    last_order: CardOrder | None = None
    restricted: bool = False
    others: int = Field(0, description="Other live clients with the same number")


#: PostgreSQL builds the lists with ``ARRAY(subquery)``, not ``json_agg``: setting up the
#: executor is about a third of the server's time per call, and an Aggregate node per list
#: cost ~12 % more server CPU per lookup (measured, docs/benchmarks.md)
_CARD_SQL = {
    "sqlite": """
WITH cand AS (
  SELECT c.id, c.display_name, c.kind, c.category, c.team_id, c.owner_id, c.organization_id,
         c.last_rating, c.updated_at,
         CASE WHEN :all_clients OR c.team_id IS NULL OR c.team_id = :team THEN 1 ELSE 0 END AS visible
  FROM client_phones p JOIN clients c ON c.id = p.client_id
  WHERE p.e164 = :e164 AND c.deleted_at IS NULL
), best AS (
  SELECT * FROM cand ORDER BY visible DESC, updated_at DESC, id DESC LIMIT 1
)
SELECT b.id, b.display_name, b.kind, b.category, b.team_id, b.visible, b.last_rating,
       o.id, o.display_name, u.id, COALESCE(NULLIF(u.full_name, ''), u.username),
       (SELECT count(DISTINCT id) FROM cand) - 1,
       (SELECT json_group_array(json_array(kind, number, e164)) FROM (
          SELECT kind, number, e164 FROM client_phones WHERE client_id = b.id
          ORDER BY position, id)),
       (SELECT json_group_array(json_array(occurred_at, kind, direction, subject, result_code,
                                           duration_s, call_id)) FROM (
          SELECT occurred_at, kind, direction, subject, result_code, duration_s, call_id
          FROM interactions WHERE client_id = b.id ORDER BY occurred_at DESC, id DESC LIMIT 5)),
       (SELECT json_group_array(json_array(id, title, due_at, source, call_id)) FROM (
          SELECT id, title, due_at, source, call_id FROM tasks
          WHERE client_id = b.id AND status IN ('open', 'in_progress')
          ORDER BY due_at IS NULL, due_at, id LIMIT :max_tasks)){sales}
FROM best b
LEFT JOIN clients o ON o.id = b.organization_id AND o.deleted_at IS NULL
LEFT JOIN users u ON u.id = b.owner_id
""",
    "postgresql": """
WITH cand AS (
  SELECT c.id, c.display_name, c.kind, c.category, c.team_id, c.owner_id, c.organization_id,
         c.last_rating, c.updated_at,
         CASE WHEN :all_clients OR c.team_id IS NULL OR c.team_id = :team THEN 1 ELSE 0 END AS visible
  FROM client_phones p JOIN clients c ON c.id = p.client_id
  WHERE p.e164 = :e164 AND c.deleted_at IS NULL
), best AS (
  SELECT * FROM cand ORDER BY visible DESC, updated_at DESC, id DESC LIMIT 1
)
SELECT b.id, b.display_name, b.kind, b.category, b.team_id, b.visible, b.last_rating,
       o.id, o.display_name, u.id, COALESCE(NULLIF(u.full_name, ''), u.username),
       (SELECT count(DISTINCT id) FROM cand) - 1,
       array_to_json(ARRAY(SELECT json_build_array(kind, number, e164) FROM client_phones
                           WHERE client_id = b.id ORDER BY position, id)),
       array_to_json(ARRAY(SELECT json_build_array(occurred_at, kind, direction, subject,
                                                   result_code, duration_s, call_id)
                           FROM interactions WHERE client_id = b.id
                           ORDER BY occurred_at DESC, id DESC LIMIT 5)),
       array_to_json(ARRAY(SELECT json_build_array(id, title, due_at, source, call_id) FROM tasks
                           WHERE client_id = b.id AND status IN ('open', 'in_progress')
                           ORDER BY due_at IS NULL, due_at, id LIMIT :max_tasks)){sales}
FROM best b
LEFT JOIN clients o ON o.id = b.organization_id AND o.deleted_at IS NULL
LEFT JOIN users u ON u.id = b.owner_id
""",
}


#: the sales columns of the card: the client's non-zero balances (primary-key range of
#: ``client_balances``, kept by crm_core.invoices) and the last order (index on
#: ``orders(client_id, created_at)``); each one index probe (bench/invoices.py measures them)
_SALES_SQL = {
    "sqlite": """,
       (SELECT json_group_array(json_array(currency, printf('%.2f', balance)))
          FROM client_balances WHERE client_id = b.id AND balance <> 0),
       (SELECT json_array(id, number, status, created_at, printf('%.2f', total), currency)
          FROM orders WHERE client_id = b.id ORDER BY created_at DESC, id DESC LIMIT 1)""",
    "postgresql": """,
       array_to_json(ARRAY(SELECT json_build_array(currency, CAST(balance AS text))
                           FROM client_balances WHERE client_id = b.id AND balance <> 0)),
       (SELECT json_build_array(id, number, status, created_at, CAST(total AS text), currency)
          FROM orders WHERE client_id = b.id ORDER BY created_at DESC, id DESC LIMIT 1)""",
}
#: the statement with the sales columns (the popup's) and without them (a bench baseline)
CARD_SQL = {
    True: {name: sql.replace("{sales}", _SALES_SQL[name]) for name, sql in _CARD_SQL.items()},
    False: {name: sql.replace("{sales}", "") for name, sql in _CARD_SQL.items()},
}
#: bench/invoices.py turns this off to measure the card without the debt and last order
SALES_IN_CARD = True


def _json(value: Any) -> list:
    if value is None:
        return []
    return json.loads(value) if isinstance(value, str | bytes) else value


def _connection(db: Session | Connection) -> Connection:
    return db if isinstance(db, Connection) else db.connection()


def _fetch(db: Session | Connection, e164: str, actor: Principal) -> tuple | None:
    params = {
        "e164": e164,
        "all_clients": 1 if actor.sees_all_clients else 0,
        "team": actor.team_id if actor.role == "operator" else None,
        "max_tasks": MAX_OPEN_TASKS,
    }
    connection = _connection(db)
    if connection.dialect.name == "postgresql":
        return pg_card_row(connection, params, CARD_SQL[SALES_IN_CARD]["postgresql"], SALES_IN_CARD)
    raw = connection.connection.driver_connection
    cur = raw.execute(CARD_SQL[SALES_IN_CARD]["sqlite"], params)
    try:
        return cur.fetchone()
    finally:
        cur.close()


def card_for_e164(
    db: Session | Connection, e164: str, actor: Principal | None = None
) -> CallerCard | None:
    """The card for an already normalised number, or None when no live client has it.

    ``db`` may be a plain connection: the CTI keeps one open (in autocommit) for the popups.
    """
    row = _fetch(db, e164, actor or SYSTEM)
    if row is None:
        return None
    client_id, name, category, visible, others = row[0], row[1], row[3], row[5], row[11]
    card = {
        "client_id": client_id,
        "display_name": name,
        "category": category,
        "is_vip": is_vip(category or ""),
        "matched_e164": e164,
        "others": others,
        **(_card_details(row) if visible else RESTRICTED),
    }
    # validated by pydantic-core (Rust), which parses the times too: 2-3x cheaper per card than
    # model_construct of the nested models in Python (docs/benchmarks.md)
    result = CallerCard.model_validate(card)
    if result.open_tasks:
        now = datetime.now(UTC)
        for task in result.open_tasks:
            task.overdue = task.due_at is not None and task.due_at < now
    _worded_for(db, result, actor or SYSTEM)
    return result


def _worded_for(db: Session | Connection, card: CallerCard, actor: Principal) -> None:
    """The tasks' titles and the entries' subjects as the user reads them: the texts the system
    wrote (the call log's) in their language and zone. Only the rows of a part that registered
    its wording cost a query (:mod:`crm_core.wording`); the system reads no card."""
    if actor.role == "system" or not (card.open_tasks or card.interactions):
        return
    with wording.reading_as(actor):
        titles = wording.shown_tasks(db, card.open_tasks)
        subjects = wording.shown_subjects(db, card.interactions)
    for task, words in zip(card.open_tasks, titles, strict=True):
        task.title = words.title
    for entry, subject in zip(card.interactions, subjects, strict=True):
        entry.subject = subject


#: the card of a client the user may not open: the name and category only
RESTRICTED: dict[str, Any] = {
    "kind": None,
    "organization": None,
    "owner": None,
    "team_id": None,
    "phones": (),
    "interactions": (),
    "open_tasks": (),
    "last_rating": None,
    "restricted": True,
}


def _card_details(row: tuple) -> dict[str, Any]:
    """What the popup shows of a client the user may open, from the lookup's row."""
    (client_id, _, kind, _, team_id, _, last_rating, org_id, org_name, owner_id, owner_name, _,
     phones, interactions, tasks) = row[:15]  # fmt: skip
    sales = _sales_details(row[15], row[16]) if len(row) > 15 else {}
    return {
        **sales,
        "kind": kind,
        "organization": {"id": org_id, "name": org_name} if org_id else None,
        "owner": {"id": owner_id, "name": owner_name} if owner_id else None,
        "team_id": team_id,
        "phones": [{"kind": k, "number": n, "e164": e} for k, n, e in _json(phones)],
        "interactions": [
            {
                "occurred_at": at,
                "kind": k,
                "direction": d,
                "subject": s,
                "result": r,
                "duration_s": dur,
                "call_id": call,
            }
            for at, k, d, s, r, dur, call in _json(interactions)
        ],  # fmt: skip
        "open_tasks": [
            {
                "id": i,
                "client_id": client_id,
                "title": t,
                "due_at": due,
                "source": src,
                "call_id": call,
            }
            for i, t, due, src, call in _json(tasks)
        ],
        "last_rating": last_rating,
        "restricted": False,
    }


def _sales_details(debts: Any, order: Any) -> dict[str, Any]:
    """The debt per currency and the last order, from the card's two sales columns."""
    last = _json(order)
    return {
        "debts": [{"currency": c, "amount": amount} for c, amount in _json(debts)],
        "last_order": dict(zip(("id", "number", "status", "created_at", "total", "currency"),
                               last, strict=True)) if last else None,
    }  # fmt: skip


_SEPARATORS = re.compile(r"[\s\-.()/]")


@lru_cache(maxsize=64)
def _national_prefix(region: str) -> tuple[int, str] | None:
    """(country code, "0") for regions whose numbers drop a plain ``0`` trunk prefix in E.164."""
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if meta is None or meta.national_prefix != "0":
        return None
    if meta.national_prefix_for_parsing not in (None, "0") or meta.national_prefix_transform_rule:
        return None
    return meta.country_code, "0"


def canonical_guess(number: str) -> str | None:
    """The E.164 form of ``+40 721...``, ``0040...`` or ``0721...`` by string work alone.

    Parsing with phonenumbers costs tens of microseconds, more than the whole indexed query, so
    the popup path first tries this guess: stored numbers are canonical E.164, hence a guess
    that finds a client is right, and one that finds nothing falls back to the full parse.
    """
    text = _SEPARATORS.sub("", number or "")
    if text.startswith("+"):
        digits = text[1:]
    elif text.startswith("00"):
        digits = text[2:]
    elif text.startswith("0") and text.isdigit():
        national = _national_prefix(get_settings().default_region)
        if national is None:
            return None
        digits = f"{national[0]}{text[1:]}"
    else:
        return None
    if not digits.isdigit() or not 7 <= len(digits) <= 15 or digits[0] == "0":
        return None
    return "+" + digits


def caller_card(
    db: Session | Connection, number: str, actor: Principal | None = None
) -> CallerCard | None:
    """The card for a caller's number in any format; None when unknown.

    Raises :class:`crm_core.phones.InvalidPhone` (with the reason) when ``number`` cannot be a
    phone number. ``actor`` None means the system (the CTI listener deciding whom to notify).
    """
    guess = canonical_guess(number)
    if guess is not None:
        card = card_for_e164(db, guess, actor)
        if card is not None:
            return card
    e164 = to_e164(number)
    if e164 == guess:
        return None
    return card_for_e164(db, e164, actor)
