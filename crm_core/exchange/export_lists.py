"""The rows of the list exports, as the lists show them, for the writers of
:mod:`crm_core.exchange.export_formats`: tasks, and the clients streamed fast
(:func:`client_rows`, the same rows as ``export.export_rows``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from itertools import groupby
from operator import itemgetter
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from crm_core.auth.models import Team, User
from crm_core.auth.principal import Principal
from crm_core.auth.rights import require
from crm_core.clients.models import ENTITY, Address, Client, ClientTag, Email, Phone
from crm_core.customfields import service as customfields
from crm_core.database import UTCDateTime, among
from crm_core.exchange.export import EXPORT_COLUMNS, FORMULA_START, _blank, _cell, _safe
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
_LIST_COLUMNS = ("tags", "phone", "email", *_ADDRESS_PARTS)
#: the export's columns are the client's own, its lists, team and owner, then its moments
_TAIL = ("created_at", "updated_at")
_HEAD = tuple(name for name in _CLIENT_VALUES if name not in _TAIL)
assert (*_HEAD, *_LIST_COLUMNS, "team", "owner", *_TAIL) == EXPORT_COLUMNS
CLIENT_BATCH = 2000


def client_rows(
    db: Session, actor: Principal, query: Select, batch: int = CLIENT_BATCH
) -> Iterator[list[Any]]:
    """The header, then one row per client of ``query`` (a select of Client, with the list's
    filters): the rows of ``export.export_rows``, read as plain columns ``batch`` clients at a
    time (keyset by id) with their phones, e-mails, tags, first address and custom values in
    one query each per batch. The header leaves before any client is read: the first byte of
    a streamed file goes at once, and memory stays flat whatever the count.

    Speed (a million rows go through here): rows are read below the ORM (see ``_driver_rows``),
    and each batch is turned into cells column by column, by a function chosen once from the
    column's type: no function call per cell for the text columns, most of them."""
    require(actor.can_export, "export clients")
    fields = customfields.fields_for(db, ENTITY)
    yield [*EXPORT_COLUMNS, *[f"cf.{f.key}" for f in fields]]
    teams = dict(db.execute(select(Team.id, Team.name)).tuples().all())
    users = dict(db.execute(select(User.id, User.username)).tuples().all())
    table = Client.__table__
    connection = db.connection()
    on_postgresql = connection.dialect.name == "postgresql"
    reads = [_read(table.c[name], on_postgresql) for name in (*_HEAD, *_TAIL)]
    columns = query.with_only_columns(
        *(selected for selected, _ in reads), table.c.team_id, table.c.owner_id
    )
    cells_of = [to_cells for _, to_cells in reads]
    head, last_id = len(_HEAD), 0
    while True:
        page = columns.where(Client.id > last_id).order_by(Client.id).limit(batch)
        rows = _driver_rows(connection, page)
        if not rows:
            return
        last_id = rows[-1][0]
        ids = [r[0] for r in rows]
        lists = _lists_of(db, ids, bool(fields))
        values = list(zip(*rows, strict=True))
        cells = [to_cells(column) for to_cells, column in zip(cells_of, values, strict=False)]
        cells[head:head] = [
            *lists.columns(ids),
            _text_cells([teams.get(t, "") if t else "" for t in values[-2]]),
            _text_cells([users.get(o, "") if o else "" for o in values[-1]]),
        ]
        if fields:
            custom = [lists.custom.get(cid, {}) for cid in ids]
            cells += [[_safe(_blank(c.get(f.key))) for c in custom] for f in fields]
        yield from map(list, zip(*cells, strict=True))


#: first characters after which ``_safe`` may quote a cell (formulas, signs)
_RISKY_FIRST = "".join(FORMULA_START) + "+-"
#: the one rule for moments read from the database: naive means UTC
_AS_UTC = UTCDateTime().process_result_value


def _text_cells(column: Iterable[str | None]) -> list[str]:
    """``export._cell`` for text: a formula-looking start goes through ``_safe``."""
    return [(v if v[0] not in _RISKY_FIRST else _safe(v)) if v else "" for v in column]


def _number_cells(column: Iterable[int | None]) -> list[Any]:
    return ["" if v is None else v for v in column]


#: what ``UTCDateTime`` adds to the ISO text of a naive moment read from the database
_UTC_SUFFIX = _AS_UTC(datetime(2000, 1, 1), None).isoformat()[19:]


def _moment_cells(column: Iterable[datetime | str | None]) -> list[str]:
    """Moments as ISO text in UTC, as ``UTCDateTime`` would give them, from what the driver
    gives (SQLite: naive UTC as text; PostgreSQL: aware datetimes)."""
    return [
        ""
        if v is None
        else datetime.fromisoformat(v).isoformat() + _UTC_SUFFIX
        if isinstance(v, str)
        else _AS_UTC(v, None).isoformat()
        for v in column
    ]


#: PostgreSQL writes a moment in UTC as text, always with six digits of microseconds
_PG_MOMENT_TEXT = 'YYYY-MM-DD"T"HH24:MI:SS.US'


def _read(
    column, on_postgresql: bool
) -> tuple[ColumnElement, Callable[[Iterable[Any]], list[Any]]]:
    """What the export selects of a client column, and the function that turns what the
    driver gives of it into cells: the column and its type's cells, except a moment on
    PostgreSQL, which the server turns into UTC text (see ``_pg_moment_cells``)."""
    if on_postgresql and isinstance(column.type, UTCDateTime):
        return func.to_char(func.timezone("UTC", column), _PG_MOMENT_TEXT), _pg_moment_cells
    return column, _cells_of(column)


def _pg_moment_cells(column: Iterable[str | None]) -> list[str]:
    """Moments read as ``_PG_MOMENT_TEXT`` into the ISO text of ``_moment_cells``: the
    microseconds left out when they are zero, as ``datetime.isoformat`` does. Turning the
    aware datetimes the driver would give into text was a fifth of the export's time."""
    return [
        "" if v is None else (v[:19] if v.endswith(".000000") else v) + _UTC_SUFFIX for v in column
    ]


def _calendar_cells(column: Iterable[date | str | None]) -> list[str]:
    """Dates as ISO text (never formula-looking); SQLite's driver gives them as ISO text."""
    return ["" if v is None else v if isinstance(v, str) else v.isoformat() for v in column]


def _amount_cells(column: Iterable[Decimal | float | str | None]) -> list[Any]:
    return ["" if v is None else float(v) for v in column]


def _cells_of(column) -> Callable[[Iterable[Any]], list[Any]]:
    """The cells function for a column of the clients table, by its Python type."""
    python_type = column.type.python_type
    if python_type is str:
        return _text_cells
    if python_type is int:
        return _number_cells
    if isinstance(column.type, UTCDateTime):
        return _moment_cells
    if python_type is date:
        return _calendar_cells
    if python_type is Decimal:
        return _amount_cells
    return lambda values: [_cell(v) for v in values]


_NO_ADDRESS = ("",) * len(_ADDRESS_PARTS)


class _Lists:
    """The phones, e-mails and tags (each client's joined into one text), first address and
    custom values of a batch of clients."""

    def __init__(self) -> None:
        self.phones: dict[int, str] = {}
        self.emails: dict[int, str] = {}
        self.tags: dict[int, str] = {}
        self.addresses: dict[int, tuple[str, ...]] = {}
        self.custom: dict[int, dict[str, Any]] = {}

    def columns(self, ids: list[int]) -> list[list[str]]:
        """The cells of ``_LIST_COLUMNS`` for the clients ``ids``, column by column."""
        addresses = [self.addresses.get(cid, _NO_ADDRESS) for cid in ids]
        return [
            _text_cells([self.tags.get(cid) for cid in ids]),
            _text_cells([self.phones.get(cid) for cid in ids]),
            _text_cells([self.emails.get(cid) for cid in ids]),
            *(_text_cells(part) for part in zip(*addresses, strict=True)),
        ]


_FIRST, _SECOND = itemgetter(0), itemgetter(1)


def _driver_rows(connection, query: Select) -> list[tuple]:
    """The rows as the database driver gives them (no type processing: the cell functions
    take driver values), without a SQLAlchemy row per row: a third of the export's time."""
    result = connection.execute(query)
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


def _lists_of(db: Session, ids: list[int], custom: bool) -> _Lists:
    lists = _Lists()
    connection = db.connection()
    dense = ids[-1] - ids[0] < 4 * len(ids)  # ids come sorted: a range reads few extra rows

    def of_batch(column):
        return column.between(ids[0], ids[-1]) if dense else among(db, column, ids)

    for target, owner, value, order in (
        (lists.phones, Phone.client_id, Phone.e164, (Phone.position, Phone.id)),
        (lists.emails, Email.client_id, Email.address, (Email.position, Email.id)),
        (lists.tags, ClientTag.client_id, ClientTag.tag, None),  # sorted here, as Python does
    ):
        q = select(owner, value).where(of_batch(owner)).order_by(owner, *(order or ()))
        for cid, items in groupby(_driver_rows(connection, q), key=_FIRST):
            values = map(_SECOND, items)
            target[cid] = "; ".join(values if order else sorted(values))
    parts = [getattr(Address, name) for name in _ADDRESS_PARTS]
    q = (
        select(Address.client_id, *parts)
        .where(of_batch(Address.client_id))
        .order_by(Address.client_id, Address.position.desc(), Address.id.desc())
    )
    # the first by position wins: it comes last
    lists.addresses = {row[0]: row[1:] for row in _driver_rows(connection, q)}
    if custom:
        lists.custom = customfields.values_for(db, ENTITY, ids)
    return lists
