"""Proof that an archive restores: load it into a scratch database and compare with its manifest.

The scratch database is a temporary SQLite file, or a PostgreSQL database created beside the
live one and dropped afterwards. Compared: the row count of every table, the schema revision,
and every attachment row's SHA-256 and size against the file the archive carries.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from crm_core.backups import pg_backup, sqlite_backup
from crm_core.backups.archive import ArchiveRefused, Manifest, Progress, read_archive


@dataclass(frozen=True)
class Verification:
    ok: bool
    detail: str
    manifest: Manifest | None = None


def backend_of(url: str) -> str:
    return make_url(url).get_backend_name()


@contextmanager
def scratch_database(manifest: Manifest, dump: Path, live_url: str) -> Iterator[str]:
    """The URL of a scratch database holding the archive's dump (dropped on exit). For SQLite
    it is the extracted dump file itself."""
    if manifest.backend == "sqlite":
        problem = sqlite_backup.integrity_problem(dump)
        if problem:
            raise ArchiveRefused(f"the database in the archive is damaged: {problem}")
        yield f"sqlite:///{dump}"
        return
    if backend_of(live_url) != "postgresql":
        raise ArchiveRefused("a PostgreSQL archive needs a PostgreSQL server to restore into")
    scratch = pg_backup.create_scratch(live_url)
    try:
        pg_backup.restore_into(scratch, dump, clean=False)
        yield scratch
    finally:
        pg_backup.drop(live_url, scratch)


def counts_of(url: str) -> tuple[dict[str, int], str | None]:
    if backend_of(url) == "sqlite":
        path = sqlite_backup.database_path(url)
        return sqlite_backup.table_counts(path), sqlite_backup.schema_revision(path)
    return pg_backup.scratch_counts(url)


def differences(manifest: Manifest, url: str) -> list[str]:
    """What the restored database at ``url`` disagrees with the manifest about (empty: all)."""
    counts, revision = counts_of(url)
    problems = []
    if revision != manifest.schema_revision:
        problems.append(f"schema {revision} restored, manifest says {manifest.schema_revision}")
    for table in sorted(set(counts) | set(manifest.tables)):
        found, expected = counts.get(table), manifest.tables.get(table)
        if found != expected:
            problems.append(f"table {table}: {found} rows restored, manifest says {expected}")
    problems += _attachment_differences(manifest, url)
    return problems


def _attachment_differences(manifest: Manifest, url: str) -> list[str]:
    if "attachments" not in manifest.tables:
        return []
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT storage_key, sha256, size FROM attachments")).all()
    finally:
        engine.dispose()
    problems = []
    for key, sha, size in rows:
        archived = manifest.files.get(key)
        if archived is None:
            problems.append(f"attachment file {key} is not in the archive")
        elif archived.get("sha256") != sha or archived.get("size") != size:
            problems.append(f"attachment file {key} differs from its record")
    return list(dict.fromkeys(problems))[:20]


def verify_archive(
    path: Path, live_url: str, *, passphrase: str = "", progress: Progress | None = None
) -> Verification:
    """Read the archive back from where it was written, restore it into a scratch database and
    compare; never raises for a bad archive (the result says what is wrong)."""
    with tempfile.TemporaryDirectory(prefix="callcard-verify-") as tmp:
        dump = Path(tmp) / "database"
        try:
            manifest = read_archive(
                path, passphrase=passphrase, database_to=dump, progress=progress
            )
            if progress:
                progress("scratch", 0, 1)
            with scratch_database(manifest, dump, live_url) as scratch:
                problems = differences(manifest, scratch)
        except ArchiveRefused as exc:
            return Verification(False, exc.message)
        except Exception as exc:  # a tool failed, the disk filled: a failed verification
            return Verification(False, f"{exc.__class__.__name__}: {exc}")
    if problems:
        return Verification(False, "; ".join(problems), manifest)
    return Verification(
        True,
        f"{manifest.total_rows} rows in {len(manifest.tables)} tables and "
        f"{len(manifest.files)} files restored and matched",
        manifest,
    )
