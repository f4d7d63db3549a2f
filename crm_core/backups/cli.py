"""``callcard backup`` and ``callcard restore`` (mounted in :mod:`crm_core.cli`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TimeElapsedColumn

from crm_core.config import get_settings

console = Console()


def progress_bar() -> Progress:
    """Stage, bar, bytes done of total, time so far (as the other long commands show)."""
    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TimeElapsedColumn(),
        console=console,
    )


STAGES = {
    "database": "Copying the database",
    "archive": "Writing the archive",
    "check": "Checking the archive",
    "scratch": "Restoring into a scratch database",
    "verify": "Verifying",
}


class Bar:
    """The rich progress bar, one task per stage, bytes as units."""

    def __init__(self, bar) -> None:
        self.bar, self.tasks = bar, {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        task = self.tasks.get(stage)
        if task is None:
            task = self.tasks[stage] = self.bar.add_task(STAGES.get(stage, stage), total=total)
        self.bar.update(task, completed=done, total=total or None)


def run_backup_command(to: Path | None, verify: bool | None) -> None:
    from crm_core.backups import service
    from crm_core.backups.models import BackupRun
    from crm_core.database import session_scope

    settings = get_settings()
    with progress_bar() as bar:
        run_id = service.run_backup(
            settings, trigger="cli", directory=to, verify=verify, progress=Bar(bar)
        )
    with session_scope() as db:
        run = db.get(BackupRun, run_id)
        assert run is not None
    if run.status != "ok":
        console.print(f"[red]Backup failed: {run.error}[/red]")
        raise typer.Exit(1)
    console.print(f"{run.rows:,} rows, {run.files:,} files, {run.size:,} bytes.")
    if run.verification == "failed":
        console.print(f"[red]Verification failed: {run.verification_detail}[/red]")
    elif run.verification == "passed":
        console.print(f"[green]Verified: {run.verification_detail}.[/green]")
    typer.echo(run.path)  # the last line: the archive, for scripts
    if run.verification == "failed":
        raise typer.Exit(1)


def run_restore_command(archive: Path, yes: bool, migrate: Callable[[str], None]) -> None:
    from crm_core.backups.archive import ArchiveRefused
    from crm_core.backups.restore import restore_archive

    settings = get_settings()
    from crm_core.database import get_engine

    target = get_engine().url.render_as_string(hide_password=True)
    if not yes and not typer.confirm(
        f"Replace the database ({target}) and the files in {settings.attachments_dir} "
        f"with {archive}? Stop Callcard first.",
        default=False,
    ):
        console.print("Nothing was changed.")
        raise typer.Exit(1)
    migrate(settings.database_url)  # an empty new server gets the tables first
    try:
        with progress_bar() as bar:
            done = restore_archive(archive, migrate, settings, Bar(bar))
    except ArchiveRefused as exc:
        console.print(f"[red]Refused: {exc.message}. Nothing was changed.[/red]", soft_wrap=True)
        raise typer.Exit(2) from None
    note = f" (migrated from {done.migrated_from})" if done.migrated_from else ""
    console.print(
        f"[green]Restored {done.manifest.total_rows:,} rows and {done.files:,} files from "
        f"{done.manifest.created_at}{note}.[/green]"
    )
