"""crm_core commands: init, user add, seed, search reindex."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from sqlalchemy import Engine, select

from crm_core.config import get_settings
from crm_core.database import get_engine, session_scope
from crm_core.errors import ServiceError

if TYPE_CHECKING:
    from rich.progress import Progress

console = Console()


@dataclass(frozen=True)
class Schema:
    """The database schema as the root gives it to the commands (``ctx.obj``): the migrations
    of every part are the root's, and a part never names the root."""

    migrate: Callable[[str], None]
    #: raises :class:`crm_core.database.NotMigrated` when the database lacks revisions
    ensure_migrated: Callable[[Engine], None]


def schema(ctx: typer.Context) -> Schema:
    found = ctx.find_object(Schema)
    if found is None:
        raise RuntimeError("run this command through `callcard`: it gives commands the schema")
    return found


def require_schema(ctx: typer.Context) -> None:
    """Stop a long-running command (exit code 2) when the database is not migrated."""
    from crm_core.database import NotMigrated

    try:
        schema(ctx).ensure_migrated(get_engine())
    except NotMigrated as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


def progress_bar() -> Progress:
    """The progress bar of the long CLI commands: what is done, done of total, time so far."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


user_app = typer.Typer(help="Manage users.", no_args_is_help=True)
search_app = typer.Typer(help="The search index.", no_args_is_help=True)


def init(
    ctx: typer.Context,
    admin_username: str = typer.Option("admin", help="Username of the first admin"),
    admin_password: str = typer.Option(
        None,
        help="Password of the first admin (asked for when missing)",
        envvar="CALLCARD_ADMIN_PASSWORD",
    ),
) -> None:
    """Create or upgrade the database schema and the first admin."""
    from crm_core.auth.models import User
    from crm_core.auth.service import create_user

    settings = get_settings()
    console.print(f"Migrating {get_engine().url.render_as_string(hide_password=True)} ...")
    schema(ctx).migrate(settings.database_url)
    with session_scope() as db:
        if db.scalar(select(User.id).where(User.role == "admin").limit(1)) is None:
            password = admin_password or typer.prompt(
                f"Password for admin {admin_username!r}", hide_input=True, confirmation_prompt=True
            )
            create_user(
                db,
                username=admin_username,
                password=password,
                role="admin",
                full_name="Administrator",
            )
            console.print(f"Created admin [bold]{admin_username}[/bold].")
    console.print("[green]Database is up to date.[/green]")


@user_app.command("add")
def user_add(
    username: str = typer.Option(..., help="Login name"),
    password: str = typer.Option(..., prompt=True, hide_input=True, help="At least 8 characters"),
    role: str = typer.Option("operator", help="admin, manager or operator"),
    team: str = typer.Option(None, help="Team name (created when new)"),
    extension: str = typer.Option(None, help="Phone extension, e.g. 101"),
    full_name: str = typer.Option("", help="Display name"),
    language: str = typer.Option("en", help="en, ro or ru"),
) -> None:
    """Add a user."""
    from crm_core.auth.service import create_user

    try:
        with session_scope() as db:
            user = create_user(
                db,
                username=username,
                password=password,
                role=role,
                team=team,
                extension=extension,
                full_name=full_name,
                language=language,
            )
            console.print(f"Added {user.role} [bold]{user.username}[/bold] (id {user.id}).")
    except ServiceError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(2) from None


def seed(
    ctx: typer.Context,
    clients: int = typer.Option(1_000_000, "--clients", min=1, help="How many clients to add"),
    random_seed: int = typer.Option(1, "--seed", help="Random seed (same seed, same data)"),
) -> None:
    """Add synthetic clients in bulk, for benchmarks (not for production data)."""
    from crm_core.seed import seed_clients

    settings = get_settings()
    schema(ctx).migrate(settings.database_url)
    with progress_bar() as bar:
        task = bar.add_task("Seeding clients", total=clients)
        report = seed_clients(
            settings.database_url,
            clients,
            progress=lambda done: bar.advance(task, done),
            seed=random_seed,
        )
    console.print(
        f"[green]Added {report.clients:,} clients, {report.phones:,} phones and "
        f"{report.emails:,} e-mails in {report.seconds:.1f} s ({report.backend}).[/green]"
    )


@search_app.command("reindex")
def search_reindex(
    all_clients: bool = typer.Option(
        False, "--all", help="Queue every client first (a full rebuild of the search text)"
    ),
    batch: int = typer.Option(1000, min=1, max=100_000, help="Clients per transaction"),
) -> None:
    """Refresh the clients' search text queued by custom field changes, with a progress bar.

    Web processes do the same in the background; running both at once is safe."""
    from crm_core.search import refresh

    with session_scope() as db:
        if all_clients:
            refresh.queue_all(db, "full rebuild (callcard search reindex --all)")
            db.info.pop("search_refresh_wake", None)  # refreshed right here, not in a thread
        before = refresh.status(db)
    console.print(before.message)
    if before.pending == 0:
        return
    with progress_bar() as bar:
        task = bar.add_task("Refreshing search text", total=before.pending)
        try:
            count = refresh.run(progress=lambda n: bar.advance(task, n), batch=batch)
        except Exception as exc:
            with session_scope() as db:
                left = refresh.status(db).pending
            console.print(f"[red]Failed: {exc}. {left:,} clients stay queued: run again.[/red]")
            raise typer.Exit(1) from None
        bar.update(task, completed=before.pending)
    console.print(
        f"[green]Refreshed the search text of {count:,} clients; search is up to date.[/green]"
    )


def backup(
    ctx: typer.Context,
    to: Path = typer.Option(None, "--to", help="Directory for the archive (default: backup_dir)"),
    verify: bool = typer.Option(
        None, "--verify/--no-verify", help="Restore it into a scratch database and compare"
    ),
) -> None:
    """Write one archive of the database and every attachment; prints its path last."""
    from crm_core.backups.cli import run_backup_command

    require_schema(ctx)
    run_backup_command(to, verify)


def restore(
    ctx: typer.Context,
    archive: Path = typer.Argument(..., help="The archive `callcard backup` wrote"),
    yes: bool = typer.Option(False, "--yes", help="Replace the database and the files"),
) -> None:
    """Bring the database and the files back from an archive (checked before anything changes)."""
    from crm_core.backups.cli import run_restore_command

    run_restore_command(archive, yes, schema(ctx).migrate)


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command()(backup)
    app.command()(restore)
    app.command()(seed)
    app.add_typer(user_app, name="user")
    app.add_typer(search_app, name="search")
    from crm_core.exchange.cli import import_app

    app.add_typer(import_app, name="import")
