"""Reading clients: one client's card and pages of the client list.

The list is built for a base of a million clients: the filter (:mod:`crm_core.clients.filters`)
drives the query by its own index, the total is counted up to :data:`COUNT_LIMIT` only, and
the rows of a page are read with a few prebuilt set queries (no ORM objects).
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import asc, bindparam, desc, func, select
from sqlalchemy.orm import Session, aliased

from crm_core.auth.models import Team, User
from crm_core.auth.principal import Principal
from crm_core.auth.rights import get_visible_client
from crm_core.clients.filters import list_query, unindexed
from crm_core.clients.models import ENTITY, Client, ClientTag, Email, Phone, is_vip
from crm_core.clients.schemas import (
    AddressOut,
    ClientFilter,
    ClientOut,
    ClientPage,
    ClientSummary,
    ContactPerson,
    EmailOut,
    HandleOut,
    PhoneOut,
    Ref,
)
from crm_core.customfields import service as customfields
from crm_core.errors import Invalid

#: list totals are counted up to this many rows; beyond it the page says "10,000+"
COUNT_LIMIT = 10_000
SORTABLE = {
    "display_name": Client.display_name,
    "last_name": Client.last_name,
    "created_at": Client.created_at,
    "updated_at": Client.updated_at,
    "category": Client.category,
    "status": Client.status,
    "id": Client.id,
}


def get_client(db: Session, actor: Principal, client_id: int) -> Client:
    """The client, if the actor may see it; otherwise NotFound (ids do not leak)."""
    return get_visible_client(db, actor, client_id)


def client_out(db: Session, client: Client) -> ClientOut:
    """The full card of one client, with its organization, contacts and custom values."""
    return ClientOut(
        id=client.id,
        kind=client.kind,
        first_name=client.first_name,
        last_name=client.last_name,
        middle_name=client.middle_name,
        org_name=client.org_name,
        display_name=client.display_name,
        job_title=client.job_title,
        organization=_organization_ref(db, client),
        owner=_owner_ref(db, client),
        team=_team_ref(db, client),
        category=client.category,
        is_vip=is_vip(client.category),
        status=client.status,
        source=client.source,
        birthday=client.birthday,
        discount_percent=client.discount_percent,
        comment=client.comment,
        language=client.language,
        timezone=client.timezone,
        tags=sorted(t.tag for t in client.tags),
        phones=[PhoneOut.model_validate(p) for p in client.phones],
        emails=[EmailOut.model_validate(e) for e in client.emails],
        addresses=[AddressOut.model_validate(a, from_attributes=True) for a in client.addresses],
        handles=[HandleOut.model_validate(h, from_attributes=True) for h in client.handles],
        custom=customfields.values_for(db, ENTITY, [client.id]).get(client.id, {}),
        contacts=_contact_persons(db, client),
        last_rating=client.last_rating,
        last_rated_at=client.last_rated_at,
        created_at=client.created_at,
        updated_at=client.updated_at,
        deleted_at=client.deleted_at,
    )


def _organization_ref(db: Session, client: Client) -> Ref | None:
    """The organization a contact person belongs to, unless it was deleted."""
    if not client.organization_id:
        return None
    org = db.get(Client, client.organization_id)
    if org is None or org.deleted_at is not None:
        return None
    return Ref(id=org.id, name=org.display_name)


def _owner_ref(db: Session, client: Client) -> Ref | None:
    user = db.get(User, client.owner_id) if client.owner_id else None
    return None if user is None else Ref(id=user.id, name=user.full_name or user.username)


def _team_ref(db: Session, client: Client) -> Ref | None:
    team = db.get(Team, client.team_id) if client.team_id else None
    return None if team is None else Ref(id=team.id, name=team.name)


def _contact_persons(db: Session, client: Client) -> list[ContactPerson]:
    """The live people of an organization (at most 500), with their numbers."""
    if client.kind != "organization":
        return []
    people = db.scalars(
        select(Client)
        .where(Client.organization_id == client.id, Client.deleted_at.is_(None))
        .order_by(Client.display_name, Client.id)
        .limit(500)
    ).all()
    phones = phones_by_client(db, [p.id for p in people])
    return [
        ContactPerson(
            id=p.id, display_name=p.display_name, job_title=p.job_title, phones=phones.get(p.id, [])
        )
        for p in people
    ]


_IDS = bindparam("ids", expanding=True)
_ORG = aliased(Client, name="organization")
#: built once: list rows and search hits are read with these on every request
_SUMMARY_ROWS = (
    select(
        Client.id,
        Client.kind,
        Client.display_name,
        Client.organization_id,
        _ORG.display_name.label("org_name"),
        Client.category,
        Client.status,
        Client.team_id,
        Client.owner_id,
        Client.created_at,
        Client.updated_at,
        Client.deleted_at,
    )
    .outerjoin(_ORG, (_ORG.id == Client.organization_id) & _ORG.deleted_at.is_(None))
    .where(Client.id.in_(_IDS))
)
_PHONES_OF = (
    select(Phone.client_id, Phone.e164)
    .where(Phone.client_id.in_(_IDS))
    .order_by(Phone.client_id, Phone.position, Phone.id)
)
_EMAILS_OF = (
    select(Email.client_id, Email.address)
    .where(Email.client_id.in_(_IDS))
    .order_by(Email.client_id, Email.position.desc(), Email.id.desc())
)
_TAGS_OF = (
    select(ClientTag.client_id, ClientTag.tag)
    .where(ClientTag.client_id.in_(_IDS))
    .order_by(ClientTag.client_id, ClientTag.tag)
)


def phones_by_client(db: Session, ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = defaultdict(list)
    if ids:
        for client_id, e164 in db.execute(_PHONES_OF, {"ids": ids}):
            out[client_id].append(e164)
    return out


def summaries(db: Session, ids: list[int]) -> list[ClientSummary]:
    """List rows for these clients, in this order, with four plain prebuilt queries (no ORM
    objects, no per-row queries): lists and search results stay fast on a big base."""
    if not ids:
        return []
    rows = {row.id: row for row in db.execute(_SUMMARY_ROWS, {"ids": ids})}
    phones = phones_by_client(db, ids)
    emails: dict[int, str] = {}
    tags: dict[int, list[str]] = defaultdict(list)
    for client_id, address in db.execute(_EMAILS_OF, {"ids": ids}):
        emails[client_id] = address  # the last one written per client is position 0
    for client_id, tag in db.execute(_TAGS_OF, {"ids": ids}):
        tags[client_id].append(tag)
    return [
        ClientSummary(
            id=c.id,
            kind=c.kind,
            display_name=c.display_name,
            organization=(
                Ref(id=c.organization_id, name=c.org_name) if c.org_name is not None else None
            ),
            category=c.category,
            is_vip=is_vip(c.category),
            status=c.status,
            team_id=c.team_id,
            owner_id=c.owner_id,
            phone=(phones.get(c.id) or [None])[0],
            email=emails.get(c.id),
            tags=tags.get(c.id, []),
            created_at=c.created_at,
            updated_at=c.updated_at,
            deleted_at=c.deleted_at,
        )
        for c in (rows[i] for i in ids if i in rows)
    ]


def sort_order(sort: str, *, sort_index: bool = True) -> list:
    """``name`` or ``-name`` for each comma-separated allow-listed field; id breaks ties.

    ``sort_index=False`` (SQLite only) writes each term as ``+column`` so the planner cannot
    drive the query by the sort column's index and filters by the filter's index instead."""
    order = []
    for raw in (sort or "display_name").split(","):
        name = raw.strip()
        descending = name.startswith("-")
        name = name.lstrip("-+")
        column = SORTABLE.get(name)
        if column is None:
            raise Invalid(
                "sort", f"unknown sort field {name!r}; allowed: {', '.join(sorted(SORTABLE))}"
            )
        term = column if sort_index else unindexed(column)
        order.append(desc(term) if descending else asc(term))
    last_desc = (sort or "").split(",")[-1].strip().startswith("-")
    tie = Client.id if sort_index else unindexed(Client.id)
    order.append(desc(tie) if last_desc else asc(tie))
    return order


def sparse(total: int, wanted: int) -> bool:
    """Whether so few clients match (``total``, capped) that walking the sort index to the end
    of the page (about ``wanted / total`` of the index) costs more than sorting every match."""
    return total <= COUNT_LIMIT and wanted * 50 > total


def list_clients(db: Session, actor: Principal, f: ClientFilter) -> ClientPage:
    """One page of clients. The total is counted up to COUNT_LIMIT rows only (never a full
    COUNT(*) over a million rows): past that ``total_exact`` is false.

    The capped count runs first (with no ORDER BY every planner drives it by the filter's own
    index). It tells how selective the filter is: a page past the end is not read at all, and
    when the matches are sparse, SQLite is kept off the sort index (``+column``), which it
    would otherwise walk across the whole table looking for a rare match (seconds at a
    million clients); sorting those few matches is a few milliseconds.

    When they are many, SQLite is kept off the team index instead (``+team_id``): without
    statistics (a base never analyzed) or with sampled ones (``callcard seed``) it takes
    ``team_id = ?`` for a selective filter and, for an operator (own team or unassigned),
    reads and sorts some 750,000 clients of a million (0.3 s) where walking the sort index
    reaches the first page after a few dozen rows."""
    order = sort_order(f.sort)
    if f.page is not None or f.page_size is not None:
        page_size = f.page_size or 50
        page = f.page or 1
        limit, offset = page_size, (page - 1) * page_size
    else:
        limit, offset = f.limit or 50, f.offset or 0
        page_size, page = limit, offset // limit + 1
    query = list_query(db, actor, f)
    capped = query.with_only_columns(Client.id).limit(COUNT_LIMIT + 1).subquery()
    total = db.scalar(select(func.count()).select_from(capped)) or 0
    ids: list[int] = []
    if total > offset or total > COUNT_LIMIT:  # an exact total tells when a page is empty
        if db.get_bind().dialect.name == "sqlite":
            if sparse(total, offset + limit):
                order = sort_order(f.sort, sort_index=False)
            else:
                query = list_query(db, actor, f, team_index=False)
        page_query = query.with_only_columns(Client.id).order_by(*order)
        ids = list(db.scalars(page_query.limit(limit).offset(offset)))
    return ClientPage(
        items=summaries(db, ids),
        total=min(total, COUNT_LIMIT),
        total_exact=total <= COUNT_LIMIT,
        count_limit=COUNT_LIMIT,
        limit=limit,
        offset=offset,
        page=page,
        page_size=page_size,
    )
