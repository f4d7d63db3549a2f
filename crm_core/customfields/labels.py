"""Renamed built-in labels: an admin calls ``first_name`` "Prenume", for one UI language or
for all of them ("")."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.audit.service import record, snapshot
from crm_core.auth.principal import Principal
from crm_core.customfields.models import FieldLabel
from crm_core.customfields.service import check_entity
from crm_core.errors import Invalid, NotFound

LANGUAGES = ("", "en", "ro", "ru")


def labels(db: Session, entity: str | None = None, language: str | None = None) -> list[FieldLabel]:
    query = select(FieldLabel).order_by(FieldLabel.entity, FieldLabel.field, FieldLabel.language)
    if entity:
        query = query.where(FieldLabel.entity == entity)
    if language is not None:
        query = query.where(FieldLabel.language.in_(("", language)))
    return list(db.scalars(query))


def label_map(db: Session, language: str) -> dict[str, dict[str, str]]:
    """``{entity: {field: label}}`` for one UI language (a language-specific rename wins)."""
    out: dict[str, dict[str, str]] = {}
    for row in sorted(labels(db, language=language), key=lambda r: r.language != ""):
        out.setdefault(row.entity, {})[row.field] = row.label
    return out


def set_label(
    db: Session, actor: Principal, *, entity: str, field: str, language: str, label: str
) -> FieldLabel:
    check_entity(entity)
    if language not in LANGUAGES:
        raise Invalid("language", "must be en, ro, ru or empty (all languages)")
    if not re.match(r"^[a-z][a-z0-9_]{0,59}$", field):
        raise Invalid("field", "must be a field name such as first_name")
    label = label.strip()
    if not label:
        raise Invalid("label", "must not be empty")
    row = db.scalar(
        select(FieldLabel).where(
            FieldLabel.entity == entity, FieldLabel.field == field, FieldLabel.language == language
        )
    )
    before = snapshot(row) if row else None
    if row is None:
        row = FieldLabel(entity=entity, field=field, language=language, label=label)
        db.add(row)
    row.label = label
    db.flush()
    record(
        db,
        actor,
        "create" if before is None else "update",
        "field_label",
        row.id,
        before,
        snapshot(row),
    )
    return row


def delete_label(db: Session, actor: Principal, label_id: int) -> None:
    row = db.get(FieldLabel, label_id)
    if row is None:
        raise NotFound(f"label {label_id} not found")
    before = snapshot(row)
    db.delete(row)
    db.flush()
    record(db, actor, "delete", "field_label", label_id, before, None)
