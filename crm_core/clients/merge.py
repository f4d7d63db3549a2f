"""Merging two clients: the duplicate is folded into the client kept."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crm_core import signals
from crm_core.attachments.models import Attachment
from crm_core.audit.service import record, snapshot
from crm_core.auth.principal import Principal
from crm_core.auth.rights import get_visible_client, require
from crm_core.clients.models import ENTITY, Address, Client, ClientTag, Email, Handle, Phone
from crm_core.clients.schemas import AddressIn, HandleIn
from crm_core.clients.service import address_values, full_snapshot, refresh_search_text
from crm_core.customfields import service as customfields
from crm_core.customfields.models import CustomField, CustomFieldValue
from crm_core.database import utcnow
from crm_core.errors import Invalid, NotFound
from crm_core.history.models import Interaction
from crm_core.tasks.models import Task

#: details the kept client takes from the duplicate when it has none of its own
FILLED_IN = ("birthday", "comment", "source", "job_title", "language", "timezone")


def merge_clients(db: Session, actor: Principal, target_id: int, source_id: int) -> Client:
    """Fold ``source`` into ``target``: numbers, e-mails, addresses, tags, history, tasks,
    files, custom values and contact persons move over; the source is soft-deleted."""
    target, source = _clients_to_merge(db, actor, target_id, source_id)
    before = full_snapshot(db, target)
    source_before = snapshot(source)
    _take_contact_details(target, source)
    _fill_in_details(target, source)
    moved = _move_records(db, target, source)
    _move_custom_values(db, target, source)
    source.deleted_at = utcnow()
    target.updated_at = utcnow()
    db.flush()
    refresh_search_text(db, target)
    db.flush()
    _audit_merge(db, actor, target, source, before, source_before, moved)
    signals.client_saved.send(db, client=target, actor=actor, created=False)
    return target


def _clients_to_merge(
    db: Session, actor: Principal, target_id: int, source_id: int
) -> tuple[Client, Client]:
    """The kept client and the duplicate, both visible to the actor and of the same kind."""
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
    return target, source


def _take_contact_details(target: Client, source: Client) -> None:
    """Numbers, e-mails, addresses, handles and tags the target lacks, after its own."""
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
            values = address_values(AddressIn.model_validate(a))
            target.addresses.append(Address(**values, position=len(target.addresses)))
    have_handles = {(h.network, h.handle) for h in target.handles}
    for h in list(source.handles):
        if (h.network, h.handle) not in have_handles:
            target.handles.append(Handle(**HandleIn.model_validate(h).model_dump()))
    have_tags = {t.tag for t in target.tags}
    for tag in {t.tag for t in source.tags} - have_tags:
        target.tags.append(ClientTag(tag=tag))


def _fill_in_details(target: Client, source: Client) -> None:
    """Empty details, the owner and the organization of the target come from the source."""
    for name in FILLED_IN:
        if not getattr(target, name) and getattr(source, name):
            setattr(target, name, getattr(source, name))
    if target.owner_id is None:
        target.owner_id = source.owner_id
    if target.organization_id is None and source.organization_id != target.id:
        target.organization_id = source.organization_id


def _move_records(db: Session, target: Client, source: Client) -> dict[str, int]:
    """History, tasks, files and contact persons of the source now hang off the target;
    returns how many of each moved (for the audit)."""
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
    return moved


def _move_custom_values(db: Session, target: Client, source: Client) -> None:
    """Custom values of fields the target has no value in move over; the rest are dropped."""
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


def _audit_merge(
    db: Session,
    actor: Principal,
    target: Client,
    source: Client,
    before: dict,
    source_before: dict,
    moved: dict[str, int],
) -> None:
    """Two audit entries: the target merged (with what moved) and the source deleted."""
    after = full_snapshot(db, target)
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
