"""Scheduled report e-mails: yesterday's (daily) or last week's (weekly) figures, as HTML in the
manager's language with an XLSX attachment, queued in the notifier outbox's e-mail channel.

Run by Celery beat in production (``dashboard.reports.celery_tasks``) and by
:class:`ScheduledReportsLoop` in the embedded default. A period is queued once per manager:
``last_period`` is checked and the outbox key ``report:u<user>:<period>`` is unique.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.auth.models import User
from crm_core.config import CoreSettings
from crm_core.database import session_scope, utcnow
from dashboard import i18n
from dashboard.i18n import _
from dashboard.reports import service, xlsx
from dashboard.reports.models import ReportSubscription
from dashboard.reports.periods import Period, zone_of

log = logging.getLogger("callcard.dashboard.reports")

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: how often the embedded loop looks for due reports (a period is sent once, whatever the rate)
CHECK_SECONDS = 300


def due_period(frequency: str, user_zone: str | None, now: datetime) -> tuple[str, Period]:
    """The last complete period: yesterday, or last Monday-to-Sunday, in the user's zone."""
    zone = zone_of(user_zone)
    today = now.astimezone(zone).date()
    if frequency == "daily":
        day = today - timedelta(days=1)
        return day.isoformat(), Period("custom", day, day, zone)
    monday = today - timedelta(days=today.weekday() + 7)
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}", Period("custom", monday, monday + timedelta(days=6), zone)


def _day(value: date) -> str:
    return i18n.format_date(value, "medium")


def build_report(db: Session, user: User, frequency: str, period: Period) -> dict[str, Any]:
    """Subject, text, HTML and XLSX bytes of one manager's report, in their language."""
    from dashboard.views.common import templates

    i18n.set_language(user.language)
    calls = service.call_report(db, period, "inbound")
    csat = service.csat_report(db, period)
    tasks = service.tasks_report(db, period)
    sales = service.sales_summary(db, period)
    if frequency == "daily":
        subject = _("Callcard daily report: %(day)s") % {"day": _day(period.first_day)}
    else:
        subject = _("Callcard weekly report: %(start)s – %(end)s") % {
            "start": _day(period.first_day),
            "end": _day(period.last_day),
        }
    context = {
        "subject": subject,
        "lang": i18n.current_language(),
        "calls": calls,
        "csat": csat,
        "tasks": tasks,
        "sales": sales,
        "name": user.full_name or user.username,
    }
    html = templates.get_template("email/report.html").render(context)
    total = calls["total"]
    text = "\n".join(
        [
            subject,
            "",
            f"{_('Calls')}: {total['calls']}",
            f"{_('Answered')}: {total['answered']}",
            f"{_('Missed')}: {total['missed']}",
            f"{_('Abandoned')}: {total['abandoned']}",
            f"{_('Service level')}: {total['service_level'] if total['service_level'] is not None else '—'}",
            f"{_('CSAT')}: {csat['overall']['csat'] if csat['overall']['csat'] is not None else '—'}",
            f"{_('Overdue')}: {tasks['overdue']}",
            "",
            _("The figures are in the attached XLSX file."),
        ]
    )
    parts: list = [(xlsx.add_calls, calls), (xlsx.add_csat, csat), (xlsx.add_tasks, tasks)]
    if sales is not None:
        parts.append((xlsx.add_sales, sales))
    return {"subject": subject, "text": text, "html": html, "xlsx": xlsx.workbook_bytes(*parts)}


def _queue_one(db: Session, sub: ReportSubscription, user: User, now: datetime) -> bool:
    from notifier.outbox import service as outbox

    label, period = due_period(sub.frequency, user.timezone, now)
    if sub.last_period == label:
        return False
    report = build_report(db, user, sub.frequency, period)
    outbox.enqueue(
        db,
        channel="email",
        recipient=user.email or "",
        subject=report["subject"],
        body=report["text"],
        idempotency_key=f"report:u{user.id}:{label}",
        purpose="report",
        template=f"report:{sub.frequency}",
        meta={
            "html": report["html"],
            "attachments": [
                {
                    "filename": f"callcard-report-{label}.xlsx",
                    "content_type": XLSX_TYPE,
                    "data": base64.b64encode(report["xlsx"]).decode(),
                }
            ],
        },
    )
    sub.last_period = label
    return True


def queue_due_reports(settings: CoreSettings | None = None, now: datetime | None = None) -> int:
    """Queue every report whose period has ended and was not sent yet; returns how many."""
    now = now or utcnow()
    queued = 0
    with session_scope(settings) as db:
        rows = db.execute(
            select(ReportSubscription, User)
            .join(User, User.id == ReportSubscription.user_id)
            .where(User.is_active.is_(True), User.role.in_(("admin", "manager")))
            .order_by(ReportSubscription.id)
        ).all()
        for sub, user in rows:
            if not (user.email or "").strip():
                continue
            try:
                with db.begin_nested():
                    queued += int(_queue_one(db, sub, user, now))
            except Exception:
                log.exception("the report for user %s could not be queued", user.id)
    return queued


class ScheduledReportsLoop:
    """Embedded default: look for due report e-mails every ``CHECK_SECONDS``, in a thread."""

    name = "scheduled-reports"

    def __init__(self, settings: CoreSettings) -> None:
        self.settings = settings
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def _run(self) -> None:
        while True:
            try:
                await asyncio.to_thread(queue_due_reports, self.settings)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("scheduled reports failed; trying again later")
            await asyncio.sleep(CHECK_SECONDS)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
