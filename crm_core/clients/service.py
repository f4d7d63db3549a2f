"""The rules of the client base: create, change, delete, restore, merge and list clients.

Every function takes the session and the acting :class:`Principal`; rights are checked here,
every change is audited and announced on ``signals.client_saved`` in the same transaction.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, and_, asc, bindparam, desc, false, func, select, update
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.expression import UnaryExpression
from sqlalchemy.sql.operators import custom_op

from crm_core import signals
from crm_core.attachments.models import Attachment
from crm_core.audit.service import record, snapshot
from crm_core.auth.models import Team, User
from crm_core.auth.principal import Principal
from crm_core.auth.rights import can_see_client, get_visible_client, require, visible_clients
from crm_core.clients.models import Address, Client, ClientTag, Email, Handle, Phone
from crm_core.clients.schemas import (
    AddressIn,
    AddressOut,
    ClientFilter,
    ClientIn,
    ClientOut,
    ClientPage,
    ClientSummary,
    ClientUpdate,
    ContactPerson,
    EmailOut,
    HandleIn,
    HandleOut,
    PhoneOut,
    Ref,
)
from crm_core.customfields import service as customfields
from crm_core.customfields.models import CustomField, CustomFieldValue
from crm_core.database import among_ids, utcnow
from crm_core.errors import Conflict, Invalid, NotFound
from crm_core.history.models import Interaction
from crm_core.search.text import build_search_text
from crm_core.tasks.models import Task

ENTITY = "client"
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
SCALARS = (
    "first_name",
    "last_name",
    "middle_name",
    "org_name",
    "job_title",
    "organization_id",
    "owner_id",
    "team_id",
    "category",
    "status",
    "source",
    "birthday",
    "discount_percent",
    "comment",
    "language",
    "timezone",
)


def is_vip(category: str) -> bool:
    return category.strip().lower() == "vip"


def display_name_of(client: Client) -> str:
    if client.kind == "organization":
        return client.org_name.strip()
    parts = (client.first_name, client.middle_name, client.last_name)
    return " ".join(p.strip() for p in parts if p and p.strip())


# --- reading ----------------------------------------------------------------------------


def get_client(db: Session, actor: Principal, client_id: int) -> Client:
    """The client, if the actor may see it; otherwise NotFound (ids do not leak)."""
    return get_visible_client(db, actor, client_id)


def client_out(db: Session, client: Client) -> ClientOut:
    """The full card of one client, with its organization, contacts and custom values."""
    org = None
    if client.organization_id:
        org_row = db.get(Client, client.organization_id)
        if org_row is not None and org_row.deleted_at is None:
            org = Ref(id=org_row.id, name=org_row.display_name)
    owner = None
    if client.owner_id:
        user = db.get(User, client.owner_id)
        if user is not None:
            owner = Ref(id=user.id, name=user.full_name or user.username)
    team = None
    if client.team_id:
        team_row = db.get(Team, client.team_id)
        if team_row is not None:
            team = Ref(id=team_row.id, name=team_row.name)
    contacts: list[ContactPerson] = []
    if client.kind == "organization":
        people = db.scalars(
            select(Client)
            .where(Client.organization_id == client.id, Client.deleted_at.is_(None))
            .order_by(Client.display_name, Client.id)
            .limit(500)
        ).all()
        phones = _phones_by_client(db, [p.id for p in people])
        contacts = [
            ContactPerson(
                id=p.id,
                display_name=p.display_name,
                job_title=p.job_title,
                phones=phones.get(p.id, []),
            )
            for p in people
        ]
    return ClientOut(
        id=client.id,
        kind=client.kind,
        first_name=client.first_name,
        last_name=client.last_name,
        middle_name=client.middle_name,
        org_name=client.org_name,
        display_name=client.display_name,
        job_title=client.job_title,
        organization=org,
        owner=owner,
        team=team,
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
        contacts=contacts,
        last_rating=client.last_rating,
        last_rated_at=client.last_rated_at,
        created_at=client.created_at,
        updated_at=client.updated_at,
        deleted_at=client.deleted_at,
    )


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


def _phones_by_client(db: Session, ids: list[int]) -> dict[int, list[str]]:
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
    phones = _phones_by_client(db, ids)
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


# --- writing ----------------------------------------------------------------------------


def _check_names(kind: str, first: str, last: str, org_name: str) -> None:
    if kind == "organization":
        if not org_name.strip():
            raise Invalid("org_name", "an organization needs a name")
    elif not (first.strip() or last.strip()):
        raise Invalid("last_name", "a person needs a first or a last name")


def _check_refs(db: Session, actor: Principal, client: Client, changed: set[str]) -> None:
    """Organization, owner and team must exist, be usable and be the actor's to give."""
    if "organization_id" in changed and client.organization_id is not None:
        if client.kind != "person":
            raise Invalid("organization_id", "only a person can belong to an organization")
        org = db.get(Client, client.organization_id)
        if (
            org is None
            or org.kind != "organization"
            or org.id == client.id
            or not can_see_client(actor, org)
        ):
            raise Invalid("organization_id", "no such organization")
    if "owner_id" in changed and client.owner_id is not None:
        user = db.get(User, client.owner_id)
        if user is None or not user.is_active:
            raise Invalid("owner_id", "no such active user")
    if "team_id" in changed and client.team_id is not None and db.get(Team, client.team_id) is None:
        raise Invalid("team_id", "no such team")
    if (
        "team_id" in changed
        and actor.role == "operator"
        and client.team_id
        not in (
            None,
            actor.team_id,
        )
    ):
        raise Invalid("team_id", "operators may only assign their own team")


def _full_snapshot(db: Session, client: Client) -> dict[str, Any]:
    """Columns plus the lists, so the audit shows phones, e-mails, tags and custom values too."""
    data = snapshot(client)
    data["phones"] = [f"{p.kind}:{p.e164}" for p in client.phones]
    data["emails"] = [f"{e.kind}:{e.address}" for e in client.emails]
    data["addresses"] = [
        ", ".join(x for x in (a.street, a.city, a.region, a.postal_code, a.country) if x)
        for a in client.addresses
    ]
    data["handles"] = [f"{h.network}:{h.handle}" for h in client.handles]
    data["tags"] = sorted(t.tag for t in client.tags)
    if client.id is not None:
        data["custom"] = customfields.values_for(db, ENTITY, [client.id]).get(client.id, {})
    return data


def _search_text(
    names: list[str],
    phones: list[str],
    emails: list[str],
    handles: list[str],
    tags: list[str],
    custom: str,
) -> str:
    """What a client's ``search_text`` holds, from its parts (one save or a batch refresh)."""
    return build_search_text(
        names=names, phones_e164=phones, emails=emails, extra=[*handles, *tags, custom]
    )


def refresh_search_text(db: Session, client: Client) -> None:
    """Recompute ``display_name`` and ``search_text`` (the FTS/trigram triggers follow)."""
    client.display_name = display_name_of(client)
    names = [client.display_name, client.org_name, client.job_title]
    if client.organization_id:
        org_name = db.scalar(select(Client.org_name).where(Client.id == client.organization_id))
        names.append(org_name or "")
    client.search_text = _search_text(
        names,
        [p.e164 for p in client.phones],
        [e.address for e in client.emails],
        [h.handle for h in client.handles],
        [t.tag for t in client.tags],
        customfields.searchable_text(db, ENTITY, client.id) if client.id is not None else "",
    )


def recomputed_search_texts(db: Session, client_ids: list[int]) -> dict[int, tuple[str, str]]:
    """``{client id: (search_text as stored, as it should be now)}`` read from the stored
    rows in a few set queries: the batch refresh after a custom field changed."""
    if not client_ids:
        return {}
    rows = db.execute(
        select(
            Client.id,
            Client.display_name,
            Client.org_name,
            Client.job_title,
            Client.organization_id,
            Client.search_text,
        ).where(among_ids(db, Client.id, client_ids))
    ).all()
    org_ids = {r.organization_id for r in rows if r.organization_id}
    org_names = (
        dict(
            db.execute(
                select(Client.id, Client.org_name).where(among_ids(db, Client.id, org_ids))
            ).all()
        )
        if org_ids
        else {}
    )

    def grouped(*query_columns, order) -> dict[int, list[str]]:
        out: dict[int, list[str]] = defaultdict(list)
        owner = query_columns[0]
        for owner_id, value in db.execute(
            select(*query_columns).where(among_ids(db, owner, client_ids)).order_by(owner, *order)
        ):
            out[owner_id].append(value)
        return out

    phones = grouped(Phone.client_id, Phone.e164, order=(Phone.position, Phone.id))
    emails = grouped(Email.client_id, Email.address, order=(Email.position, Email.id))
    handles = grouped(Handle.client_id, Handle.handle, order=(Handle.id,))
    tags = grouped(ClientTag.client_id, ClientTag.tag, order=(ClientTag.tag,))
    custom = customfields.searchable_texts(db, ENTITY, client_ids)
    out: dict[int, tuple[str, str]] = {}
    for r in rows:
        names = [r.display_name, r.org_name, r.job_title]
        if r.organization_id:
            names.append(org_names.get(r.organization_id) or "")
        out[r.id] = (
            r.search_text,
            _search_text(
                names,
                phones.get(r.id, []),
                emails.get(r.id, []),
                handles.get(r.id, []),
                tags.get(r.id, []),
                custom.get(r.id, ""),
            ),
        )
    return out


def _replace_lists(client: Client, data: ClientIn | ClientUpdate, fields: set[str]) -> None:
    if "phones" in fields and data.phones is not None:
        client.phones = [
            Phone(kind=p.kind, number=p.number, e164=p.e164, position=i)
            for i, p in enumerate(data.phones)
        ]
    if "emails" in fields and data.emails is not None:
        client.emails = [
            Email(
                kind=e.kind,
                address=str(e.address),
                address_lower=str(e.address).lower(),
                position=i,
            )
            for i, e in enumerate(data.emails)
        ]
    if "addresses" in fields and data.addresses is not None:
        client.addresses = [
            Address(**_address_values(a), position=i) for i, a in enumerate(data.addresses)
        ]
    if "handles" in fields and data.handles is not None:
        client.handles = [Handle(network=h.network, handle=h.handle) for h in data.handles]
    if "tags" in fields and data.tags is not None:
        wanted = sorted({t.strip() for t in data.tags if t.strip()})
        current = {t.tag: t for t in client.tags}
        client.tags = [current.get(tag) or ClientTag(tag=tag) for tag in wanted]


def _address_values(a: AddressIn) -> dict[str, str]:
    return {
        "kind": a.kind,
        "street": a.street.strip(),
        "city": a.city.strip(),
        "region": a.region.strip(),
        "postal_code": a.postal_code.strip(),
        "country": a.country.upper(),
    }


def find_duplicate(
    db: Session, phones_e164: list[str], emails: list[str], exclude_id: int | None = None
) -> tuple[Client, str] | None:
    """The first live client holding one of these numbers or e-mails, and which field matched."""
    if phones_e164:
        query = (
            select(Client, Phone.e164)
            .join(Phone, Phone.client_id == Client.id)
            .where(Phone.e164.in_(phones_e164), Client.deleted_at.is_(None))
        )
        if exclude_id:
            query = query.where(Client.id != exclude_id)
        row = db.execute(query.order_by(Client.id).limit(1)).first()
        if row:
            return row[0], f"phones[{phones_e164.index(row[1])}]"
    lowered = [e.lower() for e in emails]
    if lowered:
        query = (
            select(Client, Email.address_lower)
            .join(Email, Email.client_id == Client.id)
            .where(Email.address_lower.in_(lowered), Client.deleted_at.is_(None))
        )
        if exclude_id:
            query = query.where(Client.id != exclude_id)
        row = db.execute(query.order_by(Client.id).limit(1)).first()
        if row:
            return row[0], f"emails[{lowered.index(row[1])}]"
    return None


def _refuse_duplicate(
    db: Session,
    actor: Principal,
    phones: dict[int, str],
    emails: dict[int, str],
    own_id=None,
) -> None:
    """409 when one of these numbers or e-mails (keyed by their position in the request) is
    another live client's; ``force`` skips the check."""
    found = find_duplicate(db, list(phones.values()), list(emails.values()), exclude_id=own_id)
    if found is None:
        return
    existing, field = found
    name, index = field.rstrip("]").split("[")
    field = f"{name}[{list((phones if name == 'phones' else emails).keys())[int(index)]}]"
    if can_see_client(actor, existing):
        raise Conflict(
            f"{field.split('[')[0][:-1]} already belongs to client {existing.id} "
            f"({existing.display_name}); send force=true to save anyway",
            field=field,
            existing={"id": existing.id, "name": existing.display_name},
        )
    raise Conflict(
        f"{field.split('[')[0][:-1]} already belongs to a client of another team; "
        "send force=true to save anyway",
        field=field,
        existing=None,
    )


def create_client(db: Session, actor: Principal, data: ClientIn, *, force: bool = False) -> Client:
    """A new client; 409 when a phone or e-mail is someone else's unless ``force``."""
    require(actor.is_staff_user or actor.role == "system", "create clients")
    _check_names(data.kind, data.first_name, data.last_name, data.org_name)
    custom = customfields.validate_values(db, ENTITY, data.custom)
    if not force:
        _refuse_duplicate(
            db,
            actor,
            {i: p.e164 for i, p in enumerate(data.phones or [])},
            {i: str(e.address) for i, e in enumerate(data.emails or [])},
        )
    fields = data.model_fields_set | {"team_id"}
    client = Client(
        kind=data.kind,
        created_by_id=actor.id,
        **{name: getattr(data, name) for name in SCALARS},
    )
    client.first_name, client.last_name = data.first_name.strip(), data.last_name.strip()
    client.middle_name, client.org_name = data.middle_name.strip(), data.org_name.strip()
    if "team_id" not in data.model_fields_set and actor.role == "operator":
        client.team_id = actor.team_id
    _check_refs(db, actor, client, fields)
    _replace_lists(client, data, {"phones", "emails", "addresses", "handles", "tags"})
    refresh_search_text(db, client)
    db.add(client)
    db.flush()
    if custom:
        customfields.save_values(db, ENTITY, client.id, custom)
        refresh_search_text(db, client)
        db.flush()
    record(db, actor, "create", ENTITY, client.id, None, _full_snapshot(db, client))
    signals.client_saved.send(db, client=client, actor=actor, created=True)
    return client


def update_client(
    db: Session, actor: Principal, client_id: int, data: ClientUpdate, *, force: bool = False
) -> Client:
    """Change the fields sent; 409 when a phone or e-mail it adds is someone else's unless
    ``force`` (numbers the client already had are not checked again)."""
    client = get_visible_client(db, actor, client_id)
    before = _full_snapshot(db, client)
    fields = set(data.model_fields_set)
    if not force:
        had_phones = {p.e164 for p in client.phones}
        had_emails = {e.address_lower for e in client.emails}
        _refuse_duplicate(
            db,
            actor,
            {i: p.e164 for i, p in enumerate(data.phones or []) if p.e164 not in had_phones},
            {
                i: str(e.address)
                for i, e in enumerate(data.emails or [])
                if str(e.address).lower() not in had_emails
            },
            own_id=client.id,
        )
    for name in SCALARS:
        if name in fields:
            value = getattr(data, name)
            if value is None and name not in ("organization_id", "owner_id", "team_id", "birthday"):
                raise Invalid(name, "must not be null")
            setattr(client, name, value.strip() if isinstance(value, str) else value)
    _check_names(client.kind, client.first_name, client.last_name, client.org_name)
    _check_refs(db, actor, client, fields)
    custom = None
    if data.custom is not None:
        custom = customfields.validate_values(db, ENTITY, data.custom, partial=True)
    renamed = client.kind == "organization" and before["org_name"] != client.org_name
    _replace_lists(client, data, fields)
    if custom:
        customfields.save_values(db, ENTITY, client.id, custom)
    refresh_search_text(db, client)
    client.updated_at = utcnow()
    db.flush()
    if renamed:
        for person in db.scalars(select(Client).where(Client.organization_id == client.id)):
            refresh_search_text(db, person)
    after = _full_snapshot(db, client)
    record(db, actor, "update", ENTITY, client.id, before, after)
    signals.client_saved.send(db, client=client, actor=actor, created=False)
    return client


def delete_client(db: Session, actor: Principal, client_id: int) -> None:
    """Soft delete: the client disappears everywhere but an admin can restore it."""
    client = get_visible_client(db, actor, client_id)
    require(actor.can_delete, "delete clients")
    before = snapshot(client)
    client.deleted_at = utcnow()
    db.flush()
    record(db, actor, "delete", ENTITY, client.id, before, snapshot(client))
    signals.client_deleted.send(db, client=client, actor=actor)


def restore_client(db: Session, actor: Principal, client_id: int) -> Client:
    require(actor.is_admin, "restore clients")
    client = db.get(Client, client_id)
    if client is None or client.deleted_at is None:
        raise NotFound(f"deleted client {client_id} not found")
    before = snapshot(client)
    client.deleted_at = None
    client.updated_at = utcnow()
    db.flush()
    record(db, actor, "restore", ENTITY, client.id, before, snapshot(client))
    signals.client_saved.send(db, client=client, actor=actor, created=False)
    return client


def merge_clients(db: Session, actor: Principal, target_id: int, source_id: int) -> Client:
    """Fold ``source`` into ``target``: numbers, e-mails, addresses, tags, history, tasks,
    files, custom values and contact persons move over; the source is soft-deleted."""
    require(actor.can_delete, "merge clients")
    if target_id == source_id:
        raise Invalid("source_id", "a client cannot be merged into itself")
    target = get_visible_client(db, actor, target_id)
    try:
        source = get_visible_client(db, actor, source_id)
    except NotFound:
        raise Invalid("source_id", "no such client") from None
    if target.kind != source.kind:
        raise Invalid("source_id", f"cannot merge a {source.kind} into a {target.kind}")
    before = _full_snapshot(db, target)
    source_before = snapshot(source)

    have = {p.e164 for p in target.phones}
    for phone in list(source.phones):
        if phone.e164 not in have:
            have.add(phone.e164)
            target.phones.append(
                Phone(kind=phone.kind, number=phone.number, e164=phone.e164, position=len(have))
            )
    have = {e.address_lower for e in target.emails}
    for email in list(source.emails):
        if email.address_lower not in have:
            have.add(email.address_lower)
            target.emails.append(
                Email(
                    kind=email.kind,
                    address=email.address,
                    address_lower=email.address_lower,
                    position=len(have),
                )
            )
    have_addr = {(a.street, a.city, a.postal_code, a.country) for a in target.addresses}
    for a in list(source.addresses):
        if (a.street, a.city, a.postal_code, a.country) not in have_addr:
            values = _address_values(AddressIn.model_validate(a))
            target.addresses.append(Address(**values, position=len(target.addresses)))
    have_handles = {(h.network, h.handle) for h in target.handles}
    for h in list(source.handles):
        if (h.network, h.handle) not in have_handles:
            target.handles.append(Handle(**HandleIn.model_validate(h).model_dump()))
    have_tags = {t.tag for t in target.tags}
    for tag in {t.tag for t in source.tags} - have_tags:
        target.tags.append(ClientTag(tag=tag))
    for name in ("birthday", "comment", "source", "job_title", "language", "timezone"):
        if not getattr(target, name) and getattr(source, name):
            setattr(target, name, getattr(source, name))
    if target.owner_id is None:
        target.owner_id = source.owner_id
    if target.organization_id is None and source.organization_id != target.id:
        target.organization_id = source.organization_id

    moved = {}
    for model in (Interaction, Task, Attachment):
        result = db.execute(
            update(model).where(model.client_id == source.id).values(client_id=target.id)
        )
        moved[model.__tablename__] = result.rowcount
    result = db.execute(
        update(Client)
        .where(Client.organization_id == source.id, Client.id != target.id)
        .values(organization_id=target.id)
    )
    moved["contact_persons"] = result.rowcount
    client_fields = select(CustomField.id).where(CustomField.entity == ENTITY)
    target_has = select(CustomFieldValue.field_id).where(CustomFieldValue.entity_id == target.id)
    db.execute(
        update(CustomFieldValue)
        .where(
            CustomFieldValue.entity_id == source.id,
            CustomFieldValue.field_id.in_(client_fields),
            CustomFieldValue.field_id.not_in(target_has.scalar_subquery()),
        )
        .values(entity_id=target.id)
        .execution_options(synchronize_session=False)
    )
    customfields.delete_values(db, ENTITY, source.id)

    source.deleted_at = utcnow()
    target.updated_at = utcnow()
    db.flush()
    refresh_search_text(db, target)
    db.flush()
    after = _full_snapshot(db, target)
    after["merged_from"] = source.id
    after["moved"] = moved
    record(db, actor, "merge", ENTITY, target.id, before, after)
    record(
        db,
        actor,
        "delete",
        ENTITY,
        source.id,
        source_before,
        {**snapshot(source), "merged_into": target.id},
    )
    signals.client_saved.send(db, client=target, actor=actor, created=False)
    return target


# --- listing ----------------------------------------------------------------------------


def _as_utc(value: datetime, field: str) -> datetime:
    """Naive means UTC; an instant no backend can store is a 422, not a crash."""
    try:
        moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise Invalid(field, "date out of range") from None
    if not 1900 <= moment.year <= 9000:
        raise Invalid(field, "year must be between 1900 and 9000")
    return moment


def _unindexed(column):
    """``+column``: the same values and order, but SQLite will not use an index on it."""
    return UnaryExpression(column, operator=custom_op("+"), type_=column.type)


def list_query(
    db: Session, actor: Principal, f: ClientFilter, *, team_index: bool = True
) -> Select:
    """The filtered (unsorted, unpaginated) query; raises Invalid naming a bad filter.

    ``team_index=False`` (SQLite only) writes the row rights' and the team filter's
    ``team_id`` as ``+team_id``, so the planner cannot drive the query by the team index."""
    if (f.tag is not None or f.city is not None) and db.get_bind().dialect.name == "sqlite":
        # the tag's or city's index must drive the query (IN below); in a base never analyzed
        # SQLite would start from the team index for an operator (0.1 s at a million clients)
        team_index = False
    team = Client.team_id if team_index else _unindexed(Client.team_id)
    if f.deleted:
        require(actor.is_admin, "list deleted clients")
        conditions = [Client.deleted_at.is_not(None)]
    else:
        conditions = [visible_clients(actor, team)]
    if f.team is not None:
        conditions.append(team == f.team)
        if not f.deleted and not actor.sees_all_clients and f.team != actor.team_id:
            # another team's clients are not visible; said outright, since PostgreSQL does not
            # see the contradiction with the row rights and scans the team index (0.3 s at 1M)
            conditions.append(false())
    if f.owner is not None:
        owned = Client.owner_id == f.owner
        if db.get_bind().dialect.name == "sqlite":
            # one owner has few of the clients; SQLite's statistics (seeded or imported bases
            # where most clients have no owner) would otherwise say the owner index is useless
            owned = func.unlikely(owned)
        conditions.append(owned)
    if f.category is not None:
        conditions.append(Client.category == f.category)
    if f.status is not None:
        conditions.append(Client.status == f.status)
    if f.kind is not None:
        conditions.append(Client.kind == f.kind)
    if f.organization is not None:
        conditions.append(Client.organization_id == f.organization)
    # IN (index lookup) rather than EXISTS: a rare tag or city must drive the query, not be
    # probed for each client along the sort index
    if f.tag is not None:
        tagged = select(ClientTag.client_id).where(ClientTag.tag == f.tag.strip())
        conditions.append(Client.id.in_(tagged))
    if f.city is not None:
        located = select(Address.client_id).where(Address.city == f.city.strip())
        conditions.append(Client.id.in_(located))
    if f.created_from is not None:
        conditions.append(Client.created_at >= _as_utc(f.created_from, "created_from"))
    if f.created_to is not None:
        conditions.append(Client.created_at < _as_utc(f.created_to, "created_to"))
    for key, raw in f.custom.items():
        try:
            conditions.append(customfields.filter_clause(db, ENTITY, key, raw))
        except Invalid as exc:
            raise Invalid(f"cf.{key}", exc.message.split(": ", 1)[-1]) from None
    return select(Client).where(and_(*conditions))


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
        term = column if sort_index else _unindexed(column)
        order.append(desc(term) if descending else asc(term))
    last_desc = (sort or "").split(",")[-1].strip().startswith("-")
    tie = Client.id if sort_index else _unindexed(Client.id)
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
