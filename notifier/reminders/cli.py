"""``callcard reminders ...``: one-shot engagement commands for admins."""

from __future__ import annotations

import typer

reminders_app = typer.Typer(
    help="Reminders, surveys and their periodic jobs.", no_args_is_help=True
)


@reminders_app.command("reschedule")
def reschedule() -> None:
    """Recompute the reminders of every upcoming event (after an import or a rules change)."""
    from sqlalchemy import func, select

    from crm_core.cli import progress_bar
    from crm_core.database import session_scope, utcnow
    from crm_core.tasks.models import Task
    from notifier.reminders.planner import OPEN
    from notifier.reminders.service import schedule_upcoming

    now = utcnow()
    with session_scope() as db:
        total = db.scalar(
            select(func.count(Task.id)).where(
                Task.kind == "event", Task.status.in_(OPEN), Task.starts_at > now
            )
        )
        with progress_bar() as bar:
            task = bar.add_task("Scheduling reminders", total=total or 0)
            written = schedule_upcoming(db, now=now, progress=lambda n: bar.advance(task, n))
    typer.echo(f"{total} upcoming events, {written} new reminder messages in the outbox")


@reminders_app.command("run-jobs")
def run_jobs() -> None:
    """Run the periodic jobs once: due task reminders, call surveys, survey expiry."""
    from notifier.jobs import run_all

    for name, count in run_all().items():
        typer.echo(f"{name}: {count}")


def register(app: typer.Typer) -> None:
    app.add_typer(reminders_app, name="reminders")
