"""Import jobs: a stored file imported in the background, resumable after a restart.

A job is checked whole first (nothing written: the strict rule holds for any size); the check
keeps the records it would write in a spool (:mod:`crm_core.exchange.spool`), and the write
pass writes them batch by batch, so each row is read and checked once. Each batch commits
together with the job's ``last_row``, so after a crash or a restart :func:`run_job` goes on
after the last committed row, and a row written before is never written twice. Progress goes
on the bus as ``import.progress`` for the uploader's browsers, and into the row for polling.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from crm_core.auth.models import User
from crm_core.auth.principal import SYSTEM, Principal
from crm_core.auth.rights import require
from crm_core.config import get_settings
from crm_core.database import session_factory, utcnow
from crm_core.errors import Invalid, NotFound, said
from crm_core.events import Audience, BusEvent, bus_message, user_audience
from crm_core.exchange.formats import Rows, Table, open_table
from crm_core.exchange.models import ImportJob, ImportMapping
from crm_core.exchange.service import BATCH, Importer, ImportReport, batches, finish, new_report
from crm_core.exchange.spool import RecordSpool, SpooledBatch
from crm_core.wording import Words

log = logging.getLogger("callcard.import")
#: a job whose row was not touched for this long is no process's any more: it may be resumed
STALE_AFTER = timedelta(seconds=60)
_running: set[int] = set()
_lock = threading.Lock()


@bus_message
class ImportProgress(BusEvent):
    """How far an import job is, for its uploader (``audience=user_audience(user_id)``)."""

    type: ClassVar[str] = "import.progress"
    audience: Audience
    job_id: int
    state: str
    done_rows: int
    total_rows: int
    imported: int


ImportProgress.wire = ("job_id", "state", "done_rows", "total_rows", "imported")
ImportProgress.addressed = True


def imports_dir() -> Path:
    path = Path(get_settings().attachments_dir) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def spool_of(job: ImportJob) -> RecordSpool:
    """Where the job's checked records wait for the write pass."""
    return RecordSpool(imports_dir() / f"job-{job.id}.records")


def store_upload(chunks: Iterator[bytes], filename: str) -> Path:
    """Write an uploaded file under the files folder (streamed) and return its path."""
    suffix = Path(filename).suffix.lower()[:10]
    path = imports_dir() / f"{uuid.uuid4().hex}{suffix}"
    with path.open("wb") as out:
        for chunk in chunks:
            out.write(chunk)
    return path


def create_job(
    db: Session, actor: Principal, path: Path, filename: str, **options: Any
) -> ImportJob:
    """A job for a stored file (state ``queued``; :func:`run_job` or a thread runs it)."""
    require(actor.can_export, "import clients")
    table = open_table(path, filename)  # a file that is not what it claims: refused now
    job = ImportJob(
        created_by_id=actor.id,
        filename=filename[:255],
        path=str(path),
        kind=table.kind,
        mapping={},
        options={"duplicates": "skip", "skip_invalid": False, **options},
        report={},
        message="",
    )
    db.add(job)
    db.flush()
    return job


def get_job(db: Session, actor: Principal, job_id: int) -> ImportJob:
    """The job, for its uploader and admins (404 for anyone else)."""
    job = db.get(ImportJob, job_id)
    if job is None or not (
        actor.is_admin or actor.role == "system" or job.created_by_id == actor.id
    ):
        raise NotFound(f"import job {job_id} not found")
    return job


def recent_jobs(db: Session, actor: Principal, limit: int = 20) -> list[ImportJob]:
    q = select(ImportJob).order_by(ImportJob.id.desc()).limit(limit)
    if not actor.is_admin:
        q = q.where(ImportJob.created_by_id == actor.id)
    return list(db.scalars(q))


# --- the saved mapping of a source ------------------------------------------------------------


def signature_of(table: Table) -> str:
    return hashlib.sha256(table.signature().encode("utf-8")).hexdigest()


def saved_mapping(db: Session, table: Table) -> dict[str, str] | None:
    row = db.scalar(select(ImportMapping).where(ImportMapping.signature == signature_of(table)))
    return dict(row.mapping) if row else None


def save_mapping(db: Session, actor: Principal, table: Table, mapping: dict[str, str]) -> None:
    signature = signature_of(table)
    row = db.scalar(select(ImportMapping).where(ImportMapping.signature == signature))
    if row is None:
        row = ImportMapping(signature=signature, headers=table.headers)
        db.add(row)
    row.mapping, row.updated_by_id, row.updated_at = dict(mapping), actor.id, utcnow()


# --- running ------------------------------------------------------------------------------------


def report_dict(report: ImportReport) -> dict[str, Any]:
    data = asdict(report)
    data.pop("created_ids", None)
    return data


def _actor(db: Session, job: ImportJob) -> Principal:
    from crm_core.auth.service import principal_of

    user = db.get(User, job.created_by_id) if job.created_by_id else None
    return principal_of(user) if user is not None else SYSTEM


@dataclass
class _Run:
    db: Session
    job: ImportJob
    actor: Principal
    publish: bool


def run_job(job_id: int, *, stop_after_batches: int | None = None, publish: bool = True) -> str:
    """Check then import the job's file (or go on where it stopped); returns its state.

    ``stop_after_batches`` stops after that many committed batches, as a crash would."""
    with _lock:
        if job_id in _running:
            return "running"
        _running.add(job_id)
    db = session_factory()()
    try:
        job = db.get(ImportJob, job_id)
        if job is None or job.state in ("done", "failed"):
            return job.state if job else "missing"
        run = _Run(db, job, _actor(db, job), publish)
        if job.state in ("queued", "checking"):
            _check(run)
        if job.state == "importing":
            _write(run, stop_after_batches)
        return job.state
    except Exception as exc:
        db.rollback()
        _fail(db, job_id, exc)
        return "failed"
    finally:
        db.close()
        with _lock:
            _running.discard(job_id)


def _fail(db: Session, job_id: int, exc: Exception) -> None:
    job = db.get(ImportJob, job_id)
    if job is None:
        return
    if isinstance(exc, Invalid):
        tell(job, exc.template, **exc.params)
    else:
        log.exception("import job %s failed", job_id)
        tell(job, said("The import stopped: %(reason)s."), reason=exc.__class__.__name__)
    job.state, job.finished_at, job.updated_at = "failed", utcnow(), utcnow()
    db.commit()
    spool_of(job).remove()


def tell(job: ImportJob, template: str, **params: Any) -> None:
    """The job's outcome message: stored in English, with its template and values kept for
    :func:`told`, which words it for whoever reads the job."""
    job.message = (template % params if params else template)[:500]
    job.options = {**job.options, "told": {"template": template, "params": params}}


def told(job: ImportJob, words: Words) -> str:
    """The job's message in ``words`` (a job from before templates: as stored)."""
    kept = (job.options or {}).get("told")
    if not kept:
        return job.message
    return words.gettext(kept["template"], **kept["params"])


def _options(job: ImportJob) -> dict[str, Any]:
    return {
        "duplicates": job.options.get("duplicates", "skip"),
        "skip_invalid": bool(job.options.get("skip_invalid", False)),
    }


def _check(run: _Run) -> None:
    """The whole file checked, nothing written; rejected files end here (state failed)."""
    db, job = run.db, run.job
    job.state, job.done_rows, job.updated_at = "checking", 0, utcnow()
    db.commit()
    table = open_table(Path(job.path), job.filename)
    report = new_report(db, table, job.mapping or None, dry_run=True)
    importer = Importer(db, run.actor, table, report.mapping, report, write=False, **_options(job))

    def progress(done: int) -> None:
        job.done_rows, job.updated_at = done, utcnow()
        db.commit()
        _publish(run)

    _spool_rows(importer, table.rows, spool_of(job), progress)
    db.rollback()  # reads only; nothing to keep but the job's own row
    finish(report, skip_invalid=_options(job)["skip_invalid"])
    job.mapping, job.total_rows, job.report = report.mapping, report.total_rows, report_dict(report)
    job.error_count = report.error_count
    if report.rejected:
        job.state, job.finished_at = "failed", utcnow()
        tell(job, said("Errors: %(errors)s. Nothing was imported."), errors=report.error_count)
        spool_of(job).remove()
    else:
        job.state, job.done_rows, job.imported, job.last_row = "importing", 0, 0, 0
        job.skipped = report.skipped  # duplicates and (with skip_invalid) rows left out
    job.updated_at = utcnow()
    db.commit()
    _publish(run)


def _spool_rows(
    importer: Importer, rows: Rows, spool: RecordSpool, progress: Callable[[int], None] | None
) -> None:
    """Check ``rows`` batch by batch and spool the records to write (none once rejected)."""
    spool.start()
    try:
        for chunk in batches(rows, BATCH):
            kept = importer.batch(chunk)
            if importer.skip_invalid or not importer.report.error_count:
                spool.append(SpooledBatch(chunk[-1][0], len(chunk), kept))
            if progress:
                progress(importer.report.total_rows)
    finally:
        importer.close()


def _after(rows: Rows, last_row: int) -> Rows:
    for number, cells in rows:
        if number > last_row:
            yield number, cells


def _write(run: _Run, stop_after_batches: int | None) -> None:
    """Write the spooled records after ``last_row`` batch by batch, each batch with the job's
    progress. Rows turned duplicates since the check (someone added them) are skipped."""
    db, job = run.db, run.job
    table = open_table(Path(job.path), job.filename)
    spool = spool_of(job)
    if not spool.exists():  # e.g. the files folder was restored without it: check again
        _respool(run, table, spool)
    report = ImportReport(dry_run=False, mapping=job.mapping, kind=table.kind)
    options = {**_options(job), "skip_invalid": True}  # rows turned bad since the check: left out
    importer = Importer(
        db, run.actor, table, job.mapping, report, likely=False, within_file=False, **options
    )
    for written, batch in enumerate(spool.batches(after=job.last_row), start=1):
        before = (report.imported, report.skipped, report.error_rows)
        importer.take(batch.records)
        job.last_row, job.done_rows = batch.last_row, job.done_rows + batch.rows
        job.imported += report.imported - before[0]
        job.skipped += report.skipped - before[1] + report.error_rows - before[2]
        job.updated_at = utcnow()
        db.commit()
        _publish(run)
        if written & (written - 1) == 0:  # after batch 1, 2, 4, 8...
            _refresh_statistics(db)
        if stop_after_batches is not None and written >= stop_after_batches:
            return
    job.state, job.finished_at, job.updated_at = "done", utcnow(), utcnow()
    tell(
        job,
        said("Imported: %(imported)s, skipped: %(skipped)s."),
        imported=job.imported,
        skipped=job.skipped,
    )
    db.commit()
    spool.remove()
    _publish(run)


def _respool(run: _Run, table: Table, spool: RecordSpool) -> None:
    """Check the rows after ``last_row`` again into a new spool (the job's counters stay:
    they counted these rows at the first check)."""
    job = run.job
    report = ImportReport(dry_run=True, mapping=job.mapping, kind=table.kind)
    options = {**_options(job), "skip_invalid": True}
    importer = Importer(
        run.db, run.actor, table, job.mapping, report, write=False, likely=False, **options
    )
    _spool_rows(importer, _after(table.rows, job.last_row), spool, None)
    run.db.rollback()


#: the tables an import grows, whose size the duplicate checks' plans depend on
_GROWN_TABLES = ("clients", "client_phones", "client_emails", "client_addresses")


def _refresh_statistics(db: Session) -> None:
    """PostgreSQL plans by its statistics, which autovacuum refreshes late during one long
    import: into an empty base they say "empty", and each batch's duplicate check then read
    every phone and every client (a 50,000-row import ran at 540 rows/s, most of it in the
    database). Refreshed each time the import has doubled, so the cost stays logarithmic."""
    if db.get_bind().dialect.name != "postgresql":
        return
    try:
        db.execute(text(f"ANALYZE {', '.join(_GROWN_TABLES)}"))
        db.commit()
    except SQLAlchemyError as exc:  # e.g. a database user that does not own the tables
        db.rollback()
        log.warning("import: statistics not refreshed (%s)", exc.__class__.__name__)


def _publish(run: _Run) -> None:
    job = run.job
    if not run.publish or job.created_by_id is None:
        return
    from crm_core.bus import get_bus

    try:
        get_bus().publish_sync(
            ImportProgress(
                audience=user_audience(job.created_by_id),
                job_id=job.id,
                state=job.state,
                done_rows=job.done_rows,
                total_rows=job.total_rows,
                imported=job.imported,
            )
        )
    except Exception:  # progress news is best effort; the row has it too
        log.warning("import progress not published", exc_info=True)


def start_in_background(job_id: int) -> None:
    threading.Thread(target=run_job, args=(job_id,), name=f"import-{job_id}", daemon=True).start()


def resume_unfinished(runner: Callable[[int], Any] = start_in_background) -> list[int]:
    """Start the jobs left unfinished by a stopped process (untouched for STALE_AFTER)."""
    db = session_factory()()
    try:
        stale = utcnow() - STALE_AFTER
        ids = list(
            db.scalars(
                select(ImportJob.id).where(
                    ImportJob.state.in_(("checking", "importing")), ImportJob.updated_at < stale
                )
            )
        )
    finally:
        db.close()
    for job_id in ids:
        if job_id not in _running:
            runner(job_id)
    return ids
