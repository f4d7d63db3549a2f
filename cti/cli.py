"""``callcard`` subcommands of the CTI part."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import typer


def ami_replay(
    transcripts: list[Path] = typer.Argument(
        None, help="Recorded .ami transcripts (or scenario .json files) to replay, in order"
    ),
    port: int = typer.Option(5038, help="TCP port to listen on (127.0.0.1)"),
    host: str = typer.Option("127.0.0.1", help="Address to listen on"),
    speed: float = typer.Option(
        1.0, help="Replay speed: 1 = recorded pacing, 10 = ten times faster"
    ),
    loop: bool = typer.Option(False, help="Start the recordings again (as new calls) when done"),
    synthetic: float = typer.Option(
        0.0, help="Also generate synthetic calls at this many calls per second"
    ),
    numbers: list[str] = typer.Option(
        None, "--number", help="Caller numbers for synthetic calls (repeat the option)"
    ),
    username: str = typer.Option("crm", help="AMI user the server accepts"),
    secret: str = typer.Option("secret", help="AMI secret the server accepts"),
) -> None:
    """Run an AMI server that replays recorded Asterisk transcripts and/or makes up calls."""
    from cti.replay import serve

    for path in transcripts or []:
        if not path.exists():
            raise typer.BadParameter(f"{path} does not exist", param_hint="TRANSCRIPT")
    if not transcripts and synthetic <= 0:
        raise typer.BadParameter(
            "give transcripts to replay or --synthetic RATE", param_hint="TRANSCRIPT"
        )
    if speed < 0:
        raise typer.BadParameter("must be 0 (as fast as possible) or more", param_hint="--speed")
    typer.echo(
        f"AMI replay server on {host}:{port} (user {username!r}); "
        f"{len(transcripts or [])} transcript(s), {synthetic:g} synthetic calls/s. Ctrl+C stops."
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(
            serve(transcripts or [], port, speed, loop, synthetic, numbers, username, secret, host)
        )


def register(app: typer.Typer) -> None:
    app.command("ami-replay")(ami_replay)
