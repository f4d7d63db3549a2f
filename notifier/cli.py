"""``callcard worker`` / ``callcard beat`` (Celery, production) and outbox one-shots."""

from __future__ import annotations

import os
import shutil
import sys

import typer

outbox_app = typer.Typer(help="The notifier outbox.", no_args_is_help=True)


def _celery(*args: str) -> None:
    exe = shutil.which("celery")
    argv = [exe, *args] if exe else [sys.executable, "-m", "celery", *args]
    os.execv(argv[0], argv)


def worker(
    concurrency: int = typer.Option(2, help="Worker processes (prefork)"),
    pool: str = typer.Option("prefork", help="prefork | threads | solo"),
    loglevel: str = typer.Option("INFO", help="DEBUG, INFO, WARNING"),
) -> None:
    """Run a Celery worker that sends outbox messages (needs Redis: CALLCARD_REDIS_URL)."""
    _celery(
        "-A",
        "notifier.celery_app",
        "worker",
        "--pool",
        pool,
        "--concurrency",
        str(concurrency),
        "--loglevel",
        loglevel,
    )


def beat(
    schedule: str = typer.Option("celerybeat-schedule", help="Beat's schedule file"),
    loglevel: str = typer.Option("INFO", help="DEBUG, INFO, WARNING"),
) -> None:
    """Run Celery beat: claims due outbox rows every few seconds (run exactly one)."""
    _celery("-A", "notifier.celery_app", "beat", "--schedule", schedule, "--loglevel", loglevel)


@outbox_app.command("dispatch")
def dispatch_once(
    timeout: float = typer.Option(60, help="Stop after this many seconds"),
) -> None:
    """Send everything due now from this process, then exit (no Celery needed)."""
    from notifier.dispatch import Dispatcher

    dispatcher = Dispatcher()
    try:
        stats = dispatcher.drain(timeout=timeout)
    finally:
        dispatcher.close()
    typer.echo(
        f"claimed {stats.claimed}, sent {stats.sent}, retry {stats.retried}, "
        f"failed {stats.failed}, unknown {stats.unknown}, reconciled {stats.reconciled}"
    )


@outbox_app.command("counts")
def counts() -> None:
    """Messages per status."""
    from sqlalchemy import func, select

    from crm_core.database import session_scope
    from notifier.outbox.models import OutboxMessage

    with session_scope() as db:
        for status, n in db.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        ):
            typer.echo(f"{status:12} {n}")


@outbox_app.command("twilio-sim")
def twilio_sim(
    port: int = typer.Option(8765, help="Port on 127.0.0.1"),
    callbacks: bool = typer.Option(False, help="Send signed status callbacks"),
) -> None:
    """Serve the local Twilio simulator (for trying the Twilio channel without an account)."""
    from notifier.twilio_sim import main

    main(["--port", str(port), *(["--callbacks"] if callbacks else [])])


def register(app: typer.Typer) -> None:
    from notifier.engagement_cli import register as register_engagement

    app.command()(worker)
    app.command()(beat)
    app.add_typer(outbox_app, name="outbox")
    register_engagement(app)
