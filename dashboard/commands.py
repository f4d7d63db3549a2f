"""Dashboard commands: ``callcard wall-token`` and ``callcard i18n``."""

from __future__ import annotations

import typer
from rich.console import Console

console = Console()
i18n_app = typer.Typer(help="Translations of the UI (gettext catalogs).", no_args_is_help=True)


def wall_token(
    label: str = typer.Option(..., help="Which screen, e.g. 'TV in the call room'"),
    days: int = typer.Option(365, help="Valid for this many days"),
) -> None:
    """Create a read-only link for a wall screen (no sign-in needed on the TV)."""
    from crm_core.auth.principal import SYSTEM
    from crm_core.config import get_settings
    from crm_core.database import session_scope
    from crm_core.errors import ServiceError
    from dashboard.wall.tokens import create_wall_token

    try:
        with session_scope() as db:
            item = create_wall_token(db, SYSTEM, label=label, days=days)
    except ServiceError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(2) from None
    url = f"{get_settings().public_url.rstrip('/')}/wall?token={item.token}"
    console.print(
        f"Wall token [bold]{item.label}[/bold] (id {item.id}), valid until {item.expires_at:%Y-%m-%d}:"
    )
    console.print(url, soft_wrap=True)
    console.print(
        "Add &lang=ro or &lang=ru for another language. Revoke: DELETE /api/wall/tokens/<id>."
    )


@i18n_app.command("extract")
def i18n_extract() -> None:
    """Collect the strings of pages and scripts into messages.pot and merge them into each .po."""
    from dashboard.i18n.tool import extract, update

    template = extract()
    missing = update(template)
    console.print(f"{len(template)} strings; untranslated: {missing}")


@i18n_app.command("compile")
def i18n_compile() -> None:
    """Compile every messages.po into messages.mo."""
    from dashboard.i18n.tool import compile_all

    for path in compile_all():
        console.print(f"wrote {path}")


def register(app: typer.Typer) -> None:
    app.command("wall-token")(wall_token)
    app.add_typer(i18n_app, name="i18n")
    from dashboard.reports.cli import register as register_reports

    register_reports(app)
