"""``callcard import clients FILE``: the same import as the API, with a progress bar."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from sqlalchemy import select

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from crm_core.auth.principal import Principal
    from crm_core.exchange.service import ImportReport

console = Console()
import_app = typer.Typer(help="Import data from files.", no_args_is_help=True)


@import_app.command("clients")
def import_clients(
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="CSV, XLSX, ODS, vCard, Google or Outlook CSV"
    ),
    map_: list[str] = typer.Option(
        [], "--map", help="COLUMN=FIELD (repeatable), e.g. --map Telefon=phone --map Firma=org_name"
    ),
    mapping_json: str = typer.Option(None, "--mapping", help="JSON object column -> field"),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check everything, write nothing"),
    skip_invalid: bool = typer.Option(
        False, "--skip-invalid", help="Import the valid rows, list the others"
    ),
    duplicates: str = typer.Option("error", help="error | skip | force"),
    as_user: str = typer.Option(None, "--as", help="Username recorded as the author (audit)"),
) -> None:
    """Import clients; strict by default: one bad row and nothing is written."""
    from crm_core.database import session_scope
    from crm_core.errors import ServiceError
    from crm_core.exchange.service import import_clients as run_import

    mapping = _mapping_of(map_, mapping_json)
    try:
        with session_scope() as db, Progress(*PROGRESS_COLUMNS, console=console) as progress:
            actor = _author(db, as_user)
            task = progress.add_task(f"Importing {file.name}", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total or None)

            report = run_import(
                db,
                actor,
                file,  # read as a stream: memory stays flat
                filename=file.name,
                mapping=mapping or None,
                dry_run=dry_run,
                skip_invalid=skip_invalid,
                duplicates=duplicates,
                progress=advance,
            )
    except ServiceError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(2) from None
    _print_report(report, dry_run)


PROGRESS_COLUMNS = (
    TextColumn("[bold]{task.description}"),
    BarColumn(),
    MofNCompleteColumn(),
    TimeRemainingColumn(),
)
#: row errors listed in full; the rest are counted
ERRORS_SHOWN = 200


def _mapping_of(map_: list[str], mapping_json: str | None) -> dict[str, str]:
    """--mapping (a JSON object), then each --map COLUMN=FIELD over it."""
    mapping: dict[str, str] = json.loads(mapping_json) if mapping_json else {}
    for item in map_:
        column, sep, target = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"{item!r}: use COLUMN=FIELD", param_hint="--map")
        mapping[column] = target
    return mapping


def _author(db: Session, as_user: str | None) -> Principal:
    """Who the audit records as the importer: --as USER, or the system."""
    from crm_core.auth.models import User
    from crm_core.auth.principal import SYSTEM
    from crm_core.auth.service import principal_of

    if not as_user:
        return SYSTEM
    user = db.scalar(select(User).where(User.username == as_user))
    if user is None:
        raise typer.BadParameter(f"no user {as_user!r}", param_hint="--as")
    return principal_of(user)


def _print_report(report: ImportReport, dry_run: bool) -> None:
    """The rows with errors, then the outcome; exit 1 when the file was rejected."""
    if report.errors:
        table = Table("row", "column", "field", "problem", title="Rows with errors")
        for e in report.errors[:ERRORS_SHOWN]:
            table.add_row(str(e.row), e.column, e.field, e.message)
        console.print(table)
        if len(report.errors) > ERRORS_SHOWN:
            console.print(f"... and {len(report.errors) - ERRORS_SHOWN} more")
    verb = "would import" if dry_run else "imported"
    if report.rejected:
        console.print(
            f"[red]Rejected: {len(report.errors)} errors in {report.total_rows} rows; "
            "nothing was imported.[/red] Fix the rows or use --skip-invalid."
        )
        raise typer.Exit(1)
    console.print(
        f"[green]{report.total_rows} rows: {verb} {report.imported}, skipped {report.skipped}."
        "[/green]"
    )


@import_app.command("job")
def import_job(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="The file to import"),
    duplicates: str = typer.Option("skip", help="error | skip | force"),
    skip_invalid: bool = typer.Option(False, "--skip-invalid"),
    as_user: str = typer.Option(None, "--as", help="Username recorded as the author (audit)"),
) -> None:
    """Import a large file as a resumable job (checked whole, then committed in batches)."""
    from crm_core.database import session_scope
    from crm_core.exchange import jobs

    with session_scope() as db:
        actor = _author(db, as_user)
        job_id = jobs.create_job(
            db, actor, file.resolve(), file.name, duplicates=duplicates, skip_invalid=skip_invalid
        ).id
    console.print(f"Import job {job_id} (resume it with `callcard import resume {job_id}`)")
    _run_with_bar(job_id)


@import_app.command("resume")
def import_resume(job_id: int = typer.Argument(..., help="The job to go on with")) -> None:
    """Go on with a job stopped by a crash or a restart, after its last committed row."""
    _run_with_bar(job_id)


def _run_with_bar(job_id: int) -> None:
    import threading
    import time

    from crm_core.database import session_scope
    from crm_core.exchange import jobs
    from crm_core.exchange.models import ImportJob

    outcome: list[str] = []
    worker = threading.Thread(target=lambda: outcome.append(jobs.run_job(job_id, publish=False)))
    with Progress(*PROGRESS_COLUMNS, console=console) as progress:
        task = progress.add_task("Checking", total=None)
        worker.start()
        while worker.is_alive():
            worker.join(0.5)
            with session_scope() as db:
                job = db.get(ImportJob, job_id)
                label = "Importing" if job.state == "importing" else "Checking"
                progress.update(
                    task, description=label, completed=job.done_rows, total=job.total_rows or None
                )
            time.sleep(0)
    with session_scope() as db:
        job = db.get(ImportJob, job_id)
        state, message = job.state, job.message
        errors = job.report.get("errors", [])[:ERRORS_SHOWN]
    for e in errors:
        console.print(f"row {e['row']} {e['column']}: {e['message']}")
    if state != "done":
        console.print(f"[red]Job {job_id} {outcome[0] if outcome else state}: {message}[/red]")
        raise typer.Exit(1)
    console.print(f"[green]Job {job_id} done: {message}.[/green]")
