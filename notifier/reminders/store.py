"""Reading and writing reminders in bulk, on the session's own connection and transaction.

The bulk paths go through the DBAPI cursor: plain values, no per-value conversion by
SQLAlchemy (which cost more than the queries at 100,000 events). Writes of a batch may run on a
worker thread (``write_rows`` uses the DBAPI connection only; the session is not thread-safe).
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.auth.models import User
from notifier.outbox import bulk
from notifier.outbox import service as outbox
from notifier.reminders.planner import CLIENT_COLUMNS, OPEN, TASK_COLUMNS, Batch, EventRow, Reads
from notifier.voice_calls.service import address_calls

_CLIENT_SQL = ", ".join(f"c.{c.property.columns[0].name}" for c in CLIENT_COLUMNS)
_TASK_SQL = ", ".join(c.property.columns[0].name for c in TASK_COLUMNS)
_OPEN_SQL = ", ".join(f"'{status}'" for status in OPEN)


def _raw_cursor(db: Session) -> tuple[Any, str]:
    """A DBAPI cursor on the session's own connection (same transaction) and the dialect name.

    The bulk paths read and write through it: plain values, no per-value conversion by
    SQLAlchemy (which cost more than the queries at 100,000 events). Pending ORM changes are
    flushed first."""
    db.flush()
    connection = db.connection()
    return connection.connection.driver_connection.cursor(), connection.dialect.name


def _utc_reader() -> Callable[[Any], datetime | None]:
    """Stored time (SQLite text, PostgreSQL datetime) -> aware UTC datetime, as ``UTCDateTime``
    returns it; each distinct value is converted once (events share their start times)."""
    seen: dict[Any, datetime] = {}

    def read(value: Any) -> datetime | None:
        if value is None:
            return None
        when = seen.get(value)
        if when is None:
            when = datetime.fromisoformat(value) if isinstance(value, str) else value
            when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
            seen[value] = when
        return when

    return read


def upcoming_events(db: Session, after_id: int, now: datetime, limit: int) -> list[tuple]:
    """Open events starting after ``now``, by id, read through the DBAPI cursor: rows as
    fetched, in ``TASK_COLUMNS`` order (``event_rows`` converts them)."""
    cursor, dialect = _raw_cursor(db)
    mark = "?" if dialect == "sqlite" else "%s"
    try:
        cursor.execute(
            f"SELECT {_TASK_SQL} FROM tasks WHERE id > {mark} AND kind = 'event' "
            f"AND status IN ({_OPEN_SQL}) AND starts_at > {mark} ORDER BY id LIMIT {mark}",
            (after_id, bulk.sqlite_time(now) if dialect == "sqlite" else now, limit),
        )
        return cursor.fetchall()
    finally:
        cursor.close()


def event_rows(rows: list[tuple]) -> list[EventRow]:
    utc = _utc_reader()
    return [
        EventRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], utc(r[7]), utc(r[8]), utc(r[9]), r[10])
        for r in rows
    ]


def _write_schedules(
    raw: Any, dialect: str, new: list[tuple[int, int, str]], changed: list[tuple[int, str, int]]
) -> None:
    """Insert ``new`` (task_id, revision, signature) and update ``changed`` (revision,
    signature, task_id) ``reminder_schedules`` rows, through the DBAPI connection ``raw``
    (``bulk.driver_connection``; never the session: see ``write_rows``)."""
    cursor = raw.cursor()
    mark = "?" if dialect == "sqlite" else "%s"
    try:
        if changed:
            cursor.executemany(
                f"UPDATE reminder_schedules SET revision = {mark}, signature = {mark} "
                f"WHERE task_id = {mark}",
                changed,
            )
        if new and dialect == "postgresql":
            with cursor.copy(
                "COPY reminder_schedules (task_id, revision, signature) FROM STDIN"
            ) as copy:
                for row in new:
                    copy.write_row(row)
        elif new:
            cursor.executemany(
                "INSERT INTO reminder_schedules (task_id, revision, signature) VALUES (?, ?, ?)",
                new,
            )
    finally:
        cursor.close()


def _rows_for_ids(
    cursor: Any, dialect: str, select: str, column: str, ids: list[int], where: str = "TRUE",
    order: str = "",
) -> list[tuple]:  # fmt: skip
    """Rows of ``select`` (``SELECT ... FROM table alias``) whose ``column`` is one of ``ids``.

    The ids travel as ONE parameter: a JSON array read by ``json_each`` on SQLite, an array
    joined by ``unnest`` on PostgreSQL, so the index on ``column`` drives the query whatever
    the statistics say (``= ANY(array)`` / long IN lists were planned as a filter over the
    whole table right after a bulk import: 20 s for 20,000 clients), and no statement with
    thousands of placeholders is parsed per batch."""
    if dialect == "sqlite":
        cursor.execute(
            f"{select} WHERE {column} IN (SELECT value FROM json_each(?)) AND {where} {order}",
            (json.dumps(ids),),
        )
    else:
        cursor.execute(  # binary: a fifth of the client CPU of dumping the array as text
            f"{select} JOIN unnest(%b::integer[]) AS wanted(id) ON {column} = wanted.id "
            f"WHERE {where} {order}",
            (ids,),
        )
    return cursor.fetchall()


def _fetch_contacts(cursor: Any, dialect: str, ids: list[int]) -> tuple[list, list, list]:
    """Rows of the clients (not deleted), their phones and e-mails, by client and position
    (``contacts_of`` turns them into ``Contact``)."""
    clients = _rows_for_ids(
        cursor, dialect, f"SELECT {_CLIENT_SQL} FROM clients c", "c.id", ids,
        where="c.deleted_at IS NULL",
    )  # fmt: skip
    phones = _rows_for_ids(
        cursor, dialect, "SELECT p.client_id, p.e164, p.kind FROM client_phones p",
        "p.client_id", ids, order="ORDER BY p.client_id, p.position, p.id",
    )  # fmt: skip
    emails = _rows_for_ids(
        cursor, dialect, "SELECT e.client_id, e.address FROM client_emails e",
        "e.client_id", ids, order="ORDER BY e.client_id, e.position, e.id",
    )  # fmt: skip
    return clients, phones, emails


def withdraw(db: Session, task_id: int) -> int:
    return outbox.withdraw(db, idempotency_key_prefix=f"reminder:{task_id}:") + outbox.withdraw(
        db, idempotency_key_prefix=f"task-remind:{task_id}:"
    )


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for the duration (back on after, if it was on).

    A bulk run creates and keeps a few hundred thousand objects per batch (rows, events,
    contacts, outbox tuples), none in a reference cycle; the collections that this growth
    triggers walked them again and again: a tenth of the run's CPU at 100,000 events. The
    objects are freed by their reference counts as usual; only cycles (made by anything,
    in any thread) wait for the end of the run."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _read(db: Session, task_ids: list[int], client_ids: set[int], assignee_ids: set[int]) -> Reads:
    """The rows planning these tasks needs (the session's pending changes flushed first: a
    number just added counts)."""
    cursor, dialect = _raw_cursor(db)
    try:
        states = _rows_for_ids(
            cursor, dialect, "SELECT s.task_id, s.revision, s.signature FROM reminder_schedules s",
            "s.task_id", sorted(set(task_ids)),
        )  # fmt: skip
        ids = sorted(client_ids)
        contacts = _fetch_contacts(cursor, dialect, ids) if ids else ([], [], [])
    finally:
        cursor.close()
    assignees = (
        {u.id: u for u in db.scalars(select(User).where(User.id.in_(assignee_ids)))}
        if assignee_ids
        else {}
    )
    return Reads(states, contacts, assignees)


def read_events(db: Session, tasks: list[EventRow]) -> Reads:
    return _read(
        db,
        [t.id for t in tasks],
        {t.client_id for t in tasks if t.client_id},
        {t.assignee_id for t in tasks if t.assignee_id and t.remind_at},
    )


def read_rows(db: Session, rows: list[tuple]) -> Reads:
    """``_read`` for events as ``upcoming_events`` fetched them (``TASK_COLUMNS`` order)."""
    i = {column.key: n for n, column in enumerate(TASK_COLUMNS)}
    task_id, client_id, remind_at, assignee_id = (
        i["id"], i["client_id"], i["remind_at"], i["assignee_id"],
    )  # fmt: skip
    return _read(
        db,
        [r[task_id] for r in rows],
        {r[client_id] for r in rows if r[client_id]},
        {r[assignee_id] for r in rows if r[assignee_id] and r[remind_at]},
    )


def write_start(db: Session, batch: Batch) -> tuple[Any, str]:
    """The session's part of writing a batch (before ``write_rows``): withdraw the reminders
    being replaced, flush; returns the DBAPI connection and dialect for ``write_rows``."""
    for task_id in batch.withdraw:
        withdraw(db, task_id)
    return bulk.driver_connection(db)


def write_rows(raw: Any, dialect: str, batch: Batch) -> int:
    """Schedule rows and outbox rows of a batch through the DBAPI connection only (it may run
    on a worker thread: the session is not thread-safe). Returns the outbox rows written."""
    if batch.new_states or batch.changed_states:
        _write_schedules(raw, dialect, batch.new_states, batch.changed_states)
    return bulk.write_rows(raw, dialect, batch.rows.rows)


def write_end(db: Session, batch: Batch) -> None:
    if batch.calls:  # their webhook URL carries the new row's id
        address_calls(db, batch.calls)
