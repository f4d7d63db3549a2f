"""Telling a backup in progress from one whose process died.

A run is carried out by one thread of one process (the web process's "Run now", the
scheduler, Celery). While it works it touches its row's ``alive_at`` every
:data:`HEARTBEAT_SECONDS`, so any process can tell: a run "running" that nobody touched for
:data:`STALE_AFTER` died with its process (a restart or a crash during the backup) and is marked
``interrupted``, instead of refusing every "Run now" as "already running" for hours.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from crm_core.backups.models import BackupRun
from crm_core.config import CoreSettings
from crm_core.database import session_scope, utcnow
from crm_core.errors import said

log = logging.getLogger("callcard.backups")
HEARTBEAT_SECONDS = 20.0
#: a run untouched this long is no process's any more (several heartbeats missed)
STALE_AFTER = timedelta(minutes=2)
_last_sign = func.coalesce(BackupRun.alive_at, BackupRun.started_at)


@contextmanager
def kept_alive(settings: CoreSettings, run_id: int) -> Iterator[None]:
    """Touch the run's ``alive_at`` now and every HEARTBEAT_SECONDS while the block runs."""
    done = threading.Event()

    def beat() -> None:
        while True:
            touch(settings, run_id)
            if done.wait(HEARTBEAT_SECONDS):
                return

    thread = threading.Thread(target=beat, name=f"backup-{run_id}-alive", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def touch(settings: CoreSettings, run_id: int) -> None:
    try:
        with session_scope(settings) as db:
            db.execute(update(BackupRun).where(BackupRun.id == run_id).values(alive_at=utcnow()))
    except SQLAlchemyError as exc:  # the database away for a moment: the next beat tries again
        log.warning("backup run %s: could not record that it is alive (%s)", run_id, exc)


def running(db: Session) -> BackupRun | None:
    """A run still going: status running and touched within STALE_AFTER."""
    return db.scalar(
        select(BackupRun)
        .where(BackupRun.status == "running", _last_sign > utcnow() - STALE_AFTER)
        .limit(1)
    )


def interrupt_stale(db: Session) -> int:
    """Runs whose process died: a backup left running becomes ``interrupted``, a verification
    left pending ``skipped``. Returns how many runs changed (none: nothing was written, so
    the caller's transaction holds no write lock on SQLite)."""
    stale = _last_sign < utcnow() - STALE_AFTER
    unfinished = (BackupRun.status == "running") | (
        (BackupRun.status == "ok") & (BackupRun.verification == "pending")
    )
    if db.scalar(select(BackupRun.id).where(unfinished, stale).limit(1)) is None:
        return 0
    stopped = db.execute(
        update(BackupRun)
        .where(BackupRun.status == "running", stale)
        .values(
            status="interrupted",
            error=said("the process making it stopped (a restart or a crash)"),
            stage="",
            finished_at=utcnow(),
        )
    ).rowcount
    unverified = db.execute(
        update(BackupRun)
        .where(BackupRun.status == "ok", BackupRun.verification == "pending", stale)
        .values(
            verification="skipped",
            verification_detail=said("not verified: the process verifying it stopped"),
            stage="",
        )
    ).rowcount
    return (stopped or 0) + (unverified or 0)
