"""``callcard reports rebuild`` and ``callcard reports send``."""

from __future__ import annotations

import typer
from rich.console import Console

console = Console()
reports_app = typer.Typer(help="Reports: call figures and scheduled e-mails.", no_args_is_help=True)


@reports_app.command("rebuild")
def rebuild() -> None:
    """Recompute the per-hour call figures from the call log (after an upgrade, an import of
    calls, or a change of service_level_seconds)."""
    from crm_core.database import session_scope
    from cti.daystats.service import rebuild as rebuild_rows

    with session_scope() as db:
        rows = rebuild_rows(db)
    console.print(f"{rows} rows of call figures rebuilt")


@reports_app.command("send")
def send() -> None:
    """Queue the scheduled report e-mails that are due now (the scheduler does this itself)."""
    from dashboard.reports.scheduled import queue_due_reports

    console.print(f"{queue_due_reports()} report e-mails queued")


def register(app: typer.Typer) -> None:
    app.add_typer(reports_app, name="reports")
