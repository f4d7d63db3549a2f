"""Connects the notifier to the client base's in-transaction signals.

Imported once by the composition root (when it connects the parts), so the
outbox rows for reminders and surveys are written in the same transaction as the change.
"""

from __future__ import annotations

from crm_core import signals
from notifier.reminders import service as reminders
from notifier.surveys import service as surveys


def _task_saved(db, *, task, actor=None, created=False, before=None) -> None:
    reminders.on_task_saved(db, task=task, actor=actor, created=created, before=before)
    surveys.on_task_saved(db, task=task, actor=actor, created=created, before=before)


def _task_deleted(db, *, task, actor=None) -> None:
    reminders.on_task_deleted(db, task=task, actor=actor)


def _client_saved(db, *, client, actor=None, created=False) -> None:
    reminders.on_client_saved(db, client=client, actor=actor, created=created)


def _client_deleted(db, *, client, actor=None) -> None:
    reminders.on_client_deleted(db, client=client, actor=actor)


signals.task_saved.connect(_task_saved)
signals.client_deleted.connect(_client_deleted)
signals.client_saved.connect(_client_saved)
signals.task_deleted.connect(_task_deleted)


def _backup_failed(db, *, run, stage) -> None:
    """E-mail every active admin with an address that a backup or its verification failed."""
    from crm_core.auth.models import User
    from notifier.outbox.service import enqueue

    what = "verification of the backup" if stage == "verification" else "backup"
    detail = run.verification_detail if stage == "verification" else run.error
    admins = db.query(User).filter(User.role == "admin", User.is_active.is_(True)).all()
    for admin in (a for a in admins if a.email):
        enqueue(
            db,
            channel="email",
            recipient=admin.email,
            subject=f"Callcard: the {what} #{run.id} failed",
            body=f"The {what} #{run.id} ({run.path}) failed:\n\n{detail}\n\nSee /admin/backups.",
            idempotency_key=f"backup-failed:{run.id}:{stage}:{admin.id}",
            purpose="backup",
        )


from crm_core.backups.events import backup_failed as _backup_failed_signal  # noqa: E402

_backup_failed_signal.connect(_backup_failed)

from notifier.order_sms import hooks as _order_sms_hooks  # noqa: E402, F401 - connects
