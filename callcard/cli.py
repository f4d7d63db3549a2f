"""The ``callcard`` command: the root's own commands (serve, demo) and every part's, mounted in
:func:`callcard.parts.register_commands`."""

from __future__ import annotations

import logging
import os
import shutil
import sys

import typer

from callcard.demo import demo
from callcard.parts import connect_parts, register_commands
from callcard.schema import ensure_migrated, migrate
from crm_core.cli import Schema, require_schema

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
def main(
    ctx: typer.Context, log_level: str = typer.Option("INFO", help="DEBUG, INFO, WARNING")
) -> None:
    _setup_logging(log_level.upper())
    ctx.obj = Schema(migrate=migrate, ensure_migrated=ensure_migrated)
    connect_parts()


@app.command()
def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", help="Address to listen on"),
    port: int = typer.Option(8000, help="Port to listen on"),
    workers: int = typer.Option(1, help="Web processes (production: several)"),
) -> None:
    """Run the web server (API, pages, websockets)."""
    import uvicorn

    require_schema(ctx)
    uvicorn.run(
        "callcard.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        ws_ping_interval=20,
        ws_ping_timeout=20,
        # the app decides whom to believe (CALLCARD_TRUSTED_PROXIES); uvicorn would otherwise
        # take X-Forwarded-For from any local peer as the client's address
        proxy_headers=False,
    )


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
        "callcard.worker",
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
    _celery("-A", "callcard.worker", "beat", "--schedule", schedule, "--loglevel", loglevel)


app.command()(demo)
app.command()(worker)
app.command()(beat)
register_commands(app)
