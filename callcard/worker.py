"""The Celery app of the outbox workers and beat, with the parts connected:
``celery -A callcard.worker worker`` (and ``beat``), as ``callcard worker`` runs it."""

from celery.signals import worker_ready

import dashboard.reports.celery_tasks  # noqa: F401  (scheduled report e-mails)
from callcard.parts import connect_parts
from notifier.celery_app import app

connect_parts()


@worker_ready.connect
def _resume_import_jobs(**_: object) -> None:
    """Import jobs a restart interrupted carry on from their last committed batch."""
    from crm_core.exchange.jobs import resume_unfinished

    resume_unfinished()


__all__ = ["app"]
