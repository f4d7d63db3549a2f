"""Admin-configurable lists: interaction types and results, client categories and sources.

Each list gets sensible defaults the first time it is read while it has no items at all
(so a fresh install works and an admin's deletions are kept: a list emptied by the admin is
re-seeded only if every item, active or not, was removed).

Labels are kept per UI language (``choice_labels``): the seeded items carry theirs in en, ro
and ru (:data:`SEEDED_LABELS`, also for items seeded before labels were stored per language),
and an admin may name any item in each language; the item's own ``label`` stands in for a
language without one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from crm_core.audit.service import record, snapshot
from crm_core.auth.principal import Principal
from crm_core.customfields.models import ChoiceLabel
from crm_core.errors import Conflict, Invalid, NotFound
from crm_core.history.models import ChoiceItem

DEFAULTS: dict[str, list[tuple[str, str]]] = {
    "interaction_type": [
        ("inquiry", "Inquiry"),
        ("sale", "Sale"),
        ("support", "Support"),
        ("complaint", "Complaint"),
        ("follow_up", "Follow-up"),
        ("reminder", "Reminder"),
        ("survey", "Survey"),
        ("other", "Other"),
    ],
    "interaction_result": [
        ("answered", "Answered"),
        ("missed", "Missed"),
        ("no_answer", "No answer"),
        ("busy", "Busy"),
        ("voicemail", "Voicemail"),
        ("failed", "Failed"),
        ("callback", "Call back later"),
        ("resolved", "Resolved"),
        ("sold", "Sold"),
        ("not_interested", "Not interested"),
        ("sent", "Sent"),
        ("delivered", "Delivered"),
        ("replied", "Replied"),
    ],
    "client_category": [
        ("vip", "VIP"),
        ("regular", "Regular"),
        ("prospect", "Prospect"),
        ("partner", "Partner"),
    ],
    "client_source": [
        ("website", "Website"),
        ("referral", "Referral"),
        ("cold_call", "Cold call"),
        ("inbound_call", "Inbound call"),
        ("advertising", "Advertising"),
        ("walk_in", "Walk-in"),
        ("import", "Import"),
        ("other", "Other"),
    ],
    "event_type": [
        ("appointment", "Appointment"),
        ("meeting", "Meeting"),
        ("call", "Call"),
        ("visit", "Visit"),
        ("delivery", "Delivery"),
    ],
    "call_disposition": [
        ("answered", "Answered"),
        ("missed", "Missed"),
        ("abandoned", "Abandoned"),
        ("busy", "Busy"),
        ("failed", "Failed"),
    ],
}
LIST_NAMES = tuple(DEFAULTS)
LANGUAGES = ("en", "ro", "ru")

#: English label -> (Romanian, Russian) of every seeded item
SEEDED_LABELS: dict[str, tuple[str, str]] = {
    "Inquiry": ("Solicitare", "Запрос"),
    "Sale": ("Vânzare", "Продажа"),
    "Support": ("Asistență", "Поддержка"),
    "Complaint": ("Reclamație", "Жалоба"),
    "Follow-up": ("Revenire", "Повторный контакт"),
    "Reminder": ("Memento", "Напоминание"),
    "Survey": ("Sondaj", "Опрос"),
    "Other": ("Altele", "Другое"),
    "Answered": ("Preluat", "Отвечен"),
    "Missed": ("Ratat", "Пропущен"),
    "No answer": ("Fără răspuns", "Нет ответа"),
    "Busy": ("Ocupat", "Занято"),
    "Voicemail": ("Mesagerie vocală", "Голосовая почта"),
    "Failed": ("Eșuat", "Ошибка"),
    "Call back later": ("Reveniți mai târziu", "Перезвонить позже"),
    "Resolved": ("Rezolvat", "Решено"),
    "Sold": ("Vândut", "Продано"),
    "Not interested": ("Nu este interesat", "Не заинтересован"),
    "Sent": ("Trimis", "Отправлено"),
    "Delivered": ("Livrat", "Доставлено"),
    "Replied": ("A răspuns", "Ответил"),
    "VIP": ("VIP", "VIP"),
    "Regular": ("Obișnuit", "Постоянный"),
    "Prospect": ("Potențial", "Потенциальный"),
    "Partner": ("Partener", "Партнёр"),
    "Website": ("Site web", "Сайт"),
    "Referral": ("Recomandare", "Рекомендация"),
    "Cold call": ("Apel la rece", "Холодный звонок"),
    "Inbound call": ("Apel primit", "Входящий звонок"),
    "Advertising": ("Publicitate", "Реклама"),
    "Walk-in": ("Vizită directă", "Пришёл сам"),
    "Import": ("Import", "Импорт"),
    "Appointment": ("Programare", "Запись"),
    "Meeting": ("Întâlnire", "Встреча"),
    "Call": ("Apel", "Звонок"),
    "Visit": ("Vizită", "Визит"),
    "Delivery": ("Livrare", "Доставка"),
    "Abandoned": ("Abandonat", "Брошен"),
}
CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,39}$")


def check_list(list_name: str) -> str:
    if list_name not in LIST_NAMES:
        raise Invalid("list_name", f"must be one of {', '.join(LIST_NAMES)}")
    return list_name


def ensure_defaults(db: Session, list_name: str) -> None:
    check_list(list_name)
    if db.scalar(select(func.count(ChoiceItem.id)).where(ChoiceItem.list_name == list_name)):
        return
    for position, (code, label) in enumerate(DEFAULTS[list_name]):
        db.add(ChoiceItem(list_name=list_name, code=code, label=label, position=position))
    db.flush()


def items(db: Session, list_name: str, *, include_inactive: bool = False) -> list[ChoiceItem]:
    ensure_defaults(db, list_name)
    query = select(ChoiceItem).where(ChoiceItem.list_name == list_name)
    if not include_inactive:
        query = query.where(ChoiceItem.active.is_(True))
    seen: set[str] = set()
    out = []
    for item in db.scalars(query.order_by(ChoiceItem.position, ChoiceItem.id)):
        if item.code not in seen:  # two processes seeding at once: keep the first of each code
            seen.add(item.code)
            out.append(item)
    return out


def codes(db: Session, list_name: str) -> list[str]:
    return [item.code for item in items(db, list_name)]


def check_code(
    db: Session, list_name: str, code: str, loc: str | list, actor: Principal | None = None
) -> str:
    """``code`` if it is an active item of the list ('' passes: not set).

    Background jobs (actor role ``system``, e.g. the call tracker) may bring a code the list
    does not know yet; it is added to the list instead of losing the record.
    """
    code = (code or "").strip()
    if not code:
        return ""
    active = (
        ChoiceItem.list_name == list_name,
        ChoiceItem.code == code,
        ChoiceItem.active.is_(True),
    )
    if db.scalar(select(ChoiceItem.id).where(*active).limit(1)) is not None:
        return code  # the common case in one indexed query (every logged call checks two codes)
    known = codes(db, list_name)
    if code in known:
        return code
    if actor is not None and actor.role == "system" and CODE_RE.match(code):
        db.add(
            ChoiceItem(
                list_name=list_name,
                code=code,
                label=code.replace("_", " ").capitalize(),
                position=len(known),
            )
        )
        db.flush()
        return code
    raise Invalid(loc, f"unknown code {code[:40]!r}; one of: {', '.join(known)}")


def get_item(db: Session, item_id: int) -> ChoiceItem:
    item = db.get(ChoiceItem, item_id)
    if item is None:
        raise NotFound(f"choice item {item_id} not found")
    return item


def add_item(
    db: Session,
    actor: Principal,
    list_name: str,
    *,
    code: str,
    label: str,
    position: int | None = None,
    labels: dict[str, str] | None = None,
) -> ChoiceItem:
    ensure_defaults(db, list_name)
    code = code.strip()
    if not CODE_RE.match(code):
        raise Invalid("code", "lowercase letters, digits, _ and -, at most 40 characters")
    if not label.strip():
        raise Invalid("label", "must not be empty")
    if db.scalar(
        select(ChoiceItem.id).where(ChoiceItem.list_name == list_name, ChoiceItem.code == code)
    ):
        raise Conflict(f"{list_name} already has the code {code!r}")
    if position is None:
        position = (
            db.scalar(
                select(func.max(ChoiceItem.position)).where(ChoiceItem.list_name == list_name)
            )
            or 0
        ) + 1
    item = ChoiceItem(list_name=list_name, code=code, label=label.strip(), position=position)
    db.add(item)
    db.flush()
    _store_labels(db, item, labels or {})
    record(db, actor, "create", "choice_item", item.id, None, {**snapshot(item), "labels": labels})
    return item


def update_item(
    db: Session,
    actor: Principal,
    item_id: int,
    *,
    label: str | None = None,
    position: int | None = None,
    active: bool | None = None,
    labels: dict[str, str] | None = None,
) -> ChoiceItem:
    """The code never changes (records keep referring to it); labels, order and active may."""
    item = get_item(db, item_id)
    before = snapshot(item)
    if labels:
        before["labels"] = labels_of(db, [item])[item.id]
        _store_labels(db, item, labels)
    if label is not None:
        if not label.strip():
            raise Invalid("label", "must not be empty")
        item.label = label.strip()
    if position is not None:
        item.position = position
    if active is not None:
        item.active = active
    db.flush()
    after = snapshot(item)
    if labels:
        after["labels"] = labels_of(db, [item])[item.id]
    record(db, actor, "update", "choice_item", item.id, before, after)
    return item


def delete_item(db: Session, actor: Principal, item_id: int) -> None:
    """Deactivates: records that use the code keep it; it is no longer offered or accepted."""
    update_item(db, actor, item_id, active=False)


def move_item(db: Session, actor: Principal, item_id: int, direction: str) -> ChoiceItem:
    """One place up or down in its list (positions are renumbered 0, 1, 2, ...)."""
    if direction not in ("up", "down"):
        raise Invalid("direction", "must be up or down")
    item = get_item(db, item_id)
    ordered = list(
        db.scalars(
            select(ChoiceItem)
            .where(ChoiceItem.list_name == item.list_name)
            .order_by(ChoiceItem.position, ChoiceItem.id)
        )
    )
    index = ordered.index(item)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(ordered):
        ordered[index], ordered[other] = ordered[other], ordered[index]
    before = {"position": item.position}
    for position, row in enumerate(ordered):
        row.position = position
    db.flush()
    record(db, actor, "update", "choice_item", item.id, before, {"position": item.position})
    return item


# --- labels per language ------------------------------------------------------------------


@dataclass
class LocalizedItem:
    """An item as one user sees it: ``label`` in their language, ``labels`` in each."""

    id: int
    list_name: str
    code: str
    label: str
    position: int
    active: bool
    labels: dict[str, str] = field(default_factory=dict)


def _seeded_label(item: ChoiceItem, language: str) -> str | None:
    """The seeded translation of a seeded item whose label the admin has not changed."""
    if language == "en" or dict(DEFAULTS.get(item.list_name, [])).get(item.code) != item.label:
        return None
    pair = SEEDED_LABELS.get(item.label)
    return pair[LANGUAGES.index(language) - 1] if pair else None


def labels_of(db: Session, rows: list[ChoiceItem]) -> dict[int, dict[str, str]]:
    """``{item id: {language: label}}``: stored, else seeded, else the item's own label."""
    stored: dict[tuple[int, str], str] = {}
    if rows:
        query = select(ChoiceLabel).where(ChoiceLabel.item_id.in_([r.id for r in rows]))
        stored = {(r.item_id, r.language): r.label for r in db.scalars(query)}
    return {
        row.id: {
            lang: stored.get((row.id, lang)) or _seeded_label(row, lang) or row.label
            for lang in LANGUAGES
        }
        for row in rows
    }


def _store_labels(db: Session, item: ChoiceItem, labels: dict[str, str]) -> None:
    for language, text in labels.items():
        if language not in LANGUAGES:
            raise Invalid(["labels", language], "must be en, ro or ru")
        text = (text or "").strip()
        if len(text) > 120:
            raise Invalid(["labels", language], "must be at most 120 characters")
        db.execute(
            delete(ChoiceLabel).where(
                ChoiceLabel.item_id == item.id, ChoiceLabel.language == language
            )
        )
        if text:
            db.add(ChoiceLabel(item_id=item.id, language=language, label=text))
        if language == "en" and text:
            item.label = text
    db.flush()


def localized(
    db: Session, list_name: str, language: str, *, include_inactive: bool = False
) -> list[LocalizedItem]:
    """The list's items with their labels in ``language`` (en when not one of ours)."""
    language = language if language in LANGUAGES else "en"
    rows = items(db, list_name, include_inactive=include_inactive)
    labels = labels_of(db, rows)
    return [
        LocalizedItem(
            id=r.id,
            list_name=r.list_name,
            code=r.code,
            label=labels[r.id][language],
            position=r.position,
            active=r.active,
            labels=labels[r.id],
        )
        for r in rows
    ]


def label_map(db: Session, list_name: str, language: str) -> dict[str, str]:
    """``{code: label in language}`` of every item, inactive ones too (old records use them)."""
    return {i.code: i.label for i in localized(db, list_name, language, include_inactive=True)}
