"""The Celery app of the outbox workers and beat, with the parts connected:
``celery -A callcard.worker worker`` (and ``beat``), as ``callcard worker`` runs it."""

import dashboard.reports.celery_tasks  # noqa: F401  (scheduled report e-mails)
from callcard.parts import connect_parts
from notifier.celery_app import app

connect_parts()

__all__ = ["app"]
