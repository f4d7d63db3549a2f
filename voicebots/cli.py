"""``callcard voicebots agi`` (the FastAGI server) and ``callcard voicebots prompts``."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import sys

import typer

voicebots_app = typer.Typer(
    help="Automated voice calls (Twilio and Asterisk).", no_args_is_help=True
)


@voicebots_app.command("agi")
def agi(
    ctx: typer.Context,
    host: str = typer.Option(None, help="Address to listen on (default: voice_agi_host)"),
    port: int = typer.Option(None, help="Port to listen on (default: voice_agi_port)"),
) -> None:
    """Serve the voice scripts to Asterisk over FastAGI until stopped (Ctrl-C)."""
    from crm_core.cli import require_schema
    from voicebots.agi import FastAgiServer
    from voicebots.config import get_settings

    settings = get_settings()
    require_schema(ctx)
    server = FastAgiServer(host or settings.voice_agi_host, port or settings.voice_agi_port)

    async def run() -> None:
        await server.start()
        typer.echo(f"FastAGI voice scripts on {server.host}:{server.port}")
        try:
            await asyncio.Event().wait()
        finally:
            await server.stop()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


@voicebots_app.command("prompts")
def prompts() -> None:
    """List the sound prompts Asterisk plays (CSV: file, script, English text) for recording."""
    from voicebots.agi import prompt_list

    writer = csv.writer(sys.stdout)
    writer.writerow(["file", "script", "text_en"])
    for row in prompt_list():
        writer.writerow(row)


def register(app: typer.Typer) -> None:
    app.add_typer(voicebots_app, name="voicebots")
