"""Backup runs: make the archive, verify it, rotate the directory, tell admins of failures.

Every run is a ``backup_runs`` row written in short transactions of its own (never one long
transaction around the copy). A failure is recorded in the row, announced on the bus to the
admins and passed to :data:`~crm_core.backups.events.backup_failed` in the same transaction,
where the notifier queues the admins' e-mails.
"""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from importlib import metadata
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_core.backups import pg_backup, rotation, sqlite_backup
from crm_core.backups.archive import Manifest, Progress, write_archive
from crm_core.backups.events import BackupFailed, BackupStatus, backup_failed
from crm_core.backups.liveness import kept_alive
from crm_core.backups.models import BackupRun
from crm_core.backups.verify import Verification, backend_of, verify_archive
from crm_core.bus import get_bus
from crm_core.config import CoreSettings, get_settings
from crm_core.database import session_scope, utcnow
from crm_core.errors import NotFound, said

log = logging.getLogger("callcard.backups")
#: a scheduled time missed by more than this (the server was off) waits for the next day
CATCH_UP = timedelta(hours=12)


class DirectoryUnusable(OSError):
    """The backup directory cannot be created or written (the run is recorded as failed)."""

    def __init__(self, run_id: int, message: str) -> None:
        super().__init__(message)
        self.run_id = run_id


@dataclass(frozen=True)
class Made:
    path: Path
    size: int
    manifest: Manifest


def app_version() -> str:
    try:
        return metadata.version("callcard")
    except metadata.PackageNotFoundError:
        return "unknown"


def backup_directory(settings: CoreSettings) -> Path:
    if settings.backup_dir:
        return Path(settings.backup_dir)
    return Path(settings.attachments_dir).resolve().parent / "callcard-backups"


def passphrase(settings: CoreSettings) -> str:
    return settings.backup_encryption_key.get_secret_value()


def _target(directory: Path, settings: CoreSettings) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    at = utcnow()
    while True:  # two runs in one second get two names
        name = rotation.archive_name(
            at, compressed=settings.backup_compress, encrypted=bool(passphrase(settings))
        )
        if not (directory / name).exists():
            return directory / name
        at += timedelta(seconds=1)


def make_archive(
    settings: CoreSettings, target: Path | None = None, progress: Progress | None = None
) -> Made:
    """Dump the database (while it keeps serving), archive it with every attachment."""
    url = settings.database_url
    target = target or _target(backup_directory(settings), settings)
    backend = backend_of(url)

    def dumped(done: int, total: int) -> None:
        if progress:
            progress("database", done, total)

    with tempfile.TemporaryDirectory(prefix="callcard-backup-") as tmp:
        if backend == "sqlite":
            dump = Path(tmp) / sqlite_backup.DUMP_NAME
            sqlite_backup.copy_database(sqlite_backup.database_path(url), dump, dumped)
            counts = sqlite_backup.table_counts(dump)
            revision = sqlite_backup.schema_revision(dump)
        else:
            dump = Path(tmp) / pg_backup.DUMP_NAME
            counts, revision = pg_backup.dump(url, dump, dumped)
        manifest = Manifest(
            created_at=utcnow().isoformat(),
            app_version=app_version(),
            backend=backend,
            schema_revision=revision,
            database={"name": dump.name},
            tables=counts,
            compressed=settings.backup_compress,
        )
        size = write_archive(
            target,
            manifest,
            dump,
            Path(settings.attachments_dir),
            passphrase=passphrase(settings),
            progress=progress,
        )
    return Made(target, size, manifest)


def _publish(event) -> None:
    try:
        get_bus().publish_sync(event)
    except Exception:  # a live update lost must not fail the backup
        log.warning("publishing %s failed", event.type, exc_info=True)


def _status(run: BackupRun) -> BackupStatus:
    return BackupStatus(
        run_id=run.id,
        status=run.status,
        stage=run.stage,
        progress=run.progress,
        verification=run.verification,
    )


class RunProgress:
    """Progress of a run: into its row and onto the bus at most once a second, and to the
    caller's own callback (the CLI's bar) every time."""

    def __init__(self, run_id: int, settings: CoreSettings, also: Progress | None) -> None:
        self.run_id, self.settings, self.also = run_id, settings, also
        self.last = (0.0, "", -1)

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self.also:
            self.also(stage, done, total)
        percent = min(100, int(done * 100 / total)) if total else 0
        now = time.monotonic()
        if stage == self.last[1] and (now - self.last[0] < 1.0 or percent == self.last[2]):
            return
        self.last = (now, stage, percent)
        with session_scope(self.settings) as db:
            run = db.get(BackupRun, self.run_id)
            if run is not None:
                run.stage, run.progress = stage, percent
        if run is not None:
            _publish(_status(run))


def _start(
    settings: CoreSettings, trigger: str, actor_id: int | None, slot: str | None, target: Path
) -> int | None:
    try:
        with session_scope(settings) as db:
            run = BackupRun(
                path=str(target),
                trigger=trigger,
                slot=slot,
                requested_by_id=actor_id,
                encrypted=bool(passphrase(settings)),
                stage="database",
            )
            db.add(run)
            db.flush()
            return run.id
    except IntegrityError:  # another scheduler took this slot
        return None


def _fail(settings: CoreSettings, run_id: int, stage: str, error: str) -> None:
    with session_scope(settings) as db:
        run = db.get(BackupRun, run_id)
        if run is None:  # the base was replaced meanwhile (a restore)
            return
        if stage == "backup":
            run.status, run.error, run.finished_at = "failed", error[:4000], utcnow()
            run.verification = "skipped"
        else:
            run.verification, run.verification_detail = "failed", error[:4000]
            run.verified_at = utcnow()
        run.stage, run.progress = "", 0
        backup_failed.send(db, run=run, stage=stage)
    _publish(BackupFailed(run_id=run_id, stage=stage, error=error[:500]))
    _publish(_status(run))


def _finished(settings: CoreSettings, run_id: int, made: Made, verifying: bool) -> None:
    with session_scope(settings) as db:
        run = db.get(BackupRun, run_id)
        if run is None:
            return
        run.status, run.finished_at = "ok", utcnow()
        run.path, run.size = str(made.path), made.size
        run.schema_revision = made.manifest.schema_revision or ""
        run.rows, run.files = made.manifest.total_rows, len(made.manifest.files)
        run.verification = "pending" if verifying else "skipped"
        run.stage, run.progress = ("verify", 0) if verifying else ("", 100)
    _publish(_status(run))


def _verified(settings: CoreSettings, run_id: int, result: Verification) -> None:
    if not result.ok:
        _fail(settings, run_id, "verification", result.detail)
        return
    with session_scope(settings) as db:
        run = db.get(BackupRun, run_id)
        if run is None:
            return
        run.verification, run.verification_detail = "passed", result.detail
        run.verified_at, run.stage, run.progress = utcnow(), "", 100
    _publish(_status(run))


def begin_run(
    settings: CoreSettings,
    *,
    trigger: str = "manual",
    actor_id: int | None = None,
    slot: str | None = None,
    directory: Path | None = None,
) -> tuple[int, Path] | None:
    """Record a new run and choose its archive's path (None: the slot is taken). A directory
    that cannot be used fails the run at once (recorded and announced)."""
    folder = Path(directory or backup_directory(settings))
    try:
        target, error = _target(folder, settings), ""
    except OSError as exc:
        target, error = folder / "unwritable", f"the backup directory cannot be used: {exc}"
    run_id = _start(settings, trigger, actor_id, slot, target)
    if run_id is None:
        return None
    if error:
        _fail(settings, run_id, "backup", error)
        raise DirectoryUnusable(run_id, error)
    return run_id, target


def carry_out(
    settings: CoreSettings,
    run_id: int,
    target: Path,
    *,
    verify: bool | None = None,
    progress: Progress | None = None,
) -> int:
    """Make, verify and rotate for a begun run; failures are recorded in it, never raised."""
    verify = settings.backup_verify if verify is None else verify
    report = RunProgress(run_id, settings, progress)
    with kept_alive(settings, run_id):
        try:
            made = make_archive(settings, target, report)
        except Exception as exc:
            log.exception("backup run %s failed", run_id)
            _fail(settings, run_id, "backup", f"{exc.__class__.__name__}: {exc}")
            return run_id
        _finished(settings, run_id, made, verify)
        if verify:
            result = verify_archive(
                made.path, settings.database_url, passphrase=passphrase(settings), progress=report
            )
            _verified(settings, run_id, result)
    _rotate(settings, made.path.parent)
    return run_id


def run_backup(
    settings: CoreSettings | None = None,
    *,
    trigger: str = "manual",
    actor_id: int | None = None,
    slot: str | None = None,
    directory: Path | None = None,
    verify: bool | None = None,
    progress: Progress | None = None,
) -> int | None:
    """One whole run; returns its id (None: a scheduled slot another process already took).
    Failures are recorded in the run, never raised."""
    settings = settings or get_settings()
    try:
        begun = begin_run(
            settings, trigger=trigger, actor_id=actor_id, slot=slot, directory=directory
        )
    except DirectoryUnusable as exc:
        return exc.run_id
    if begun is None:
        return None
    return carry_out(settings, *begun, verify=verify, progress=progress)


def _rotate(settings: CoreSettings, directory: Path) -> None:
    """Prune the directory; archives whose verification failed are left for an admin to see."""
    with session_scope(settings) as db:
        bad = db.scalars(select(BackupRun.path).where(BackupRun.verification == "failed")).all()
    policy = rotation.Policy(
        settings.backup_keep_daily, settings.backup_keep_weekly, settings.backup_keep_monthly
    )
    try:
        for path in rotation.prune(directory, policy, spare=[Path(p).name for p in bad if p]):
            log.info("rotated out %s", path)
    except OSError:
        log.exception("rotating %s failed", directory)


# --- reading the runs --------------------------------------------------------------------------


def list_runs(db: Session, limit: int = 50) -> list[BackupRun]:
    return list(
        db.scalars(
            select(BackupRun)
            .order_by(BackupRun.started_at.desc(), BackupRun.id.desc())
            .limit(limit)
        )
    )


def last_good(db: Session) -> BackupRun | None:
    """The newest run whose archive was made and restored in verification."""
    return db.scalar(
        select(BackupRun)
        .where(BackupRun.status == "ok", BackupRun.verification == "passed")
        .order_by(BackupRun.started_at.desc(), BackupRun.id.desc())
        .limit(1)
    )


def get_run(db: Session, run_id: int) -> BackupRun:
    run = db.get(BackupRun, run_id)
    if run is None:
        raise NotFound(f"backup run {run_id} not found")
    return run


def mark_unfinished(db: Session, note: str, restored: Path | None = None) -> int:
    """Runs left 'running' (a restored copy, a killed process) become 'interrupted'; after a
    restore, the run that wrote the ``restored`` archive (still running in its own copy) is
    marked finished with it."""
    if restored is not None:
        db.execute(
            update(BackupRun)
            .where(BackupRun.status == "running", BackupRun.path.endswith(restored.name))
            .values(
                status="ok",
                size=restored.stat().st_size,
                stage="",
                finished_at=utcnow(),
                verification="skipped",
                verification_detail=said("restored from this archive"),
            )
        )
    result = db.execute(
        update(BackupRun)
        .where(BackupRun.status == "running")
        .values(status="interrupted", error=note, stage="", finished_at=utcnow())
    )
    return result.rowcount or 0


def archive_of(db: Session, run_id: int, settings: CoreSettings | None = None) -> Path:
    """The archive file of a finished run, if it is still in the backup directory."""
    settings = settings or get_settings()
    run = get_run(db, run_id)
    if run.status != "ok" or not run.path:
        raise NotFound(f"backup run {run_id} has no archive")
    path = Path(run.path).resolve()
    if path.parent != backup_directory(settings).resolve() or not path.is_file():
        raise NotFound(f"the archive of backup run {run_id} is no longer in the backup directory")
    return path
