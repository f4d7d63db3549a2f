"""Admin-configurable lists: interaction types and results, client categories and sources.

Each list gets sensible defaults the first time it is read while it has no items at all
(so a fresh install works and an admin's deletions are kept: a list emptied by the admin is
re-seeded only if every item, active or not, was removed).
"""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_core.audit.service import record, snapshot
from crm_core.auth.principal import Principal
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
}
LIST_NAMES = tuple(DEFAULTS)
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
    record(db, actor, "create", "choice_item", item.id, None, snapshot(item))
    return item


def update_item(
    db: Session,
    actor: Principal,
    item_id: int,
    *,
    label: str | None = None,
    position: int | None = None,
    active: bool | None = None,
) -> ChoiceItem:
    """The code never changes (records keep referring to it); label, order and active may."""
    item = get_item(db, item_id)
    before = snapshot(item)
    if label is not None:
        if not label.strip():
            raise Invalid("label", "must not be empty")
        item.label = label.strip()
    if position is not None:
        item.position = position
    if active is not None:
        item.active = active
    db.flush()
    record(db, actor, "update", "choice_item", item.id, before, snapshot(item))
    return item


def delete_item(db: Session, actor: Principal, item_id: int) -> None:
    """Deactivates: records that use the code keep it; it is no longer offered or accepted."""
    update_item(db, actor, item_id, active=False)
