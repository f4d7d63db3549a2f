"""The rules of the client base: create, change, delete and restore clients.

Every function takes the session and the acting :class:`Principal`; rights are checked here,
every change is audited and announced on ``signals.client_saved`` in the same transaction.
Reading a card or a page of the list is in :mod:`crm_core.clients.listing`, merging two
clients in :mod:`crm_core.clients.merge`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core import signals
from crm_core.audit.service import record, snapshot
from crm_core.auth.models import Team, User
from crm_core.auth.principal import Principal
from crm_core.auth.rights import can_see_client, get_visible_client, require
from crm_core.clients.models import ENTITY, Address, Client, ClientTag, Email, Handle, Phone
from crm_core.clients.schemas import AddressIn, ClientIn, ClientUpdate
from crm_core.customfields import service as customfields
from crm_core.database import utcnow
from crm_core.errors import Conflict, Invalid, NotFound
from crm_core.search.index import search_text_of

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


def display_name_of(client: Client) -> str:
    if client.kind == "organization":
        return client.org_name.strip()
    parts = (client.first_name, client.middle_name, client.last_name)
    return " ".join(p.strip() for p in parts if p and p.strip())


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


def full_snapshot(db: Session, client: Client) -> dict[str, Any]:
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


def refresh_search_text(db: Session, client: Client) -> None:
    """Recompute ``display_name`` and ``search_text`` (the FTS/trigram triggers follow)."""
    client.display_name = display_name_of(client)
    client.search_text = search_text_of(db, client)


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
            Address(**address_values(a), position=i) for i, a in enumerate(data.addresses)
        ]
    if "handles" in fields and data.handles is not None:
        client.handles = [Handle(network=h.network, handle=h.handle) for h in data.handles]
    if "tags" in fields and data.tags is not None:
        wanted = sorted({t.strip() for t in data.tags if t.strip()})
        current = {t.tag: t for t in client.tags}
        client.tags = [current.get(tag) or ClientTag(tag=tag) for tag in wanted]


def address_values(a: AddressIn) -> dict[str, str]:
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
    record(db, actor, "create", ENTITY, client.id, None, full_snapshot(db, client))
    signals.client_saved.send(db, client=client, actor=actor, created=True)
    return client


def update_client(
    db: Session, actor: Principal, client_id: int, data: ClientUpdate, *, force: bool = False
) -> Client:
    """Change the fields sent; 409 when a phone or e-mail it adds is someone else's unless
    ``force`` (numbers the client already had are not checked again)."""
    client = get_visible_client(db, actor, client_id)
    before = full_snapshot(db, client)
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
    with db.no_autoflush:  # a missing team or owner is a 422, not a foreign-key error on flush
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
    after = full_snapshot(db, client)
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
