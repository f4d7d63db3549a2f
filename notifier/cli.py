"""Outbox one-shots: ``callcard outbox dispatch``, ``counts``, ``twilio-sim``."""

from __future__ import annotations

import typer

outbox_app = typer.Typer(help="The notifier outbox.", no_args_is_help=True)


@outbox_app.command("dispatch")
def dispatch_once(
    timeout: float = typer.Option(60, help="Stop after this many seconds"),
) -> None:
    """Send everything due now from this process, then exit (no Celery needed)."""
    from notifier.outbox.dispatch import Dispatcher

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
    from crm_core.database import session_scope
    from notifier.outbox.admin import count_by_status

    with session_scope() as db:
        for status, n in count_by_status(db).items():
            typer.echo(f"{status:12} {n}")


@outbox_app.command("twilio-sim")
def twilio_sim(
    port: int = typer.Option(8765, help="Port on 127.0.0.1"),
    callbacks: bool = typer.Option(False, help="Send signed status callbacks"),
) -> None:
    """Serve the local Twilio simulator (for trying the Twilio channel without an account)."""
    from notifier.simulator.twilio_api import main

    main(["--port", str(port), *(["--callbacks"] if callbacks else [])])


def register(app: typer.Typer) -> None:
    from notifier.reminders.cli import register as register_engagement

    app.add_typer(outbox_app, name="outbox")
    register_engagement(app)
