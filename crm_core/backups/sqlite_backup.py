"""SQLite: a consistent copy while the application keeps writing, row counts, restore.

``sqlite3.Connection.backup`` in ONE step reads the whole database inside one read
transaction: in WAL mode writers go on meanwhile (their commits land in the WAL, after the
snapshot), and the copy is the database as it was at one instant. Copying in several steps
would let each foreign commit restart the copy, forever on a busy base. The backup releases
the GIL while it copies, so the web process's event loop keeps serving popups.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from contextlib import closing, suppress
from pathlib import Path

from sqlalchemy.engine import make_url

DUMP_NAME = "database.sqlite3"


def database_path(url: str) -> Path:
    name = make_url(url).database
    if not name or name == ":memory:":
        raise ValueError("an in-memory SQLite database cannot be backed up")
    return Path(name)


def _watch(dest: Path, total: int, progress: Callable[[int, int], None]) -> threading.Event:
    """Report the copy's size every half second until the returned event is set."""
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(0.5):
            with suppress(OSError):
                progress(min(dest.stat().st_size, total), total)

    threading.Thread(target=run, name="backup-progress", daemon=True).start()
    return stop


def copy_database(source: Path, dest: Path, progress: Callable[[int, int], None] | None = None):
    """Copy ``source`` to ``dest`` (a new file in rollback-journal mode: one self-contained file)."""
    if not source.is_file():
        raise FileNotFoundError(f"no SQLite database at {source}")
    with (
        closing(sqlite3.connect(source, timeout=30)) as src,
        closing(sqlite3.connect(dest)) as dst,
    ):
        page_size, pages = (
            src.execute("PRAGMA page_size").fetchone()[0],
            src.execute("PRAGMA page_count").fetchone()[0],
        )
        total = page_size * pages
        stop = _watch(dest, total, progress) if progress else None
        try:
            src.backup(dst)
        finally:
            if stop is not None:
                stop.set()
        dst.execute("PRAGMA journal_mode=DELETE")
    if progress:
        progress(total, total)


def table_counts(path: Path) -> dict[str, int]:
    """Rows of every table (the full-text index's own tables included)."""
    with closing(sqlite3.connect(path)) as conn:
        names = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
            )
        ]
        return {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}


def schema_revision(path: Path) -> str | None:
    with closing(sqlite3.connect(path)) as conn:
        try:
            row = conn.execute("SELECT version_num FROM alembic_version LIMIT 1").fetchone()
        except sqlite3.DatabaseError:
            return None
        return row[0] if row else None


def integrity_problem(path: Path) -> str | None:
    """What ``PRAGMA quick_check`` finds wrong with the file, or None when it is sound."""
    try:
        with closing(sqlite3.connect(path)) as conn:
            rows = [r[0] for r in conn.execute("PRAGMA quick_check").fetchall()]
    except sqlite3.DatabaseError as exc:
        return str(exc)
    return None if rows == ["ok"] else "; ".join(rows[:3])


def replace_database(restored: Path, live: Path) -> None:
    """Write ``restored`` over the live database page by page, in one transaction of the live
    file (its WAL and other connections stay coherent; a failure leaves it as it was)."""
    live.parent.mkdir(parents=True, exist_ok=True)
    with (
        closing(sqlite3.connect(restored)) as src,
        closing(sqlite3.connect(live, timeout=60)) as dst,
    ):
        dst.execute("PRAGMA busy_timeout=60000")
        src.backup(dst)
