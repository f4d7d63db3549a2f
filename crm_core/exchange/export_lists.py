"""The rows of the list exports, as the lists show them, for the writers of
:mod:`crm_core.exchange.export_formats`: tasks, and the clients streamed fast
(:func:`client_rows`, the same rows as ``export.export_rows``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from crm_core.auth.models import Team, User
from crm_core.auth.principal import Principal
from crm_core.auth.rights import require
from crm_core.clients.models import ENTITY, Address, Client, ClientTag, Email, Phone
from crm_core.customfields import service as customfields
from crm_core.database import among_ids
from crm_core.exchange.export import EXPORT_COLUMNS, _blank, _cell, _safe
from crm_core.tasks import service as tasks

TASK_COLUMNS = (
    "id",
    "kind",
    "title",
    "status",
    "priority",
    "due_at",
    "starts_at",
    "ends_at",
    "location",
    "client",
    "assignee",
    "overdue",
    "description",
)
TASK_ROWS_MAX = 100_000


def task_rows(db: Session, actor: Principal, **filters: Any) -> Iterator[list[Any]]:
    """The header, then the tasks the actor may see with the list's filters."""
    require(actor.can_export, "export tasks")
    rows, _ = tasks.list_tasks(db, actor, limit=TASK_ROWS_MAX, offset=0, **filters)
    yield list(TASK_COLUMNS)
    client_ids = {t.client_id for t in rows if t.client_id}
    q = select(Client.id, Client.display_name).where(Client.id.in_(client_ids))
    names = dict(db.execute(q).tuples().all())
    users = dict(db.execute(select(User.id, User.username)).tuples().all())
    for t in rows:
        yield [
            _cell(value)
            for value in (
                t.id,
                t.kind,
                t.title,
                t.status,
                t.priority,
                t.due_at,
                t.starts_at,
                t.ends_at,
                t.location,
                names.get(t.client_id, ""),
                users.get(t.assignee_id, ""),
                "yes" if tasks.is_overdue(t) else "",
                t.description,
            )
        ]


#: the client columns of the export, read as plain values (no ORM objects, no lazy loads)
_CLIENT_VALUES = [name for name in EXPORT_COLUMNS if name in Client.__table__.c]
_ADDRESS_PARTS = ("street", "city", "region", "postal_code", "country")
CLIENT_BATCH = 2000


def client_rows(
    db: Session, actor: Principal, query: Select, batch: int = CLIENT_BATCH
) -> Iterator[list[Any]]:
    """The header, then one row per client of ``query`` (a select of Client, with the list's
    filters): the rows of ``export.export_rows``, read as plain columns ``batch`` clients at a
    time (keyset by id) with their phones, e-mails, tags, first address and custom values in
    one query each per batch. The header leaves before any client is read: the first byte of
    a streamed file goes at once, and memory stays flat whatever the count."""
    require(actor.can_export, "export clients")
    fields = customfields.fields_for(db, ENTITY)
    yield [*EXPORT_COLUMNS, *[f"cf.{f.key}" for f in fields]]
    teams = dict(db.execute(select(Team.id, Team.name)).tuples().all())
    users = dict(db.execute(select(User.id, User.username)).tuples().all())
    table = Client.__table__
    columns = query.with_only_columns(
        *(table.c[name] for name in _CLIENT_VALUES), table.c.team_id, table.c.owner_id
    )
    spots = {name: i for i, name in enumerate(EXPORT_COLUMNS)}
    last_id = 0
    while True:
        rows = db.execute(columns.where(Client.id > last_id).order_by(Client.id).limit(batch)).all()
        if not rows:
            return
        last_id = rows[-1][0]
        lists = _lists_of(db, [r[0] for r in rows], bool(fields))
        for r in rows:
            out: list[Any] = [""] * len(EXPORT_COLUMNS)
            for name, value in zip(_CLIENT_VALUES, r, strict=False):
                out[spots[name]] = _fast_cell(value)
            cid, team_id, owner_id = r[0], r[-2], r[-1]
            for name, value in lists.cells(cid):
                out[spots[name]] = _fast_cell(value)
            out[spots["team"]] = _fast_cell(teams.get(team_id, "") if team_id else "")
            out[spots["owner"]] = _fast_cell(users.get(owner_id, "") if owner_id else "")
            if fields:
                custom = lists.custom.get(cid, {})
                out += [_safe(_blank(custom.get(f.key))) for f in fields]
            yield out


def _fast_cell(value: Any) -> Any:
    """``export._cell`` with the common cases first: plain text and numbers."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value if not value or value[0] not in "=@\t\r+-" else _safe(value)
    if isinstance(value, int):
        return value
    return _cell(value)


class _Lists:
    """The phones, e-mails, tags, first address and custom values of a batch of clients."""

    def __init__(self) -> None:
        self.phones: dict[int, list[str]] = {}
        self.emails: dict[int, list[str]] = {}
        self.tags: dict[int, list[str]] = {}
        self.addresses: dict[int, tuple[str, ...]] = {}
        self.custom: dict[int, dict[str, Any]] = {}

    def cells(self, cid: int) -> list[tuple[str, Any]]:
        address = self.addresses.get(cid, ("",) * len(_ADDRESS_PARTS))
        return [
            ("tags", "; ".join(sorted(self.tags.get(cid, ())))),
            ("phone", "; ".join(self.phones.get(cid, ()))),
            ("email", "; ".join(self.emails.get(cid, ()))),
            *zip(_ADDRESS_PARTS, address, strict=True),
        ]


def _lists_of(db: Session, ids: list[int], custom: bool) -> _Lists:
    lists = _Lists()
    dense = ids[-1] - ids[0] < 4 * len(ids)  # ids come sorted: a range reads few extra rows

    def among(column):
        return column.between(ids[0], ids[-1]) if dense else among_ids(db, column, ids)

    for target, owner, value, order in (
        (lists.phones, Phone.client_id, Phone.e164, (Phone.position, Phone.id)),
        (lists.emails, Email.client_id, Email.address, (Email.position, Email.id)),
        (lists.tags, ClientTag.client_id, ClientTag.tag, ()),
    ):
        q = select(owner, value).where(among(owner)).order_by(owner, *order)
        for cid, item in db.execute(q):
            target.setdefault(cid, []).append(item)
    parts = [getattr(Address, name) for name in _ADDRESS_PARTS]
    q = (
        select(Address.client_id, *parts)
        .where(among(Address.client_id))
        .order_by(Address.client_id, Address.position.desc(), Address.id.desc())
    )
    for cid, *values in db.execute(q):
        lists.addresses[cid] = tuple(values)  # the first by position wins
    if custom:
        lists.custom = customfields.values_for(db, ENTITY, ids)
    return lists
