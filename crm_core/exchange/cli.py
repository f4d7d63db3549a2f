"""``callcard import clients FILE``: the same import as the API, with a progress bar."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

console = Console()
import_app = typer.Typer(help="Import data from files.", no_args_is_help=True)


@import_app.command("clients")
def import_clients(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV or XLSX file"),
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
    from sqlalchemy import select

    from crm_core.auth.models import User
    from crm_core.auth.principal import SYSTEM
    from crm_core.auth.service import principal_of
    from crm_core.database import session_scope
    from crm_core.errors import ServiceError
    from crm_core.exchange.service import import_clients as run_import

    mapping: dict[str, str] = json.loads(mapping_json) if mapping_json else {}
    for item in map_:
        column, sep, target = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"{item!r}: use COLUMN=FIELD", param_hint="--map")
        mapping[column] = target
    data = file.read_bytes()
    columns = [
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    ]
    try:
        with session_scope() as db, Progress(*columns, console=console) as progress:
            actor = SYSTEM
            if as_user:
                user = db.scalar(select(User).where(User.username == as_user))
                if user is None:
                    raise typer.BadParameter(f"no user {as_user!r}", param_hint="--as")
                actor = principal_of(user)
            task = progress.add_task(f"Importing {file.name}", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            report = run_import(
                db,
                actor,
                data,
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
    if report.errors:
        table = Table("row", "column", "field", "problem", title="Rows with errors")
        for e in report.errors[:200]:
            table.add_row(str(e.row), e.column, e.field, e.message)
        console.print(table)
        if len(report.errors) > 200:
            console.print(f"... and {len(report.errors) - 200} more")
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
