"""Renamed built-in labels: an admin calls ``first_name`` "Prenume", for one UI language or
for all of them ("").

Every page shows the client fields' labels, so the renames are read through a short cache per
database (:func:`cached_label_map`): a rename made by this process is seen at once (the cache
is dropped when it commits), one made by another process within :data:`CACHE_SECONDS`.
"""

from __future__ import annotations

import re
import threading
import time
import weakref

from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from crm_core.audit.service import record, snapshot
from crm_core.auth.principal import Principal
from crm_core.customfields.models import FieldLabel
from crm_core.customfields.service import check_entity
from crm_core.errors import Invalid, NotFound

LANGUAGES = ("", "en", "ro", "ru")
CACHE_SECONDS = 2.0
#: engine -> (monotonic time read, [(entity, field, language, label)])
_cache: weakref.WeakKeyDictionary[Engine, tuple[float, list[tuple[str, str, str, str]]]] = (
    weakref.WeakKeyDictionary()
)
_cache_lock = threading.Lock()


def forget_cached_labels(*_: object) -> None:
    with _cache_lock:
        _cache.clear()


def _forget_on_commit(db: Session) -> None:
    forget_cached_labels()
    event.listen(db, "after_commit", forget_cached_labels, once=True)


def cached_label_map(engine: Engine, language: str) -> dict[str, dict[str, str]]:
    """:func:`label_map` read through the cache of ``engine``'s database."""
    with _cache_lock:
        hit = _cache.get(engine)
    if hit is None or time.monotonic() - hit[0] > CACHE_SECONDS:
        with Session(engine) as db:
            rows = [(r.entity, r.field, r.language, r.label) for r in labels(db)]
        hit = (time.monotonic(), rows)
        with _cache_lock:
            _cache[engine] = hit
    out: dict[str, dict[str, str]] = {}
    for entity, field, lang, label in sorted(hit[1], key=lambda r: r[2] != ""):
        if lang in ("", language):
            out.setdefault(entity, {})[field] = label
    return out


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
    _forget_on_commit(db)
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
    _forget_on_commit(db)
    record(db, actor, "delete", "field_label", label_id, before, None)
