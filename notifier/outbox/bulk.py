"""Writing thousands of outbox rows at once (reminders for 100,000 events, ``enqueue_many``):
plain tuples through the DBAPI cursor of the session's own connection, in its transaction
(``executemany`` on SQLite, ``COPY`` on PostgreSQL), where the ORM's per-value conversion cost
more than the insert itself."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from crm_core.database import utcnow


def driver_connection(db: Session) -> tuple[Any, str]:
    """The DBAPI connection under the session (same transaction) and the dialect name, after
    flushing the session's pending changes (a new client, a task: they go first)."""
    db.flush()
    connection = db.connection()
    return connection.connection.driver_connection, connection.dialect.name


def write_rows(raw: Any, dialect: str, rows: dict[str, tuple]) -> int:
    """Insert the batch through a DBAPI connection (``driver_connection``); keys already stored
    are skipped. Returns the number of rows inserted.

    Uses only ``raw``, never the session: the reminders' bulk run calls it from a worker
    thread while the caller plans the next batch (nothing else uses the connection then)."""
    if not rows:
        return 0
    if dialect == "postgresql":
        return _copy_rows(raw, rows, utcnow())
    return _insert_rows(raw, rows.values(), utcnow())


#: the columns ``enqueue_many`` fills, in the order of its row tuples (then the constants)
_BULK_COLUMNS = (
    "channel, recipient, subject, body, client_id, purpose, template, meta, due_at, "
    "idempotency_key, segments, next_attempt_at, created_at, updated_at, status, attempts, "
    "error_code, error_message, claimed_by"
)


#: wire types of ``_BULK_COLUMNS`` for a binary ``COPY`` (``text`` is also how the varchar and
#: json columns receive their bytes: the meta goes in as the JSON text built once per task)
_BULK_TYPES = (
    ["text"] * 4 + ["int4"] + ["text"] * 3 + ["timestamptz", "text", "int4"]
    + ["timestamptz"] * 3 + ["text", "int4"] + ["text"] * 3
)  # fmt: skip


def sqlite_time(value: datetime) -> str:
    """What ``UTCDateTime`` stores on SQLite: naive UTC, SQLAlchemy's text format (for
    statements sent through the DBAPI cursor)."""
    v = value.astimezone(UTC)
    return (
        f"{v.year:04d}-{v.month:02d}-{v.day:02d} "
        f"{v.hour:02d}:{v.minute:02d}:{v.second:02d}.{v.microsecond:06d}"
    )


#: SQLite page cache (KiB) while a large batch goes in: the rows land at random places of the
#: due-time index, which the default 2 MiB cache keeps spilling (a quarter of the insert time)
BULK_CACHE_KIB = 65_536


def _insert_rows(raw: Any, rows: Collection[tuple], now: datetime) -> int:
    """SQLite: one ``executemany``; a key stored meanwhile is skipped, not an error."""
    stamp = sqlite_time(now)
    times: dict[datetime, str] = {}

    def values() -> Iterator[tuple]:
        for row in rows:
            due = row[8] or now
            when = times.get(due)
            if when is None:
                when = times[due] = sqlite_time(due)
            yield (*row[:8], when, row[9], row[10], when, stamp, stamp)

    cursor = raw.cursor()
    cache = None
    try:
        if len(rows) > 10_000:  # restored below: the connection goes back to the pool as it was
            cache = cursor.execute("PRAGMA cache_size").fetchone()[0]
            cursor.execute(f"PRAGMA cache_size = {-BULK_CACHE_KIB}")
        cursor.executemany(
            f"INSERT INTO outbox_messages ({_BULK_COLUMNS}) VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, '', '', '') "
            "ON CONFLICT (idempotency_key) DO NOTHING",
            values(),
        )
        return max(cursor.rowcount, 0)
    finally:
        if cache is not None:
            cursor.execute(f"PRAGMA cache_size = {int(cache)}")
        cursor.close()


def _copy_rows(raw: Any, rows: dict[str, tuple], now: datetime) -> int:
    """PostgreSQL: the keys already stored are looked up in one query, the rest is ``COPY``."""
    with raw.cursor() as cursor:
        # joined by ``unnest``: the unique index answers each key whatever the statistics say
        # (``= ANY(array)`` can be planned as a filter over the whole table)
        # binary: dumping 40,000 keys as a text array costs five times the client CPU
        cursor.execute(
            "SELECT o.idempotency_key FROM unnest(%b::text[]) AS k(key) "
            "JOIN outbox_messages o ON o.idempotency_key = k.key",
            (list(rows),),
        )
        existing = {key for (key,) in cursor.fetchall()}
        fresh = 0
        # binary: no text formatting here nor parsing in the server (a fifth of the client CPU)
        with cursor.copy(
            f"COPY outbox_messages ({_BULK_COLUMNS}) FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.set_types(_BULK_TYPES)
            for key, row in rows.items():
                if key in existing:
                    continue
                due = row[8] or now
                copy.write_row(
                    (*row[:8], due, key, row[10], due, now, now, "pending", 0, "", "", "")
                )
                fresh += 1
    return fresh
