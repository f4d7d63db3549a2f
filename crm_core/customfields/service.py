"""Custom fields an admin defines per entity, their values, and built-in label renames.

Values live in ``custom_field_values``, one row per (field, record), in the column that fits
the field's kind, so filters compare numbers as numbers and dates as dates.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session

from crm_core.apitypes import no_bad_characters
from crm_core.audit.service import record, snapshot
from crm_core.auth.principal import Principal
from crm_core.customfields.models import FIELD_KINDS, CustomField, CustomFieldValue
from crm_core.errors import Conflict, Invalid, NotFound
from crm_core.search import refresh as search_refresh
from crm_core.search.index import feeds_search

ENTITIES = ("client", "task", "interaction")
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
TRUE_WORDS = {"true", "1", "yes", "y", "on", "da", "да"}
FALSE_WORDS = {"false", "0", "no", "n", "off", "nu", "нет"}
MAX_TEXT = 2000


# --- field definitions ------------------------------------------------------------------


def check_entity(entity: str, loc: str | list = "entity") -> str:
    if entity not in ENTITIES:
        raise Invalid(loc, f"must be one of {', '.join(ENTITIES)}")
    return entity


def fields_for(db: Session, entity: str) -> list[CustomField]:
    return list(
        db.scalars(
            select(CustomField)
            .where(CustomField.entity == entity)
            .order_by(CustomField.position, CustomField.id)
        )
    )


def get_field(db: Session, field_id: int) -> CustomField:
    field = db.get(CustomField, field_id)
    if field is None:
        raise NotFound(f"custom field {field_id} not found")
    return field


def _check_definition(kind: str, choices: list[str]) -> list[str]:
    if kind not in FIELD_KINDS:
        raise Invalid("kind", f"must be one of {', '.join(FIELD_KINDS)}")
    cleaned = [c.strip() for c in choices if c and c.strip()]
    if kind == "choice":
        if not cleaned:
            raise Invalid("choices", "a choice field needs at least one choice")
        if len(set(cleaned)) != len(cleaned):
            raise Invalid("choices", "choices must be distinct")
        return cleaned
    if cleaned:
        raise Invalid("choices", "only choice fields have choices")
    return []


def create_field(
    db: Session,
    actor: Principal,
    *,
    entity: str,
    key: str,
    label: str,
    kind: str,
    choices: list[str] | None = None,
    required: bool = False,
    searchable: bool = True,
    position: int | None = None,
) -> CustomField:
    """A new field; without ``position`` it comes last."""
    check_entity(entity)
    key = key.strip()
    if not KEY_RE.match(key):
        raise Invalid("key", "must start with a letter: lowercase letters, digits and _ only")
    if not label.strip():
        raise Invalid("label", "must not be empty")
    choices = _check_definition(kind, choices or [])
    if db.scalar(
        select(CustomField.id).where(CustomField.entity == entity, CustomField.key == key)
    ):
        raise Conflict(f"a {entity} field with key {key!r} exists already")
    if position is None:
        last = db.scalar(select(func.max(CustomField.position)).where(CustomField.entity == entity))
        position = 0 if last is None else last + 1
    field = CustomField(
        entity=entity,
        key=key,
        label=label.strip(),
        kind=kind,
        choices=choices,
        required=required,
        searchable=searchable,
        position=position,
    )
    db.add(field)
    db.flush()
    record(db, actor, "create", "custom_field", field.id, None, snapshot(field))
    return field


def update_field(db: Session, actor: Principal, field_id: int, **changes: Any) -> CustomField:
    """Label, choices, required, searchable and position may change; key, kind and entity not."""
    field = get_field(db, field_id)
    before = snapshot(field)
    if "label" in changes and changes["label"] is not None:
        if not changes["label"].strip():
            raise Invalid("label", "must not be empty")
        field.label = changes["label"].strip()
    if changes.get("choices") is not None:
        field.choices = _check_definition(field.kind, changes["choices"])
    for name in ("required", "searchable", "position"):
        if changes.get(name) is not None:
            setattr(field, name, changes[name])
    db.flush()
    record(db, actor, "update", "custom_field", field.id, before, snapshot(field))
    if feeds_search(field) and field.searchable != before["searchable"]:
        made = "made searchable" if field.searchable else "no longer searchable"
        search_refresh.queue_field(
            db,
            field.id,
            f"custom field {field.key!r} {made}",
            "made_searchable" if field.searchable else "no_longer_searchable",
            field.label,
        )
    return field


def move_field(db: Session, actor: Principal, field_id: int, direction: str) -> CustomField:
    """One place up or down among its entity's fields (positions renumbered 0, 1, 2, ...)."""
    if direction not in ("up", "down"):
        raise Invalid("direction", "must be up or down")
    field = get_field(db, field_id)
    ordered = fields_for(db, field.entity)
    index = ordered.index(field)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(ordered):
        ordered[index], ordered[other] = ordered[other], ordered[index]
    before = {"position": field.position}
    for position, row in enumerate(ordered):
        row.position = position
    db.flush()
    record(db, actor, "update", "custom_field", field.id, before, {"position": field.position})
    return field


def delete_field(db: Session, actor: Principal, field_id: int) -> None:
    """Deletes the definition and every value stored for it."""
    # locked first (PostgreSQL): a client saved meanwhile either commits before the clients
    # are queued below, or waits and no longer sees the field
    field = db.get(CustomField, field_id, with_for_update=True, populate_existing=True)
    if field is None:
        raise NotFound(f"custom field {field_id} not found")
    before = snapshot(field)
    if feeds_search(field) and field.searchable:
        # queued while its values still say which clients carry it
        search_refresh.queue_field(
            db,
            field.id,
            f"searchable custom field {field.key!r} deleted",
            "field_deleted",
            field.label,
        )
    db.execute(delete(CustomFieldValue).where(CustomFieldValue.field_id == field.id))
    db.delete(field)
    db.flush()
    record(db, actor, "delete", "custom_field", field_id, before, None)


# --- values -----------------------------------------------------------------------------


def _coerce(field: CustomField, raw: Any, loc: list) -> Any:
    """The typed value for ``raw`` or Invalid naming ``loc``."""
    kind = field.kind
    if kind == "text":
        if not isinstance(raw, str | int | float) or isinstance(raw, bool):
            raise Invalid(loc, "must be text")
        text = str(raw)
        if len(text) > MAX_TEXT:
            raise Invalid(loc, f"must be at most {MAX_TEXT} characters")
        try:
            no_bad_characters(text)
        except ValueError as exc:
            raise Invalid(loc, str(exc)) from None
        return text
    if kind == "number":
        if isinstance(raw, bool):
            raise Invalid(loc, "must be a number")
        try:
            number = Decimal(str(raw).strip().replace(",", ".")) if raw != "" else None
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite() or abs(number) >= Decimal("1e14"):
            raise Invalid(loc, "must be a number below 10^14")
        return number.quantize(Decimal("0.0001"))
    if kind == "date":
        if isinstance(raw, date):
            return raw
        try:
            return date.fromisoformat(str(raw).strip()[:10]) if isinstance(raw, str) else None
        except ValueError:
            pass
        raise Invalid(loc, "must be a date like 2024-12-31")
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        word = str(raw).strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise Invalid(loc, "must be true or false")
    # choice
    if not isinstance(raw, str) or raw not in field.choices:
        raise Invalid(loc, f"must be one of: {', '.join(field.choices)}")
    return raw


def validate_values(
    db: Session, entity: str, values: dict[str, Any] | None, *, partial: bool = False
) -> dict[str, Any]:
    """Typed values keyed by field key; ``None`` clears a value. Raises Invalid(["custom", key]).

    ``partial`` (updates): required fields missing from ``values`` are left as they are.
    """
    values = values or {}
    if not isinstance(values, dict):
        raise Invalid("custom", "must be an object of field key -> value")
    if not values and partial:
        return {}  # nothing to check (the call log adds an entry per call: no query for it)
    fields = {f.key: f for f in fields_for(db, entity)}
    out: dict[str, Any] = {}
    for key, raw in values.items():
        field = fields.get(key)
        if field is None:
            raise Invalid(["custom", key], f"no such {entity} field")
        if raw is None or (isinstance(raw, str) and not raw.strip() and field.kind != "text"):
            if field.required:
                raise Invalid(["custom", key], "is required")
            out[key] = None
            continue
        if field.kind == "text" and isinstance(raw, str) and not raw.strip():
            if field.required:
                raise Invalid(["custom", key], "is required")
            out[key] = None
            continue
        out[key] = _coerce(field, raw, ["custom", key])
    if not partial:
        for key, field in fields.items():
            if field.required and key not in values:
                raise Invalid(["custom", key], "is required")
    return out


def _plain(field: CustomField, row: CustomFieldValue) -> Any:
    if field.kind == "number":
        if row.value_number is None:
            return None
        number = Decimal(row.value_number)
        return int(number) if number == number.to_integral_value() else float(number)
    if field.kind == "date":
        return row.value_date.isoformat() if row.value_date else None
    if field.kind == "bool":
        return row.value_bool
    return row.value_text


def save_values(db: Session, entity: str, entity_id: int, values: dict[str, Any]) -> None:
    """Store already validated values (from ``validate_values``); ``None`` deletes a value."""
    if not values:
        return
    fields = {f.key: f for f in fields_for(db, entity)}
    existing = {
        row.field_id: row
        for row in db.scalars(
            select(CustomFieldValue).where(
                CustomFieldValue.entity_id == entity_id,
                CustomFieldValue.field_id.in_([f.id for f in fields.values()]),
            )
        )
    }
    for key, value in values.items():
        field = fields[key]
        row = existing.get(field.id)
        if value is None:
            if row is not None:
                db.delete(row)
            continue
        if row is None:
            row = CustomFieldValue(field_id=field.id, entity_id=entity_id)
            db.add(row)
        row.value_text = row.value_number = row.value_date = row.value_bool = None
        if field.kind in ("text", "choice"):
            row.value_text = value
        elif field.kind == "number":
            row.value_number = value
        elif field.kind == "date":
            row.value_date = value
        else:
            row.value_bool = value
    db.flush()


def values_for(db: Session, entity: str, ids: list[int] | set[int]) -> dict[int, dict[str, Any]]:
    """``{record id: {key: JSON-safe value}}`` for each of ``ids`` (empty dict when none)."""
    ids = list(ids)
    out: dict[int, dict[str, Any]] = {i: {} for i in ids}
    if not ids:
        return out
    fields = {f.id: f for f in fields_for(db, entity)}
    if not fields:
        return out
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = db.scalars(
            select(CustomFieldValue).where(
                CustomFieldValue.field_id.in_(list(fields)), CustomFieldValue.entity_id.in_(chunk)
            )
        )
        for row in rows:
            field = fields[row.field_id]
            out.setdefault(row.entity_id, {})[field.key] = _plain(field, row)
    return out


def delete_values(db: Session, entity: str, entity_id: int) -> None:
    """Remove every value of one record (when the record itself is deleted)."""
    field_ids = select(CustomField.id).where(CustomField.entity == entity)
    db.execute(
        delete(CustomFieldValue).where(
            CustomFieldValue.entity_id == entity_id, CustomFieldValue.field_id.in_(field_ids)
        )
    )


def _entity_id_column(entity: str):
    if entity == "client":
        from crm_core.clients.models import Client

        return Client.id
    if entity == "task":
        from crm_core.tasks.models import Task

        return Task.id
    from crm_core.history.models import Interaction

    return Interaction.id


def filter_clause(db: Session, entity: str, key: str, raw_value: Any) -> ColumnElement[bool]:
    """``<Entity>.id IN (records whose field ``key`` matches raw_value)``.

    Text fields match case-insensitively on the whole value; other kinds match exactly after
    conversion (``raw_value`` usually comes from a query string).
    """
    check_entity(entity)
    field = db.scalar(
        select(CustomField).where(CustomField.entity == entity, CustomField.key == key)
    )
    if field is None:
        raise Invalid(key, f"no such {entity} custom field")
    value = _coerce(field, raw_value, [key])
    if field.kind == "text":
        condition = func.lower(CustomFieldValue.value_text) == value.lower()
    elif field.kind == "choice":
        condition = CustomFieldValue.value_text == value
    elif field.kind == "number":
        condition = CustomFieldValue.value_number == value
    elif field.kind == "date":
        condition = CustomFieldValue.value_date == value
    else:
        condition = CustomFieldValue.value_bool.is_(value)
    matching = select(CustomFieldValue.entity_id).where(
        CustomFieldValue.field_id == field.id, condition
    )
    return _entity_id_column(entity).in_(matching)
