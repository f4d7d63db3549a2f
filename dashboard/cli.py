"""The ``callcard`` command: each part registers its own subcommands here."""

from __future__ import annotations

import importlib
import logging

import typer

app = typer.Typer(
    help="Callcard: self-hosted call-center CRM.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


def _setup_logging(level: str = "INFO") -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if level != "DEBUG":  # alembic lists its plugins on every start; its upgrades stay visible
        logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


@app.callback()
def main(log_level: str = typer.Option("INFO", help="DEBUG, INFO, WARNING")) -> None:
    _setup_logging(log_level.upper())


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on"),
    port: int = typer.Option(8000, help="Port to listen on"),
    workers: int = typer.Option(1, help="Web processes (production: several)"),
) -> None:
    """Run the web server (API, pages, websockets)."""
    import uvicorn

    from crm_core.database import NotMigrated, ensure_migrated, get_engine

    try:
        ensure_migrated(get_engine())
    except NotMigrated as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    uvicorn.run(
        "dashboard.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        ws_ping_interval=20,
        ws_ping_timeout=20,
    )


import notifier.hooks  # noqa: E402,F401  (reminders/surveys join the client base's transactions)

for _part in (
    "crm_core.cli",
    "cti.cli",
    "notifier.cli",
    "voicebots.cli",
    "dashboard.demo_cli",
    "dashboard.commands",
):
    try:
        _module = importlib.import_module(_part)
    except ModuleNotFoundError as exc:
        if exc.name != _part:
            raise
        continue
    _module.register(app)
