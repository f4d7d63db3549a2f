"""Bulk synthetic clients for benchmarks: ``callcard seed --clients 1000000``.

The clients are made by :mod:`crm_core.synthetic`. Rows go in through the driver in bulk:
SQLite ``executemany`` in one transaction per chunk with the search index rebuilt once at the
end; PostgreSQL ``COPY`` with the trigram index rebuilt at the end. Not for production data: no
audit entries are written.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from crm_core.synthetic import generate


@dataclass
class SeedReport:
    clients: int
    phones: int
    emails: int
    seconds: float
    backend: str
    phases: dict[str, float]


_END = object()


def prefetched(chunks, depth: int = 2):
    """Make the next chunks in a thread while the current one is written: the driver releases
    the GIL while the database works, so generating and writing overlap."""
    import queue
    import threading

    pipe: queue.Queue = queue.Queue(maxsize=depth)

    def produce() -> None:
        try:
            for chunk in chunks:
                pipe.put(chunk)
        except BaseException as exc:  # handed to the consumer
            pipe.put(exc)
            return
        pipe.put(_END)

    threading.Thread(target=produce, name="seed-rows", daemon=True).start()
    while (item := pipe.get()) is not _END:
        if isinstance(item, BaseException):
            raise item
        yield item


CLIENT_COLUMNS = (
    "id, kind, first_name, last_name, middle_name, org_name, display_name, job_title, "
    "organization_id, owner_id, team_id, category, status, source, birthday, discount_percent, "
    "comment, language, timezone, last_rating, last_rated_at, search_text, created_at, "
    "updated_at, created_by_id, deleted_at"
)
PHONE_COLUMNS = "client_id, kind, number, e164, position"
EMAIL_COLUMNS = "client_id, kind, address, address_lower, position"


def _teams(cur, sqlite: bool) -> list[int | None]:
    """Sales and Support (created when missing) plus unassigned clients."""
    ids = []
    for name in ("Sales", "Support"):
        cur.execute("SELECT id FROM teams WHERE name = " + ("?" if sqlite else "%s"), (name,))
        row = cur.fetchone()
        if row is None:
            now = datetime.now(UTC)
            cur.execute(
                "INSERT INTO teams (name, created_at) VALUES "
                + ("(?, ?)" if sqlite else "(%s, %s)"),
                (name, now.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else now),
            )
            cur.execute("SELECT id FROM teams WHERE name = " + ("?" if sqlite else "%s"), (name,))
            row = cur.fetchone()
        ids.append(row[0])
    return [ids[0], ids[0], ids[1], None]


def seed_clients(
    url: str,
    n: int,
    progress: Callable[[int], None] | None = None,
    *,
    seed: int = 1,
) -> SeedReport:
    """Add ``n`` synthetic clients to the (migrated) database at ``url``."""
    from crm_core.database import make_engine

    engine = make_engine(url)
    sqlite = engine.dialect.name == "sqlite"
    started = time.perf_counter()
    totals = [0, 0, 0]
    phases: dict[str, float] = {}
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        if sqlite:
            _seed_sqlite(driver, n, seed, progress, totals, phases)
        else:
            _seed_postgresql(driver, n, seed, progress, totals, phases)
    finally:
        raw.close()
        engine.dispose()
    return SeedReport(
        clients=totals[0],
        phones=totals[1],
        emails=totals[2],
        seconds=time.perf_counter() - started,
        backend=engine.dialect.name,
        phases={k: round(v, 1) for k, v in phases.items()},
    )


class _Clock:
    """Adds the seconds spent in each phase of a seed run to ``phases``."""

    def __init__(self, phases: dict[str, float]) -> None:
        self.phases = phases
        self.last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.phases[name] = self.phases.get(name, 0.0) + now - self.last
        self.last = now


def _seed_sqlite(conn, n, seed, progress, totals, phases) -> None:
    clock = _Clock(phases)
    conn.isolation_level = None  # explicit BEGIN/COMMIT below
    journal = _sqlite_bulk_load_mode(conn)
    cur = conn.cursor()
    cur.execute("BEGIN")
    teams = _teams(cur, True)
    start = (cur.execute("SELECT max(id) FROM clients").fetchone()[0] or 0) + 1
    triggers, indexes = _drop_sqlite_indexes(cur)
    conn.commit()
    clock.lap("prepare")
    try:
        for clients, phones, emails in prefetched(generate(n, start, teams, seed, sqlite=True)):
            clock.lap("wait for rows")
            cur.execute("BEGIN")
            cur.executemany(
                f"INSERT INTO clients ({CLIENT_COLUMNS}) VALUES ({', '.join('?' * 26)})", clients
            )
            cur.executemany(
                f"INSERT INTO client_phones ({PHONE_COLUMNS}) VALUES (?, ?, ?, ?, ?)", phones
            )
            cur.executemany(
                f"INSERT INTO client_emails ({EMAIL_COLUMNS}) VALUES (?, ?, ?, ?, ?)", emails
            )
            conn.commit()
            _count(totals, clients, phones, emails, progress)
            clock.lap("insert rows")
    finally:
        _rebuild_sqlite_indexes(conn, cur, triggers, indexes, journal, clock)


def _count(totals: list[int], clients: list, phones: list, emails: list, progress) -> None:
    totals[0] += len(clients)
    totals[1] += len(phones)
    totals[2] += len(emails)
    if progress:
        progress(len(clients))


def _sqlite_bulk_load_mode(conn) -> str | None:
    """Settings for a bulk load; returns the journal mode to go back to (None: unchanged).

    A bulk load writes new pages only: a rollback journal costs next to nothing, where WAL
    would write every page twice (log, then checkpoint). Back to WAL at the end."""
    journal = conn.execute("PRAGMA journal_mode").fetchone()[0]
    try:
        conn.execute("PRAGMA journal_mode=TRUNCATE")
    except sqlite3.OperationalError:  # another connection is open: stay in WAL
        journal = None
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-1000000")
    conn.execute("PRAGMA temp_store=MEMORY")
    return journal


def _drop_sqlite_indexes(cur) -> tuple[list, list]:
    """Drop the search triggers and secondary indexes; returns their (name, sql) to rebuild."""
    # the search index is rebuilt once at the end: far faster than a trigger per row
    triggers = cur.execute(
        "SELECT name, sql FROM sqlite_master WHERE type='trigger' AND name LIKE 'clients_fts_%'"
    ).fetchall()
    for name, _ in triggers:
        cur.execute(f"DROP TRIGGER {name}")
    # so are the secondary indexes: one sort per index instead of a million random inserts
    indexes = cur.execute(
        "SELECT name, sql FROM sqlite_master WHERE type='index' AND sql IS NOT NULL "
        "AND tbl_name IN ('clients', 'client_phones', 'client_emails')"
    ).fetchall()
    for name, _ in indexes:
        cur.execute(f"DROP INDEX {name}")
    return triggers, indexes


def _rebuild_sqlite_indexes(conn, cur, triggers, indexes, journal, clock: _Clock) -> None:
    """Indexes, the search index and its triggers back; statistics; the journal mode back."""
    cur.execute("BEGIN")
    for _, sql in indexes:
        cur.execute(sql)
    clock.lap("create indexes")
    cur.execute("INSERT INTO clients_fts(clients_fts) VALUES ('rebuild')")
    for _, sql in triggers:
        cur.execute(sql)
    conn.commit()
    clock.lap("build search index")
    cur.execute("PRAGMA analysis_limit=2000")
    cur.execute("ANALYZE")
    conn.commit()
    if journal:
        conn.execute(f"PRAGMA journal_mode={journal}")
    clock.lap("analyze")


def _seed_postgresql(conn, n, seed, progress, totals, phases) -> None:
    clock = _Clock(phases)
    with conn.cursor() as cur:
        teams = _teams(cur, False)
        cur.execute("SELECT coalesce(max(id), 0) + 1 FROM clients")
        start = cur.fetchone()[0]
        cur.execute("SET maintenance_work_mem = '1GB'")
        cur.execute("SET synchronous_commit = off")
        # secondary indexes (the trigram one included) are rebuilt once at the end
        cur.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i "
            "WHERE i.tablename IN ('clients', 'client_phones', 'client_emails') "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"
        )
        indexes = cur.fetchall()
        for name, _ in indexes:
            cur.execute(f'DROP INDEX "{name}"')
        conn.commit()
        clock.lap("prepare")
        try:
            for clients, phones, emails in prefetched(
                generate(n, start, teams, seed, sqlite=False)
            ):
                clock.lap("wait for rows")
                with cur.copy(f"COPY clients ({CLIENT_COLUMNS}) FROM STDIN") as copy:
                    for row in clients:
                        copy.write_row(row)
                with cur.copy(f"COPY client_phones ({PHONE_COLUMNS}) FROM STDIN") as copy:
                    for row in phones:
                        copy.write_row(row)
                with cur.copy(f"COPY client_emails ({EMAIL_COLUMNS}) FROM STDIN") as copy:
                    for row in emails:
                        copy.write_row(row)
                conn.commit()
                _count(totals, clients, phones, emails, progress)
                clock.lap("copy rows")
        finally:
            cur.execute(
                "SELECT setval(pg_get_serial_sequence('clients', 'id'), "
                "(SELECT coalesce(max(id), 1) FROM clients))"
            )
            for _, definition in indexes:
                cur.execute(definition)
            conn.commit()
            clock.lap("build search index")
            cur.execute("ANALYZE clients")
            cur.execute("ANALYZE client_phones")
            cur.execute("ANALYZE client_emails")
            conn.commit()
            clock.lap("analyze")
