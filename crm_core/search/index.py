"""What a client's ``search_text`` holds: names, phone digits, e-mails, handles, tags and the
values of its searchable custom fields, folded into one line (:func:`build_search_text`).

One save (:func:`search_text_of`) and the batch refresh after a field changed
(:func:`recomputed_search_texts`, crm_core.search.refresh) compose it the same way. This module
reads models only, so the client rules, the custom field rules and the refresh all use it
without depending on each other.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.clients.models import ENTITY, Client, ClientTag, Email, Handle, Phone
from crm_core.customfields.models import CustomField, CustomFieldValue
from crm_core.database import among
from crm_core.search.text import build_search_text

#: custom field kinds whose values can go into the search text
SEARCHABLE_KINDS = ("text", "choice")


def feeds_search(field: CustomField) -> bool:
    """Whether the field's values go into the clients' search text when it is searchable."""
    return field.entity == ENTITY and field.kind in SEARCHABLE_KINDS


def searchable_field_ids(db: Session) -> list[int]:
    """The clients' searchable text/choice fields, read FOR SHARE (PostgreSQL): a change of a
    field's ``searchable`` flag waits for this transaction, or this read waits for the change,
    so no search text is built from a definition being changed (crm_core.search.refresh)."""
    rows = db.execute(
        select(CustomField.id, CustomField.searchable, CustomField.kind)
        .where(CustomField.entity == ENTITY)
        .order_by(CustomField.id)
        .with_for_update(read=True)
    ).all()
    return [r.id for r in rows if r.searchable and r.kind in SEARCHABLE_KINDS]


def custom_search_texts(db: Session, client_ids: list[int]) -> dict[int, str]:
    """``{client id: the text of its searchable text/choice fields}`` (values in field order;
    clients without any are left out)."""
    field_ids = searchable_field_ids(db)
    if not field_ids or not client_ids:
        return {}
    values: dict[int, list[str]] = {}
    for entity_id, value in db.execute(
        select(CustomFieldValue.entity_id, CustomFieldValue.value_text)
        .where(
            CustomFieldValue.field_id.in_(field_ids),
            among(db, CustomFieldValue.entity_id, client_ids),
        )
        .order_by(CustomFieldValue.entity_id, CustomFieldValue.field_id)
    ):
        if value:
            values.setdefault(entity_id, []).append(value)
    return {entity_id: " ".join(parts) for entity_id, parts in values.items()}


def composed_search_text(
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


def search_text_of(db: Session, client: Client) -> str:
    """The search text of one client being saved (its ``display_name`` already set)."""
    names = [client.display_name, client.org_name, client.job_title]
    if client.organization_id:
        org_name = db.scalar(select(Client.org_name).where(Client.id == client.organization_id))
        names.append(org_name or "")
    custom = (
        custom_search_texts(db, [client.id]).get(client.id, "") if client.id is not None else ""
    )
    return composed_search_text(
        names,
        [p.e164 for p in client.phones],
        [e.address for e in client.emails],
        [h.handle for h in client.handles],
        [t.tag for t in client.tags],
        custom,
    )


def _values_by_client(db: Session, client_ids: list[int], owner, value, *order) -> dict:
    """``{client id: [value, ...]}`` of one list of the clients (phones, e-mails, ...)."""
    out: dict[int, list[str]] = defaultdict(list)
    for owner_id, item in db.execute(
        select(owner, value).where(among(db, owner, client_ids)).order_by(owner, *order)
    ):
        out[owner_id].append(item)
    return out


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
        ).where(among(db, Client.id, client_ids))
    ).all()
    org_ids = {r.organization_id for r in rows if r.organization_id}
    org_names = (
        dict(
            db.execute(
                select(Client.id, Client.org_name).where(among(db, Client.id, org_ids))
            ).all()
        )
        if org_ids
        else {}
    )
    phones = _values_by_client(
        db, client_ids, Phone.client_id, Phone.e164, Phone.position, Phone.id
    )
    emails = _values_by_client(
        db, client_ids, Email.client_id, Email.address, Email.position, Email.id
    )
    handles = _values_by_client(db, client_ids, Handle.client_id, Handle.handle, Handle.id)
    tags = _values_by_client(db, client_ids, ClientTag.client_id, ClientTag.tag, ClientTag.tag)
    custom = custom_search_texts(db, client_ids)
    out: dict[int, tuple[str, str]] = {}
    for r in rows:
        names = [r.display_name, r.org_name, r.job_title]
        if r.organization_id:
            names.append(org_names.get(r.organization_id) or "")
        out[r.id] = (
            r.search_text,
            composed_search_text(
                names,
                phones.get(r.id, []),
                emails.get(r.id, []),
                handles.get(r.id, []),
                tags.get(r.id, []),
                custom.get(r.id, ""),
            ),
        )
    return out
