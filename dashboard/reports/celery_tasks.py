"""Production: Celery beat queues the scheduled report e-mails (``dashboard.scheduled_reports``).

Imported by the root package's worker module, so that the workers know the task and beat its
schedule."""

from __future__ import annotations

from dashboard.reports.scheduled import CHECK_SECONDS, queue_due_reports
from notifier.celery_app import app

app.conf.beat_schedule["scheduled-reports"] = {
    "task": "dashboard.scheduled_reports",
    "schedule": float(CHECK_SECONDS),
    "options": {"expires": float(CHECK_SECONDS)},
}


@app.task(name="dashboard.scheduled_reports", acks_late=True)
def scheduled_reports() -> int:
    """Queue the report e-mails whose period ended (each is queued once, whatever the ticks)."""
    return queue_due_reports()
