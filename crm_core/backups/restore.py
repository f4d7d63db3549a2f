"""Bring an archive back: database and attachment files, or nothing at all.

Order: read the whole archive and check it against its manifest (files go to a staging folder
beside the store), restore the dump into a scratch database and compare the counts, migrate the
scratch copy when the archive's schema is older (an unknown, newer one is refused here), and
only then overwrite the live database (one transaction) and swap the files folder in.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

from crm_core.backups import pg_backup, sqlite_backup
from crm_core.backups.archive import ArchiveRefused, Manifest, Progress, read_archive
from crm_core.backups.service import mark_unfinished, passphrase
from crm_core.backups.verify import backend_of, differences, scratch_database
from crm_core.config import CoreSettings, get_settings
from crm_core.database import forget_engines, get_engine, session_scope


@dataclass(frozen=True)
class Restored:
    manifest: Manifest
    migrated_from: str | None  # the archive's revision when it was older than the code's
    files: int


def live_revision(url: str) -> str | None:
    with get_engine(url).connect() as conn:
        try:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except Exception:
            return None


def _migrate_scratch(manifest: Manifest, scratch_url: str, migrate: Callable[[str], None]):
    try:
        migrate(scratch_url)
    except Exception as exc:
        if "Can't locate revision" in str(exc) or "No such revision" in str(exc):
            raise ArchiveRefused(
                f"the archive's schema {manifest.schema_revision} is newer than this Callcard "
                f"knows (made by version {manifest.app_version}): upgrade Callcard first"
            ) from None
        raise ArchiveRefused(
            f"the archive's schema {manifest.schema_revision} could not be migrated: {exc}"
        ) from None


def _swap_files(staged: Path, store: Path) -> None:
    """Put the staged files folder in place of the store (renames on one filesystem)."""
    staged.mkdir(parents=True, exist_ok=True)
    old = store.with_name(f".{store.name}.replaced-{uuid.uuid4().hex[:8]}")
    if store.exists():
        os.replace(store, old)
    os.replace(staged, store)
    shutil.rmtree(old, ignore_errors=True)


def restore_archive(
    path: Path,
    migrate: Callable[[str], None],
    settings: CoreSettings | None = None,
    progress: Progress | None = None,
) -> Restored:
    """Replace the database and the files with the archive's; :class:`ArchiveRefused` (with
    the live data untouched) when the archive is damaged, foreign or newer than the code."""
    settings = settings or get_settings()
    url, store = settings.database_url, Path(settings.attachments_dir).resolve()
    store.parent.mkdir(parents=True, exist_ok=True)
    staging = store.with_name(f".{store.name}.restoring-{uuid.uuid4().hex[:8]}")
    try:
        with tempfile.TemporaryDirectory(prefix="callcard-restore-") as tmp:
            dump = Path(tmp) / "database"
            manifest = read_archive(
                path,
                passphrase=passphrase(settings),
                database_to=dump,
                files_to=staging / "files",
                progress=progress,
            )
            if manifest.backend != backend_of(url):
                raise ArchiveRefused(
                    f"a {manifest.backend} archive cannot be restored into {backend_of(url)}"
                )
            migrated_from = _restore_database(manifest, dump, url, migrate, progress)
        _swap_files(staging / "files", store)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    with session_scope(settings) as db:
        mark_unfinished(db, "not finished when the restored copy was taken", restored=path)
    return Restored(manifest, migrated_from, len(manifest.files))


def _restore_database(
    manifest: Manifest, dump: Path, url: str, migrate, progress: Progress | None
) -> str | None:
    current = live_revision(url)
    older = manifest.schema_revision != current
    with scratch_database(manifest, dump, url) as scratch:
        if progress:
            progress("scratch", 0, 1)
        problems = differences(manifest, scratch)
        if problems:
            raise ArchiveRefused("the restored copy differs from the manifest: " + problems[0])
        if older:
            _migrate_scratch(manifest, scratch, migrate)
        if progress:
            progress("database", 0, 1)
        forget_engines()  # no pooled connection of ours holds the old database
        if manifest.backend == "sqlite":
            sqlite_backup.replace_database(dump, sqlite_backup.database_path(url))
        else:
            pg_backup.restore_into(url, dump, clean=True)
    if older and manifest.backend == "postgresql":
        migrate(url)
    if progress:
        progress("database", 1, 1)
    return manifest.schema_revision if older else None
